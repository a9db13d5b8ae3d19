// pci_id.h — 16-bit device ids as text: "10de", and the vendor:device pair "10de:1eb8".
//
// The kernel prints a PCI id in sysfs with "0x%04x\n" (drivers/pci/pci-sysfs.c) and a USB id
// with "%04x\n" (drivers/usb/core/sysfs.c); lspci -nn, lsusb, KubeVirt's pciVendorSelector
// (lowercased, then matched against the "%04x:%04x" it builds from sysfs) and vfio-pci.ids= all
// write one as exactly four lowercase hex digits, and so does every place hostpass prints one.
// An id is 16 bits: hex4() takes a uint16_t and refuses anything wider at compile time, so a
// caller holding a wider value (a PCI domain, a class code) decides what it means and calls
// hex_digits(), which like printf's "%04x" pads but never drops a digit.
//
// Parsing is as strict as what the kernel prints: exactly the digits, any case, nothing else.
// sysfs attributes with their 0x and newline are parse_sysfs_hex's (host.h).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hostpass {

// Exactly four lowercase hex digits: 0x10de → "10de", 0x8 → "0008".
std::string hex4(uint16_t id);
template <class T>
std::string hex4(T) = delete;  // only a uint16_t: say at the call what a wider value means

// At least `min_digits` lowercase hex digits, all of them when the value is wider:
// (0x8, 2) → "08", (0x10000, 4) → "10000" (a PCI domain behind Intel VMD).
std::string hex_digits(uint32_t value, int min_digits);

// Exactly `digits` hex digits (1 to 8), any case, nothing around them. None otherwise.
std::optional<uint32_t> parse_hex_digits(std::string_view text, size_t digits);

struct VendorDevice {
  uint16_t vendor = 0;
  uint16_t device = 0;
  auto operator<=>(const VendorDevice&) const = default;
};

// "10de:1eb8": hex4(vendor) + ":" + hex4(device).
std::string vendor_device_string(uint16_t vendor, uint16_t device);
inline std::string vendor_device_string(const VendorDevice& id) {
  return vendor_device_string(id.vendor, id.device);
}

// "VVVV:DDDD", four hex digits each side (any case), as lspci -nn prints it. None otherwise.
std::optional<VendorDevice> parse_vendor_device(std::string_view text);

}  // namespace hostpass
