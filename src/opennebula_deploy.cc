// opennebula_deploy.cc — see opennebula_deploy.h. yaml-cpp throws; every call into it is wrapped
// here.
#include "opennebula_deploy.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>

#include "pci_device.h"
#include "pci_id.h"
#include "vfio_bind.h"

namespace hostpass {

namespace {

using Vars = std::map<std::string, YAML::Node>;

// Never `vars[k] = node`: assigning to a YAML::Node that already refers to a node rewrites the
// document node it refers to (yaml-cpp's reference semantics). Replace the map entry instead.
void set_var(Vars& vars, const std::string& key, const YAML::Node& node) {
  vars.erase(key);
  vars.emplace(key, node);
}

std::string where(const std::string& source, const YAML::Node& n) {
  return source + ":" + std::to_string(n.Mark().line + 1);
}

// A group or host name: a non-empty scalar key. A null or empty key (": {hosts: ...}") or a
// collection used as a key names nothing Ansible or the CLI could address.
Result<std::string> name_of(const YAML::Node& key, const std::string& source, const char* what) {
  if (!key.IsScalar() || key.Scalar().empty())
    return invalid_input(where(source, key) + ": a " + what + " without a name");
  return key.Scalar();
}

struct Walker {
  const std::string& source;
  std::map<std::string, OneDeployHost> hosts;
  std::map<std::string, Vars> host_vars;  // merged over every path that lists the host
  std::vector<std::string> order;         // first-seen host order

