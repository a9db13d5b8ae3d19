// kubevirt_inventory.h — what each permitted resource exposes on this node, in the units KubeVirt
// allocates, and why matching devices are not usable.
//
// Units: PCI — one unit per IOMMU group holding every matching endpoint of that group (KubeVirt
// kubevirt/kubevirt#11412: a group is the unit of assignment); mdev — one per instance UUID; USB —
// one per complete bundle (every selector matched by a distinct device), deterministic by port
// path. Resources with externalResourceProvider: true are listed, marked external, and not served.
// A device served both by hostpass (an external resource) and by KubeVirt's own plugin (a resource
// that is not external) is recorded, and double_serving() refuses such a policy.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host.h"
#include "kubevirt_policy.h"
#include "pci_address.h"
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

// A device two device plugins would offer at once: hostpass gives it to an external resource
// (externalResourceProvider: true, which `hostpass plugin` serves), and KubeVirt's own device
// plugin serves it in a resource that is not external, by KubeVirt's own matching rule
// (pkg/virt-handler/device-manager, see kubevirt_inventory.cc). The kubelet then counts it in both
// resources, and two VMs can get the same device. Recorded whatever driver the device is on
// now: binding it later (which KubeVirt waits for) would not reload either plugin's policy.
struct DoubleServed {
  ResourceKind kind = ResourceKind::Pci;
  std::string device;    // "0000:05:00.0 (8086:5845)", "mediated device <uuid> (nvidia-230)",
                         // "usb 1-1 (46f4:0001)"
  std::string external;  // the external resource the inventory gives it to
  int external_line = 0;
  std::string kubevirt;  // the resource KubeVirt serves it in
  int kubevirt_line = 0;
  std::string kubevirt_rule;  // why KubeVirt takes it: "its pciVendorSelector 8086:5845 takes
                              // every 8086:5845 device on vfio-pci ..."
};

struct Inventory {
  std::vector<ResourceInventory> resources;
  std::vector<std::string> warnings;        // devices claimed by two resources, unreadable trees
  std::vector<DisabledEntry> disabled;      // HyperConverged entries with disabled: true
  std::vector<DoubleServed> double_served;  // whatever the plugin's --all; see double_serving()
};

// The node-capacity line the kubelet would show for the resource, as in OpenShift Virtualization's
// procedure: "nvidia.com/TU104GL_Tesla_T4: 1". External resources: "<name>: external".
std::string capacity_line(const ResourceInventory& r);

Result<Inventory> build_inventory(Host& host, const Policy& policy);

// The refusal of a policy that would serve a device twice (Inventory::double_served), or ok.
// `serve_all` is `hostpass plugin --all`: hostpass then serves every resource itself, KubeVirt's
// plugins serve none of this policy, and each device has one owner in the inventory (an address
// selector first, then policy order, with a warning), so nothing is served twice.
// Refused: one line saying so, one line per device naming both resources, and one "fix:" line
// per KubeVirt-served resource (mark it external too, or --all).
Status double_serving(const Inventory& inventory, bool serve_all);

}  // namespace hostpass
