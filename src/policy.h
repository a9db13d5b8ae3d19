// policy.h — KubeVirt / HyperConverged `permittedHostDevices`, read as users already write it.
// (CONTRACT: implemented in policy.cc; YAML appears nowhere else.)
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
};

struct MediatedDevicesConfiguration {
  std::vector<std::string> types;  // mediatedDeviceTypes (and the deprecated mediatedDevicesTypes)
  std::vector<NodeMediatedDeviceTypes> node_types;
};

struct Policy {
  std::string source;  // file name, for messages
  std::vector<PolicyPciDevice> pci;
  std::vector<PolicyMdevDevice> mdev;
  std::vector<PolicyUsbDevice> usb;
  MediatedDevicesConfiguration mdev_config;
};

// InvalidInput with "file:line: field: what is wrong" on any error.
Result<Policy> parse_policy(const std::string& yaml_text, const std::string& source_name);
Result<Policy> load_policy(Host& host, const std::string& path);

}  // namespace hostpass
