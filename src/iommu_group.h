// iommu_group.h — IOMMU groups as sysfs shows them, and whether one can be given to VFIO.
//
// An IOMMU group is the smallest set of functions the IOMMU can isolate from the rest of the
// host (Documentation/driver-api/vfio.rst, "Groups, Devices, and IOMMUs"): VFIO hands out a group
// whole, so a device can go to a VM only when every other member of its group lets it.
//
// Contract read (all through Host, all read-only):
//   /sys/kernel/iommu_groups/<n>/devices/<addr>  one entry per member function (a link to it)
//   /sys/bus/pci/devices/<addr>/iommu_group      -> ../../../kernel/iommu_groups/<n> (pci_device.h
//                                                reads it into PciDevice::iommu_group)
//   /sys/bus/mdev/devices/<uuid>/iommu_group     -> ../../../kernel/iommu_groups/<n>, an mdev's own
//                                                group, registered by its vendor driver
//
// Viability — a member keeps the group viable when it is unbound or on a driver that sets
// driver_managed_dma — is a rule about drivers and is quoted with the kernel code it follows in
// vfio_rules.h (keeps_group_viable); this file applies it to a group's members.
//
// What it deliberately does not do: decide how groups are formed (ACS, bridges: the kernel's
// business, hostpass only reads the result), open /dev/vfio/<n> (vfio_verify.h does), or move
// any member (vfio_bind.h).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "host.h"
#include "pci_address.h"
#include "result.h"

namespace hostpass {

struct PciDevice;

inline constexpr const char* kIommuGroupsDir = "/sys/kernel/iommu_groups";

struct IommuGroup {
  int number = -1;
  std::vector<PciAddress> members;  // sorted, from /sys/kernel/iommu_groups/<n>/devices
};

// The members of group `number`. NotFound when the group does not exist.
Result<IommuGroup> read_iommu_group(Host& host, int number);

// The IOMMU group of a mediated device (/sys/bus/mdev/devices/<uuid>/iommu_group), if any.
std::optional<int> mdev_iommu_group(Host& host, const std::string& uuid);

// One function of an IOMMU group, as the group rule sees it.
struct GroupMember {
  PciAddress address;
  std::optional<std::string> driver;  // none: unbound
  bool bridge = false;                // is_pci_bridge (vfio_rules.h)
  bool operator==(const GroupMember&) const = default;
};

GroupMember group_member(const PciDevice& device);

// Every function listed in /sys/kernel/iommu_groups/<number>/devices that still exists, with
// its driver link and header type (read_pci_device, Basic detail). NotFound when the group
// does not exist.
Result<std::vector<GroupMember>> read_group_members(Host& host, int number);

// The members, other than those in `moving` (about to be, or already, handed to a VFIO driver),
// whose drivers keep the group from being viable (vfio_rules.h keeps_group_viable), in the order
// given.
std::vector<GroupMember> viability_blockers(const std::vector<GroupMember>& members,
                                            const std::set<PciAddress>& moving);

// What a blocker is, for messages: "0000:02:00.1 is on qat_c62x"; for a bridge
// "bridge 0000:00:1c.0 is on shpchp, which claims the group's DMA for the host (a bridge keeps
// the group viable only unbound or on pcieport)".
std::string describe_blocker(const GroupMember& blocker);

// How to clear a bridge blocker, which hostpass never moves: "unbind it (echo ADDR >
// /sys/bus/pci/drivers/DRIVER/unbind)". REQUIRES: blocker.bridge and blocker.driver.
std::string bridge_blocker_remedy(const GroupMember& blocker);

}  // namespace hostpass
