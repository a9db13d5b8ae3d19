// cmd_usb.h — `hostpass list --usb`, called from cmd_list.cc's `list` command.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli.h"
#include "usb_device.h"

namespace hostpass {

struct UsbListFilters {
  std::string vendor;  // --vendor VVVV
  std::string device;  // --device VVVV:PPPP (lsusb -d)
  bool pci_only_filter = false;  // --class, --driver or --group were given: they mean PCI
};

// The JSON object of one device (docs/usb.md), for every command that prints USB devices.
nlohmann::json usb_device_to_json(const UsbDevice& d);

// Prints every USB device as lsusb does, or the JSON array documented in docs/usb.md.
int run_list_usb(Cli& cli, const UsbListFilters& filters);

}  // namespace hostpass
