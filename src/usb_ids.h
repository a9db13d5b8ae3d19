// usb_ids.h — USB vendor, product and class names from the usb.ids database.
//
// Source: the usb.ids file maintained at linux-usb.org and shipped by Debian's usbutils
// (/var/lib/usbutils/usb.ids, linked from /usr/share/misc/usb.ids) and hwdata
// (/usr/share/hwdata/usb.ids). Its format is documented in the file's own header:
//   vendor  vendor_name                    "046d  Logitech, Inc."
//   <TAB>device  device_name               "\tc52b  Unifying Receiver"
//   <TAB><TAB>interface  interface_name    (ignored)
//   C class  class_name                    "C 03  Human Interface Device"
//   <TAB>subclass  subclass_name, <TAB><TAB>protocol  protocol_name   (ignored)
//   other sections (AT, HID, R, BIAS, PHY, HUT, L, HCC, VT) start with a keyword and are ignored.
//
// Why this file and not libudev's hwdb, which is what lsusb (usbutils >= 008) asks: hwdb.bin
// exists only where the udev package is installed and `systemd-hwdb update` has run, which is
// not the case in containers and minimal hosts (this build machine has none), and systemd
// generates its 20-usb-vendor-model.hwdb from this very file. Reading usb.ids directly gives the
// same names everywhere usbutils is installed, with no extra library. Where a name differs
// between a stale hwdb snapshot and usb.ids, hostpass shows usb.ids' (the newer) one.
//
// The database belongs to the machine hostpass runs on, not to the inspected tree: the CLI
// reads it through a Host rooted at "/" even under --root, as libpci does for pci.ids.
// What it deliberately does not do: guess names, or keep any table of its own.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "host.h"
#include "result.h"

namespace hostpass {

// Where usb.ids is looked for, in order.
const std::vector<std::string>& usb_ids_paths();

class UsbIds {
 public:
  UsbIds() = default;

  // Parses the text of a usb.ids file. Malformed lines are skipped (the format is line-based
  // and the file is large; one bad line must not hide every name).
  static UsbIds parse(std::string_view text);
  // Loads the first file of usb_ids_paths() that exists. NotFound naming every path tried.
  static Result<UsbIds> load(Host& host);

  // Empty when the database does not know the id.
  std::string vendor(uint16_t vendor) const;
  std::string product(uint16_t vendor, uint16_t product) const;
  std::string class_name(uint8_t device_class) const;

  size_t vendor_count() const { return vendors_.size(); }
  const std::string& source() const { return source_; }

 private:
  std::unordered_map<uint16_t, std::string> vendors_;
  std::unordered_map<uint32_t, std::string> products_;  // vendor << 16 | product
  std::unordered_map<uint8_t, std::string> classes_;
  std::string source_;
};

}  // namespace hostpass
