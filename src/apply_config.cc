// apply_config.cc — see apply_config.h. yaml-cpp throws; every call into it is wrapped here.
#include "apply_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

#include "host_use.h"
#include "pci_device.h"
#include "pci_id.h"
#include "vfio_rules.h"

namespace hostpass {

bool ApplyPlan::changes() const {
  return std::any_of(items.begin(), items.end(), [](const ApplyItem& i) { return i.change; });
}

namespace {

std::string at(const std::string& source, const YAML::Node& n) {
  return source + ":" + std::to_string(n.Mark().line + 1);
}

Error bad(const std::string& source, const YAML::Node& n, const std::string& what) {
  return invalid_input(at(source, n) + ": " + what);
}

std::optional<std::string> scalar(const YAML::Node& n) {
  if (!n.IsScalar()) return std::nullopt;
  return n.Scalar();
}

std::optional<int> small_int(const YAML::Node& n) {
  auto s = scalar(n);
  return s ? parse_sysfs_count(*s) : std::nullopt;
}

Result<ApplyRule> parse_rule(const std::string& src, const YAML::Node& n, size_t index) {
  std::string where = "devices[" + std::to_string(index) + "]";
  if (!n.IsMap()) return bad(src, n, where + " must be a mapping (address: or selector:)");
  ApplyRule r;
  r.line = static_cast<int>(n.Mark().line) + 1;
  for (const auto& kv : n) {
    auto key = scalar(kv.first);
    static const std::set<std::string> kKeys = {"address", "selector", "count", "numa_node",
                                                "driver"};
    if (!key || !kKeys.contains(*key))
      return bad(src, kv.first,
                 "unknown key '" + kv.first.as<std::string>("?") + "' in " + where +
                     " (expected address, selector, driver, count, numa_node)");
    const YAML::Node& v = kv.second;
    if (*key == "address") {
      auto s = scalar(v);
      if (!s) return bad(src, v, "address must be a string like \"0000:65:00.0\"");
      auto a = PciAddress::parse_full(*s);
      if (!a.ok()) return bad(src, v, a.error().message);
      r.address = *a;
    } else if (*key == "selector") {
      auto s = scalar(v);
      auto id = s ? parse_vendor_device(*s) : std::nullopt;
      if (!id)
        return bad(src, v,
                   "invalid selector '" + (s ? *s : std::string("?")) +
                       "': expected vendor:device, 4 hex digits each, as in \"10de:1eb8\"");
      r.vendor = id->vendor;
      r.device = id->device;
    } else if (*key == "count") {
      auto c = small_int(v);
      if (!c || *c < 1) return bad(src, v, "count must be a positive integer");
      r.count = c;
    } else if (*key == "numa_node") {
      auto c = small_int(v);
      if (!c) return bad(src, v, "numa_node must be a non-negative integer");
      r.numa_node = c;
    } else if (*key == "driver") {
      auto s = scalar(v);
      if (!s) return bad(src, v, "driver must be a string (vfio-pci, or host)");
      if (*s != kHostDriver)
        if (Status st = validate_driver_name(*s); !st.ok()) return bad(src, v, st.error().message);
      r.driver = *s;
    }
  }
  if (r.address && r.vendor)
    return bad(src, n, where + " has both address and selector: use one per entry");
  if (!r.address && !r.vendor) return bad(src, n, where + " needs address: or selector:");
  if (r.address && (r.count || r.numa_node))
    return bad(src, n, where + ": count and numa_node apply to a selector, not an address");
  return r;
}

}  // namespace

Result<ApplyConfig> parse_apply_config(std::string_view text, const std::string& source) {
  ApplyConfig c;
  c.source = source;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return invalid_input(source + ":" + std::to_string(e.mark.line + 1) + ": YAML error: " + e.msg);
  }
  try {
    if (!root.IsMap())
      return invalid_input(source + ": expected a mapping with version: 1 and devices:");
    bool have_version = false, have_devices = false;
    for (const auto& kv : root) {
      auto key = scalar(kv.first);
      if (key && *key == "version") {
        auto v = small_int(kv.second);
        if (!v || *v != 1) return bad(source, kv.second, "unsupported version (expected 1)");
        have_version = true;
      } else if (key && *key == "devices") {
        if (!kv.second.IsSequence())
          return bad(source, kv.second, "devices must be a list of entries");
        size_t i = 0;
        for (const YAML::Node& n : kv.second) {
          auto r = parse_rule(source, n, i++);
          if (!r.ok()) return r.error();
          c.rules.push_back(std::move(*r));
        }
        have_devices = true;
      } else {
        return bad(
            source, kv.first,
            "unknown key '" + kv.first.as<std::string>("?") + "' (expected version, devices)");
      }
    }
    if (!have_version) return invalid_input(source + ": missing version: 1");
    if (!have_devices) return invalid_input(source + ": missing devices:");
  } catch (const YAML::Exception& e) {
    return invalid_input(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return c;
}

Result<ApplyConfig> load_apply_config(Host& host, const std::string& path) {
  auto text = host.read_file(path, 1 << 20);
  if (!text.ok()) return text.error();
  return parse_apply_config(*text, path);
}

Result<ApplyPlan> plan_apply(Host& host, const ApplyConfig& config, const GuardContext* guards) {
  ApplyPlan plan;
  std::map<PciAddress, ApplyItem> wanted;
  auto claim = [&](const PciAddress& a, const ApplyRule& r,
                   const std::optional<std::string>& current) -> Status {
    auto it = wanted.find(a);
    if (it != wanted.end()) {
      if (it->second.driver != r.driver)
        return invalid_input(config.source + ":" + std::to_string(r.line) + ": " + a.to_string() +
                             " is wanted on " + r.driver + " here and on " + it->second.driver +
                             " at line " + std::to_string(it->second.rule_line));
      return ok_status();
    }
    ApplyItem item{a, r.driver, current, false, r.line};
    if (r.driver == kHostDriver)  // held from the host (a vfio driver or pci-stub): return it
      item.change = current && is_stub_driver(*current);
    else
      item.change = current != r.driver;
    wanted[a] = item;
    return ok_status();
  };

  // Address rules first: they are exact, and selectors must not take their devices.
  for (const ApplyRule& r : config.rules) {
    if (!r.address) continue;
    if (!host.exists(pci_device_dir(*r.address)))
      return not_found(config.source + ":" + std::to_string(r.line) + ": no PCI device " +
                       r.address->to_string() + " on this host (hostpass list)");
    if (Status s = claim(*r.address, r, current_driver(host, *r.address)); !s.ok())
      return s.error();
  }
  bool have_selectors = std::any_of(config.rules.begin(), config.rules.end(),
                                    [](const ApplyRule& r) { return r.vendor.has_value(); });
  if (have_selectors) {
    auto devices = discover_pci(host, DiscoverOptions{});
    if (!devices.ok()) return devices.error();
    GuardContext own;
    if (!guards) {
      auto c = read_guard_context(host, "");
      if (!c.ok()) return c.error();
      own = std::move(*c);
      guards = &own;
    }
    for (const ApplyRule& r : config.rules) {
      if (!r.vendor) continue;
      std::vector<const PciDevice*> candidates;
      for (PciDevice& d : *devices) {
        if (d.vendor != r.vendor || d.device != r.device) continue;
        if (r.numa_node && d.numa_node != r.numa_node) continue;
        auto w = wanted.find(d.address);
        if (w != wanted.end() && w->second.rule_line != r.line) continue;  // another rule's
        // What a bind would refuse (host use, a vGPU parent) is skipped, and the plan says so.
        std::vector<Blocker> blockers = device_blockers(host, *guards, d, GuardOp::Bind, "");
        std::erase_if(blockers, [](const Blocker& b) {
          return b.guard == Guard::HostUnseen || b.guard == Guard::SriovVfs ||
                 b.guard == Guard::LedgerAssigned;
        });
        if (!blockers.empty()) {
          plan.notes.push_back("skipped " + d.address.to_string() + " (line " +
                               std::to_string(r.line) + "): " + blockers.front().reason);
          continue;
        }
        candidates.push_back(&d);
      }
      // Devices already where they should be first, so that a re-run picks the same ones.
      auto in_place = [&](const PciDevice* d) {
        return r.driver == kHostDriver ? !(d->driver && is_stub_driver(*d->driver))
                                       : d->driver == r.driver;
      };
      std::stable_sort(
          candidates.begin(), candidates.end(),
          [&](const PciDevice* a, const PciDevice* b) { return in_place(a) && !in_place(b); });
      std::string sel = vendor_device_string(*r.vendor, *r.device);
      if (r.count && static_cast<int>(candidates.size()) < *r.count)
        return not_found(config.source + ":" + std::to_string(r.line) + ": selector " + sel +
                         (r.numa_node ? " on NUMA node " + std::to_string(*r.numa_node) : "") +
                         " wants " + plural(static_cast<size_t>(*r.count), "device", "devices") +
                         ", " + std::to_string(candidates.size()) + " available");
      if (candidates.empty())
        plan.notes.push_back("selector " + sel + " (line " + std::to_string(r.line) +
                             ") matches no device");
      size_t n = r.count ? static_cast<size_t>(*r.count) : candidates.size();
      for (size_t i = 0; i < n; ++i)
        if (Status s = claim(candidates[i]->address, r, candidates[i]->driver); !s.ok())
          return s.error();
    }
  }
  for (auto& [a, item] : wanted) plan.items.push_back(item);
  return plan;
}

Result<ApplyReport> apply_plan(Host& host, const ApplyPlan& plan, const ApplyOptions& options) {
  ApplyReport report;
  report.plan = plan;
  if (!report.plan.changes()) return report;

  // One engine call per wanted driver, in a stable order: releases first, then binds.
  std::map<std::string, std::vector<PciAddress>> by_driver;
  for (const ApplyItem& i : report.plan.items)
    if (i.change) by_driver[i.driver].push_back(i.address);
  std::vector<std::string> order;
  if (by_driver.contains(kHostDriver)) order.push_back(kHostDriver);
  for (const auto& [d, _] : by_driver)
    if (d != kHostDriver) order.push_back(d);

  for (const std::string& driver : order) {
    BindOptions b;
    b.driver = driver == kHostDriver ? "vfio-pci" : driver;
    b.force = options.force;
    b.dry_run = options.dry_run;
    b.state_dir = options.state_dir;
    b.guards = options.guards;
    // apply has no --group: the siblings go in the file (docs/apply.md, "Groups").
    b.group_remedy = [](const std::vector<std::string>&) {
      return std::string("name them too, in the apply file");
    };
    auto r = driver == kHostDriver ? unbind_devices(host, by_driver[driver], b)
                                   : bind_devices(host, by_driver[driver], b);
    if (!r.ok()) {
      if (report.steps.empty()) return r.error();
      return r.error().wrap("after " + std::to_string(report.steps.size()) +
                            " completed step(s) of the plan");
    }
    report.steps.push_back(std::move(*r));
  }
  return report;
}

std::string render_apply_config(const std::vector<PciAddress>& addresses,
                                const std::string& driver) {
  std::string out = "# hostpass apply -f this file: the devices below on " + driver + ".\n";
  out += "version: 1\ndevices:\n";
  for (const PciAddress& a : addresses)
    out += "  - address: \"" + a.to_string() + "\"\n    driver: " + driver + "\n";
  if (addresses.empty()) out = "version: 1\ndevices: []\n";
  return out;
}

}  // namespace hostpass
