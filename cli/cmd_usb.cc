// cmd_usb.cc — `hostpass list --usb [--vendor VVVV] [--device VVVV:PPPP] [--json]`.
//
// Text: per device, the exact line `lsusb` prints (usb_device.h lsusb_line()), then two spaces
// and `port=<port path> speed=<Mb/s>` (the port path is what USB bundles and allow-lists are
// ordered by). Sorted by bus then device number (lsusb keeps libusb's enumeration order).
// JSON: an array of objects, schema in docs/usb.md. Only reads.
#include "cmd_usb.h"
#include "device_json.h"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "pci_id.h"
#include "usb_device.h"
#include "usb_ids.h"

namespace hostpass {

namespace {

nlohmann::json or_null(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}

}  // namespace

nlohmann::json usb_device_to_json(const UsbDevice& d) {
  // `device` is the product id, as PCI's `device` is the device id (docs/json.md).
  return nlohmann::json{{"busnum", d.busnum},
                        {"devnum", d.devnum},
                        {"port_path", d.port_path},
                        {"vendor", hex4(d.vendor)},
                        {"device", hex4(d.product)},
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

int run_list_usb(Cli& cli, const DeviceFilterText& filters) {
  auto selection = parse_usb_selection(filters);
  if (!selection.ok()) return report_error(selection.error());
  std::vector<std::string> warnings;
  auto devices = discover_usb(cli.host(), &warnings);
  if (!devices.ok()) return report_error(devices.error());
  // The names database is this machine's (as pci.ids is for `list`), also under --root.
  RealHost system("/");
  auto ids = UsbIds::load(system);
  if (!ids.ok()) warnings.push_back(ids.error().message);
  for (const std::string& w : warnings) std::cerr << "hostpass: warning: " << w << "\n";

  std::vector<UsbDevice> shown = select_usb_devices(std::move(*devices), *selection);
  for (UsbDevice& d : shown) {
    if (ids.ok()) name_usb_device(*ids, d);
    for (const std::string& w : d.warnings)
      std::cerr << "hostpass: warning: USB device " << d.port_path << ": " << w << "\n";
  }
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
