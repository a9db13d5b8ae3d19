// usb_device.cc — USB discovery from /sys/bus/usb/devices. See usb_device.h for the contract.
#include "usb_device.h"

#include <algorithm>
#include <cstdio>

#include "pci_id.h"
#include "usb_ids.h"

namespace hostpass {

namespace {

constexpr const char* kUsbDevicesDir = "/sys/bus/usb/devices";

// "usb1", or "<bus>-<port>[.<port>...]" with decimal numbers. Interfaces ("1-2:1.0") and
// anything else are not device names.
bool parse_device_name(std::string_view name, int& bus, std::vector<int>& ports, bool& root_hub) {
  ports.clear();
  auto number = [](std::string_view s, int& out) {
    if (s.size() > 4 || trim(s) != s) return false;  // a name has no spaces
    auto v = parse_sysfs_count(s);
    if (v) out = *v;
    return v.has_value();
  };
  if (name.substr(0, 3) == "usb") {
    root_hub = true;
    return number(name.substr(3), bus);
  }
  root_hub = false;
  size_t dash = name.find('-');
  if (dash == std::string_view::npos || !number(name.substr(0, dash), bus)) return false;
  std::string_view rest = name.substr(dash + 1);
  while (true) {
    size_t dot = rest.find('.');
    int port = 0;
    if (!number(rest.substr(0, dot), port)) return false;
    ports.push_back(port);
    if (dot == std::string_view::npos) break;
    rest = rest.substr(dot + 1);
  }
  return true;
}

// A string descriptor as lsusb's read_sysfs_prop() shows it: the file minus its final newline.
std::string read_string_attr(Host& host, const std::string& path) {
  auto text = host.read_file(path, 4096);
  if (!text.ok()) return {};
  std::string s = std::move(*text);
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

struct SortKey {
  int bus = 0;
  bool root_hub = false;
  std::vector<int> ports;
};

}  // namespace

std::string UsbDevice::dev_node() const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "/dev/bus/usb/%03d/%03d", busnum, devnum);
  return buf;
}

Result<std::vector<UsbDevice>> discover_usb(Host& host) {
  return discover_usb(host, nullptr);
}

