// device_plugin.cc — see device_plugin.h for the kubelet and KubeVirt contracts followed here.
#include "device_plugin.h"

#include "iommu_group.h"
#include "pci_device.h"
#include "vfio_rules.h"
#include "vfio_variant.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace hostpass {

namespace {

constexpr const char* kVfioContainer = "/dev/vfio/vfio";

std::string vfio_group_node(int group) {
  return "/dev/vfio/" + std::to_string(group);
}

// /dev/bus/usb/BBB/DDD, the node the kernel's usb core names "bus/usb/%03d/%03d".
std::string usb_node(const UsbRef& u) {
  char b[40];
  std::snprintf(b, sizeof b, "/dev/bus/usb/%03d/%03d", u.busnum, u.devnum);
  return b;
}

std::string usb_bus_dir(const UsbRef& u) {
  char b[32];
  std::snprintf(b, sizeof b, "/dev/bus/usb/%03d", u.busnum);
  return b;
}

const Unit* find_unit(const ResourceInventory& r, const std::string& id, size_t* index = nullptr) {
  for (size_t i = 0; i < r.units.size(); ++i) {
    if (r.units[i].id == id) {
      if (index) *index = i;
      return &r.units[i];
    }
  }
  return nullptr;
}

// Why the functions of the unit's IOMMU group that the resource does not give to the VM (its
// siblings) keep the group from being viable (iommu_group.h viability_blockers), or "".
std::string siblings_break_group(Host& host, const Unit& unit, int group) {
  auto members = read_group_members(host, group);
  if (!members.ok()) return "";  // the group is gone: the /dev/vfio check below says so
  std::set<PciAddress> mine(unit.pci.begin(), unit.pci.end());
  auto blockers = viability_blockers(*members, mine);
  if (blockers.empty()) return "";
  const GroupMember& b = blockers.front();
  std::string g = std::to_string(group);
  if (b.bridge) return describe_blocker(b) + ": IOMMU group " + g + " is not viable";
  return b.address.to_string() + " in the same IOMMU group " + g + " left vfio-pci (now on " +
         b.driver.value_or("no driver") + "): the group is not viable until it is back on vfio-pci";
}

std::string known_ids(const ResourceInventory& r) {
  std::vector<std::string> ids;
  for (const Unit& u : r.units) ids.push_back(u.id);
  if (ids.size() > 8) {
    ids.resize(8);
    ids.push_back("...");
  }
  return ids.empty() ? "none" : join(ids, ", ");
}

}  // namespace

std::string resource_env_var(const std::string& prefix, const std::string& resource_name) {
  // KubeVirt pkg/util: strings.ToUpper, then "/" → "_", then "." → "_".
  std::string name = resource_name;
  for (char& c : name) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == '/' || c == '.') c = '_';
  }
  return prefix + "_" + name;
}

const char* resource_env_prefix(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::Pci:
      return kPciResourcePrefix;
    case ResourceKind::Mdev:
      return kMdevResourcePrefix;
    case ResourceKind::Usb:
      return kUsbResourcePrefix;
  }
  return kPciResourcePrefix;
}

std::string plugin_socket_name(const std::string& resource_name) {
  std::string name = resource_name;
  for (char& c : name)
    if (c == '/') c = '_';
  return "hostpass-" + name + ".sock";
}

std::vector<DeviceEntry> device_list(const ResourceInventory& resource) {
  std::vector<DeviceEntry> out;
  out.reserve(resource.units.size());
  for (const Unit& u : resource.units) out.push_back(DeviceEntry{u.id, u.healthy, u.numa_node});
  return out;
}

