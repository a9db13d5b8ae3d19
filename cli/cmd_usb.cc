// cmd_usb.cc — `hostpass list --usb [--vendor VVVV] [--device VVVV:PPPP] [--json]`.
//
// Text: per device, the exact line `lsusb` prints (usb_device.h lsusb_line()), then two spaces
// and `port=<port path> speed=<Mb/s>` (the port path is what USB bundles and allow-lists are
// ordered by). Sorted by bus then device number (lsusb keeps libusb's enumeration order).
// JSON: an array of objects, schema in docs/usb.md. Only reads.
#include "cmd_usb.h"
#include "device_json.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "pci_id.h"
#include "usb_device.h"
#include "usb_ids.h"

namespace hostpass {

namespace {

Result<uint16_t> parse_usb_id(std::string_view text, const char* what) {
  auto v = parse_hex_digits(text, 4);
  if (!v)
    return invalid_input(std::string("invalid ") + what + " '" + std::string(text) +
                         "': expected 4 hex digits, as in 046d");
  return static_cast<uint16_t>(*v);
}

nlohmann::json or_null(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}

}  // namespace

nlohmann::json usb_device_to_json(const UsbDevice& d) {
  return nlohmann::json{{"bus", d.busnum},
                        {"device", d.devnum},
                        {"port_path", d.port_path},
                        {"vendor", hex4(d.vendor)},
                        {"product", hex4(d.product)},
                        {"bcd_device", hex4(d.bcd_device)},
                        {"vendor_name", or_null(d.vendor_name)},
                        {"product_name", or_null(d.product_db_name)},
                        {"manufacturer", or_null(d.manufacturer)},
                        {"product_string", or_null(d.product_name)},
                        {"serial", or_null(d.serial)},
                        {"speed", or_null(d.speed)},
                        {"device_class", hex_digits(d.device_class, 2)},
                        {"class_name", or_null(d.class_name)},
                        {"root_hub", d.is_root_hub},
                        {"dev_node", d.dev_node()},
                        {"sysfs_path", d.sysfs_path},
                        {"warnings", d.warnings}};
}

int run_list_usb(Cli& cli, const UsbListFilters& f) {
  if (f.pci_only_filter)
    return report_error(
        invalid_input("--class, --driver and --group select PCI devices; with "
                      "--usb use --vendor VVVV or --device VVVV:PPPP"));
  std::optional<uint16_t> vendor, product;
  if (!f.vendor.empty()) {
    auto v = parse_usb_id(f.vendor, "vendor id");
    if (!v.ok()) return report_error(v.error());
    vendor = *v;
  }
  if (!f.device.empty()) {
    size_t colon = f.device.find(':');
    if (colon == std::string::npos)
      return report_error(invalid_input("invalid --device '" + f.device +
                                        "': expected VVVV:PPPP, as in 046d:c52b"));
    auto v = parse_usb_id(std::string_view(f.device).substr(0, colon), "vendor id");
    if (!v.ok()) return report_error(v.error());
    auto p = parse_usb_id(std::string_view(f.device).substr(colon + 1), "product id");
    if (!p.ok()) return report_error(p.error());
    if (vendor && *vendor != *v)
      return report_error(invalid_input("--vendor and --device name different vendors"));
    vendor = *v;
    product = *p;
  }

  std::vector<std::string> warnings;
  auto devices = discover_usb(cli.host(), &warnings);
  if (!devices.ok()) return report_error(devices.error());
  // The names database is this machine's (as pci.ids is for `list`), also under --root.
  RealHost system("/");
  auto ids = UsbIds::load(system);
  if (!ids.ok()) warnings.push_back(ids.error().message);
  for (const std::string& w : warnings) std::cerr << "hostpass: warning: " << w << "\n";

  std::vector<UsbDevice> shown;
  for (UsbDevice& d : *devices) {
    if (vendor && d.vendor != *vendor) continue;
    if (product && d.product != *product) continue;
    if (ids.ok()) name_usb_device(*ids, d);
    for (const std::string& w : d.warnings)
      std::cerr << "hostpass: warning: USB device " << d.port_path << ": " << w << "\n";
    shown.push_back(std::move(d));
  }
  std::stable_sort(shown.begin(), shown.end(), [](const UsbDevice& a, const UsbDevice& b) {
    return a.busnum != b.busnum ? a.busnum < b.busnum : a.devnum < b.devnum;
  });
  std::string out;
  if (cli.json) {
    nlohmann::json array = nlohmann::json::array();
    for (const UsbDevice& d : shown) array.push_back(usb_device_to_json(d));
    out = array.dump(2, ' ', false, kInvalidUtf8) + "\n";
  } else {
    for (const UsbDevice& d : shown)
      out += lsusb_line(d) + "  port=" + d.port_path +
             " speed=" + (d.speed.empty() ? "-" : d.speed) + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace hostpass
