// vfio_rules.h — the kernel's rules for giving PCI functions to VFIO, each in one place.
//
// Every module that decides whether a device can go to a VM asks here: the bind engine
// (vfio_bind.cc), preflight's device.group-viable, the inventory and the device plugin's health
// check, `show`'s passthrough summary, the ledger, apply, persist and verify's explanation; the
// viability rule is applied to a whole group's members in iommu_group.h. Each rule quotes the
// kernel code it follows (Linux 6.1, Debian 12's kernel, unless said otherwise).
//
//   bridge       include/linux/pci.h pci_is_bridge(): "dev->hdr_type == PCI_HEADER_TYPE_BRIDGE ||
//                dev->hdr_type == PCI_HEADER_TYPE_CARDBUS", hdr_type being config byte 0x0e
//                without its multi-function bit (drivers/pci/probe.c pci_setup_device). The
//                header type, not the class: vfio-pci refuses exactly these (vfio_pci_probe:
//                "if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL) return -EINVAL"). An ISA/LPC
//                bridge (class 0601, lpc_ich) or a host bridge (0600) has a normal header: for
//                every rule here it is an endpoint — vfio-pci can take it, `bind --group` takes it
//                along, and a host driver on it makes the group not viable.
//   VFIO driver  a driver whose devices a VM can be given: vfio-pci (drivers/vfio/pci/vfio_pci.c
//                .name = "vfio-pci") and the vfio-pci variant drivers of drivers/vfio/pci/*/,
//                named after their modules (.name = KBUILD_MODNAME: mlx5_vfio_pci,
//                hisi_acc_vfio_pci, pds_vfio_pci, virtio_vfio_pci, nvgrace_gpu_vfio_pci, ...).
//                pci-stub is NOT one: it holds a device away from the host, but creates no
//                /dev/vfio node, so QEMU cannot open what it holds.
//   stub driver  libvirt's word (src/util/virpci.c, virPCIStubDriver: pci-stub, vfio-pci) for a
//                driver that only keeps a device from the host: the VFIO drivers and pci-stub.
//                Unbinding a device from a stub driver is what returns it to the host.
//   viability    since Linux 5.19 ("vfio: Set DMA ownership for VFIO devices", 70693f470848,
//                and "vfio: Remove use of vfio_group_viable()", 31076af0cb00) a group is viable
//                when no member's driver claims its DMA for the kernel. Binding a driver runs
//                pci_dma_configure (drivers/pci/pci-driver.c):
//                    if (!ret && !driver->driver_managed_dma) {
//                            ret = iommu_device_use_default_domain(dev);
//                which counts the device as a kernel DMA user of its group (owner_cnt++, or
//                -EBUSY when a VFIO user owns the group); VFIO_GROUP_GET_STATUS reports VIABLE
//                when "!iommu_group_dma_owner_claimed(group->iommu_group)" (drivers/vfio/group.c),
//                and VFIO_GROUP_SET_CONTAINER's iommu_group_claim_dma_owner() fails with EPERM
//                while owner_cnt is not 0 (drivers/iommu/iommu.c). So a member keeps the group
//                viable exactly when it is unbound or its driver sets driver_managed_dma:
//                    vfio-pci and every variant   (drivers/vfio/pci/*: .driver_managed_dma = true)
//                    pci-stub                     (18c7a349d072 "PCI: pci_stub: Set
//                                                  driver_managed_dma")
//                    pcieport                     (c7d469849747 "PCI: portdrv: Set
//                                                  driver_managed_dma"; drivers/pci/pcie/portdrv.c)
//                Whether a member is a bridge does not enter the rule. A bridge on any other
//                driver — shpchp, the Standard Hot-Plug Controller driver, is the example the
//                kernel's authors gave: it maps the bridge's BARs, which a VM could reach by
//                peer-to-peer DMA — makes the group not viable: binding that driver fails while
//                a VM holds the group, and the group cannot be attached to a container while
//                it is bound.
//                Kernels before 5.19 (drivers/vfio/vfio.c vfio_dev_driver_allowed) instead let
//                any driver sit on a device with a bridge header ("if (pdev->hdr_type !=
//                PCI_HEADER_TYPE_NORMAL) return true;") besides pci-stub and vfio drivers; this
//                file follows the newer rule, which on those kernels is stricter for such a
//                bridge (a refusal that was not needed) and looser in one corner: pcieport on a
//                Root Complex Event Collector (class 0807, a normal header), which the old rule
//                counted against the group (`hostpass verify` shows the kernel's own answer).
//   driver_override  pci-sysfs.c driver_override_show prints "%s\n" of the override, so an unset
//                override (a NULL pointer) reads "(null)\n"; writing "\n" or "" clears it
//                (drivers/base/driver.c driver_set_override).
//
// Deliberately not here: host use (host_use.h), reading groups and listing their blockers
// (iommu_group.h), ACS and how groups are formed (the kernel's business), and the order of sysfs
// writes (vfio_bind.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host.h"
#include "pci_address.h"
#include "result.h"

namespace hostpass {

// The kernel's pci_is_bridge() from config byte 0x0e (the multi-function bit ignored). When the
// header type is unknown (config space unreadable), the class decides: the PCI specs give class
// 0604 (PCI-to-PCI) and 0609 (semi-transparent) bridges header type 1 and 0607 (CardBus) type 2.
bool is_pci_bridge(std::optional<uint8_t> header_type, std::optional<uint32_t> class_code);

// vfio-pci or a vfio-pci variant driver: a VM can be given the device (see the header comment).
// By name only, for the rules here that see a driver's name without a Host (group viability over
// GroupMember lists, the summary over PciDevice structs, the ledger's and the engine's checks):
// the kernel's own answer — vfio_pci_core holders, modules.alias vfio_pci: entries — is
// vfio_variant.h is_vfio_driver(Host&, driver), which callers holding a Host use instead.
bool is_vfio_driver(std::string_view driver);
// A VFIO driver or pci-stub: the device is held away from the host.
bool is_stub_driver(std::string_view driver);
// The driver sets driver_managed_dma: a VFIO driver, pci-stub or pcieport.
bool driver_manages_dma(std::string_view driver);
// A group member on `driver` (none: unbound) leaves the group viable for VFIO.
bool keeps_group_viable(const std::optional<std::string>& driver);

// The override in a driver_override file's text: none for "(null)" or nothing.
std::optional<std::string> parse_driver_override(std::string_view text);
// <dev>/driver_override of `address`; none when "(null)" or unreadable.
std::optional<std::string> read_driver_override(Host& host, const PciAddress& address);

}  // namespace hostpass
