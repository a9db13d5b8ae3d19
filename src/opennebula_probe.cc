// opennebula_probe.cc — see opennebula_probe.h. Reads sysfs through Host, names through libpci.
#include "opennebula_probe.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <regex>

#include "pci_id.h"
#include "pci_names.h"

namespace hostpass {

namespace {

// pciutils lib/filter.c: "" or "*" is a wildcard, else plain hex digits (no 0x prefix; lspci
// says "Invalid vendor ID" to 0x8086) up to `max`. Checked against lspci in the tests.
Result<std::optional<uint16_t>> parse_filter_id(std::string_view part, const char* what,
                                                std::string_view whole, uint32_t max = 0xffff) {
  if (part.empty() || part == "*") return std::optional<uint16_t>();
  std::string_view digits = part;
  size_t max_digits = max > 0xff ? 4 : 2;
  if (digits.size() > max_digits)
    return invalid_input("invalid PCI filter '" + std::string(whole) + "': " + what + " '" +
                         std::string(part) + "' is not 1 to " + std::to_string(max_digits) +
                         " hex digits");
  uint32_t v = 0;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return invalid_input("invalid PCI filter '" + std::string(whole) + "': " + what + " '" +
                           std::string(part) + "' is not hex");
    v = v * 16 + static_cast<uint32_t>(d);
  }
  return std::optional<uint16_t>(static_cast<uint16_t>(v));
}

// OpenNebula's pval(): %( NAME = "VALUE" ).
std::string pval(const char* name, const std::string& value) {
  std::string v;
  for (char c : value) {
    if (c == '"' || c == '\\') v += '\\';
    v += c;
  }
  return std::string(" ") + name + " = \"" + v + "\" ";
}

// "NVIDIA Corporation [10de]" → "NVIDIA Corporation" (the probe's /^(.*) \[(....)\]$/).
std::string name_part(const std::string& mixed) {
  if (mixed.size() >= 7 && mixed.back() == ']' && mixed[mixed.size() - 7] == ' ' &&
      mixed[mixed.size() - 6] == '[')
    return mixed.substr(0, mixed.size() - 7);
  return mixed;
}

// ---- SHA-1 (FIPS 180-4), only for the name-based UUID OpenNebula derives from the address ----
class Sha1 {
 public:
  void update(std::string_view data) {
    for (char c : data) {
      block_[used_++] = static_cast<uint8_t>(c);
      bits_ += 8;
      if (used_ == 64) compress();
    }
  }
  std::array<uint8_t, 20> digest() {
    uint64_t bits = bits_;
    uint8_t pad = 0x80;
    update(std::string_view(reinterpret_cast<const char*>(&pad), 1));
    while (used_ != 56) {
      uint8_t zero = 0;
      update(std::string_view(reinterpret_cast<const char*>(&zero), 1));
    }
    for (int i = 7; i >= 0; --i) {
      block_[used_++] = static_cast<uint8_t>(bits >> (i * 8));
    }
    compress();
    std::array<uint8_t, 20> out;
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 4; ++j) out[i * 4 + j] = static_cast<uint8_t>(h_[i] >> (24 - j * 8));
    return out;
  }

 private:
  static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
  void compress() {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i)
      w[i] = (uint32_t(block_[size_t(i) * 4]) << 24) | (uint32_t(block_[size_t(i) * 4 + 1]) << 16) |
             (uint32_t(block_[size_t(i) * 4 + 2]) << 8) | uint32_t(block_[size_t(i) * 4 + 3]);
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rol(b, 30);
      b = a;
      a = t;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    used_ = 0;
  }
  uint32_t h_[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  uint8_t block_[64] = {};
  size_t used_ = 0;
  uint64_t bits_ = 0;
};

std::vector<std::string> sorted_dir(Host& host, const std::string& path) {
  auto names = host.list_dir(path);
  if (!names.ok()) return {};
  std::sort(names->begin(), names->end());
  return *names;
}

bool has_virtfn(Host& host, const std::string& dev_dir) {
  auto names = host.list_dir(dev_dir);
  if (!names.ok()) return false;
  for (const std::string& n : *names)
    if (n.rfind("virtfn", 0) == 0) return true;
  return false;
}

