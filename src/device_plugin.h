// device_plugin.h — what hostpass's Kubernetes device plugin answers, on plain structs.
//
// The kubelet's device-plugin API v1beta1 (proto/deviceplugin/v1beta1/api.proto) is served by the
// adapter in plugin/; everything it answers is computed here from the inventory
// (kubevirt_inventory.h), so that it is testable without gRPC:
//   ListAndWatch            device_list(): one Device per allocatable Unit, with its NUMA node
//                           as TopologyInfo and "Healthy"/"Unhealthy".
//   Allocate                allocate(): environment variables and device nodes, exactly as
//                           KubeVirt's own device plugins set them, so that virt-launcher turns a
//                           VMI's gpus/hostDevices into libvirt <hostdev> unchanged.
//   GetPreferredAllocation  preferred_allocation(): must_include first, one NUMA node when
//                           possible, policy order, whole IOMMU groups.
//   health                  check_unit_health(): the unit is still on vfio-pci, the other
//                           functions of its IOMMU group keep the group viable, its /dev/vfio
//                           node is there, the device was not removed.
//
// KubeVirt contract (kubevirt/kubevirt, pkg/virt-handler/device-manager/, and the reading side
// pkg/virt-launcher/virtwrap/device/hostdevice/addresspool.go):
//   env name   util.ResourceNameToEnvVar(prefix, name): upper-case, "/" and "." → "_",
//              "<prefix>_<NAME>"; prefixes v1.PCIResourcePrefix "PCI_RESOURCE",
//              v1.MDevResourcePrefix "MDEV_PCI_RESOURCE", v1.USBResourcePrefix "USB_RESOURCE".
//   PCI        pci_device.go allocateDPFunc: value = full PCI addresses joined by ",";
//              formatVFIODeviceSpecs: /dev/vfio/vfio and /dev/vfio/<iommu group>, "mrw",
//              host path = container path.
//   mdev       mediated_device.go allocateDPFunc: value = mdev UUIDs joined by ","; device
//              nodes /dev/vfio/vfio and /dev/vfio/<the mdev's own iommu group>.
//   USB        usb_device.go Allocate: value = "<bus>:<devnum>" in decimal ("%d:%d") joined by
//              ","; device node /dev/bus/usb/BBB/DDD, "mrw".
//   virt-launcher's AddressPool splits the value on "," and pops one entry per VMI device.
//
// Deliberately not here: gRPC (plugin/device_plugin_grpc.h), sockets and registration
// (plugin/plugin_daemon.h), how the inventory is built (kubevirt_inventory.h). Allocate does not
// chown device nodes (KubeVirt's USB plugin chowns them to uid 107 for non-root virt-launcher); see
// docs/plugin.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "host.h"
#include "kubevirt_inventory.h"
#include "result.h"

