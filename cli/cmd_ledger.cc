// cmd_ledger.cc — `hostpass assign`, `hostpass release`, `hostpass assignments`: the edges of the
// assignment ledger (src/ledger.h), through the safety spine (src/safety_spine.h: the state lock,
// recover, ledger repair, the guards). Names are validated before anything is opened; then one
// spine call. A PCI address may be short (pci_address_resolve.h): assign resolves it on the
// host, release on the host and among the ledger's devices.
//
// Exit codes (cli.h): 0 done or nothing to do, 1 failed, 2 bad input or refused (a second owner,
// no free unit, a ledger hostpass will not touch).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "device_json.h"
#include "flag_scopes.h"
#include "kubevirt_policy.h"
#include "ledger.h"
#include "ledger_cli.h"
#include "pci_address_resolve.h"
#include "pci_device.h"
#include "safety_spine.h"
#include "spine_cli.h"
#include "state_lock_cli.h"
#include "text_table.h"
#include "user_file.h"

namespace hostpass {

Result<Inventory> inventory_from_cr(Host& host, const std::string& cr_file) {
  auto policy = load_user_policy(cr_file);
  if (!policy.ok()) return policy.error();
  return build_inventory(host, *policy);
}

nlohmann::json assignment_json(const Assignment& a) {
  auto opt = [](const std::optional<std::string>& s) {
    return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
  };
  return {{"device", a.device},
          {"kind", unit_kind_name(a.kind)},
          {"unit", a.unit},
          {"vm", a.vm},
          {"resource", a.resource.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.resource)},
          {"original_driver", opt(a.original_driver)},
          {"original_override", opt(a.original_override)},
          {"numa_node", a.numa_node ? nlohmann::json(*a.numa_node) : nlohmann::json(nullptr)},
          {"assigned_at", a.assigned_at}};
}

