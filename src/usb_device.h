// usb_device.h — USB devices from sysfs.
//
// Kernel contract (Documentation/ABI/stable/sysfs-bus-usb, drivers/usb/core/sysfs.c):
// /sys/bus/usb/devices/<port path> (e.g. "1-2", "1-2.4", "usb1" for root hubs) ->
// ../../../devices/pci0000:00/0000:00:14.0/usb1/1-2 with
//   idVendor, idProduct, bcdDevice   "046d\n", "c52b\n", "1201\n" (4 hex digits, no 0x)
//   busnum, devnum                   decimal: "1\n", "2\n"
//   speed                            Mb/s: "1.5", "12", "480", "5000", "10000", "20000"
//   bDeviceClass                     "00\n" (2 hex digits)
//   manufacturer, product, serial    string descriptors, "%s\n"; absent when the device has none
// Interfaces ("1-2:1.0") are not devices and are skipped. The device node is /dev/bus/usb/BBB/DDD
// (devtmpfs, drivers/usb/core/usb.c usb_devnode()).
// Root hubs (usbN) are devices too, as lsusb shows them; they are flagged is_root_hub so that
// allow-lists and bundles can leave them out.
//
// Discovery only reads. A device whose idVendor/idProduct/busnum/devnum cannot be read is left
// out with a warning (those are its identity); a missing string descriptor stays empty.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host.h"
#include "result.h"

namespace hostpass {

struct UsbDevice {
  std::string port_path;  // "1-2.4": stable across re-plugging into the same port
  std::string sysfs_path;
  uint16_t vendor = 0, product = 0, bcd_device = 0;
  int busnum = 0, devnum = 0;
  std::string speed;  // Mb/s as the kernel reports it: "480"
  std::string manufacturer, product_name, serial;  // string descriptors, may be empty
  uint8_t device_class = 0;
  std::string vendor_name, product_db_name;  // usb.ids names, empty when unknown
  std::string class_name;                    // usb.ids class name of bDeviceClass
  bool is_root_hub = false;
  std::vector<std::string> warnings;

  std::string dev_node() const;  // "/dev/bus/usb/001/002"
};

// Every USB device (not interface), sorted by bus then port path (root hub first, then ports
// compared numerically: 1-2 < 1-2.4 < 1-10). A host without /sys/bus/usb has no USB devices:
// an empty list, not an error.
Result<std::vector<UsbDevice>> discover_usb(Host& host);
// The same, with per-device problems (skipped entries, malformed attributes) in `warnings`.
Result<std::vector<UsbDevice>> discover_usb(Host& host, std::vector<std::string>* warnings);

class UsbIds;
// Fills vendor_name and product_db_name from the usb.ids database.
void name_usb_device(const UsbIds& ids, UsbDevice& d);

// The line `lsusb` prints for the device (usbutils lsusb.c list_devices() and names.c
// get_vendor_product_with_fallback()): "Bus 001 Device 002: ID 046d:c52b Logitech, Inc.
// Unifying Receiver". Vendor and product come from the database, else from the device's own
// manufacturer/product strings (empty when the device has none). REQUIRES: name_usb_device() ran.
std::string lsusb_line(const UsbDevice& d);

// Where the device sits, for messages: "1-2.4 (bus 1 device 5)".
std::string usb_device_label(const UsbDevice& d);

}  // namespace hostpass
