// cmd_inventory.cc — `hostpass inventory -f CR.yaml [--json]`.
//
// Reads the KubeVirt/HyperConverged CR the administrator already has (kubevirt_policy.h) and
// prints, for this node, what each permitted resource exposes in the units the device plugin
// allocates, why matching devices are not usable and the command that fixes each, and one capacity
// line per resource as `oc describe node` would show it (kubevirt_inventory.h). Only reads.
//
// The CR is the user's file: it is read from the real filesystem (relative to the working
// directory), never from under --root, which stands in for the node's /sys, /dev and /proc.
// Exit codes: 0 inventory printed (even when resources have 0 units), 2 the CR is invalid
// (every problem printed as "file:line: field: problem") or would serve a device twice (an
// external resource's device also taken by a resource KubeVirt serves; kubevirt_inventory.h
// double_serving, checked as `hostpass plugin` checks it, --all as its --all), 1 the node could
// not be read.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "device_json.h"
#include "json_output.h"
#include "kubevirt_inventory.h"
#include "kubevirt_policy.h"
#include "pci_id.h"
#include "user_file.h"

namespace hostpass {

namespace {

nlohmann::json optional_int(const std::optional<int>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json unit_json(const Unit& u) {
  nlohmann::json j;
  j["id"] = u.id;
  j["healthy"] = u.healthy;
  j["health_reason"] = u.healthy ? nlohmann::json(nullptr) : nlohmann::json(u.health_reason);
  j["numa_node"] = optional_int(u.numa_node);
  j["iommu_group"] = optional_int(u.iommu_group);
  nlohmann::json pci = nlohmann::json::array();
  for (const PciAddress& a : u.pci) pci.push_back(a.to_string());
  j["pci"] = pci;
  j["mdev_uuids"] = u.mdev_uuids;
  j["mdev_parent"] =
      u.mdev_parent.empty() ? nlohmann::json(nullptr) : nlohmann::json(u.mdev_parent);
  j["mdev_type"] = u.mdev_type.empty() ? nlohmann::json(nullptr) : nlohmann::json(u.mdev_type);
  nlohmann::json usb = nlohmann::json::array();
  for (const UsbRef& r : u.usb)
    usb.push_back({{"port_path", r.port_path},
                   {"busnum", r.busnum},
                   {"devnum", r.devnum},
                   {"vendor", hex4(r.vendor)},
                   {"device", hex4(r.product)},
                   {"dev_node", r.dev_node}});
  j["usb"] = usb;
  return j;
}

nlohmann::json inventory_json(const Policy& policy, const Inventory& inv) {
  nlohmann::json j;
  j["policy"] = {{"file", policy.source}, {"format", policy.format}};
  nlohmann::json resources = nlohmann::json::array();
  for (const ResourceInventory& r : inv.resources) {
    nlohmann::json x;
    x["name"] = r.name;
    x["kind"] = resource_kind_name(r.kind);
    x["external"] = r.external;
    x["rank"] = r.rank;
    x["selectors"] = r.selectors;
    x["capacity"] = r.units.size();
    x["allocatable"] = r.healthy_units();
    nlohmann::json units = nlohmann::json::array();
    for (const Unit& u : r.units) units.push_back(unit_json(u));
    x["units"] = units;
    nlohmann::json unusable = nlohmann::json::array();
    for (const Unusable& u : r.unusable)
      unusable.push_back({{"what", u.what}, {"reason", u.reason}, {"fix", fix_json(u.fix)}});
    x["unusable"] = unusable;
    resources.push_back(x);
  }
  j["resources"] = resources;
  nlohmann::json disabled = nlohmann::json::array();
  for (const DisabledEntry& d : inv.disabled)
    disabled.push_back({{"name", d.resource_name}, {"kind", d.kind}, {"line", d.line}});
  j["disabled"] = disabled;
  j["warnings"] = inv.warnings;
  return j;
}

std::string unit_text(const Unit& u) {
  std::string s = "  unit " + u.id;
  if (!u.pci.empty()) {
    s += "  group " + (u.iommu_group ? std::to_string(*u.iommu_group) : std::string("-"));
    s += "  numa " + (u.numa_node ? std::to_string(*u.numa_node) : std::string("-"));
    s += "  ";
    for (size_t i = 0; i < u.pci.size(); ++i) s += (i ? " + " : "") + u.pci[i].to_string();
  } else if (!u.mdev_uuids.empty()) {
    s += "  " + u.mdev_type + " on " + u.mdev_parent;
    s += "  group " + (u.iommu_group ? std::to_string(*u.iommu_group) : std::string("-"));
    s += "  numa " + (u.numa_node ? std::to_string(*u.numa_node) : std::string("-"));
  } else {
    for (size_t i = 0; i < u.usb.size(); ++i) {
      const UsbRef& r = u.usb[i];
      char b[64];
      std::snprintf(b, sizeof b, "%sbus %03d device %03d ", i ? " + " : "  ", r.busnum, r.devnum);
      s += b + vendor_device_string(r.vendor, r.product);
    }
  }
  s += u.healthy ? "  healthy" : "  UNHEALTHY: " + u.health_reason;
  return s + "\n";
}

std::string inventory_text(const Policy& policy, const Inventory& inv) {
  std::string out = "policy: " + policy.source + " (" + policy.format + ")\n";
  if (inv.resources.empty()) out += "no permitted host devices: nothing is exposed\n";
  for (const ResourceInventory& r : inv.resources) {
    out += "\n" + r.name + " (" + resource_kind_name(r.kind) + ")";
    if (r.external)
      out += " external: externalResourceProvider is true, KubeVirt does not serve it";
    out += "\n";
    for (const std::string& s : r.selectors) out += "  from " + s + "\n";
    for (const Unit& u : r.units) out += unit_text(u);
    for (const Unusable& u : r.unusable) {
      out += "  not usable: " + u.what + ": " + u.reason + "\n";
      if (!u.fix.empty()) out += "    fix: " + u.fix + "\n";
    }
  }
  for (const DisabledEntry& d : inv.disabled)
    out += "\n" + d.resource_name + " (" + d.kind + ") disabled: true at line " +
           std::to_string(d.line) + ": not exposed\n";
  if (!inv.resources.empty()) {
    out += "\ncapacity:\n";
    for (const ResourceInventory& r : inv.resources) out += "  " + capacity_line(r) + "\n";
  }
  return out;
}

int run_inventory(Cli& cli, const std::string& file, bool all) {
  // The CR is the user's file: read it from the real filesystem, as typed.
  auto policy = load_user_policy(file);
  if (!policy.ok()) return report_error_lines(policy.error());
  auto inv = build_inventory(cli.host(), *policy);
  if (!inv.ok()) return report_error(inv.error());
  for (const std::string& w : inv->warnings) std::cerr << "hostpass: warning: " << w << "\n";
  // What `hostpass plugin` (with the same --all) would refuse to serve, this refuses to show.
  if (Status s = double_serving(*inv, all); !s.ok()) return report_error_lines(s.error());
  if (cli.json) {
    std::cout << inventory_json(*policy, *inv).dump(2, ' ', false, kInvalidUtf8) << "\n";
  } else {
    std::cout << inventory_text(*policy, *inv);
  }
  return kExitOk;
}

}  // namespace

void add_inventory_commands(CLI::App& app, Cli& cli) {
  auto file = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  CLI::App* inv = app.add_subcommand(
      "inventory",
      "what each permitted host device resource of a KubeVirt/HyperConverged CR exposes on this "
      "node, and why matching devices are not usable");
  inv->add_option("-f,--file", *file,
                  "the KubeVirt CR, HyperConverged CR, or permittedHostDevices mapping (YAML)")
      ->required()
      ->type_name("CR.yaml");
  inv->add_flag("--all", *all,
                "check the CR as `hostpass plugin --all` serves it: hostpass serves every "
                "resource, KubeVirt's own plugins none");
  inv->callback([&cli, file, all] { cli.exit_code = run_inventory(cli, *file, *all); });
}

}  // namespace hostpass
