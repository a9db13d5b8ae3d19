// dra_devices.cc — DRA devices from the inventory, and the ResourceSlices of a node's pool.
//
// Reads (never writes), besides what build_inventory() reads:
//   /sys/bus/pci/devices/<addr>          -> ../../../devices/pci0000:64/.../<addr> (pcieRoot)
//   /sys/bus/pci/devices/<addr>/...      vendor, device, class, driver, numa_node (pci_device.h)
// Slice rules followed (k8s.io/api resource/v1 and its validation): spec.devices at most
// ResourceSliceMaxDevices (128); spec.pool.generation the same on every slice of the pool and
// increased on a change, resourceSliceCount the number of slices of that generation; a device's
// attributes and capacities together at most 32; a string attribute at most 64 bytes.
#include "dra_devices.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "pci_device.h"
#include "pci_id.h"
#include "pci_names.h"

namespace hostpass {

namespace {

// At most kDraMaxAttributeString bytes, never ending inside a UTF-8 sequence.
std::string cut(std::string s) {
  if (s.size() <= kDraMaxAttributeString) return s;
  size_t n = kDraMaxAttributeString;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  s.resize(n);
  return s;
}

std::string std_name(const char* name) {
  return std::string(kDraStandardDomain) + "/" + name;
}

std::optional<std::string> sysfs_path_of(Host& host, const PciAddress& a) {
  const std::string link = pci_device_dir(a);
  auto target = host.read_link(link);
  if (!target.ok()) return std::nullopt;
  return resolve_link(link, *target);
}

// The identity attributes of a PCI function (a unit's first one, or an mdev's parent).
void add_function_attributes(Host& host, PciNames& names, const PciAddress& a,
                             DraAttributes& attrs) {
  if (auto path = sysfs_path_of(host, a))
    if (auto root = pcie_root_of(*path)) attrs[std_name("pcieRoot")] = *root;
  auto d = read_pci_device(host, a, Detail::Basic);
  if (!d.ok()) return;
  if (d->vendor) attrs["vendorID"] = hex4(*d->vendor);
  if (d->device) attrs["deviceID"] = hex4(*d->device);
  if (d->class_code) attrs["classCode"] = d->class_hex();
  if (d->vendor && d->device) {
    std::string product = names.device(*d->vendor, *d->device);
    if (!product.empty()) attrs["productName"] = cut(product);
    std::string vendor = names.vendor(*d->vendor);
    if (!vendor.empty()) attrs["vendorName"] = cut(vendor);
  }
}

void add_numa(const std::optional<int>& numa, DraAttributes& attrs) {
  if (!numa || *numa < 0) return;
  attrs["numaNode"] = int64_t{*numa};
  attrs[std_name("numaNode")] = int64_t{*numa};
}

DraDevice pci_device(Host& host, PciNames& names, const ResourceInventory& r, const Unit& u) {
  DraDevice d;
  d.kind = ResourceKind::Pci;
  d.resource_name = r.name;
  d.pci = u.pci;
  d.iommu_group = u.iommu_group;
  d.healthy = u.healthy;
  d.health_reason = u.health_reason;
  d.name = dra_pci_device_name(u.pci.front());
  DraAttributes& a = d.attributes;
  a["kind"] = std::string("pci");
  a["resourceName"] = cut(r.name);
  a[std_name("pciBusID")] = u.pci.front().to_string();
  // The other functions of the unit, whole addresses only (13 characters each with the comma).
  std::string others;
  for (size_t i = 1; i < u.pci.size(); ++i) {
    std::string next = (others.empty() ? "" : ",") + u.pci[i].to_string();
    if (others.size() + next.size() > kDraMaxAttributeString) break;
    others += next;
  }
  if (!others.empty()) a["otherFunctions"] = others;
  a["functions"] = static_cast<int64_t>(u.pci.size());
  if (u.iommu_group) a["iommuGroup"] = int64_t{*u.iommu_group};
  if (auto drv = current_driver(host, u.pci.front())) a["driver"] = cut(*drv);
  add_function_attributes(host, names, u.pci.front(), a);
  add_numa(u.numa_node, a);
  return d;
}

DraDevice mdev_device(Host& host, PciNames& names, const ResourceInventory& r, const Unit& u,
                      const std::string& uuid) {
  DraDevice d;
  d.kind = ResourceKind::Mdev;
  d.resource_name = r.name;
  d.iommu_group = u.iommu_group;
  d.mdev_uuid = uuid;
  d.mdev_parent = u.mdev_parent;
  d.mdev_type = u.mdev_type;
  d.healthy = u.healthy;
  d.health_reason = u.health_reason;
  d.name = dra_mdev_device_name(uuid);
  DraAttributes& a = d.attributes;
  a["kind"] = std::string("mdev");
  a["resourceName"] = cut(r.name);
  a["mdevUUID"] = uuid;
  a["mdevType"] = cut(u.mdev_type);
  if (!u.mdev_parent.empty()) a["mdevParent"] = cut(u.mdev_parent);
  if (u.iommu_group) a["iommuGroup"] = int64_t{*u.iommu_group};
  // The parent's identity and place, but never its pciBusID: KubeVirt would attach the parent.
  if (auto parent = PciAddress::parse_full(u.mdev_parent); parent.ok()) {
    add_function_attributes(host, names, *parent, a);
    if (auto drv = current_driver(host, *parent)) a["mdevParentDriver"] = cut(*drv);
  }
  add_numa(u.numa_node, a);
  return d;
}

}  // namespace

std::string dra_pci_device_name(const PciAddress& first) {
  std::string s = "pci-" + first.to_string();
  for (char& c : s)
    if (c == ':' || c == '.') c = '-';
  return s;
}

std::string dra_mdev_device_name(const std::string& uuid) {
  std::string s = "mdev-" + uuid;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_dns_label(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (char c : s)
    if (!alnum(c) && c != '-') return false;
  return alnum(s.front()) && alnum(s.back());
}

std::optional<std::string> pcie_root_of(const std::string& sysfs_path) {
  size_t start = 0;
  while (start <= sysfs_path.size()) {
    size_t end = sysfs_path.find('/', start);
    if (end == std::string::npos) end = sysfs_path.size();
    std::string part = sysfs_path.substr(start, end - start);
    // "pci" + 4 hex digits + ":" + 2 hex digits (drivers/pci/probe.c pci_create_root_bus names
    // the host bridge device "pci%04x:%02x").
    if (part.size() == 10 && part.compare(0, 3, "pci") == 0 && part[7] == ':' &&
        std::all_of(part.begin() + 3, part.begin() + 7, ::isxdigit) && std::isxdigit(part[8]) &&
        std::isxdigit(part[9]))
      return part;
    start = end + 1;
  }
  return std::nullopt;
}

Result<std::vector<DraDevice>> dra_devices(Host& host, const Policy& policy) {
  auto inv = build_inventory(host, policy);
  if (!inv.ok()) return inv.error();
  PciNames names;
  std::vector<DraDevice> out;
  for (const ResourceInventory& r : inv->resources) {
    for (const Unit& u : r.units) {
      if (r.kind == ResourceKind::Pci && !u.pci.empty()) {
        out.push_back(pci_device(host, names, r, u));
      } else if (r.kind == ResourceKind::Mdev) {
        for (const std::string& uuid : u.mdev_uuids)
          out.push_back(mdev_device(host, names, r, u, uuid));
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const DraDevice& a, const DraDevice& b) { return a.name < b.name; });
  // The inventory gives each function and instance to one resource; a name seen twice would be
  // a bug there, and the API server would refuse the slice.
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i].name == out[i - 1].name)
      return invalid_input("device " + out[i].name + " is in two resources (" +
                           out[i - 1].resource_name + ", " + out[i].resource_name + ")");
  return out;
}

nlohmann::json dra_value_json(const DraValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return {{"string", *s}};
  if (const auto* i = std::get_if<int64_t>(&v)) return {{"int", *i}};
  return {{"bool", std::get<bool>(v)}};
}

nlohmann::json dra_device_json(const DraDevice& d) {
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& [name, value] : d.attributes) attrs[name] = dra_value_json(value);
  return {{"name", d.name}, {"attributes", attrs}};
}

