// pci_device.h — what hostpass knows about a PCI function, read from sysfs.
//
// Contract followed (Documentation/ABI/testing/sysfs-bus-pci and the kernel's pci-sysfs.c):
//   /sys/bus/pci/devices/<addr>            -> ../../../devices/pci<dom>:<bus>/.../<addr>
//   <dev>/config                           config space; the first 64 bytes are world-readable
//   <dev>/vendor, device, subsystem_vendor, subsystem_device   "0x10de\n"
//   <dev>/class                            "0x030200\n" (24 bits: class, subclass, prog-if)
//   <dev>/revision                         "0xa1\n"
//   <dev>/driver                           -> ../../../bus/pci/drivers/<name>   (absent: unbound)
//   <dev>/driver_override                  "(null)\n" or the driver name
//   <dev>/iommu_group                      -> ../../../kernel/iommu_groups/<n>  (absent: no IOMMU)
//   <dev>/numa_node                        "-1\n" when the platform has no NUMA information
//   <dev>/boot_vga                         "1\n" on the firmware's boot display (VGA class only)
//   <dev>/reset_method                     "flr bus\n" (kernel >= 5.15); empty: no reset
//   <dev>/sriov_totalvfs, sriov_numvfs     on SR-IOV physical functions
//   <dev>/physfn                           -> ../<pf addr>, on virtual functions
//   <dev>/mdev_supported_types/            on parents of mediated devices
//
// Discovery reads the minimum for `list` (config space + class + two links + numa_node) and
// everything for `show`; it never writes. A malformed or missing attribute becomes a warning on
// the device and the field stays unknown: hostpass never shows a guess as a fact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host.h"
#include "pci_address.h"
#include "result.h"

namespace hostpass {

inline constexpr const char* kPciDevicesDir = "/sys/bus/pci/devices";
inline constexpr const char* kPciDriversDir = "/sys/bus/pci/drivers";

// Why the host itself needs a device (host_use.h fills these).
struct HostUse {
  enum class Kind { RootFilesystem, Mounted, Swap, NetworkUp, DefaultRoute, BootVga };
  Kind kind;
  std::string detail;  // "root filesystem (/dev/vda1 on /)"
};
const char* host_use_kind_name(HostUse::Kind kind);  // "root-filesystem", "mounted", ...

struct PciDevice {
  PciAddress address;
  std::string sysfs_path;  // Full detail: canonical /sys/devices/pci0000:00/0000:00:02.0

  // Identity. Absent when unreadable (then `warnings` says why).
  std::optional<uint16_t> vendor, device;
  std::optional<uint16_t> subsystem_vendor, subsystem_device;  // Full detail only
  std::optional<uint32_t> class_code;                          // 24 bits
  std::optional<uint8_t> revision;
  std::optional<uint8_t> header_type;  // config byte 0x0e: 0 endpoint, 1 PCI-PCI bridge, 2 CardBus
                                       // bridge (bit 7: multi-function); none: unreadable

  // Names from the pci.ids database (pci_names.h); empty when unknown.
  std::string vendor_name, device_name, class_name;

  std::optional<std::string> driver;           // none: unbound
  std::optional<std::string> driver_override;  // Full detail; none: "(null)"
  std::optional<int> iommu_group;              // none: no IOMMU group
  std::optional<int> numa_node;                // none: -1 or unknown

  // Full detail only.
  bool boot_vga = false;
  std::optional<std::vector<std::string>> reset_methods;  // none: attribute absent (old kernel)
  std::optional<int> sriov_totalvfs, sriov_numvfs;
  std::optional<PciAddress> physfn;  // set on SR-IOV virtual functions
  bool has_mdev_types = false;

  std::vector<HostUse> in_use;
  std::vector<std::string> warnings;

  // The kernel's pci_is_bridge(): a bridge header (vfio_rules.h is_pci_bridge). vfio-pci never
  // takes one; an ISA or host bridge (class 0601, 0600) has a normal header and is not one.
  bool is_bridge() const;
  // "0302": lspci's [cccc] form (class and subclass).
  std::string class_hex() const;
};

enum class Detail {
  Basic,  // enough for `list`: ids, class, revision, driver, IOMMU group, NUMA node
  Full,   // everything in PciDevice
};

struct DiscoverOptions {
  Detail detail = Detail::Basic;
  int threads = 2;  // sysfs reads are syscall-bound; two threads nearly halve the wall time
};

// Every PCI function under /sys/bus/pci/devices, sorted by address. Entries whose names are not
// PCI addresses are skipped with a warning in `warnings` (when given). Fails only when the
// directory itself cannot be listed (no sysfs at this root).
Result<std::vector<PciDevice>> discover_pci(Host& host, const DiscoverOptions& options,
                                            std::vector<std::string>* warnings = nullptr);

// One function. NotFound when /sys/bus/pci/devices/<addr> does not exist.
Result<PciDevice> read_pci_device(Host& host, const PciAddress& address, Detail detail);

// The driver bound to `address` now, or none. Cheap: one readlink.
std::optional<std::string> current_driver(Host& host, const PciAddress& address);

// The sysfs directory of a device: /sys/bus/pci/devices/<addr>.
std::string pci_device_dir(const PciAddress& address);

// parse_sysfs_hex and parse_sysfs_int, the attribute parsers, are in host.h beside trim().

}  // namespace hostpass