  Status group(const std::string& name, const YAML::Node& g, Vars inherited, int depth) {
    if (depth > 32) return invalid_input(where(source, g) + ": groups nested too deeply");
    if (!g || g.IsNull()) return ok_status();
    if (!g.IsMap())
      return invalid_input(where(source, g) + ": group '" + name + "' must be a mapping");
    if (YAML::Node v = g["vars"]; v && !v.IsNull()) {
      if (!v.IsMap())
        return invalid_input(where(source, v) + ": " + name + ".vars must be a mapping");
      for (const auto& kv : v) set_var(inherited, kv.first.Scalar(), kv.second);
    }
    if (YAML::Node h = g["hosts"]; h && !h.IsNull()) {
      if (!h.IsMap())
        return invalid_input(where(source, h) + ": " + name + ".hosts must be a mapping");
      for (const auto& kv : h) {
        auto named = name_of(kv.first, source, "host");
        if (!named.ok()) return named.error();
        std::string host = *named;
        if (!hosts.contains(host)) {
          hosts[host].name = host;
          order.push_back(host);
        }
        hosts[host].groups.push_back(name);
        Vars merged = inherited;  // copies share nodes; set_var never writes through them
        const YAML::Node& hv = kv.second;
        if (hv && !hv.IsNull()) {
          if (!hv.IsMap())
            return invalid_input(where(source, hv) + ": host '" + host + "' must be a mapping");
          for (const auto& var : hv) set_var(merged, var.first.Scalar(), var.second);
        }
        for (auto& [k, v] : merged) set_var(host_vars[host], k, v);
      }
    }
    if (YAML::Node c = g["children"]; c && !c.IsNull()) {
      if (!c.IsMap())
        return invalid_input(where(source, c) + ": " + name + ".children must be a mapping");
      for (const auto& kv : c) {
        auto child = name_of(kv.first, source, "group");
        if (!child.ok()) return child.error();
        if (Status s = group(*child, kv.second, inherited, depth + 1); !s.ok()) return s;
      }
    }
    return ok_status();
  }
};

Result<bool> ansible_bool(const YAML::Node& n, const std::string& source, const char* key) {
  if (!n.IsScalar()) return invalid_input(where(source, n) + ": " + key + " must be true or false");
  bool b;
  if (YAML::convert<bool>::decode(n, b)) return b;
  return invalid_input(where(source, n) + ": " + key + " must be true or false, not '" +
                       n.Scalar() + "'");
}

Result<std::vector<OneDeployHost>> parse_impl(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return invalid_input(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root || root.IsNull()) return invalid_input(source + ": empty inventory");
  if (!root.IsMap())
    return invalid_input(where(source, root) + ": an Ansible inventory is a mapping of groups");
  Walker w{source, {}, {}, {}};
  Vars base;
  if (YAML::Node all = root["all"]; all && all.IsMap()) {
    if (YAML::Node v = all["vars"]; v && v.IsMap())
      for (const auto& kv : v) set_var(base, kv.first.Scalar(), kv.second);
  }
  for (const auto& kv : root) {
    auto group = name_of(kv.first, source, "group");
    if (!group.ok()) return group.error();
    if (Status s = w.group(*group, kv.second, base, 0); !s.ok()) return s.error();
  }
  std::vector<OneDeployHost> out;
  for (const std::string& name : w.order) {
    OneDeployHost h = w.hosts[name];
    Vars& vars = w.host_vars[name];
    if (auto it = vars.find("ansible_host"); it != vars.end() && it->second.IsScalar())
      h.ansible_host = it->second.Scalar();
    if (auto it = vars.find("pci_passthrough_enabled"); it != vars.end()) {
      auto b = ansible_bool(it->second, source, "pci_passthrough_enabled");
      if (!b.ok()) return b.error();
      h.pci_passthrough_enabled = *b;
    }
    if (auto it = vars.find("pci_devices"); it != vars.end() && !it->second.IsNull()) {
      const YAML::Node& list = it->second;
      if (!list.IsSequence())
        return invalid_input(where(source, list) + ": pci_devices of '" + name +
                             "' must be a list of {address: \"DDDD:BB:DD.F\"}");
      for (const YAML::Node& item : list) {
        YAML::Node a = item.IsMap() ? item["address"] : YAML::Node();
        if (!a || !a.IsScalar())
          return invalid_input(where(source, item) + ": pci_devices entry of '" + name +
                               "' needs an address, as in - address: \"0000:09:00.0\"");
        h.pci_device_addresses.push_back(a.Scalar());
      }
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace

Result<std::vector<PciFilterEntry>> pci_filter_entries(Host& host,
                                                       const std::vector<std::string>& addresses) {
  std::vector<PciAddress> parsed;
  for (const std::string& text : addresses) {
    auto full = PciAddress::parse_full(text);
    if (!full.ok()) {
      auto any = PciAddress::parse(text);
      if (any.ok())
        return invalid_input("short PCI address '" + text +
                             "' refused: OpenNebula's PCI_FILTER is built from full addresses "
                             "(domain included), write " +
                             any->to_string());
      return full.error();
    }
    parsed.push_back(*full);
  }
  std::vector<PciFilterEntry> out;
  for (const PciAddress& a : parsed) {
    std::string dir = pci_device_dir(a);
    if (!host.exists(dir))
      return not_found("PCI device " + a.to_string() + " not found on this host (no " + dir + ")");
    auto vendor = host.read_file(dir + "/vendor");
    auto device = host.read_file(dir + "/device");
    if (!vendor.ok()) return vendor.error();
    if (!device.ok()) return device.error();
    auto v = parse_sysfs_hex(*vendor);
    auto d = parse_sysfs_hex(*device);
    if (!v || !d || *v > 0xffff || *d > 0xffff)
      return io_error("cannot read the ids of " + a.to_string() + ": vendor '" +
                      std::string(trim(*vendor)) + "', device '" + std::string(trim(*device)) +
                      "'");
    out.push_back(PciFilterEntry{
        a, vendor_device_string(static_cast<uint16_t>(*v), static_cast<uint16_t>(*d))});
  }
  return out;
}

std::string pci_filter_value(const std::vector<PciFilterEntry>& entries) {
  std::vector<std::string> seen;
  std::string out;
  for (const PciFilterEntry& e : entries) {
    if (std::find(seen.begin(), seen.end(), e.vendor_device) != seen.end()) continue;
    seen.push_back(e.vendor_device);
    out += (out.empty() ? "" : ",") + e.vendor_device;
  }
  return out;
}

std::string pci_short_address_value(const std::vector<PciFilterEntry>& entries) {
  std::string out;
  for (const PciFilterEntry& e : entries) {
    std::string a = e.address.domain == 0 ? e.address.to_short_string() : e.address.to_string();
    if (out.find(a) == std::string::npos) out += (out.empty() ? "" : ",") + a;
  }
  return out;
}

Result<NextBootCheck> guard_pci_filter(Host& host, const std::vector<PciFilterEntry>& entries,
                                       const PciFilterOptions& options) {
  NextBootRequest r;
  for (const PciFilterEntry& e : entries) {
    r.chosen.insert(e.address);
    if (std::find(r.ids.begin(), r.ids.end(), e.vendor_device) == r.ids.end())
      r.ids.push_back(e.vendor_device);
  }
  r.only_chosen = options.short_address;
  r.force = options.force;
  r.form = options.short_address ? "PCI_SHORT_ADDRESS" : "PCI_FILTER ";
  r.verb = "offers";
  r.effect = "to OpenNebula's scheduler for passthrough";
  if (!options.short_address)
    r.alternative =
        "offer only the named devices with the host's PCI_SHORT_ADDRESS filter (add "
        "--short-address)";
  return guard_next_boot(host, r);
}

Result<std::vector<OneDeployHost>> parse_one_deploy_inventory(const std::string& yaml_text,
                                                              const std::string& source_name) {
  try {
    return parse_impl(yaml_text, source_name);
  } catch (const YAML::Exception& e) {
    return invalid_input(source_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Result<OneHostPlan> plan_one_deploy_host(Host& host, const OneDeployHost& h,
                                         const PciFilterOptions& options) {
  OneHostPlan plan;
  if (!h.pci_passthrough_enabled) return plan;
  auto entries = pci_filter_entries(host, h.pci_device_addresses);
  if (!entries.ok()) return entries.error();
  auto guarded = guard_pci_filter(host, *entries, options);
  if (!guarded.ok()) return guarded.error().wrap(h.name);
  plan.warnings = guarded->warnings;
  plan.notes = guarded->notes;
  plan.pci_filter = pci_filter_value(*entries);
  if (options.short_address) plan.pci_short_address = pci_short_address_value(*entries);
  std::vector<PciAddress> addresses;
  for (const PciFilterEntry& e : *entries) addresses.push_back(e.address);
  // The node role's `driverctl set-override ADDR vfio-pci`, as the bind engine would do it:
  // a dry run, so its guards (host use, IOMMU group viability) refuse here too.
  BindOptions o;
  o.dry_run = true;
  o.force = options.force;  // guard_pci_filter let only forced host use through
  // The node role binds what pci_devices lists, no more: the siblings go in the inventory.
  o.group_remedy = [](const std::vector<std::string>& siblings) {
    return "add " + join(siblings, ", ") + " to pci_devices";
  };
  auto report = bind_devices(host, addresses, o);
  if (!report.ok()) return report.error().wrap("the bind plan for " + h.name);
  for (const PciFilterEntry& e : *entries) {
    OneDevicePlan d;
    d.address = e.address;
    d.vendor_device = e.vendor_device;
    d.driver = current_driver(host, e.address);
    // vfio-pci exactly: the node role runs `driverctl set-override ADDR vfio-pci`, which moves
    // a device on a variant driver (mlx5_vfio_pci, ...) too.
    d.changes = d.driver != std::optional<std::string>("vfio-pci");
    std::string dir = pci_device_dir(e.address);
    for (const PlannedWrite& w : report->writes) {
      if (w.op != "write") continue;
      bool mine =
          w.path.rfind(dir + "/", 0) == 0 || std::string(trim(w.data)) == e.address.to_string();
      if (!mine) continue;
      d.writes.push_back(w);
    }
    plan.devices.push_back(std::move(d));
  }
  for (const std::string& n : report->notes) plan.notes.push_back(n);
  return plan;
}

}  // namespace hostpass