Result<std::vector<UsbDevice>> discover_usb(Host& host, std::vector<std::string>* warnings) {
  std::vector<UsbDevice> devices;
  if (!host.exists(kUsbDevicesDir)) return devices;  // no USB controller, or no sysfs USB bus
  auto names = host.list_dir(kUsbDevicesDir);
  if (!names.ok()) return names.error().wrap("cannot list USB devices");
  std::sort(names->begin(), names->end());  // warnings in a stable order
  auto warn = [&](const std::string& w) {
    if (warnings) warnings->push_back(w);
  };

  std::vector<std::pair<SortKey, UsbDevice>> found;
  for (const std::string& name : *names) {
    if (name.find(':') != std::string::npos) continue;  // an interface, not a device
    SortKey key;
    if (!parse_device_name(name, key.bus, key.ports, key.root_hub)) {
      warn(std::string(kUsbDevicesDir) + "/" + name + ": not a USB device name; skipped");
      continue;
    }
    std::string link = join_path(kUsbDevicesDir, name);
    UsbDevice d;
    d.port_path = name;
    d.is_root_hub = key.root_hub;
    auto target = host.read_link(link);
    if (target.ok()) {
      d.sysfs_path = resolve_link(link, *target);
    } else {
      d.sysfs_path = link;  // not a link (unusual, but the attributes may still be there)
    }
    if (!host.is_dir(link)) {
      warn("USB device " + name + ": " + link + " does not lead to a device directory; skipped");
      continue;
    }
    auto read = [&](const char* attr) { return host.read_file(join_path(link, attr), 256); };

    bool identity_ok = true;
    auto hex_attr = [&](const char* attr, size_t digits, uint32_t& out, bool required) {
      auto text = read(attr);
      if (!text.ok()) {
        if (required) {
          warn("USB device " + name + ": cannot read " + attr + ": " + text.error().message);
          identity_ok = false;
        }
        return;
      }
      // Exactly `digits` digits: sysfs prints idVendor with "%04x\n", bDeviceClass with "%02x\n".
      auto v = parse_hex_digits(trim(*text), digits);
      if (!v) {
        std::string shown(trim(*text).substr(0, 32));
        if (required) {
          warn("USB device " + name + ": " + attr + " is not " + std::to_string(digits) +
               " hex digits: '" + shown + "'");
          identity_ok = false;
        } else {
          d.warnings.push_back(std::string(attr) + ": not " + std::to_string(digits) +
                               " hex digits: '" + shown + "'");
        }
        return;
      }
      out = *v;
    };
    auto int_attr = [&](const char* attr, int& out) {
      auto text = read(attr);
      std::optional<int> v = text.ok() ? parse_sysfs_count(*text) : std::nullopt;
      if (!v) {
        warn("USB device " + name + ": " + attr + " is " +
             (text.ok() ? "not a number: '" + std::string(trim(*text).substr(0, 32)) + "'"
                        : "unreadable: " + text.error().message));
        identity_ok = false;
        return;
      }
      out = *v;
    };

    uint32_t vendor = 0, product = 0, bcd = 0, cls = 0;
    hex_attr("idVendor", 4, vendor, true);
    hex_attr("idProduct", 4, product, true);
    int_attr("busnum", d.busnum);
    int_attr("devnum", d.devnum);
    if (!identity_ok) {
      warn("USB device " + name + " skipped: its identity could not be read");
      continue;
    }
    hex_attr("bcdDevice", 4, bcd, false);
    hex_attr("bDeviceClass", 2, cls, false);
    d.vendor = static_cast<uint16_t>(vendor);
    d.product = static_cast<uint16_t>(product);
    d.bcd_device = static_cast<uint16_t>(bcd);
    d.device_class = static_cast<uint8_t>(cls);
    if (d.busnum != key.bus)
      d.warnings.push_back("busnum " + std::to_string(d.busnum) + " disagrees with the name " +
                           name);
    if (auto speed = read("speed"); speed.ok()) d.speed = std::string(trim(*speed));
    d.manufacturer = read_string_attr(host, join_path(link, "manufacturer"));
    d.product_name = read_string_attr(host, join_path(link, "product"));
    d.serial = read_string_attr(host, join_path(link, "serial"));
    found.emplace_back(std::move(key), std::move(d));
  }

  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    const SortKey& x = a.first;
    const SortKey& y = b.first;
    if (x.bus != y.bus) return x.bus < y.bus;
    if (x.root_hub != y.root_hub) return x.root_hub;  // the root hub first
    return x.ports < y.ports;                         // lexicographic over numbers
  });
  devices.reserve(found.size());
  for (auto& [key, d] : found) devices.push_back(std::move(d));
  return devices;
}

void name_usb_device(const UsbIds& ids, UsbDevice& d) {
  d.vendor_name = ids.vendor(d.vendor);
  d.product_db_name = ids.product(d.vendor, d.product);
  d.class_name = ids.class_name(d.device_class);
}

std::string lsusb_line(const UsbDevice& d) {
  // usbutils 014 (Debian 12) names.c get_vendor_product_with_fallback(): the database name;
  // else the sysfs manufacturer/product string (read_sysfs_prop(): the file minus its last
  // byte, the newline). get_vendor_string() empties the buffer before the lookup and
  // read_sysfs_prop() empties it before opening, so a device with neither prints an empty name.
  const std::string& vendor = d.vendor_name.empty() ? d.manufacturer : d.vendor_name;
  const std::string& product = d.product_db_name.empty() ? d.product_name : d.product_db_name;
  char head[64];
  std::snprintf(head, sizeof head, "Bus %03d Device %03d: ID ", d.busnum, d.devnum);
  return head + vendor_device_string(d.vendor, d.product) + " " + vendor + " " + product;
}

std::string usb_device_label(const UsbDevice& d) {
  return d.port_path + " (bus " + std::to_string(d.busnum) + " device " + std::to_string(d.devnum) +
         ")";
}

}  // namespace hostpass
