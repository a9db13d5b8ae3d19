// passthrough_summary.cc — see passthrough_summary.h.
//
// Group viability and what counts as a bridge or a VFIO driver are vfio_rules.h's: a group is
// usable by a VFIO user only when every other member is unbound or on a driver that leaves the
// group's DMA to VFIO (the vfio drivers, pci-stub, pcieport). The device itself is ready only on
// a VFIO driver: pci-stub holds it from the host, but QEMU cannot open it there.
#include "passthrough_summary.h"

namespace hostpass {

PassthroughSummary summarize_passthrough(const PciDevice& d, const std::vector<PciDevice>& group) {
  PassthroughSummary s;
  const std::string addr = d.address.to_string();
  if (d.is_bridge()) {
    s.blocked = true;
    s.steps.push_back("nothing: " + addr + " is a bridge; pass through the devices behind it");
    return s;
  }
  if (!d.iommu_group) {
    s.blocked = true;
    s.steps.push_back(
        "enable the IOMMU: VT-d/AMD-Vi in the firmware and intel_iommu=on (Intel) on "
        "the kernel command line, then reboot (see `hostpass check`)");
    return s;
  }
  for (const HostUse& u : d.in_use) {
    s.blocked = true;
    s.steps.push_back("free it from the host first: " + u.detail);
  }
  std::vector<GroupMember> members;
  members.reserve(group.size());
  for (const PciDevice& m : group) members.push_back(group_member(m));
  std::vector<std::string> siblings_to_move;
  for (const GroupMember& b : viability_blockers(members, {d.address})) {
    if (!b.bridge) {
      siblings_to_move.push_back(b.address.to_string() + " (" + b.driver.value_or("") + ")");
      continue;
    }
    s.blocked = true;
    s.steps.push_back("free the group from its bridge's driver: " + describe_blocker(b) + "; " +
                      bridge_blocker_remedy(b));
  }
  for (const PciDevice& m : group) {
    if (m.address == d.address) continue;
    for (const HostUse& u : m.in_use) {
      s.blocked = true;
      s.steps.push_back("group " + std::to_string(*d.iommu_group) + " sibling " +
                        m.address.to_string() + " is needed by the host: " + u.detail);
    }
  }
  bool on_vfio = d.driver && is_vfio_driver(*d.driver);
  if (!siblings_to_move.empty()) {
    std::string list;
    for (const std::string& x : siblings_to_move) list += (list.empty() ? "" : ", ") + x;
    s.steps.push_back("bind the whole IOMMU group " + std::to_string(*d.iommu_group) +
                      ": its other endpoints are on host drivers: " + list +
                      " (hostpass bind --group " + addr + ")");
  } else if (!on_vfio) {
    s.steps.push_back("bind it to vfio-pci (hostpass bind " + addr + ")" +
                      (d.driver ? ", away from " + *d.driver : std::string()));
  }
  if (d.reset_methods && d.reset_methods->empty())
    s.concerns.push_back("no reset method: the device may not survive a VM restart");
  if (d.sriov_totalvfs && *d.sriov_totalvfs > 0)
    s.concerns.push_back("SR-IOV physical function: passing it through removes its " +
                         plural(static_cast<size_t>(d.sriov_numvfs.value_or(0)), "virtual function",
                                "virtual functions"));
  s.ready = on_vfio && siblings_to_move.empty() && !s.blocked;
  return s;
}

}  // namespace hostpass
