// kubevirt_policy_fuzz — parse_policy (kubevirt_policy.h) never crashes or lets a yaml-cpp
// exception out, and every policy it accepts holds what its validation promises: each resource
// name passes the kubelet's extended-resource rule, each PCI entry selects by vendor:device or by
// canonical full addresses, each entry names its 1-based line, no address is listed twice.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "kubevirt_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto p = hostpass::parse_policy(text, "fuzz.yaml");
  if (!p.ok()) {
    if (p.error().kind != hostpass::ErrorKind::InvalidInput) std::abort();
    return 0;
  }
  auto valid = [](const std::string& name, int line) {
    if (!hostpass::is_extended_resource_name(name) || line < 1) std::abort();
  };
  std::set<hostpass::PciAddress> addresses;
  for (const hostpass::PolicyPciDevice& d : p->pci) {
    valid(d.resource_name, d.line);
    if (d.selector.has_value() == !d.addresses.empty()) std::abort();
    for (const hostpass::PciAddress& a : d.addresses) {
      auto again = hostpass::PciAddress::parse_full(a.to_string());
      if (!again.ok() || !(*again == a) || !addresses.insert(a).second) std::abort();
    }
  }
  for (const hostpass::PolicyMdevDevice& d : p->mdev) {
    valid(d.resource_name, d.line);
    if (d.name_selector.empty()) std::abort();
  }
  for (const hostpass::PolicyUsbDevice& d : p->usb) {
    valid(d.resource_name, d.line);
    if (d.selectors.empty()) std::abort();
  }
  return 0;
}
