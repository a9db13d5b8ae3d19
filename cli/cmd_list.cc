// cmd_list.cc — `hostpass list` and `hostpass show ADDR`.
//
// list: one line per PCI function, the exact line `lspci -Dnn` prints followed by compact
//       columns (driver=, group=, numa=, override= when driver_override is set, modules= the
//       modules modules.alias matches, as lspci -k) and, when the host needs the device,
//       "in use: <reason>". --tree draws the same lines as lspci -t's tree (pci_tree.h).
// show: everything known about one function, every member of its IOMMU group, why a shared
//       group is shared (group_explain.h), and what a passthrough of it would take
//       (passthrough_summary.h).
// Both only read. Filters are validated before any filesystem access, and show's address is
// resolved against the host first (pci_address_resolve.h); the filters are parsed and matched by
// src/device_select.h, this file prints.
// When the host's own mounts and routes cannot be seen (HostUseMap::unseen: a chroot, a pod
// without hostPID), host use is unknown, never "none": list says `in use: unknown (why)` once on
// stderr and still shows the reasons it did find; JSON gives "in_use": null for every device;
// show says so in its `in use:` field and the passthrough is blocked (every mutation is refused).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "cmd_usb.h"
#include "device_json.h"
#include "device_select.h"
#include "group_explain.h"
#include "host_use.h"
#include "iommu_group.h"
#include "module_alias.h"
#include "passthrough_summary.h"
#include "pci_address_resolve.h"
#include "pci_names.h"
#include "pci_tree.h"
#include "vfio_rules.h"
#include "vfio_variant.h"

