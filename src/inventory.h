// inventory.h — what each permitted resource exposes on this node, in the units KubeVirt
// allocates, and why matching devices are not usable. (CONTRACT: implemented in inventory.cc.)
//
// Units: PCI — one unit per IOMMU group holding every matching endpoint of that group (KubeVirt
// issue 11412: a group is the unit of assignment); mdev — one per instance UUID; USB — one per
// complete bundle (every selector matched by a distinct device), deterministic by port path.
// Resources with externalResourceProvider: true are listed, marked external, and not served.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host.h"
#include "pci_address.h"
#include "policy.h"
#include "result.h"

namespace hostpass {

enum class ResourceKind { Pci, Mdev, Usb };
const char* resource_kind_name(ResourceKind kind);  // "pci", "mdev", "usb"

struct UsbRef {
  std::string port_path;  // "1-2.4"
  int busnum = 0, devnum = 0;
  uint16_t vendor = 0, product = 0;
  std::string dev_node;  // "/dev/bus/usb/001/002"
};

struct Unit {
  // Stable across restarts: PCI "pci-<first member address>", mdev the UUID, USB
  // "usb-<port>+<port>...".
  std::string id;
  std::vector<PciAddress> pci;          // PCI: every member that goes to the VM
  std::optional<int> iommu_group;       // PCI; mdev: the instance's own group (/dev/vfio/<n>)
  std::vector<std::string> mdev_uuids;  // mdev
  std::string mdev_parent, mdev_type;   // mdev: "0000:01:00.0", "nvidia-230"
  std::vector<UsbRef> usb;              // USB
  std::optional<int> numa_node;
  bool healthy = true;
  std::string health_reason;  // when unhealthy
};

struct Unusable {
  std::string what;    // "0000:02:00.0" or "usb 1-3" or "type nvidia-222"
  std::string reason;  // "on qat_c62x, not vfio-pci"
  std::string fix;     // "hostpass bind 0000:02:00.0" (may be empty)
};

struct ResourceInventory {
  std::string name;  // resourceName
  ResourceKind kind = ResourceKind::Pci;
  bool external = false;
  int rank = 0;  // position in the policy (first listed = 0), for preferred allocation
  std::vector<Unit> units;
  std::vector<Unusable> unusable;
  std::vector<std::string> selectors;  // as written: "pciVendorSelector 10de:1eb8 (line 12)"

  int healthy_units() const;
};

struct Inventory {
  std::vector<ResourceInventory> resources;
  std::vector<std::string> warnings;    // devices claimed by two resources, unreadable trees
  std::vector<DisabledEntry> disabled;  // HyperConverged entries with disabled: true
};

// The node-capacity line the kubelet would show for the resource, as in seed 000:
// "nvidia.com/TU104GL_Tesla_T4: 1". External resources: "<name>: external".
std::string capacity_line(const ResourceInventory& r);

Result<Inventory> build_inventory(Host& host, const Policy& policy);

}  // namespace hostpass
