// pci_id.cc — see pci_id.h.
#include "pci_id.h"

#include <charconv>

namespace hostpass {

std::string hex4(uint16_t id) {
  return hex_digits(id, 4);
}

std::string hex_digits(uint32_t value, int min_digits) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, 16);  // lowercase, no padding
  (void)ec;  // 8 digits at most: always fits
  std::string digits(buf, end);
  if (static_cast<int>(digits.size()) < min_digits)
    digits.insert(0, static_cast<size_t>(min_digits) - digits.size(), '0');
  return digits;
}

std::optional<uint32_t> parse_hex_digits(std::string_view text, size_t digits) {
  if (digits == 0 || digits > 8 || text.size() != digits) return std::nullopt;
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string vendor_device_string(uint16_t vendor, uint16_t device) {
  return hex4(vendor) + ":" + hex4(device);
}

std::optional<VendorDevice> parse_vendor_device(std::string_view text) {
  if (text.size() != 9 || text[4] != ':') return std::nullopt;
  auto vendor = parse_hex_digits(text.substr(0, 4), 4);
  auto device = parse_hex_digits(text.substr(5, 4), 4);
  if (!vendor || !device) return std::nullopt;
  return VendorDevice{static_cast<uint16_t>(*vendor), static_cast<uint16_t>(*device)};
}

}  // namespace hostpass