Result<ContainerAllocation> allocate(const ResourceInventory& resource,
                                     const std::vector<std::string>& ids) {
  if (ids.empty())
    return invalid_input("allocate " + resource.name + ": the request names no device");
  ContainerAllocation out;
  std::set<std::string> seen;
  std::vector<std::string> values;
  std::set<std::string> nodes;
  auto add_node = [&](const std::string& path) {
    if (nodes.insert(path).second) out.devices.push_back(DeviceNode{path, path, "mrw"});
  };
  for (const std::string& id : ids) {
    if (!seen.insert(id).second)
      return invalid_input("allocate " + resource.name + ": device '" + id +
                           "' is requested twice");
    const Unit* unit = find_unit(resource, id);
    if (!unit)
      return not_found("allocate " + resource.name + ": no device '" + id +
                       "' in this resource (it has: " + known_ids(resource) +
                       "); the kubelet's view is stale, the plugin sends it a new list");
    if (!unit->healthy)
      return refused("allocate " + resource.name + ": device '" + id + "' is unhealthy: " +
                     (unit->health_reason.empty() ? "unknown reason" : unit->health_reason));
    switch (resource.kind) {
      case ResourceKind::Pci:
      case ResourceKind::Mdev: {
        if (!unit->iommu_group)
          return not_found("allocate " + resource.name + ": device '" + id +
                           "' has no IOMMU group, so it has no /dev/vfio node to give");
        if (resource.kind == ResourceKind::Pci) {
          for (const PciAddress& a : unit->pci) values.push_back(a.to_string());
        } else {
          for (const std::string& uuid : unit->mdev_uuids) values.push_back(uuid);
        }
        add_node(kVfioContainer);
        add_node(vfio_group_node(*unit->iommu_group));
        break;
      }
      case ResourceKind::Usb:
        for (const UsbRef& u : unit->usb) {
          values.push_back(std::to_string(u.busnum) + ":" + std::to_string(u.devnum));
          add_node(usb_node(u));
        }
        break;
    }
  }
  out.envs[resource_env_var(resource_env_prefix(resource.kind), resource.name)] = join(values, ",");
  return out;
}

Result<std::vector<std::string>> preferred_allocation(const ResourceInventory& resource,
                                                      const std::vector<std::string>& available,
                                                      const std::vector<std::string>& must_include,
                                                      int size) {
  if (size < 0 || static_cast<size_t>(size) < must_include.size())
    return invalid_input("preferred allocation for " + resource.name + ": size " +
                         std::to_string(size) + " is smaller than the " +
                         plural(must_include.size(), "device", "devices") + " it must include");
  std::vector<std::string> chosen;
  std::set<std::string> taken;
  std::set<int> must_nodes;
  bool must_unknown_node = false;
  for (const std::string& id : must_include) {
    const Unit* u = find_unit(resource, id);
    if (!u)
      return invalid_input("preferred allocation for " + resource.name + ": unknown device '" + id +
                           "'");
    if (!taken.insert(id).second) continue;
    chosen.push_back(id);
    if (u->numa_node)
      must_nodes.insert(*u->numa_node);
    else
      must_unknown_node = true;
  }
  size_t need = static_cast<size_t>(size) - chosen.size();
  if (need == 0) return chosen;

  // Candidates in policy order (their position in the inventory), healthy ones only.
  struct Candidate {
    size_t rank;
    std::string id;
    std::optional<int> node;
  };
  std::vector<Candidate> candidates;
  for (const std::string& id : available) {
    size_t rank = 0;
    const Unit* u = find_unit(resource, id, &rank);
    if (!u)
      return invalid_input("preferred allocation for " + resource.name + ": unknown device '" + id +
                           "'");
    if (taken.contains(id) || !u->healthy) continue;
    taken.insert(id);
    candidates.push_back(Candidate{rank, id, u->numa_node});
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.rank < b.rank; });

  // Buckets per NUMA node (nullopt: the platform does not say).
  std::map<std::optional<int>, std::vector<const Candidate*>> buckets;
  for (const Candidate& c : candidates) buckets[c.node].push_back(&c);

  std::vector<std::optional<int>> order;  // buckets to draw from, in preference order
  if (!must_unknown_node && must_nodes.size() == 1) {
    order.push_back(*must_nodes.begin());
  } else if (must_nodes.empty() && !must_unknown_node) {
    // A single node that can hold the whole request; among those, the one holding the
    // best-ranked candidate (candidates are sorted, so the first one that fits).
    for (const Candidate& c : candidates) {
      if (c.node && buckets[c.node].size() >= need) {
        order.push_back(c.node);
        break;
      }
    }
  }
  // Then the rest: largest buckets first (fewest nodes spanned), known nodes before unknown.
  std::vector<std::optional<int>> rest;
  for (const auto& [node, list] : buckets)
    if (std::find(order.begin(), order.end(), node) == order.end()) rest.push_back(node);
  std::stable_sort(rest.begin(), rest.end(), [&](const auto& a, const auto& b) {
    if (buckets[a].size() != buckets[b].size()) return buckets[a].size() > buckets[b].size();
    return a.has_value() && !b.has_value();
  });
  order.insert(order.end(), rest.begin(), rest.end());

  for (const auto& node : order) {
    for (const Candidate* c : buckets[node]) {
      if (need == 0) break;
      chosen.push_back(c->id);
      --need;
    }
    if (need == 0) break;
  }
  // Not enough healthy candidates: return what there is; the kubelet decides.
  return chosen;
}

