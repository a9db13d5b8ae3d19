// kubevirt_policy.h — KubeVirt / HyperConverged `permittedHostDevices`, read as users already write
// it. Reading the CR's YAML is this module's alone; the other YAML readers (apply_config.h,
// capk_manifest.h, openshift_config.h, opennebula_deploy.h) each read their own format.
//
// Accepted unchanged: a full KubeVirt CR (spec.configuration.permittedHostDevices, with
// spec.configuration.mediatedDevicesConfiguration), a full HyperConverged CR
// (spec.permittedHostDevices, spec.mediatedDevicesConfiguration), or a bare mapping whose top
// level is permittedHostDevices' contents (or {permittedHostDevices: ...}).
// Field names follow KubeVirt's API (kubevirt.io/api/core/v1 PermittedHostDevices):
//   pciHostDevices[]: pciVendorSelector (KubeVirt) | pciDeviceSelector (HCO), resourceName,
//                     externalResourceProvider
//   mediatedDevices[]: mdevNameSelector, resourceName, externalResourceProvider
//   usb[]: resourceName, selectors[]{vendor, product}, externalResourceProvider
// hostpass's own extension, marked as such in docs and errors: pciAddressSelector, a list of
// full PCI addresses, so one specific device can be its own resource.
// HyperConverged spellings are accepted too: usbHostDevices for usb, and `disabled: true` on any
// entry (HCO keeps such entries instead of deleting them; they are left out of the policy and
// listed in Policy::disabled).
//
// Validation follows what the cluster would do with the same CR, and is stricter where the
// cluster fails silently: resource names are checked with the kubelet's own rule for extended
// resources (k8s.io/kubernetes pkg/apis/core/v1/helper IsExtendedResourceName: not in the
// kubernetes.io domain, "requests."+name a qualified name: DNS-1123 subdomain prefix, name of at
// most 63 characters); a selector KubeVirt would never match (KubeVirt lowercases
// pciVendorSelector and compares it to "vendor:device" read from sysfs) is an error; unknown
// fields inside permittedHostDevices are errors (a misspelt key is the silent failure this
// loader exists to catch); a selector listed twice, an address listed twice, and one resource
// name used for two kinds of device are errors. What can only be known on a node (a device
// matched by two resources) is reported by the inventory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "host.h"
#include "pci_address.h"
#include "result.h"

namespace hostpass {

struct PciVendorSelector {
  uint16_t vendor = 0;
  uint16_t device = 0;
};

struct PolicyPciDevice {
  std::optional<PciVendorSelector> selector;  // pciVendorSelector / pciDeviceSelector
  std::vector<PciAddress> addresses;          // pciAddressSelector (hostpass extension)
  std::string resource_name;
  bool external = false;
  int line = 0;  // 1-based line in the source, for messages
  // The selector's key as written, for messages: KubeVirt's pciVendorSelector or HCO's
  // pciDeviceSelector.
  std::string selector_key = "pciVendorSelector";
};

struct PolicyMdevDevice {
  std::string name_selector;  // mdevNameSelector, matched against the type's name (and id)
  std::string resource_name;
  bool external = false;
  int line = 0;
};

struct UsbSelector {
  uint16_t vendor = 0;
  uint16_t product = 0;
};

struct PolicyUsbDevice {
  std::string resource_name;
  std::vector<UsbSelector> selectors;  // a bundle: every selector must match one device
  bool external = false;
  int line = 0;
};

struct NodeMediatedDeviceTypes {
  std::map<std::string, std::string> node_selector;
  std::vector<std::string> types;
  int line = 0;
};

struct MediatedDevicesConfiguration {
  std::vector<std::string> types;  // mediatedDeviceTypes (and the deprecated mediatedDevicesTypes)
  std::vector<NodeMediatedDeviceTypes> node_types;
};

// An entry with HyperConverged's `disabled: true`: not part of the policy, reported as such.
struct DisabledEntry {
  std::string resource_name;
  std::string kind;  // "pci", "mdev", "usb"
  int line = 0;
};

struct Policy {
  std::string source;  // file name, for messages
  std::string format;  // "KubeVirt CR", "HyperConverged CR", "permittedHostDevices mapping"
  std::vector<PolicyPciDevice> pci;
  std::vector<PolicyMdevDevice> mdev;
  std::vector<PolicyUsbDevice> usb;
  MediatedDevicesConfiguration mdev_config;
  std::vector<DisabledEntry> disabled;
};

// True when `name` is a valid Kubernetes extended resource name; otherwise `why` says what is
// wrong ("the name part 'x y' must consist of alphanumeric characters, '-', '_' or '.' ...").
bool is_extended_resource_name(const std::string& name, std::string* why = nullptr);

// InvalidInput with "file:line: field: what is wrong" on any error.
Result<Policy> parse_policy(const std::string& yaml_text, const std::string& source_name);
// `path` is read through `host` (an absolute path under its root); messages name the file as
// `source_name` (the CLI passes the path the user typed, and reads it through a RealHost("/"):
// the policy is the user's file, not part of the --root tree).
Result<Policy> load_policy(Host& host, const std::string& path);
Result<Policy> load_policy(Host& host, const std::string& path, const std::string& source_name);

}  // namespace hostpass