// nvidia/creatable_vgpu_types (NVIDIA's vGPU driver >= 17 without mdev):
//   "ID    : vGPU Name\n557   : NVIDIA A100-1-5C\n" → "557 (NVIDIA A100-1-5C)".
std::vector<std::string> nvidia_profiles(Host& host, const std::string& dev_dir) {
  auto text = host.read_file(dev_dir + "/nvidia/creatable_vgpu_types");
  if (!text.ok()) return {};
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) end = text->size();
    std::string_view line(text->data() + pos, end - pos);
    pos = end + 1;
    // Ruby's `id, name = line.split(':')`: the first two colon-separated fields.
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    size_t c2 = line.find(':', c1 + 1);
    std::string id(trim(line.substr(0, c1)));
    std::string name(
        trim(line.substr(c1 + 1, c2 == std::string_view::npos ? line.npos : c2 - c1 - 1)));
    std::string lower = id;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (id.empty() || lower == "id" || name.empty()) continue;
    out.push_back(id + " (" + name + ")");
  }
  return out;
}

}  // namespace

Result<std::vector<LspciFilter>> parse_lspci_filters(std::string_view text) {
  std::vector<LspciFilter> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view one = trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (one.empty()) continue;
    // lspci: "-d [<vendor>]:[<device>][:<class>]"; the first colon is required.
    size_t c1 = one.find(':');
    if (c1 == std::string_view::npos)
      return invalid_input("invalid PCI filter '" + std::string(one) +
                           "': expected [vendor]:[device][:class], as in 10de::0302");
    size_t c2 = one.find(':', c1 + 1);
    size_t c3 = c2 == std::string_view::npos ? c2 : one.find(':', c2 + 1);
    if (c3 != std::string_view::npos && one.find(':', c3 + 1) != std::string_view::npos)
      return invalid_input("invalid PCI filter '" + std::string(one) +
                           "': too many fields; expected [vendor]:[device][:class[:prog-if]]");
    LspciFilter f;
    auto v = parse_filter_id(one.substr(0, c1), "vendor", one);
    if (!v.ok()) return v.error();
    auto d = parse_filter_id(
        one.substr(c1 + 1, c2 == std::string_view::npos ? one.npos : c2 - c1 - 1), "device", one);
    if (!d.ok()) return d.error();
    f.vendor = *v;
    f.device = *d;
    if (c2 != std::string_view::npos) {
      auto c = parse_filter_id(
          one.substr(c2 + 1, c3 == std::string_view::npos ? one.npos : c3 - c2 - 1), "class", one);
      if (!c.ok()) return c.error();
      f.class_code = *c;
    }
    if (c3 != std::string_view::npos) {
      auto p = parse_filter_id(one.substr(c3 + 1), "programming interface", one, 0xff);
      if (!p.ok()) return p.error();
      if (*p) f.prog_if = static_cast<uint8_t>(**p);
    }
    out.push_back(f);
  }
  if (out.empty()) return invalid_input("empty PCI filter: expected [vendor]:[device][:class]");
  return out;
}

bool filter_matches(const LspciFilter& f, const PciDevice& d) {
  if (f.vendor && d.vendor != f.vendor) return false;
  if (f.device && d.device != f.device) return false;
  if (f.class_code) {
    if (!d.class_code || (*d.class_code >> 8) != *f.class_code) return false;
  }
  if (f.prog_if) {
    if (!d.class_code || (*d.class_code & 0xff) != *f.prog_if) return false;
  }
  return true;
}

std::string uuid_v5_x500(std::string_view name) {
  // RFC 4122 appendix C: NameSpace_X500 6ba7b814-9dad-11d1-80b4-00c04fd430c8.
  static const uint8_t ns[16] = {0x6b, 0xa7, 0xb8, 0x14, 0x9d, 0xad, 0x11, 0xd1,
                                 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
  Sha1 sha;
  sha.update(std::string_view(reinterpret_cast<const char*>(ns), sizeof ns));
  sha.update(name);
  auto h = sha.digest();
  h[6] = static_cast<uint8_t>((h[6] & 0x0f) | 0x50);
  h[8] = static_cast<uint8_t>((h[8] & 0x3f) | 0x80);
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex_digits(h[i], 2);
  }
  return out;
}