UnitHealth check_unit_health(Host& host, ResourceKind kind, const Unit& unit) {
  switch (kind) {
    case ResourceKind::Pci: {
      VfioDriverKnowledge vfio(host);
      for (const PciAddress& a : unit.pci) {
        std::string addr = a.to_string();
        std::string dev = std::string(kPciDevicesDir) + "/" + addr;
        if (!host.exists(dev)) return {false, addr + " was removed (no " + dev + ")"};
        auto driver = host.read_link(dev + "/driver");
        if (!driver.ok()) return {false, addr + " left vfio-pci (now unbound)"};
        // A vfio-pci variant (mlx5_vfio_pci, ...) is a VFIO driver too: the device has not left.
        std::string name = base_name(*driver);
        if (!vfio.is_vfio(name)) return {false, addr + " left vfio-pci (now on " + name + ")"};
      }
      if (unit.iommu_group) {
        std::string why = siblings_break_group(host, unit, *unit.iommu_group);
        if (!why.empty()) return {false, why};
      }
      if (unit.iommu_group && !host.exists(vfio_group_node(*unit.iommu_group)))
        return {false, vfio_group_node(*unit.iommu_group) + " is missing"};
      return {};
    }
    case ResourceKind::Mdev:
      for (const std::string& uuid : unit.mdev_uuids) {
        std::string dev = "/sys/bus/mdev/devices/" + uuid;
        if (!host.exists(dev)) return {false, "mediated device " + uuid + " was removed"};
      }
      if (unit.iommu_group && !host.exists(vfio_group_node(*unit.iommu_group)))
        return {false, vfio_group_node(*unit.iommu_group) + " is missing"};
      return {};
    case ResourceKind::Usb:
      for (const UsbRef& u : unit.usb) {
        if (!host.exists("/sys/bus/usb/devices/" + u.port_path))
          return {false, "usb " + u.port_path + " was unplugged"};
        if (!host.exists(usb_node(u))) return {false, usb_node(u) + " is missing"};
      }
      return {};
  }
  return {};
}

bool refresh_health(Host& host, ResourceInventory& resource, const std::vector<size_t>& indexes) {
  bool changed = false;
  auto one = [&](Unit& u) {
    UnitHealth h = check_unit_health(host, resource.kind, u);
    if (h.healthy != u.healthy || h.reason != u.health_reason) {
      changed = changed || h.healthy != u.healthy;
      u.healthy = h.healthy;
      u.health_reason = h.reason;
    }
  };
  if (indexes.empty()) {
    for (Unit& u : resource.units) one(u);
  } else {
    for (size_t i : indexes)
      if (i < resource.units.size()) one(resource.units[i]);
  }
  return changed;
}

void complete_units(Host& host, ResourceInventory& resource) {
  if (resource.kind != ResourceKind::Mdev) return;
  for (Unit& u : resource.units) {
    if (u.iommu_group || u.mdev_uuids.empty()) continue;
    u.iommu_group = mdev_iommu_group(host, u.mdev_uuids.front());
  }
}

