// pci_address_fuzz — PciAddress::parse and the sysfs value parsers never crash, and whatever
// parse accepts prints back to a string that parses to the same address.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "pci_address.h"
#include "pci_device.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  auto a = hostpass::PciAddress::parse(s);
  if (a.ok()) {
    auto again = hostpass::PciAddress::parse(a->to_string());
    if (!again.ok() || !(*again == *a)) std::abort();
    if (a->to_string().find('/') != std::string::npos) std::abort();
  }
  (void)hostpass::PciAddress::parse_full(s);
  (void)hostpass::parse_sysfs_hex(s);
  (void)hostpass::parse_sysfs_int(s);
  return 0;
}
