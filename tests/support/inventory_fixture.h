// inventory_fixture.h — the node the inventory tests run on: the standard host plus the devices
// of the KubeVirt inventory scenario, in the kernel's own shapes (built with fixture_tree.h's
// helpers).
//
//   0000:65:00.0  T4 10de:1eb8 on vfio-pci, group 10, NUMA 1, /dev/vfio/10 (KubeVirt host-devices
//   page's address) 0000:01:00.0  T4 10de:1eb8 on nvidia (standard host): the GRID parent, with
//   types
//                 nvidia-222/223/230 and one GRID T4-1Q (nvidia-230) instance
//                 4b20d080-1b54-4048-85b3-a6a62d165c01 in IOMMU group 20, /dev/vfio/20
//   0000:02:00.0/1 QAT 8086:6f54 pair on qat_c62x, group 6 (standard host)
//   0000:03:00.0, 0000:04:00.0  NVMe 8086:5845, unbound / vfio-pci (standard host)
//   0000:67:00.0/1 X710 8086:1572, both functions on vfio-pci, one group 12, /dev/vfio/12
//   0000:68:00.0  V100 10de:1db6 on vfio-pci sharing group 13 with
//   0000:68:00.1  I210 8086:1533 on igb (not viable); /dev/vfio/13
//   0000:00:14.0  xHCI 8086:a36d on xhci_hcd, group 9, USB bus 1 (root hub usb1) with
//     1-1   46f4:0001 QEMU USB storage               (KubeVirt docs' kubevirt.io/storage)
//     1-2   045e:07a5 Microsoft wireless receiver    (KubeVirt docs' kubevirt.io/peripherals
//     1-3   062a:4102 MosArt wireless mouse           bundle: these three)
//     1-4   072f:b100 ACS ACR39U smartcard reader
//     1-5   045e:07a5 a second receiver: an incomplete second bundle
//   devnums 2..6 in that order, /dev/bus/usb/001/00N.
#pragma once

#include <cstdint>
#include <string>

#include "fixture_tree.h"

namespace hostpass::testing {

inline constexpr const char* kGridInstanceUuid = "4b20d080-1b54-4048-85b3-a6a62d165c01";

// The IOMMU group the vfio-mdev core gives an instance: <instance>/iommu_group ->
// kernel/iommu_groups/<n>, the group's devices/<uuid> link, and /dev/vfio/<n>.
void add_mdev_iommu_group(FixtureTree& t, const std::string& parent, const std::string& uuid,
                          int group);

void build_inventory_node(FixtureTree& t);

}  // namespace hostpass::testing