// ---------------------------------------------------------------- slices

namespace {

// FNV-1a, 32 bits: stable on every platform (std::hash is not), enough to keep cut names apart.
uint32_t fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

// Lowercase alphanumerics, '-' and '.', as a DNS subdomain (RFC 1123) allows.
std::string subdomain_chars(const std::string& s) {
  std::string out;
  for (char c : s) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += (std::isalnum(static_cast<unsigned char>(l)) || l == '-' || l == '.') ? l : '-';
  }
  return out;
}

}  // namespace

std::string dra_slice_name(const SliceOwner& owner, size_t index) {
  const std::string full = owner.driver + "-" + owner.node_name;
  std::string base = subdomain_chars(full);
  const std::string suffix = "-" + std::to_string(index);
  // 253 for a subdomain; kept to 63 so the name is also a label (a ".": still a subdomain).
  constexpr size_t kMax = 63;
  if (base.size() + suffix.size() > kMax) {
    char hash[9];
    std::snprintf(hash, sizeof hash, "%08x", fnv1a(full));
    base = base.substr(0, kMax - suffix.size() - 9) + "-" + hash;
  }
  return base + suffix;
}

std::vector<nlohmann::json> resource_slices(const SliceOwner& owner, int64_t generation,
                                            const std::vector<DraDevice>& devices) {
  const size_t count =
      std::max<size_t>(1, (devices.size() + kDraMaxDevicesPerSlice - 1) / kDraMaxDevicesPerSlice);
  std::vector<nlohmann::json> out;
  for (size_t i = 0; i < count; ++i) {
    nlohmann::json devs = nlohmann::json::array();
    for (size_t j = i * kDraMaxDevicesPerSlice;
         j < devices.size() && j < (i + 1) * kDraMaxDevicesPerSlice; ++j)
      devs.push_back(dra_device_json(devices[j]));
    nlohmann::json metadata = {{"name", dra_slice_name(owner, i)}};
    if (owner.node_uid)
      metadata["ownerReferences"] = nlohmann::json::array({{{"apiVersion", "v1"},
                                                            {"kind", "Node"},
                                                            {"name", owner.node_name},
                                                            {"uid", *owner.node_uid},
                                                            {"controller", true}}});
    out.push_back({{"apiVersion", kResourceApiVersion},
                   {"kind", "ResourceSlice"},
                   {"metadata", metadata},
                   {"spec",
                    {{"driver", owner.driver},
                     {"nodeName", owner.node_name},
                     {"pool",
                      {{"name", owner.node_name},
                       {"generation", generation},
                       {"resourceSliceCount", static_cast<int64_t>(count)}}},
                     {"devices", devs}}}});
  }
  return out;
}

