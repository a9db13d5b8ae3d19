// vfio_rules.cc — see vfio_rules.h for the kernel code each rule follows.
#include "vfio_rules.h"

#include "pci_device.h"

namespace hostpass {

bool is_pci_bridge(std::optional<uint8_t> header_type, std::optional<uint32_t> class_code) {
  if (header_type) {
    uint8_t t = *header_type & 0x7f;  // PCI_HEADER_TYPE_MASK; bit 7 is multi-function
    return t == 1 || t == 2;          // PCI_HEADER_TYPE_BRIDGE, PCI_HEADER_TYPE_CARDBUS
  }
  if (!class_code) return false;
  uint32_t cls = *class_code >> 8;  // class and subclass
  return cls == 0x0604 || cls == 0x0607 || cls == 0x0609;
}

bool is_vfio_driver(std::string_view driver) {
  // vfio-pci itself, and the variants, whose names end in vfio_pci (KBUILD_MODNAME) or, where a
  // release spelled the name out, in vfio-pci ("hisi-acc-vfio-pci").
  return driver.starts_with("vfio") || driver.ends_with("vfio_pci") || driver.ends_with("vfio-pci");
}

bool is_stub_driver(std::string_view driver) {
  return is_vfio_driver(driver) || driver == "pci-stub";
}

bool driver_manages_dma(std::string_view driver) {
  return is_stub_driver(driver) || driver == "pcieport";
}

bool keeps_group_viable(const std::optional<std::string>& driver) {
  return !driver || driver_manages_dma(*driver);
}

std::optional<std::string> parse_driver_override(std::string_view text) {
  text = trim(text);
  if (text.empty() || text == "(null)") return std::nullopt;
  return std::string(text);
}

std::optional<std::string> read_driver_override(Host& host, const PciAddress& address) {
  auto text = host.read_file(pci_device_dir(address) + "/driver_override", 4096);
  if (!text.ok()) return std::nullopt;
  return parse_driver_override(*text);
}

GroupMember group_member(const PciDevice& device) {
  return GroupMember{device.address, device.driver, device.is_bridge()};
}

Result<std::vector<GroupMember>> read_group_members(Host& host, int number) {
  auto group = read_iommu_group(host, number);
  if (!group.ok()) return group.error();
  std::vector<GroupMember> out;
  for (const PciAddress& a : group->members) {
    auto d = read_pci_device(host, a, Detail::Basic);
    if (!d.ok()) continue;  // gone since the listing: it cannot hold the group's DMA any more
    out.push_back(group_member(*d));
  }
  return out;
}

std::vector<GroupMember> viability_blockers(const std::vector<GroupMember>& members,
                                            const std::set<PciAddress>& moving) {
  std::vector<GroupMember> out;
  for (const GroupMember& m : members)
    if (!moving.contains(m.address) && !keeps_group_viable(m.driver)) out.push_back(m);
  return out;
}

std::string describe_blocker(const GroupMember& blocker) {
  std::string driver = blocker.driver.value_or("no driver");
  if (!blocker.bridge) return blocker.address.to_string() + " is on " + driver;
  return "bridge " + blocker.address.to_string() + " is on " + driver +
         ", which claims the group's DMA for the host (a bridge keeps the group viable only "
         "unbound or on pcieport)";
}

std::string bridge_blocker_remedy(const GroupMember& blocker) {
  std::string a = blocker.address.to_string();
  return "unbind it (echo " + a + " > " + std::string(kPciDriversDir) + "/" +
         blocker.driver.value_or("DRIVER") + "/unbind; it loses what " +
         blocker.driver.value_or("its driver") + " did for it, such as hot-plug)";
}

}  // namespace hostpass