namespace hostpass {

namespace {

struct ListFlags {
  DeviceFilterText filters;
  bool usb = false;
  bool tree = false;   // --tree: lspci -t's shape, each line list's line
  std::string expect;  // --expect VVVV:DDDD[,...]: exit 1 when one is missing (inside a guest)
};

std::string or_dash(const std::optional<int>& v) {
  return v ? std::to_string(*v) : "-";
}

std::string in_use_text(const PciDevice& d) {
  std::string s;
  for (const HostUse& u : d.in_use) s += (s.empty() ? "" : "; ") + u.detail;
  return s;
}

// What `list` adds to Basic detail, as lspci -k does: the modules modules.alias says can drive
// the device (none: modules.alias unreadable).
struct ListExtras {
  std::optional<std::vector<std::string>> modules;
};

std::string list_line(PciNames& names, const PciDevice& d, const ListExtras& x) {
  std::string line = names.lspci_line(d);
  line += "  driver=" + d.driver.value_or("-");
  line += " group=" + or_dash(d.iommu_group);
  line += " numa=" + or_dash(d.numa_node);
  // Only when set, as `in use:`: a half-done manual bind is the exception worth a column.
  if (d.driver_override) line += " override=" + *d.driver_override;
  if (x.modules && !x.modules->empty()) line += " modules=" + join(*x.modules, ",");
  if (!d.in_use.empty()) line += "  in use: " + in_use_text(d);
  return line;
}

nlohmann::json list_json(const PciDevice& d, const ListExtras& x, bool host_use_known) {
  nlohmann::json j = device_to_json(d, false, host_use_known);
  j["driver_override"] = d.driver_override ? nlohmann::json(*d.driver_override) : nullptr;
  j["kernel_modules"] = x.modules ? nlohmann::json(*x.modules) : nullptr;
  return j;
}

// lspci -t's drawing: "+-" before a child with siblings after it, "\-" before the last, "| "
// under a child whose siblings continue.
void draw_tree(const std::vector<PciTreeNode>& nodes, const std::string& indent,
               const std::vector<std::string>& lines, std::string& out) {
  for (size_t i = 0; i < nodes.size(); ++i) {
    bool last = i + 1 == nodes.size();
    out += indent + (last ? "\\-" : "+-") + lines[nodes[i].device] + "\n";
    draw_tree(nodes[i].children, indent + (last ? "  " : "| "), lines, out);
  }
}

nlohmann::json tree_json(const std::vector<PciTreeNode>& nodes,
                         const std::vector<nlohmann::json>& objects) {
  nlohmann::json a = nlohmann::json::array();
  for (const PciTreeNode& n : nodes) {
    nlohmann::json o = objects[n.device];
    o["children"] = tree_json(n.children, objects);
    a.push_back(std::move(o));
  }
  return a;
}

void print_warnings(const PciDevice& d) {
  for (const std::string& w : d.warnings)
    std::cerr << "hostpass: warning: " << d.address.to_string() << ": " << w << "\n";
}

int run_list(Cli& cli, const ListFlags& flags) {
  auto selection = parse_pci_selection(flags.filters);
  if (!selection.ok()) return report_error(selection.error());
  std::vector<VendorDevice> expected;
  if (!flags.expect.empty()) {
    auto e = parse_expected_devices(flags.expect);
    if (!e.ok()) return report_error(e.error());
    expected = std::move(*e);
  }
  Host& host = cli.host();
  std::vector<std::string> warnings;
  auto devices = discover_pci(host, DiscoverOptions{}, &warnings);
  if (!devices.ok()) return report_error(devices.error());
  HostUseMap uses = detect_host_use(host);
  for (const std::string& w : uses.warnings) warnings.push_back(w);
  if (uses.unseen) warnings.push_back("in use: unknown (" + *uses.unseen + ")");
  for (const std::string& w : warnings) std::cerr << "hostpass: warning: " << w << "\n";

  // One buffer, one write: 10,000 devices print in a single fwrite. JSON is streamed an object
  // at a time rather than built as one document (a third of the memory at 10,000 devices).
  PciNames names;
  std::string out = cli.json ? "[" : "";
  bool first = true;
  std::vector<VendorDevice> missing = missing_devices(*devices, expected);
  auto aliases = read_pci_module_aliases(host);  // unreadable: modules unknown, not "none"
  std::vector<PciDevice> selected = select_devices(std::move(*devices), *selection);
  std::vector<std::string> lines;       // --tree: each device's line, drawn afterwards
  std::vector<nlohmann::json> objects;  // --tree --json
  for (PciDevice& d : selected) {
    attach_host_use(host, uses, d);
    names.name(d);
    print_warnings(d);
    d.driver_override = read_driver_override(host, d.address);
    ListExtras x;
    if (aliases.ok()) {
      auto alias = pci_modalias(d);
      x.modules = alias ? aliases->modules_for(*alias) : std::vector<std::string>{};
    }
    if (flags.tree) {
      if (cli.json)
        objects.push_back(list_json(d, x, !uses.unseen));
      else
        lines.push_back(list_line(names, d, x));
    } else if (cli.json) {
      out += first ? "\n" : ",\n";
      out += list_json(d, x, !uses.unseen).dump(-1, ' ', false, kInvalidUtf8);
    } else {
      out += list_line(names, d, x);
      out += '\n';
    }
    first = false;
  }
  if (flags.tree) {
    std::vector<std::string> tree_warnings;
    std::vector<PciTreeRoot> roots = build_pci_tree(host, selected, &tree_warnings);
    for (const std::string& w : tree_warnings) std::cerr << "hostpass: warning: " << w << "\n";
    if (cli.json) {
      nlohmann::json a = nlohmann::json::array();
      for (const PciTreeRoot& r : roots)
        a.push_back({{"root_bus", r.name}, {"children", tree_json(r.children, objects)}});
      out = a.dump(2, ' ', false, kInvalidUtf8) + "\n";
    } else {
      for (const PciTreeRoot& r : roots) {
        out += "[" + r.name + "]\n";
        draw_tree(r.children, "", lines, out);
      }
    }
  } else if (cli.json) {
    out += first ? "]\n" : "\n]\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  for (const VendorDevice& m : missing)
    std::cerr << "hostpass: expected device " << hex4(m.vendor) << ":" << hex4(m.device)
              << " is missing\n";
  return missing.empty() ? kExitOk : kExitFailed;
}

nlohmann::json group_explanation_json(const GroupExplanation& e) {
  auto addresses = [](const std::vector<PciAddress>& as) {
    nlohmann::json a = nlohmann::json::array();
    for (const PciAddress& x : as) a.push_back(x.to_string());
    return a;
  };
  nlohmann::json reasons = nlohmann::json::array();
  for (const GroupReason& r : e.reasons)
    reasons.push_back({{"kind", group_reason_kind_name(r.kind)},
                       {"responsible", r.device.to_string()},
                       {"affected", addresses(r.affected)},
                       {"text", r.text}});
  return {{"iommu_group", e.group},
          {"complete", e.complete()},
          {"reasons", reasons},
          {"unreadable", e.unreadable},
          {"predicted_members", e.predicted ? addresses(*e.predicted) : nlohmann::json(nullptr)},
          {"quirk", e.quirk ? nlohmann::json(*e.quirk) : nlohmann::json(nullptr)},
          {"acs_override", acs_override_note()},
          {"summary", e.summary}};
}

int run_show(Cli& cli, const std::string& address_text) {
  auto address = resolve_pci_address(cli.host(), address_text);
  if (!address.ok()) return report_error(address.error());
  Host& host = cli.host();
  auto device = read_pci_device(host, *address, Detail::Full);
  if (!device.ok()) return report_error(device.error());
  HostUseMap uses = detect_host_use(host);
  attach_host_use(host, uses, *device);
  PciNames names;
  names.name(*device);

  std::vector<PciDevice> group;
  std::vector<std::string> group_warnings;
  if (device->iommu_group) {
    auto g = read_iommu_group(host, *device->iommu_group);
    if (!g.ok()) {
      group_warnings.push_back(g.error().message);
    } else {
      for (const PciAddress& a : g->members) {
        if (a == device->address) {
          group.push_back(*device);
          continue;
        }
        auto m = read_pci_device(host, a, Detail::Basic);
        if (!m.ok()) {
          group_warnings.push_back(m.error().message);
          continue;
        }
        attach_host_use(host, uses, *m);
        names.name(*m);
        group.push_back(std::move(*m));
      }
    }
  }
  // Why the group is shared (group_explain.h), for a device that shares one.
  std::optional<GroupExplanation> explanation;
  if (device->iommu_group && group.size() > 1) {
    auto e = explain_group(host, *device->iommu_group);
    if (e.ok())
      explanation = std::move(*e);
    else
      group_warnings.push_back("cannot explain the group: " + e.error().message);
  }
  // The VFIO driver `bind --driver auto` would pick (vfio_variant.h).
  auto vfio_choice = choose_vfio_driver(host, device->address);
  if (!vfio_choice.ok())
    group_warnings.push_back("cannot choose a VFIO driver: " + vfio_choice.error().message);
  PassthroughSummary summary = summarize_passthrough(*device, group);
  if (uses.unseen) {  // guard.h: Guard::HostUnseen refuses every mutation, --force or not
    summary.ready = false;
    summary.blocked = true;
    summary.steps.insert(summary.steps.begin(), "host use is unknown: " + *uses.unseen);
  }
  print_warnings(*device);
  for (const std::string& w : group_warnings) std::cerr << "hostpass: warning: " << w << "\n";

  const PciDevice& d = *device;
  if (cli.json) {
    nlohmann::json j = device_to_json(d, true, !uses.unseen);
    nlohmann::json members = nlohmann::json::array();
    for (const PciDevice& m : group) members.push_back(device_to_json(m, false, !uses.unseen));
    j["iommu_group_members"] = members;
    j["group_explanation"] = explanation ? group_explanation_json(*explanation) : nullptr;
    j["vfio_driver"] =
        vfio_choice.ok() ? nlohmann::json{{"driver", vfio_choice->driver},
                                          {"module", vfio_choice->module},
                                          {"alias", vfio_choice->alias
                                                        ? nlohmann::json(vfio_choice->alias->line())
                                                        : nlohmann::json(nullptr)},
                                          {"reason", vfio_choice->reason()}}
                         : nlohmann::json(nullptr);
    j["passthrough"] = {{"ready", summary.ready},
                        {"blocked", summary.blocked},
                        {"requires", summary.steps},
                        {"concerns", summary.concerns}};
    std::cout << j.dump(2, ' ', false, kInvalidUtf8) << "\n";
    return kExitOk;
  }
  auto field = [](const char* name, const std::string& value) {
    std::printf("  %-17s %s\n", name, value.c_str());
  };
  std::printf("%s\n", names.lspci_line(d).c_str());
  field("sysfs:", d.sysfs_path);
  if (d.subsystem_vendor && d.subsystem_device)
    field("subsystem:", hex4(*d.subsystem_vendor) + ":" + hex4(*d.subsystem_device));
  field("driver:", d.driver.value_or("none"));
  field("driver_override:", d.driver_override.value_or("none"));
  if (vfio_choice.ok())
    field("vfio driver:", vfio_choice->alias ? vfio_choice->driver + " (bind --driver auto; " +
                                                   vfio_choice->reason() + ")"
                                             : vfio_choice->reason() + " (bind --driver auto)");
  field("numa node:", d.numa_node ? std::to_string(*d.numa_node) : "none");
  if (d.reset_methods)
    field(
        "reset methods:", d.reset_methods->empty() ? "none" : [&] {
          std::string s;
          for (const std::string& m : *d.reset_methods) s += (s.empty() ? "" : " ") + m;
          return s;
        }());
  field("boot vga:", d.boot_vga ? "yes" : "no");
  if (d.sriov_totalvfs)
    field("sr-iov:", std::to_string(d.sriov_numvfs.value_or(0)) + " of " +
                         plural(static_cast<size_t>(*d.sriov_totalvfs), "virtual function",
                                "virtual functions") +
                         " enabled");
  if (d.physfn) field("sr-iov:", "virtual function of " + d.physfn->to_string());
  if (d.has_mdev_types) field("mediated types:", "yes (hostpass mdev types)");
  field("bridge:", d.is_bridge() ? "yes" : "no");
  // Unseen: what was found is still true, the rest is unknown.
  std::string unknown = uses.unseen ? "unknown (" + *uses.unseen + ")" : "";
  if (!uses.unseen)
    field("in use:", d.in_use.empty() ? "no" : in_use_text(d));
  else
    field("in use:", d.in_use.empty() ? unknown : in_use_text(d) + "; otherwise " + unknown);
  if (d.iommu_group) {
    field("iommu group:", std::to_string(*d.iommu_group) + " (" + std::to_string(group.size()) +
                              (group.size() == 1 ? " device)" : " devices)"));
    for (const PciDevice& m : group) {
      std::string use = m.in_use.empty() ? "" : "  in use: " + in_use_text(m);
      if (uses.unseen) use += m.in_use.empty() ? "  in use: unknown" : "; otherwise unknown";
      std::printf("    %s  %-12s %s%s\n", m.address.to_string().c_str(),
                  m.driver.value_or("-").c_str(), m.class_name.c_str(), use.c_str());
    }
    if (explanation) {
      field("why shared:", explanation->summary);
      std::printf("    %s\n", acs_override_note().c_str());
    }
  } else {
    field("iommu group:", "none (the IOMMU is off or the device is not behind it)");
  }
  if (summary.ready) {
    field("passthrough:", "ready: on " + d.driver.value_or("") + ", group viable");
  } else {
    field("passthrough:", summary.blocked ? "blocked; requires:" : "requires:");
    for (const std::string& s : summary.steps) std::printf("    - %s\n", s.c_str());
  }
  for (const std::string& c : summary.concerns) std::printf("    ! %s\n", c.c_str());
  return kExitOk;
}

}  // namespace

void add_list_commands(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<ListFlags>();
  DeviceFilterText& filters = flags->filters;
  CLI::App* list = app.add_subcommand("list",
                                      "list PCI devices with driver, IOMMU group, NUMA "
                                      "node and host use");
  list->add_option("--vendor", filters.vendor, "only this vendor id (VVVV)");
  list->add_option("--device", filters.device, "only this vendor:device pair (VVVV:DDDD)");
  list->add_option("--class", filters.class_prefix, "only this class (CC) or subclass (CCSS)");
  list->add_option("--driver", filters.driver, "only devices bound to DRIVER ('none': unbound)");
  list->add_option("--group", filters.group, "only members of IOMMU group N");
  list->add_flag("--tree", flags->tree,
                 "draw the devices as lspci -t does: root buses, bridges and what is behind them");
  list->add_flag("--usb", flags->usb, "list USB devices instead, as lsusb does (docs/usb.md)");
  list->add_option("--expect", flags->expect,
                   "exit 1 unless these VVVV:DDDD devices are present (the check inside a VM)");
  list->callback([&cli, flags] {
    cli.exit_code = flags->usb ? run_list_usb(cli, flags->filters) : run_list(cli, *flags);
  });

  auto address = std::make_shared<std::string>();
  CLI::App* show =
      app.add_subcommand("show", "everything about one PCI device and its IOMMU group");
  show->add_option("address", *address, "PCI address, 0000:06:00.0 or 06:00.0")->required();
  show->callback([&cli, address] { cli.exit_code = run_show(cli, *address); });
}

}  // namespace hostpass
