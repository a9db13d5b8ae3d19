// iommu_group.cc — see iommu_group.h.
#include "iommu_group.h"

#include <algorithm>

#include "mdev.h"
#include "pci_device.h"
#include "vfio_rules.h"

namespace hostpass {

Result<IommuGroup> read_iommu_group(Host& host, int number) {
  std::string dir = join_path(kIommuGroupsDir, std::to_string(number)) + "/devices";
  auto names = host.list_dir(dir);
  if (!names.ok())
    return not_found("no IOMMU group " + std::to_string(number) + ": " + names.error().message);
  IommuGroup g;
  g.number = number;
  for (const std::string& n : *names)
    if (auto a = PciAddress::parse(n); a.ok()) g.members.push_back(*a);
  std::sort(g.members.begin(), g.members.end());
  return g;
}

std::optional<int> mdev_iommu_group(Host& host, const std::string& uuid) {
  auto target = host.read_link(join_path(join_path(kMdevDevicesDir, uuid), "iommu_group"));
  if (!target.ok()) return std::nullopt;
  auto n = parse_sysfs_int(base_name(*target));
  if (!n || *n < 0) return std::nullopt;
  return static_cast<int>(*n);
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
