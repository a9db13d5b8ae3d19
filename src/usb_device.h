// usb_device.h — USB devices from sysfs. (CONTRACT: implemented in usb_device.cc.)
//
// /sys/bus/usb/devices/<port path> (e.g. "1-2", "1-2.4", "usb1" for root hubs) ->
// ../../../devices/pci0000:00/0000:00:14.0/usb1/1-2 with idVendor, idProduct, bcdDevice,
// busnum, devnum, speed, manufacturer, product, serial, bDeviceClass. Interfaces ("1-2:1.0")
// are not devices and are skipped. The device node is /dev/bus/usb/BBB/DDD.
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
  bool is_root_hub = false;
  std::vector<std::string> warnings;

  std::string dev_node() const;  // "/dev/bus/usb/001/002"
};

// Every USB device (not interface), sorted by bus then port path.
Result<std::vector<UsbDevice>> discover_usb(Host& host);

}  // namespace hostpass