namespace {

std::string str_at(const nlohmann::json& j, const nlohmann::json::json_pointer& p) {
  if (!j.contains(p) || !j.at(p).is_string()) return "";
  return j.at(p).get<std::string>();
}

}  // namespace

SlicePlan plan_slices(const SliceOwner& owner, const std::vector<nlohmann::json>& published,
                      const std::vector<DraDevice>& devices) {
  using ptr = nlohmann::json::json_pointer;
  std::map<std::string, const nlohmann::json*> mine;  // by name
  int64_t highest = 0;
  std::set<int64_t> generations;
  for (const nlohmann::json& s : published) {
    if (!s.is_object()) continue;
    if (str_at(s, ptr("/spec/driver")) != owner.driver ||
        str_at(s, ptr("/spec/nodeName")) != owner.node_name)
      continue;
    mine[str_at(s, ptr("/metadata/name"))] = &s;
    int64_t g = 0;
    if (s.contains(ptr("/spec/pool/generation")) &&
        s.at(ptr("/spec/pool/generation")).is_number_integer())
      g = s.at(ptr("/spec/pool/generation")).get<int64_t>();
    generations.insert(g);
    highest = std::max(highest, g);
  }

  SlicePlan plan;
  // Unchanged: the wanted slices at the published generation are exactly what is published.
  if (generations.size() == 1) {
    std::vector<nlohmann::json> same = resource_slices(owner, highest, devices);
    bool equal = same.size() == mine.size();
    for (const nlohmann::json& w : same) {
      if (!equal) break;
      auto it = mine.find(w["metadata"]["name"].get<std::string>());
      equal = it != mine.end() && it->second->value("spec", nlohmann::json()) == w["spec"] &&
              it->second->value("metadata", nlohmann::json::object())
                      .value("ownerReferences", nlohmann::json()) ==
                  w["metadata"].value("ownerReferences", nlohmann::json());
    }
    if (equal) {
      plan.generation = highest;
      return plan;
    }
  }
  plan.generation = mine.empty() ? 1 : highest + 1;
  std::set<std::string> wanted;
  for (nlohmann::json& w : resource_slices(owner, plan.generation, devices)) {
    const std::string name = w["metadata"]["name"].get<std::string>();
    wanted.insert(name);
    auto it = mine.find(name);
    if (it == mine.end()) {
      plan.create.push_back(std::move(w));
      continue;
    }
    std::string rv = str_at(*it->second, ptr("/metadata/resourceVersion"));
    if (!rv.empty()) w["metadata"]["resourceVersion"] = rv;
    plan.update.push_back(std::move(w));
  }
  for (const auto& [name, s] : mine)
    if (!wanted.contains(name)) plan.remove.push_back(name);
  return plan;
}

}  // namespace hostpass
