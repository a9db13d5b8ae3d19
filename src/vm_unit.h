// vm_unit.h — one thing that can be given to a VM, named the way users name it, with the
// facts that renderers (render.h) and the ledger (ledger.h) need.
//
// A unit is what goes to one VM together:
//   PCI   one or more functions (an explicit address is one function; an inventory unit is every
//         matching endpoint of one IOMMU group, kubevirt_inventory.h);      id "0000:65:00.0"
//   mdev  one mediated device instance;                             id its UUID (lowercase)
//   USB   one device, or a bundle of several (kubevirt_inventory.h);         id "usb-1-2" /
//   "usb-1-2+1-3"
// Names accepted (parse_unit_name): a PCI address (full, or short for domain 0000), an mdev
// UUID, "usb-<port>[+<port>...]" or a bare USB port path "1-2". Resource names (with a '/') are
// resolved elsewhere, against a KubeVirt CR's inventory.
//
// Reads only, through Host: /sys/bus/pci/devices/<addr> (pci_device.h),
// /sys/bus/mdev/devices/<uuid> (mdev.h), /sys/bus/usb/devices/<port> (usb_device.h).
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

enum class UnitKind { Pci, Mdev, Usb };
const char* unit_kind_name(UnitKind kind);  // "pci", "mdev", "usb"

struct PciMember {
  PciAddress address;
  uint16_t vendor = 0, device = 0;
  uint32_t class_code = 0;  // 24 bits
  std::optional<int> numa_node;
  std::optional<int> iommu_group;
  std::optional<std::string> driver;
  std::string name;  // "NVIDIA Corporation TU104GL [Tesla T4]", for comments
};

struct UsbMember {
  std::string port_path;  // "1-2"
  uint16_t vendor = 0, product = 0;
  int busnum = 0, devnum = 0;
  bool ambiguous = false;  // another device on this host has the same vendor:product
  std::string name;
};

struct AssignableUnit {
  UnitKind kind = UnitKind::Pci;
  std::string id;
  std::vector<PciMember> pci;
  std::string mdev_uuid, mdev_parent, mdev_type, mdev_type_name;
  std::string mdev_device_api;     // "vfio-pci", "vfio-ccw", "vfio-ap"
  uint32_t mdev_parent_class = 0;  // the parent's PCI class (0x03xxxx: a vGPU)
  std::vector<UsbMember> usb;
  std::optional<int> numa_node;
  std::string resource;  // resourceName, when it came from a CR

  // A display device: PCI class 03, or an mdev on a display parent (KubeVirt `gpus`).
  bool is_gpu() const;
};

enum class NameKind { PciAddress, MdevUuid, Usb, Resource, Invalid };
// Classifies `text` without touching the filesystem.
NameKind classify_unit_name(std::string_view text);

// Reads the unit named by `text` (not a resource name) from this host. InvalidInput for names
// that are none of the accepted forms; NotFound for a device this host does not have.
Result<AssignableUnit> read_unit(Host& host, std::string_view text);

struct ResourceInventory;
struct Unit;
// The unit the inventory (kubevirt_inventory.h) allocates, with its facts read from this host and
// `resource` set to the resource's name. The id is the first PCI member's address, the mdev
// UUID, or the inventory's "usb-<port>+<port>" id.
Result<AssignableUnit> read_inventory_unit(Host& host, const ResourceInventory& resource,
                                           const Unit& unit);

// "usb-1-2+1-3" → {"1-2", "1-3"}; InvalidInput unless every part is a USB port path.
Result<std::vector<std::string>> parse_usb_unit_id(std::string_view text);

}  // namespace hostpass