namespace {

struct AssignFlags {
  std::string device, vm, cr, state_dir = kDefaultStateDir;
  int numa = -1;
  std::vector<std::string> force;
  double lock_timeout = kDefaultLockTimeout.count();
};

void print_notes(const std::vector<std::string>& notes) {
  for (const std::string& n : notes) std::cerr << "hostpass: " << n << "\n";
}

// How a name of each kind is called in messages.
const char* name_kind_text(NameKind k) {
  switch (k) {
    case NameKind::PciAddress:
      return "a PCI address";
    case NameKind::MdevUuid:
      return "an mdev UUID";
    case NameKind::Usb:
      return "a USB device";
    case NameKind::Resource:
      return "a resource name";
    case NameKind::Invalid:
      break;
  }
  return "an invalid name";
}

int run_assign(Cli& cli, const CLI::App& command, const AssignFlags& f) {
  AssignRequest req;
  req.device = f.device;
  req.vm = f.vm;
  if (f.numa >= 0) req.numa_node = f.numa;
  // assign takes one unit and has no --group: the other endpoints go to vfio-pci first.
  req.bind.group_remedy = [](const std::vector<std::string>& siblings) {
    return "bind them to vfio-pci first (hostpass bind " + join(siblings, " ") +
           "), then assign again";
  };
  // Names are checked before the CR or the tree is read.
  if (Status s = validate_vm_name(f.vm); !s.ok()) return report_error(s.error());
  NameKind k = classify_unit_name(f.device);
  if (k == NameKind::Invalid) return report_error(read_unit(cli.host(), f.device).error());
  // --numa picks among a resource's units; a named device is where it is.
  if (Status s = check_flag_scopes(command, {{"--numa", {"a resource name"}}}, name_kind_text(k),
                                   name_kind_text(k), "");
      !s.ok())
    return report_error(s.error());
  if (k == NameKind::PciAddress) {  // a short form names the one domain that has it
    auto a = resolve_pci_address(cli.host(), f.device);
    if (!a.ok()) return report_error(a.error());
    req.device = a->to_string();
  }
  std::optional<Inventory> inventory;
  if (!f.cr.empty()) {
    auto inv = inventory_from_cr(cli.host(), f.cr);
    if (!inv.ok()) return report_error(inv.error());
    inventory = std::move(*inv);
  }
  // The state lock (state_lock.h) serializes with bare bind/unbind/apply/recover too; the
  // ledger's own SQLite lock only orders ledger commands among themselves.
  auto o = spine_options(f.state_dir, false, f.force, f.lock_timeout,
                         command_text("assign", {f.device, "--vm", f.vm}));
  if (!o.ok()) return report_error(o.error());
  SpineOpening opening;
  auto r = spine_assign(cli.host(), *o, req, inventory ? &*inventory : nullptr, opening);
  print_opening(opening);
  if (!r.ok()) return report_error(r.error());
  print_notes(r->notes);
  if (cli.json) {
    nlohmann::json devices = nlohmann::json::array();
    for (const Assignment& a : r->assigned) devices.push_back(assignment_json(a));
    std::cout << nlohmann::json{{"vm", f.vm},
                                {"unit", r->assigned.empty()
                                             ? nlohmann::json(nullptr)
                                             : nlohmann::json(r->assigned.front().unit)},
                                {"already", r->already},
                                {"devices", devices},
                                {"notes", r->notes}}
                     .dump(2, ' ', false, kInvalidUtf8)
              << "\n";
    return kExitOk;
  }
  for (const Assignment& a : r->assigned) {
    if (r->already) {
      std::printf("%s is already assigned to VM '%s': nothing to do\n", a.device.c_str(),
                  a.vm.c_str());
      continue;
    }
    std::string how;
    if (a.kind == UnitKind::Pci) {
      std::string before = a.original_driver.value_or("no driver");
      std::string after =
          current_driver(cli.host(), *PciAddress::parse_full(a.device)).value_or("no driver");
      how = before == after ? " (on " + after + ")" : " (" + before + " -> " + after + ")";
    }
    std::printf("assigned %s to VM '%s'%s%s\n", a.device.c_str(), a.vm.c_str(),
                a.resource.empty() ? "" : (" as " + a.resource).c_str(), how.c_str());
  }
  return kExitOk;
}

struct ReleaseFlags {
  std::string device, vm, state_dir = kDefaultStateDir;
  std::vector<std::string> force;
  double lock_timeout = kDefaultLockTimeout.count();
};

int run_release(Cli& cli, const ReleaseFlags& f) {
  ReleaseRequest req;
  req.device = f.device;
  req.vm = f.vm;
  if (!f.device.empty() && classify_unit_name(f.device) == NameKind::PciAddress) {
    // A device to release may have left the host (hot-unplugged, a VF gone with its PF): the
    // ledger's devices count as well as the host's.
    auto known = host_pci_addresses(cli.host());
    if (!known.ok()) return report_error(known.error());
    if (auto rows = list_assignments(cli.host(), f.state_dir); rows.ok())
      for (const Assignment& a : *rows)
        if (auto p = PciAddress::parse_full(a.device); p.ok()) known->push_back(*p);
    auto a = resolve_pci_address_among(f.device, *known, "on this host or in the ledger");
    if (!a.ok()) return report_error(a.error());
    req.device = a->to_string();
  }
  auto o = spine_options(f.state_dir, false, f.force, f.lock_timeout,
                         f.device.empty() ? command_text("release --vm", {f.vm})
                                          : command_text("release", {f.device}));
  if (!o.ok()) return report_error(o.error());
  SpineOpening opening;
  auto r = spine_release(cli.host(), *o, req, opening);
  print_opening(opening);
  if (!r.ok()) return report_error(r.error());
  print_notes(r->notes);
  if (cli.json) {
    nlohmann::json devices = nlohmann::json::array();
    for (const Assignment& a : r->released) devices.push_back(assignment_json(a));
    std::cout << nlohmann::json{{"released", devices}, {"notes", r->notes}}.dump(2, ' ', false,
                                                                                 kInvalidUtf8)
              << "\n";
    return kExitOk;
  }
  for (const Assignment& a : r->released) {
    std::string how;
    if (a.kind == UnitKind::Pci)
      how = " (now on " +
            current_driver(cli.host(), *PciAddress::parse_full(a.device)).value_or("no driver") +
            ")";
    std::printf("released %s from VM '%s'%s\n", a.device.c_str(), a.vm.c_str(), how.c_str());
  }
  return kExitOk;
}

int run_assignments(Cli& cli, const std::string& vm, const std::string& state_dir) {
  auto rows = list_assignments(cli.host(), state_dir);
  if (!rows.ok()) return report_error(rows.error());
  if (cli.json) {
    nlohmann::json a = nlohmann::json::array();
    for (const Assignment& r : *rows)
      if (vm.empty() || r.vm == vm) a.push_back(assignment_json(r));
    std::cout << a.dump(2, ' ', false, kInvalidUtf8) << "\n";
    return kExitOk;
  }
  if (rows->empty()) {
    std::printf("no devices are assigned\n");
    return kExitOk;
  }
  // The widths the table had before it grew with its cells: short tables keep their layout.
  TextTable table({{"VM", 16},
                   {"DEVICE", 38},
                   {"KIND", 5},
                   {"RESOURCE", 24},
                   {"NUMA", 6},
                   {"WAS ON", 12},
                   {"SINCE"}});
  for (const Assignment& r : *rows) {
    if (!vm.empty() && r.vm != vm) continue;
    table.add_row({r.vm, r.device, unit_kind_name(r.kind), r.resource.empty() ? "-" : r.resource,
                   r.numa_node ? std::to_string(*r.numa_node) : "-",
                   r.kind == UnitKind::Pci ? r.original_driver.value_or("none") : "-",
                   r.assigned_at});
  }
  std::cout << table.render();
  return kExitOk;
}

}  // namespace

