// pci_address.h — the PCI function address, parsed strictly and printed canonically.
//
// Canonical form is the kernel's: "%04x:%02x:%02x.%x" (domain:bus:device.function), lowercase,
// as in /sys/bus/pci/devices. Domains above 0xffff exist (Intel VMD uses 10000+), so the domain
// takes 4 to 8 hex digits. The short form "BB:DD.F" (lspci without -D) means domain 0000.
// Nothing else is accepted: parse() is the gate that keeps "../x" or "0000:06:00.0/../.." out of
// every sysfs path hostpass builds, and it runs before any filesystem access.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "result.h"

namespace hostpass {

struct PciAddress {
  uint32_t domain = 0;
  uint8_t bus = 0;
  uint8_t device = 0;    // 0..31
  uint8_t function = 0;  // 0..7

  // Accepts "DDDD:BB:DD.F" and "BB:DD.F" (hex, any case). InvalidInput otherwise, with a
  // message that names the input and the expected forms.
  static Result<PciAddress> parse(std::string_view text);
  // Accepts only the full form "DDDD:BB:DD.F" (one-deploy and pciAddressSelector refuse short
  // addresses, since they are ambiguous across domains).
  static Result<PciAddress> parse_full(std::string_view text);

  std::string to_string() const;        // "0000:06:00.0"
  std::string to_short_string() const;  // "06:00.0"

  // modernize-use-nullptr is wrong here: clang-tidy 14 sees the literal 0 the compiler's
  // generated body compares the ordering with; there is no 0 in this code to replace.
  // NOLINTNEXTLINE(modernize-use-nullptr)
  auto operator<=>(const PciAddress&) const = default;
};

}  // namespace hostpass
