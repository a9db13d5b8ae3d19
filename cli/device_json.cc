// device_json.cc — see device_json.h.
#include "device_json.h"

namespace hostpass {

namespace {

template <class T, class F>
nlohmann::json opt(const std::optional<T>& v, F f) {
  return v ? nlohmann::json(f(*v)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json device_to_json(const PciDevice& d, bool full, bool host_use_known) {
  using nlohmann::json;
  auto same = [](auto v) { return v; };
  auto h4 = [](uint16_t v) { return hex4(v); };
  json j;
  j["address"] = d.address.to_string();
  j["vendor"] = opt(d.vendor, h4);
  j["device"] = opt(d.device, h4);
  j["class"] = d.class_code ? json(d.class_hex()) : json(nullptr);
  j["class_code"] = d.class_code ? json(hex_digits(*d.class_code, 6)) : json(nullptr);  // 24 bits
  j["revision"] = opt(d.revision, [](uint8_t v) { return hex_digits(v, 2); });
  auto name = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  j["vendor_name"] = name(d.vendor_name);  // null: pci.ids does not know it
  j["device_name"] = name(d.device_name);
  j["class_name"] = name(d.class_name);
  j["driver"] = opt(d.driver, same);
  j["iommu_group"] = opt(d.iommu_group, same);
  j["numa_node"] = opt(d.numa_node, same);
  j["bridge"] = d.is_bridge();
  json uses = json::array();
  for (const HostUse& u : d.in_use) uses.push_back(u.detail);
  j["in_use"] = host_use_known ? uses : json(nullptr);
  j["warnings"] = d.warnings;
  if (full) {
    j["subsystem_vendor"] = opt(d.subsystem_vendor, h4);
    j["subsystem_device"] = opt(d.subsystem_device, h4);
    j["driver_override"] = opt(d.driver_override, same);
    j["boot_vga"] = d.boot_vga;
    j["reset_methods"] = opt(d.reset_methods, same);
    j["sriov_totalvfs"] = opt(d.sriov_totalvfs, same);
    j["sriov_numvfs"] = opt(d.sriov_numvfs, same);
    j["physfn"] = opt(d.physfn, [](const PciAddress& a) { return a.to_string(); });
    j["mdev_supported_types"] = d.has_mdev_types;
  }
  return j;
}

}  // namespace hostpass