void add_ledger_commands(CLI::App& app, Cli& cli) {
  auto af = std::make_shared<AssignFlags>();
  CLI::App* assign = app.add_subcommand("assign",
                                        "give a device (or a free unit of a resource) to "
                                        "a VM: bind it if needed, record the owner");
  assign
      ->add_option("device", af->device,
                   "PCI address (0000:06:00.0 or 06:00.0), mdev UUID, usb-<port>[+<port>...], or "
                   "a resource name (with -f)")
      ->required();
  assign->add_option("--vm", af->vm, "the VM that gets it")->required();
  assign->add_option("--numa", af->numa, "resource names: only a unit on this NUMA node")
      ->check(CLI::Range(0, 1023));
  assign->add_option("-f,--file", af->cr, "the KubeVirt or HyperConverged CR defining resources");
  add_force_flag(assign, af->force);
  assign->add_option("--state-dir", af->state_dir, "ledger and journal directory (under --root)");
  add_lock_timeout_option(assign, af->lock_timeout);
  assign->callback([&cli, af, assign] { cli.exit_code = run_assign(cli, *assign, *af); });

  auto rf = std::make_shared<ReleaseFlags>();
  CLI::App* release = app.add_subcommand(
      "release", "take a device (or every device of --vm) back: original drivers, owner forgotten");
  release->add_option("device", rf->device,
                      "a device or unit as hostpass assignments shows it: a PCI address "
                      "(0000:06:00.0 or 06:00.0), an mdev UUID, usb-<port>");
  release->add_option("--vm", rf->vm, "release every device of this VM");
  add_force_flag(release, rf->force);
  release->add_option("--state-dir", rf->state_dir, "ledger and journal directory (under --root)");
  add_lock_timeout_option(release, rf->lock_timeout);
  release->callback([&cli, rf] {
    if (rf->device.empty() && rf->vm.empty()) {
      cli.exit_code = report_error(invalid_input("name a device to release, or --vm NAME"));
      return;
    }
    cli.exit_code = run_release(cli, *rf);
  });

  auto vm = std::make_shared<std::string>();
  auto sd = std::make_shared<std::string>(kDefaultStateDir);
  CLI::App* list = app.add_subcommand("assignments", "which VM owns which device on this host");
  list->add_option("--vm", *vm, "only this VM's devices");
  list->add_option("--state-dir", *sd, "ledger directory (under --root)");
  list->callback([&cli, vm, sd] { cli.exit_code = run_assignments(cli, *vm, *sd); });
}

}  // namespace hostpass