std::vector<std::string> health_watch_dirs(const std::vector<ResourceInventory>& resources) {
  std::vector<std::string> dirs;
  for (const ResourceInventory& r : resources) add_health_watch_dirs(r, dirs);
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

void add_health_watch_dirs(const ResourceInventory& r, std::vector<std::string>& dirs) {
  auto add = [&](const std::string& d) {
    if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
  };
  switch (r.kind) {
    case ResourceKind::Pci:
      add("/dev/vfio");
      add(std::string(kPciDriversDir) + "/vfio-pci");
      add(kPciDevicesDir);
      break;
    case ResourceKind::Mdev:
      add("/dev/vfio");
      add("/sys/bus/mdev/devices");
      break;
    case ResourceKind::Usb:
      add("/sys/bus/usb/devices");
      for (const Unit& u : r.units)
        for (const UsbRef& ref : u.usb) add(usb_bus_dir(ref));
      break;
  }
}

namespace {

// Packed keys: the kind in the top byte, the value below.
constexpr uint64_t kKeyPci = 1ull << 56;      // a PCI function: domain:bus:device.function
constexpr uint64_t kKeyGroup = 2ull << 56;    // an IOMMU group (/dev/vfio/<n>)
constexpr uint64_t kKeyUsbNode = 3ull << 56;  // /dev/bus/usb/BBB/DDD

uint64_t pci_key(const PciAddress& a) {
  return kKeyPci | (uint64_t{a.domain} << 16) | (uint64_t{a.bus} << 8) | (uint64_t{a.device} << 3) |
         a.function;
}

}  // namespace

void HealthIndex::clear() {
  slots_.clear();
  slots_.shrink_to_fit();
  by_name_.clear();
}

void HealthIndex::add_key(uint64_t key, size_t resource, size_t unit) {
  slots_.push_back(Slot{key, static_cast<uint32_t>(resource), static_cast<uint32_t>(unit)});
}

void HealthIndex::add(size_t resource_index, const ResourceInventory& resource) {
  for (size_t ui = 0; ui < resource.units.size(); ++ui) {
    const Unit& u = resource.units[ui];
    if (u.iommu_group)
      add_key(kKeyGroup | static_cast<uint32_t>(*u.iommu_group), resource_index, ui);
    for (const PciAddress& a : u.pci) add_key(pci_key(a), resource_index, ui);
    for (const std::string& uuid : u.mdev_uuids)
      by_name_[{"/sys/bus/mdev/devices", uuid}].push_back(Ref{resource_index, ui});
    for (const UsbRef& usb : u.usb) {
      by_name_[{"/sys/bus/usb/devices", usb.port_path}].push_back(Ref{resource_index, ui});
      add_key(kKeyUsbNode | (uint64_t(static_cast<uint32_t>(usb.busnum)) << 16) |
                  static_cast<uint16_t>(usb.devnum),
              resource_index, ui);
    }
  }
}

void HealthIndex::seal() {
  std::sort(slots_.begin(), slots_.end(), [](const Slot& a, const Slot& b) {
    return a.key != b.key ? a.key < b.key
                          : (a.resource != b.resource ? a.resource < b.resource : a.unit < b.unit);
  });
  slots_.shrink_to_fit();
}

void HealthIndex::build(const std::vector<ResourceInventory>& resources) {
  clear();
  for (size_t ri = 0; ri < resources.size(); ++ri) add(ri, resources[ri]);
  seal();
}

void HealthIndex::find_key(uint64_t key, std::vector<Ref>& out) const {
  auto lo = std::lower_bound(slots_.begin(), slots_.end(), key,
                             [](const Slot& s, uint64_t k) { return s.key < k; });
  for (; lo != slots_.end() && lo->key == key; ++lo) {
    Ref ref{lo->resource, lo->unit};
    if (std::find(out.begin(), out.end(), ref) == out.end()) out.push_back(ref);
  }
}

std::vector<HealthIndex::Ref> HealthIndex::affected(const std::string& dir,
                                                    const std::string& name) const {
  std::vector<Ref> out;
  if (dir == kPciDevicesDir || dir == std::string(kPciDriversDir) + "/vfio-pci") {
    auto a = PciAddress::parse_full(name);
    if (a.ok()) find_key(pci_key(*a), out);
  } else if (dir == "/dev/vfio") {
    if (auto n = parse_sysfs_count(name)) find_key(kKeyGroup | static_cast<uint32_t>(*n), out);
  } else if (dir.rfind("/dev/bus/usb/", 0) == 0) {
    auto bus = parse_sysfs_count(dir.substr(13));
    auto dev = parse_sysfs_count(name);
    if (bus && dev)
      find_key(
          kKeyUsbNode | (uint64_t(static_cast<uint32_t>(*bus)) << 16) | static_cast<uint16_t>(*dev),
          out);
  } else {
    auto it = by_name_.find({dir, name});
    if (it != by_name_.end()) out = it->second;
  }
  return out;
}

std::vector<HealthIndex::Ref> HealthIndex::affected(Host& host, const std::string& dir,
                                                    const std::string& name) const {
  std::vector<Ref> out = affected(dir, name);
  if (!out.empty() || (dir != kPciDevicesDir && dir != std::string(kPciDriversDir) + "/vfio-pci"))
    return out;
  if (!PciAddress::parse_full(name).ok()) return out;
  // Not a member of any unit: a sibling in a served unit's group? (Gone devices have no link:
  // a function leaving the group cannot make it less viable.)
  auto link = host.read_link(std::string(kPciDevicesDir) + "/" + name + "/iommu_group");
  if (!link.ok()) return out;
  if (auto n = parse_sysfs_count(base_name(*link)))
    find_key(kKeyGroup | static_cast<uint32_t>(*n), out);
  return out;
}

std::vector<ResourceInventory> served_resources(const Inventory& inventory, bool serve_all) {
  std::vector<ResourceInventory> out;
  for (const ResourceInventory& r : inventory.resources)
    if (serve_all || r.external) out.push_back(r);
  std::stable_sort(
      out.begin(), out.end(),
      [](const ResourceInventory& a, const ResourceInventory& b) { return a.rank < b.rank; });
  return out;
}

bool same_units(const ResourceInventory& a, const ResourceInventory& b) {
  if (a.kind != b.kind || a.units.size() != b.units.size()) return false;
  for (size_t i = 0; i < a.units.size(); ++i) {
    const Unit& x = a.units[i];
    const Unit& y = b.units[i];
    if (x.id != y.id || x.pci != y.pci || x.iommu_group != y.iommu_group ||
        x.mdev_uuids != y.mdev_uuids || x.numa_node != y.numa_node || x.usb.size() != y.usb.size())
      return false;
    for (size_t k = 0; k < x.usb.size(); ++k) {
      const UsbRef& p = x.usb[k];
      const UsbRef& q = y.usb[k];
      if (p.port_path != q.port_path || p.busnum != q.busnum || p.devnum != q.devnum ||
          p.vendor != q.vendor || p.product != q.product)
        return false;
    }
  }
  return true;
}

InventoryDiff diff_resources(const std::vector<ResourceInventory>& before,
                             const std::vector<ResourceInventory>& after) {
  InventoryDiff d;
  std::map<std::string, const ResourceInventory*> old_by_name, new_by_name;
  for (const ResourceInventory& r : before) old_by_name[r.name] = &r;
  for (const ResourceInventory& r : after) new_by_name[r.name] = &r;
  for (const auto& [name, r] : new_by_name) {
    auto it = old_by_name.find(name);
    if (it == old_by_name.end())
      d.added.push_back(name);
    else if (same_units(*it->second, *r))
      d.unchanged.push_back(name);
    else
      d.changed.push_back(name);
  }
  for (const auto& [name, r] : old_by_name)
    if (!new_by_name.contains(name)) d.removed.push_back(name);
  return d;
}

std::string describe_resource(const ResourceInventory& resource) {
  size_t healthy = 0;
  for (const Unit& u : resource.units) healthy += u.healthy ? 1 : 0;
  const char* kind = resource.kind == ResourceKind::Pci    ? "pci"
                     : resource.kind == ResourceKind::Mdev ? "mdev"
                                                           : "usb";
  return resource.name + " (" + kind + "): " + std::to_string(resource.units.size()) +
         (resource.units.size() == 1 ? " device (" : " devices (") + std::to_string(healthy) +
         " healthy)";
}

}  // namespace hostpass
