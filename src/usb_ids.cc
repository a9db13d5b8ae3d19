// usb_ids.cc — see usb_ids.h for the format and why this source.
#include "usb_ids.h"

#include "pci_id.h"

namespace hostpass {

namespace {

// Parses exactly `digits` hex digits at the start of `s`, followed by two spaces ("046d  ").
// The database always separates id and name with two spaces; anything else is not an entry.
bool parse_id(std::string_view s, size_t digits, uint32_t& out, std::string_view& name) {
  if (s.size() < digits + 3) return false;
  if (s[digits] != ' ' || s[digits + 1] != ' ') return false;
  auto v = parse_hex_digits(s.substr(0, digits), digits);
  if (!v) return false;
  out = *v;
  name = s.substr(digits + 2);
  while (!name.empty() && (name.back() == '\r' || name.back() == ' ' || name.back() == '\t'))
    name.remove_suffix(1);
  return !name.empty();
}

}  // namespace

const std::vector<std::string>& usb_ids_paths() {
  static const std::vector<std::string> paths = {
      "/usr/share/hwdata/usb.ids",  // hwdata
      "/usr/share/misc/usb.ids",    // Debian: -> /var/lib/usbutils/usb.ids
      "/var/lib/usbutils/usb.ids",  // usbutils, updated by update-usbids
      "/usr/share/usb.ids",         // older distributions
  };
  return paths;
}

UsbIds UsbIds::parse(std::string_view text) {
  UsbIds db;
  enum class Section { Vendors, Classes, Other } section = Section::Vendors;
  int64_t vendor = -1;  // the vendor whose products follow, -1 outside a vendor block
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;

    uint32_t id = 0;
    std::string_view name;
    if (line[0] == '\t') {
      if (line.size() > 1 && line[1] == '\t') continue;  // interface / protocol: not used
      std::string_view rest = line.substr(1);
      if (section == Section::Vendors && vendor >= 0 && parse_id(rest, 4, id, name))
        db.products_.emplace(static_cast<uint32_t>(vendor) << 16 | id, std::string(name));
      continue;  // subclasses and other sections' entries are not used
    }
    // A top-level line: a vendor ("046d  Logitech, Inc.") or a section keyword ("C 03  Hub").
    if (parse_id(line, 4, id, name)) {
      section = Section::Vendors;
      vendor = id;
      db.vendors_.emplace(static_cast<uint16_t>(id), std::string(name));
      continue;
    }
    vendor = -1;
    if (line.size() > 2 && line[0] == 'C' && line[1] == ' ') {
      section = Section::Classes;
      if (parse_id(line.substr(2), 2, id, name))
        db.classes_.emplace(static_cast<uint8_t>(id), std::string(name));
      continue;
    }
    section = Section::Other;
  }
  return db;
}

Result<UsbIds> UsbIds::load(Host& host) {
  std::string tried;
  for (const std::string& path : usb_ids_paths()) {
    auto text = host.read_file(path, 16u << 20);
    if (!text.ok()) {
      tried += (tried.empty() ? "" : ", ") + path;
      continue;
    }
    UsbIds db = parse(*text);
    db.source_ = path;
    return db;
  }
  return not_found("no usb.ids database (tried " + tried +
                   "); install the usbutils or hwdata package for USB names");
}

std::string UsbIds::vendor(uint16_t v) const {
  auto it = vendors_.find(v);
  return it == vendors_.end() ? std::string() : it->second;
}

std::string UsbIds::product(uint16_t v, uint16_t p) const {
  auto it = products_.find(static_cast<uint32_t>(v) << 16 | p);
  return it == products_.end() ? std::string() : it->second;
}

std::string UsbIds::class_name(uint8_t device_class) const {
  auto it = classes_.find(device_class);
  return it == classes_.end() ? std::string() : it->second;
}

}  // namespace hostpass
