// device_select.h — which devices `hostpass list` shows: its filters, parsed once and matched
// here, for PCI functions (pci_device.h) and USB devices (usb_device.h, `list --usb`).
//
// The filters as typed (DeviceFilterText) are validated before any filesystem access; every
// malformed one is InvalidInput with a message naming the flag and an example. PCI: --vendor
// VVVV, --device VVVV:DDDD, --class CC or CCSS (the class, or class and subclass, of the 24-bit
// class code), --driver NAME ("none": unbound), --group N; all given must match. USB: --vendor
// VVVV and --device VVVV:PPPP (lsusb -d's form); --class, --driver and --group mean PCI and are
// refused. `list --expect VVVV:DDDD[,...]` names devices that must be present (the check inside a
// guest): parse_expected_devices and missing_devices.
//
// Pure: nothing here reads the host; discovery (discover_pci, discover_usb) hands the devices in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pci_device.h"
#include "pci_id.h"
#include "result.h"
#include "usb_device.h"

namespace hostpass {

// The filter flags as the user typed them; empty: not given.
struct DeviceFilterText {
  std::string vendor;        // VVVV
  std::string device;        // VVVV:DDDD (USB: VVVV:PPPP)
  std::string class_prefix;  // CC or CCSS (PCI only)
  std::string driver;        // a driver name, or "none" (PCI only)
  std::string group;         // an IOMMU group number (PCI only)
};

struct PciSelection {
  std::optional<uint16_t> vendor, device;
  std::optional<uint32_t> class_value;  // the top class_bytes bytes of the class code
  int class_bytes = 0;                  // 1 (CC) or 2 (CCSS)
  std::optional<std::string> driver;    // "none": unbound
  std::optional<int> group;

  bool matches(const PciDevice& d) const;
};

Result<PciSelection> parse_pci_selection(const DeviceFilterText& f);

// The devices that match, in their order.
std::vector<PciDevice> select_devices(std::vector<PciDevice> devices,
                                      const PciSelection& selection);

// "10de:1eb8,8086:5845" → the pairs, in order.
Result<std::vector<VendorDevice>> parse_expected_devices(const std::string& text);

// The expected pairs no device in `devices` has, in order.
std::vector<VendorDevice> missing_devices(const std::vector<PciDevice>& devices,
                                          const std::vector<VendorDevice>& expected);

struct UsbSelection {
  std::optional<uint16_t> vendor, product;

  bool matches(const UsbDevice& d) const;
};

// InvalidInput also when a PCI-only filter (--class, --driver, --group) is given.
Result<UsbSelection> parse_usb_selection(const DeviceFilterText& f);

// The devices that match, sorted by bus then device number (lsusb's numbers; lsusb itself keeps
// libusb's enumeration order).
std::vector<UsbDevice> select_usb_devices(std::vector<UsbDevice> devices,
                                          const UsbSelection& selection);

}  // namespace hostpass
