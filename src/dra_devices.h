// dra_devices.h — the devices hostpass's DRA driver publishes, and the ResourceSlices that carry
// them (Kubernetes resource.k8s.io/v1), on plain structs and nlohmann::json.
//
// Devices come from the same inventory `hostpass plugin -f` serves (kubevirt_inventory.h): each
// PCI unit (an IOMMU group's matching functions) and each mdev instance is one DRA device; USB
// bundles are not DRA devices here. externalResourceProvider does not apply: every resource of
// the policy is published.
//   name        a DNS label, stable across runs: "pci-0000-65-00-0" (the unit's first function),
//               "mdev-<uuid>".
//   attributes  resource.k8s.io/v1 DeviceAttribute ({"string"|"int"|"bool"|"version": v}); at most
//               32 per device (kDraMaxAttributes, shared with capacities, of which we have none),
//               strings at most 64 characters (cut). Standard names (resource.kubernetes.io/):
//                 pciBusID   a PCI unit's first function — the one KubeVirt attaches (it reads
//                            this attribute for a device without mdevUUID); never on an mdev,
//                            where it would make KubeVirt pass the parent GPU whole
//                 pcieRoot   "pci0000:64", the root bus the function (an mdev: its parent) sits
//                            under in /sys/devices
//                 numaNode   only when the kernel knows the node (numa_node != -1)
//               hostpass's own names carry no domain: DRA qualifies them with the driver name
//               (CEL: device.attributes["vfio.hostpass.dev"].vendorID). See docs/dra.md.
//
// Slices: one pool per node (named after the node), at most 128 devices a slice, every slice of
// the pool at the same generation, rewritten whenever anything changes (plan_slices()).
//
// Deliberately not here: talking to the API server (the Kubernetes client sends what this module
// builds), binding, health checks (device_plugin.h check_unit_health() marks the units).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "host.h"
#include "kubevirt_inventory.h"
#include "kubevirt_policy.h"
#include "pci_address.h"
#include "result.h"

namespace hostpass {

// The driver name `hostpass dra` registers without --driver-name, in the project's DNS domain
// (docs/dra.md); also the domain of hostpass's own attributes.
inline constexpr const char* kDefaultDraDriverName = "vfio.hostpass.dev";
inline constexpr const char* kDraStandardDomain = "resource.kubernetes.io";
inline constexpr size_t kDraMaxAttributes = 32;        // attributes + capacities, per device
inline constexpr size_t kDraMaxAttributeString = 64;   // characters of a string value
inline constexpr size_t kDraMaxDevicesPerSlice = 128;  // resource.k8s.io/v1 ResourceSliceMaxDevices
inline constexpr const char* kResourceApiVersion = "resource.k8s.io/v1";

using DraValue = std::variant<std::string, int64_t, bool>;
using DraAttributes = std::map<std::string, DraValue>;  // name as published ("vendorID", or
                                                        // "resource.kubernetes.io/pciBusID")

struct DraDevice {
  std::string name;  // DNS label
  ResourceKind kind = ResourceKind::Pci;
  std::string resource_name;       // the policy's resourceName
  std::vector<PciAddress> pci;     // PCI: every function that goes to the VM, first = pciBusID
  std::optional<int> iommu_group;  // PCI; mdev: the instance's own group (/dev/vfio/<n>)
  std::string mdev_uuid, mdev_parent, mdev_type;  // mdev
  bool healthy = true;
  std::string health_reason;
  DraAttributes attributes;
};

// "0000:65:00.0" → "pci-0000-65-00-0"; an mdev UUID → "mdev-<uuid>" (lowercase).
std::string dra_pci_device_name(const PciAddress& first);
std::string dra_mdev_device_name(const std::string& uuid);

// True when `s` is a DNS label (RFC 1123: 1-63 characters, lowercase alphanumerics and '-',
// starting and ending alphanumeric).
bool is_dns_label(const std::string& s);

// The root bus a sysfs device path sits under: "/sys/devices/pci0000:64/0000:64:00.0/0000:65:00.0"
// → "pci0000:64". None when no path component is a root bus ("pciDDDD:BB").
std::optional<std::string> pcie_root_of(const std::string& sysfs_path);

// Every DRA device of `policy` on this host, sorted by name (names are unique: a PCI unit's
// first function and an mdev UUID each belong to one unit of the inventory). Reads through
// `host`; product names come from pci.ids (pci_names.h). Errors: those of build_inventory().
Result<std::vector<DraDevice>> dra_devices(Host& host, const Policy& policy);

// {"string": "x"}, {"int": 3}, {"bool": true}.
nlohmann::json dra_value_json(const DraValue& v);
// {"name": ..., "attributes": {...}}: a resource.k8s.io/v1 Device.
nlohmann::json dra_device_json(const DraDevice& d);

// ---- slices ----

struct SliceOwner {
  std::string driver;                   // spec.driver
  std::string node_name;                // spec.nodeName and the pool's name
  std::optional<std::string> node_uid;  // set: ownerReferences to the Node (garbage collection)
};

// The slice names of a pool: deterministic, "<driver>-<node>-<index>" made a DNS subdomain
// (a name too long is cut and ends in a hash of the full one, so two pools never share a name).
// Deterministic rather than generateName so that a create whose answer was lost, retried, does
// not leave a second slice, and a restarted daemon knows which published slice is which.
std::string dra_slice_name(const SliceOwner& owner, size_t index);

// The pool's ResourceSlices (resource.k8s.io/v1, flat devices): ceil(devices/128) slices, one
// (with no devices) when there are none, so the pool is still published; each with
// spec.pool{name: node, generation, resourceSliceCount}. Devices keep their order.
std::vector<nlohmann::json> resource_slices(const SliceOwner& owner, int64_t generation,
                                            const std::vector<DraDevice>& devices);

struct SlicePlan {
  int64_t generation = 0;              // the pool's generation after the plan
  std::vector<nlohmann::json> create;  // full objects
  std::vector<nlohmann::json> update;  // full objects, metadata.resourceVersion of the published
  std::vector<std::string> remove;     // slice names
  bool empty() const { return create.empty() && update.empty() && remove.empty(); }
};

// What to send so that the API server holds exactly the wanted slices. `published` is what the
// server lists (slices of other drivers or nodes are ignored). Nothing to do when every wanted
// slice is published with the same spec at one generation; otherwise the generation becomes the
// highest published + 1 (1 for a new pool) and every slice of the pool is rewritten: updated
// when its name is published, created otherwise, and published slices not wanted are removed.
SlicePlan plan_slices(const SliceOwner& owner, const std::vector<nlohmann::json>& published,
                      const std::vector<DraDevice>& devices);

}  // namespace hostpass
