// vfio_verify.h — proves a PCI function or a mediated device (mdev) is assignable the way QEMU
// will use it, before a VM starts.
//
// The steps are exactly what QEMU's hw/vfio/common.c (vfio_get_group, vfio_connect_container)
// and hw/vfio/pci.c (vfio_get_device) do with the kernel's VFIO API (include/uapi/linux/vfio.h,
// Documentation/driver-api/vfio.rst, "Groups, Devices, and IOMMUs"):
//
//   container  open /dev/vfio/vfio; VFIO_GET_API_VERSION == VFIO_API_VERSION;
//              VFIO_CHECK_EXTENSION(VFIO_TYPE1v2_IOMMU or VFIO_TYPE1_IOMMU) > 0
//   group      /sys/bus/pci/devices/<addr>/iommu_group -> .../iommu_groups/<N>; open /dev/vfio/<N>
//              (absent unless a member is bound to a VFIO driver; EBUSY while another process,
//              such as a running VM, holds it)
//   viable     VFIO_GROUP_GET_STATUS has VFIO_GROUP_FLAGS_VIABLE: every device in the group is
//              bound to a VFIO driver, to pci-stub/pcieport, or to nothing
//   attach     VFIO_GROUP_SET_CONTAINER (EPERM when the group is not viable)
//   iommu      VFIO_SET_IOMMU with type1v2 (or type1); EPERM when the platform lacks interrupt
//              remapping and vfio_iommu_type1.allow_unsafe_interrupts is off
//   device     VFIO_GROUP_GET_DEVICE_FD("<addr>")
//   info       VFIO_DEVICE_GET_INFO (flags: PCI, RESET; region and irq counts), then
//              VFIO_DEVICE_GET_REGION_INFO / VFIO_DEVICE_GET_IRQ_INFO for each index
//
// A mediated device goes the same way (QEMU's -device vfio-pci,sysfsdev=/sys/bus/mdev/devices/
// <uuid>; Documentation/driver-api/vfio-mediated-device.rst), with these differences:
//   group      /sys/bus/mdev/devices/<uuid>/iommu_group: on Linux 6.1 the vendor driver registers
//              the instance with vfio_register_emulated_iommu_dev(), which gives it an IOMMU group
//              of its own (no hardware IOMMU behind it) and /dev/vfio/<N> as soon as it exists
//   viable     the group holds only the instance: viable unless another process holds it
//   iommu      type1 accepts an emulated group without interrupt remapping (the vendor driver
//              pins and translates the guest's memory itself)
//   device     VFIO_GROUP_GET_DEVICE_FD("<uuid>"): the kernel matches the device's name, which
//              for an mdev is its UUID (lowercase, as sysfs names it)
//   info       the flags must match the type's device_api (vfio-pci → VFIO_DEVICE_FLAGS_PCI,
//              vfio-ccw → CCW, vfio-ap → AP, vfio-platform → PLATFORM)
//
// Steps run in that order and stop at the first failure; the report names it and why. All of it
// goes through Host::open_device and DeviceHandle::ioctl (host.h); every descriptor is closed on
// return, which detaches the group and releases the device again (vfio_group_fops_release).
//
// What it deliberately does not do: map DMA, enable interrupts, reset the device or read its
// config space through the device fd — it stops where QEMU's realize would start touching the
// device, so running it on a device bound for a VM has no effect on the device.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host.h"
#include "pci_address.h"

namespace hostpass {

// The step names, in the order they run.
inline constexpr const char* kVerifySteps[] = {"container", "group",  "viable", "attach",
                                               "iommu",     "device", "info"};

struct VerifyStep {
  std::string name;  // one of kVerifySteps
  bool ok = false;
  std::string detail;  // what was done and seen; on failure, why and what to do
};

struct VfioRegion {
  uint32_t index = 0;
  std::string name;  // BAR0..BAR5, ROM, config, VGA, or "region N"
  uint64_t size = 0;
  uint32_t flags = 0;  // VFIO_REGION_INFO_FLAG_READ/WRITE/MMAP
};

struct VfioIrq {
  uint32_t index = 0;
  std::string name;  // INTx, MSI, MSI-X, ERR, REQ, or "irq N"
  uint32_t count = 0;
};

struct VfioDeviceInfo {
  uint32_t flags = 0;  // VFIO_DEVICE_FLAGS_*
  bool pci = false;    // VFIO_DEVICE_FLAGS_PCI
  bool reset = false;  // VFIO_DEVICE_FLAGS_RESET: the kernel can reset it (FLR, PM, bus, ...)
  uint32_t num_regions = 0;
  uint32_t num_irqs = 0;
  std::vector<VfioRegion> regions;  // those with a non-zero size
  std::vector<VfioIrq> irqs;        // those with a non-zero count
};

struct VerifyReport {
  PciAddress address;  // PCI: the function; mdev: unset (see device_name)
  // The name VFIO_GROUP_GET_DEVICE_FD takes: "0000:01:00.0", or the mdev's UUID.
  std::string device_name;
  bool mdev = false;
  std::string mdev_parent;      // mdev: its parent device ("0000:01:00.0", "mtty")
  std::string mdev_type;        // mdev: its type id ("nvidia-230", "mtty-2")
  std::string mdev_device_api;  // mdev: the type's device_api ("vfio-pci")
  std::optional<int> iommu_group;
  std::string iommu_type;         // "type1v2" or "type1" once the container supports one
  std::vector<VerifyStep> steps;  // the steps that ran, the last one failed unless ok()
  std::optional<VfioDeviceInfo> device;

  bool ok() const;
  // The failed step, or nullptr when every step passed.
  const VerifyStep* failure() const;
};

// Runs the steps above for one function. Never writes to sysfs or any file; the only effect is
// the transient VFIO state that closing the descriptors undoes.
VerifyReport verify_assignable(Host& host, const PciAddress& address);
// The same for a mediated device, by UUID (either case; the kernel's name is lowercase).
VerifyReport verify_mdev_assignable(Host& host, std::string_view uuid);

// "128 KiB", "16 MiB", "256 B".
std::string format_size(uint64_t bytes);

}  // namespace hostpass