Result<std::string> opennebula_probe(Host& host, const OneProbeOptions& options) {
  auto filters = parse_lspci_filters(options.filter);
  if (!filters.ok()) return filters.error();
  std::vector<std::regex> patterns;
  for (const std::string& p : options.device_name_patterns) {
    try {
      patterns.emplace_back(p, std::regex::icase | std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return invalid_input("invalid device name pattern '" + p + "': " + e.what());
    }
  }
  std::vector<std::string> warnings;
  auto devices = discover_pci(host, DiscoverOptions{}, &warnings);
  if (!devices.ok()) return devices.error();

  PciNames names;
  std::string out;
  for (const LspciFilter& f : *filters) {
    for (const PciDevice& d : *devices) {
      if (!d.vendor || !d.device || !d.class_code) continue;  // lspci cannot show it either
      if (!filter_matches(f, d)) continue;
      const PciAddress& a = d.address;
      std::string bus = hex_digits(a.bus, 2), slot = hex_digits(a.device, 2),
                  func = hex_digits(a.function, 1);
      std::string domain = hex_digits(a.domain, 4);  // lspci's "%04x": a VMD domain keeps 5
      // lspci prints the domain only when it is not 0000.
      std::string short_address =
          (a.domain ? domain + ":" : std::string()) + bus + ":" + slot + "." + func;
      if (!options.short_addresses.empty() &&
          std::find(options.short_addresses.begin(), options.short_addresses.end(),
                    short_address) == options.short_addresses.end())
        continue;
      std::string vendor_name = name_part(names.vendor_mixed(*d.vendor));
      std::string device_name = name_part(names.device_mixed(*d.vendor, *d.device));
      std::string class_name = name_part(names.class_mixed(*d.class_code));
      if (!patterns.empty()) {
        bool any = false;
        for (const std::regex& re : patterns) any = any || std::regex_search(device_name, re);
        if (!any) continue;
      }
      std::string dev_dir = pci_device_dir(a);
      bool nvidia = std::find(options.nvidia_vendors.begin(), options.nvidia_vendors.end(),
                              *d.vendor) != options.nvidia_vendors.end();
      if (nvidia && has_virtfn(host, dev_dir)) continue;  // the PF of vGPU VFs

      std::string vendor = hex4(*d.vendor), device = hex4(*d.device);
      std::string klass = d.class_hex();
      std::string address = domain + ":" + bus + ":" + slot + ":" + func;
      std::vector<std::string> values = {
          pval("TYPE", vendor + ":" + device + ":" + klass),
          pval("VENDOR", vendor),
          pval("VENDOR_NAME", vendor_name),
          pval("DEVICE", device),
          pval("CLASS", klass),
          pval("CLASS_NAME", class_name),
          pval("ADDRESS", address),
          pval("SHORT_ADDRESS", short_address),
          pval("DOMAIN", domain),
          pval("BUS", bus),
          pval("SLOT", slot),
          pval("FUNCTION", func),
          pval("NUMA_NODE", d.numa_node ? std::to_string(*d.numa_node) : "-"),
      };
      if (nvidia) {
        values.push_back(pval("DEVICE_NAME", vendor_name + " " + device_name));
        if (host.exists(dev_dir + "/physfn")) {
          values.push_back(pval("UUID", uuid_v5_x500(address)));
          std::string mdev_bus = "/sys/class/mdev_bus/" + a.to_string();
          std::vector<std::string> profiles = sorted_dir(host, mdev_bus + "/mdev_supported_types");
          if (profiles.empty()) profiles = nvidia_profiles(host, dev_dir);
          std::string joined;
          for (const std::string& p : profiles) joined += (joined.empty() ? "" : ",") + p;
          values.push_back(pval("PROFILES", joined));
          values.push_back(pval("MDEV_MODE", host.exists(mdev_bus) ? "legacy" : "nvidia"));
        }
      } else {
        values.push_back(pval("DEVICE_NAME", device_name));
      }
      out += "PCI = [\n";
      for (size_t i = 0; i < values.size(); ++i)
        out += values[i] + (i + 1 < values.size() ? ",\n" : "\n");
      out += "]\n";
    }
  }
  return out;
}

}  // namespace hostpass
