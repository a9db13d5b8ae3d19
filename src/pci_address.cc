// pci_address.cc — see pci_address.h.
#include "pci_address.h"

#include <cstdio>

namespace hostpass {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses exactly `min..max` hex digits from the front of `s`, advancing it.
bool take_hex(std::string_view& s, size_t min, size_t max, uint32_t& out) {
  size_t n = 0;
  uint32_t v = 0;
  while (n < s.size() && n < max && hex_value(s[n]) >= 0) {
    v = v * 16 + static_cast<uint32_t>(hex_value(s[n]));
    ++n;
  }
  if (n < min || (n < s.size() && hex_value(s[n]) >= 0)) return false;
  s.remove_prefix(n);
  out = v;
  return true;
}

bool take_char(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

Error bad_address_impl(std::string_view text, const std::string& why, bool allow_short) {
  std::string shown(text.substr(0, 64));
  if (text.size() > 64) shown += "...";
  return invalid_input("invalid PCI address '" + shown + "': " + why +
                       (allow_short ? " (expected DDDD:BB:DD.F like 0000:06:00.0, or BB:DD.F "
                                      "like 06:00.0)"
                                    : " (expected DDDD:BB:DD.F like 0000:06:00.0)"));
}

Result<PciAddress> parse_impl(std::string_view text, bool allow_short) {
  auto bad_address = [allow_short](std::string_view t, const std::string& why) {
    return bad_address_impl(t, why, allow_short);
  };
  if (text.empty()) return bad_address(text, "empty");
  if (text.size() > 16) return bad_address(text, "too long");
  // Count colons to tell the forms apart: 2 → full, 1 → short.
  size_t colons = 0;
  for (char c : text) colons += (c == ':');
  std::string_view s = text;
  PciAddress a;
  uint32_t v = 0;
  if (colons == 2) {
    if (!take_hex(s, 4, 8, v)) return bad_address(text, "domain must be 4 to 8 hex digits");
    a.domain = v;
    if (!take_char(s, ':')) return bad_address(text, "missing ':' after the domain");
  } else if (colons == 1) {
    if (!allow_short)
      return bad_address(text,
                         "short addresses are not accepted here: give the domain too, "
                         "as in 0000:" +
                             std::string(text.substr(0, 7)));
  } else {
    return bad_address(text, "wrong number of ':'");
  }
  if (!take_hex(s, 2, 2, v)) return bad_address(text, "bus must be 2 hex digits");
  a.bus = static_cast<uint8_t>(v);
  if (!take_char(s, ':')) return bad_address(text, "missing ':' after the bus");
  if (!take_hex(s, 2, 2, v)) return bad_address(text, "device must be 2 hex digits");
  if (v > 0x1f) return bad_address(text, "device number above 1f");
  a.device = static_cast<uint8_t>(v);
  if (!take_char(s, '.')) return bad_address(text, "missing '.' before the function");
  if (!take_hex(s, 1, 1, v)) return bad_address(text, "function must be one digit 0-7");
  if (v > 7) return bad_address(text, "function number above 7");
  a.function = static_cast<uint8_t>(v);
  if (!s.empty()) return bad_address(text, "unexpected text after the function");
  return a;
}

}  // namespace

Result<PciAddress> PciAddress::parse(std::string_view text) {
  return parse_impl(text, true);
}

Result<PciAddress> PciAddress::parse_full(std::string_view text) {
  return parse_impl(text, false);
}

std::string PciAddress::to_string() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", domain, bus, device, function);
  return buf;
}

std::string PciAddress::to_short_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02x:%02x.%x", bus, device, function);
  return buf;
}

}  // namespace hostpass
