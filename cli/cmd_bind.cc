// cmd_bind.cc — `hostpass bind`, `hostpass unbind`, `hostpass recover`: the edges of the bind
// engine (src/vfio_bind.h), through the safety spine (src/safety_spine.h). Flags are parsed and
// addresses resolved here (pci_address_resolve.h: short forms, absent devices), before anything is
// written; everything else is one spine call,
// which takes the state lock, recovers an interrupted operation, judges the guards and gates on
// readiness before the engine writes anything.
//
// Output: one line per device ("ADDR  before -> after"), notes, and with --dry-run the numbered
// list of the exact writes (spine_cli.h's planned_writes_text, which apply --dry-run prints too).
// --json prints one object (documented in docs/bind.md). Exit codes follow cli.h: 0 done (or
// nothing to do), 1 failed (after rollback), 2 bad input or refused.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "device_json.h"
#include "json_output.h"
#include "pci_address_resolve.h"
#include "safety_spine.h"
#include "spine_cli.h"
#include "state_lock_cli.h"
#include "vfio_bind.h"
#include "vfio_rules.h"
#include "vfio_variant.h"

namespace hostpass {

namespace {

struct BindFlags {
  std::vector<std::string> addresses;
  std::string driver = "vfio-pci";
  bool whole_group = false;
  bool dry_run = false;
  std::vector<std::string> force;
  std::string state_dir = kDefaultStateDir;
  double lock_timeout = kDefaultLockTimeout.count();
};

nlohmann::json opt(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

nlohmann::json change_json(const DeviceChange& c) {
  return {{"address", c.address.to_string()},
          {"iommu_group", c.iommu_group ? nlohmann::json(*c.iommu_group) : nlohmann::json(nullptr)},
          {"driver_before", opt(c.driver_before)},
          {"driver_override_before", opt(c.override_before)},
          {"driver_after", opt(c.driver_after)},
          {"driver_override_after", opt(c.override_after)},
          {"changed", c.changed}};
}

std::string or_none(const std::optional<std::string>& s) {
  return s ? *s : "(no driver)";
}

void print_devices(const BindReport& r, bool dry_run) {
  for (const DeviceChange& c : r.devices) {
    if (!c.changed) {
      std::printf("%s  %s (no change)\n", c.address.to_string().c_str(),
                  or_none(c.driver_before).c_str());
    } else {
      std::printf("%s  %s -> %s%s\n", c.address.to_string().c_str(),
                  or_none(c.driver_before).c_str(), or_none(c.driver_after).c_str(),
                  dry_run ? " (planned)" : "");
    }
  }
  for (const std::string& n : r.notes) std::printf("note: %s\n", n.c_str());
}

nlohmann::json opening_json(const SpineOpening& o) {
  if (!o.recovered) return nullptr;
  return {{"operation", o.recovered->operation}, {"notes", o.recovered->notes}};
}

// The error (json_output.h), with what the spine recovered first beside it in JSON.
int fail(const Error& e, const nlohmann::json& recovered = nullptr) {
  return report_error_with(e, {{"recovered", recovered}});
}

int run_bind_like(Cli& cli, const BindFlags& f, bool bind) {
  std::vector<PciAddress> addresses;
  for (const std::string& text : f.addresses) {
    auto a = resolve_pci_address(cli.host(), text);
    if (!a.ok()) return report_error(a.error());
    addresses.push_back(*a);
  }
  auto o = spine_options(f.state_dir, f.dry_run, f.force, f.lock_timeout,
                         command_text(bind ? "bind" : "unbind", f.addresses));
  if (!o.ok()) return fail(o.error());
  // --driver auto: the VFIO driver modules.alias names for the devices (vfio_variant.h).
  std::string driver = f.driver;
  if (bind) {
    auto d = resolve_bind_driver(cli.host(), addresses, f.driver);
    if (!d.ok()) return fail(d.error());
    driver = *d;
  }
  SpineOpening opening;
  SpineBindRequest request{addresses, driver, f.whole_group};
  // bind's own ways to include a group's other endpoints: name them, or --group (docs/bind.md).
  request.group_remedy = [](const std::vector<std::string>&) {
    return std::string("name them too, or use --group");
  };
  auto r = bind ? spine_bind(cli.host(), *o, request, opening)
                : spine_unbind(cli.host(), *o, addresses, opening);
  print_opening(opening);
  nlohmann::json recovered = opening_json(opening);
  if (!r.ok()) return fail(r.error(), recovered);
  if (cli.json) {
    nlohmann::json j;
    j["operation"] = bind ? "bind" : "unbind";
    j["dry_run"] = f.dry_run;
    if (bind) j["driver"] = driver;
    if (bind) j["driver_requested"] = f.driver;
    j["devices"] = nlohmann::json::array();
    for (const DeviceChange& c : r->devices) j["devices"].push_back(change_json(c));
    j["writes"] = writes_json(r->writes);
    j["notes"] = r->notes;
    j["recovered"] = recovered;
    std::cout << j.dump(2, ' ', false, kInvalidUtf8) << "\n";
    return kExitOk;
  }
  if (bind && f.driver == kAutoDriver) std::printf("driver: %s (--driver auto)\n", driver.c_str());
  print_devices(*r, f.dry_run);
  if (f.dry_run) std::cout << planned_writes_text(r->writes);
  return kExitOk;
}

int run_recover(Cli& cli, const std::string& state_dir, double lock_timeout) {
  auto o = spine_options(state_dir, false, {}, lock_timeout, "recover");
  if (!o.ok()) return fail(o.error());
  auto r = spine_recover(cli.host(), *o);
  if (!r.ok()) return fail(r.error());
  if (cli.json) {
    nlohmann::json j;
    j["journal_found"] = r->journal_found;
    j["operation"] = r->journal_found ? nlohmann::json(r->operation) : nlohmann::json(nullptr);
    j["devices"] = nlohmann::json::array();
    for (const DeviceChange& c : r->restored) j["devices"].push_back(change_json(c));
    j["writes"] = writes_json(r->writes);
    j["notes"] = r->notes;
    std::cout << j.dump(2, ' ', false, kInvalidUtf8) << "\n";
    return kExitOk;
  }
  if (!r->journal_found) {
    std::printf("nothing to recover: no interrupted operation (%s does not exist)\n",
                journal_path(state_dir).c_str());
    return kExitOk;
  }
  std::printf("recovered the interrupted %s:\n", r->operation.c_str());
  for (const std::string& n : r->notes) std::printf("  %s\n", n.c_str());
  return kExitOk;
}

}  // namespace

void add_bind_commands(CLI::App& app, Cli& cli) {
  auto bf = std::make_shared<BindFlags>();
  CLI::App* bind = app.add_subcommand(
      "bind", "give PCI devices to vfio-pci (per IOMMU group, verified, rolled back on failure)");
  bind->add_option("address", bf->addresses, "PCI addresses, 0000:06:00.0 or 06:00.0")->required();
  bind->add_option(
      "--driver", bf->driver,
      "the driver to bind to (default vfio-pci; auto: the most specific vfio_pci: alias in "
      "modules.alias, as libvirt picks a variant driver, else vfio-pci)");
  bind->add_flag("--group", bf->whole_group, "bind every endpoint of each device's IOMMU group");
  bind->add_flag("--dry-run", bf->dry_run, "print the exact ordered writes; change nothing");
  add_force_flag(bind, bf->force);
  bind->add_option("--state-dir", bf->state_dir, "where the journal lives (under --root)")
      ->type_name("DIR");
  add_lock_timeout_option(bind, bf->lock_timeout);
  bind->callback([&cli, bf] { cli.exit_code = run_bind_like(cli, *bf, true); });

  auto uf = std::make_shared<BindFlags>();
  CLI::App* unbind =
      app.add_subcommand("unbind", "return PCI devices from vfio-pci to their host drivers");
  unbind->add_option("address", uf->addresses, "PCI addresses, 0000:06:00.0 or 06:00.0")
      ->required();
  unbind->add_flag("--dry-run", uf->dry_run, "print the exact ordered writes; change nothing");
  add_force_flag(unbind, uf->force);
  unbind->add_option("--state-dir", uf->state_dir, "where the journal lives (under --root)")
      ->type_name("DIR");
  add_lock_timeout_option(unbind, uf->lock_timeout);
  unbind->callback([&cli, uf] { cli.exit_code = run_bind_like(cli, *uf, false); });

  auto state_dir = std::make_shared<std::string>(kDefaultStateDir);
  CLI::App* rec = app.add_subcommand(
      "recover", "finish an interrupted bind/unbind: every device back to its entry state");
  rec->add_option("--state-dir", *state_dir, "where the journal lives (under --root)")
      ->type_name("DIR");
  auto rec_timeout = std::make_shared<double>(kDefaultLockTimeout.count());
  add_lock_timeout_option(rec, *rec_timeout);
  rec->callback([&cli, state_dir, rec_timeout] {
    cli.exit_code = run_recover(cli, *state_dir, *rec_timeout);
  });
}

}  // namespace hostpass