namespace hostpass {

inline constexpr const char* kDevicePluginDir = "/var/lib/kubelet/device-plugins";
inline constexpr const char* kKubeletSocketName = "kubelet.sock";
inline constexpr const char* kDevicePluginApiVersion = "v1beta1";
inline constexpr const char* kDeviceHealthy = "Healthy";      // pluginapi.Healthy
inline constexpr const char* kDeviceUnhealthy = "Unhealthy";  // pluginapi.Unhealthy

inline constexpr const char* kPciResourcePrefix = "PCI_RESOURCE";
inline constexpr const char* kMdevResourcePrefix = "MDEV_PCI_RESOURCE";
inline constexpr const char* kUsbResourcePrefix = "USB_RESOURCE";

// "nvidia.com/TU104GL_Tesla_T4" → "PCI_RESOURCE_NVIDIA_COM_TU104GL_TESLA_T4".
std::string resource_env_var(const std::string& prefix, const std::string& resource_name);
// The env prefix KubeVirt uses for a kind of resource.
const char* resource_env_prefix(ResourceKind kind);
// The plugin's socket file name in the device-plugins directory:
// "nvidia.com/TU104GL_Tesla_T4" → "hostpass-nvidia.com_TU104GL_Tesla_T4.sock".
std::string plugin_socket_name(const std::string& resource_name);

struct DeviceEntry {
  std::string id;
  bool healthy = true;
  std::optional<int> numa_node;
  bool operator==(const DeviceEntry&) const = default;
};

// One entry per unit, in inventory order.
std::vector<DeviceEntry> device_list(const ResourceInventory& resource);

struct DeviceNode {
  std::string container_path, host_path, permissions;
  bool operator==(const DeviceNode&) const = default;
};

struct ContainerAllocation {
  std::map<std::string, std::string> envs;
  std::vector<DeviceNode> devices;
};

// What the container asking for `ids` gets. Every unit's members are given whole (a unit is an
// IOMMU group, an mdev, or a USB bundle). /dev/vfio/vfio is listed once.
// Errors: InvalidInput for an empty or duplicated ID list, NotFound for an ID this resource
// does not have, Refused for an unhealthy unit (with its reason), NotFound for a vfio unit
// without an IOMMU group.
Result<ContainerAllocation> allocate(const ResourceInventory& resource,
                                     const std::vector<std::string>& ids);

// The kubelet's GetPreferredAllocation for one container: `size` IDs out of `available`,
// containing every ID of `must_include`.
// Preference, in order: must_include; the NUMA node of must_include (or else a single node that
// can hold the whole request, the one holding the best-ranked unit); the policy's order (units
// earlier in the inventory first). A unit is a whole IOMMU group, so a group is never split.
// Errors: InvalidInput when size < |must_include| or an ID is unknown.
Result<std::vector<std::string>> preferred_allocation(const ResourceInventory& resource,
                                                      const std::vector<std::string>& available,
                                                      const std::vector<std::string>& must_include,
                                                      int size);

// ---- health ----

struct UnitHealth {
  bool healthy = true;
  std::string reason;  // "0000:04:00.0 left vfio-pci (now unbound)"
};

// Reads, through `host`, whether the unit can still be given to a VM:
//   PCI   every member: /sys/bus/pci/devices/<addr> exists, <addr>/driver -> .../vfio-pci;
//         every other function in /sys/kernel/iommu_groups/<group>/devices (a sibling the
//         resource does not select, e.g. a GPU's audio function) keeps the group viable: it is
//         unbound or on a driver that leaves the group's DMA to VFIO — a vfio driver, pci-stub,
//         or pcieport — whether or not it is a bridge (vfio_rules.h, the rule since Linux 5.19);
//         a sibling on any other driver makes VFIO_GROUP_SET_CONTAINER fail although
//         /dev/vfio/<group> stays; /dev/vfio/<group> exists.
//   mdev  /sys/bus/mdev/devices/<uuid> exists; /dev/vfio/<group> exists (when known).
//   USB   every member: /sys/bus/usb/devices/<port> exists and /dev/bus/usb/BBB/DDD exists.
UnitHealth check_unit_health(Host& host, ResourceKind kind, const Unit& unit);

// Re-checks the units at `indexes` (all when empty) and stores the result in them. Returns
// true when any unit's health changed.
bool refresh_health(Host& host, ResourceInventory& resource,
                    const std::vector<size_t>& indexes = {});

// Fills in what Allocate needs and the inventory may leave out: the IOMMU group of an mdev
// instance (/sys/bus/mdev/devices/<uuid>/iommu_group -> .../iommu_groups/<n>).
void complete_units(Host& host, ResourceInventory& resource);

// The directories whose entries change when a unit's health changes, as Host paths (the daemon
// watches host.resolve() of each with inotify): /dev/vfio, /sys/bus/pci/drivers/vfio-pci,
// /sys/bus/pci/devices, /sys/bus/mdev/devices, /sys/bus/usb/devices and each /dev/bus/usb/BBB.
std::vector<std::string> health_watch_dirs(const std::vector<ResourceInventory>& resources);

// The same, one resource at a time, added to `dirs`.
void add_health_watch_dirs(const ResourceInventory& resource, std::vector<std::string>& dirs);

// Maps an event (an inotify entry in a watched directory, or a kernel uevent turned into one by
// uevent_health_entry()) to the units it can affect, so that a change re-checks a handful of
// units rather than all of them.
// Memory: the node's whole device set is indexed, so the keys are packed, not strings: a PCI
// function is its address in 48 bits, an IOMMU group its number; 16 bytes a key in one sorted
// vector (10,000 functions: 0.3 MiB, where a map of string pairs took 7 MiB). Only mdev UUIDs and
// USB ports, a handful a node, are kept as strings.
class HealthIndex {
 public:
  struct Ref {
    size_t resource = 0, unit = 0;
    bool operator==(const Ref&) const = default;
  };
  void build(const std::vector<ResourceInventory>& resources);
  void clear();
  // Adds the units of the resource at position `resource_index` of the served set.
  void add(size_t resource_index, const ResourceInventory& resource);
  // Sorts what add() gathered. REQUIRES: called after the last add(), before affected().
  void seal();
  // Units affected by a change of `name` in `dir` (Host paths). Empty: nothing we serve.
  std::vector<Ref> affected(const std::string& dir, const std::string& name) const;
  // The same, and a PCI function that is not a member of any unit but shares an IOMMU group
  // with one (the audio function beside a GPU) maps to the units of its group, read from
  // /sys/bus/pci/devices/<addr>/iommu_group through `host`.
  std::vector<Ref> affected(Host& host, const std::string& dir, const std::string& name) const;

 private:
  struct Slot {
    uint64_t key;
    uint32_t resource, unit;
  };
  std::vector<Slot> slots_;                                                  // sorted by key
  std::map<std::pair<std::string, std::string>, std::vector<Ref>> by_name_;  // mdev, USB
  void add_key(uint64_t key, size_t resource, size_t unit);
  void find_key(uint64_t key, std::vector<Ref>& out) const;
};

// ---- the served set and live policy changes ----

// The resources hostpass serves. KubeVirt's device manager leaves the resources marked
// `externalResourceProvider: true` to an external plugin, and hostpass is that plugin: by default
// it serves exactly those, and leaves the others to KubeVirt's built-in plugin (two plugins
// registering one resource name would replace each other at the kubelet). `serve_all` serves
// every resource of the policy (a cluster where KubeVirt's own plugins do not run for them).
std::vector<ResourceInventory> served_resources(const Inventory& inventory, bool serve_all);

struct InventoryDiff {
  std::vector<std::string> added, removed, changed, unchanged;  // resource names, sorted
};
// Compares two served sets: `changed` when the units (IDs, members, NUMA node) differ.
InventoryDiff diff_resources(const std::vector<ResourceInventory>& before,
                             const std::vector<ResourceInventory>& after);
bool same_units(const ResourceInventory& a, const ResourceInventory& b);

// "nvidia.com/TU104GL_Tesla_T4: 2 devices (1 healthy)" for logs.
std::string describe_resource(const ResourceInventory& resource);

}  // namespace hostpass
