// cmd_usb.h — `hostpass list --usb`, called from cmd_list.cc's `list` command.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli.h"
#include "device_select.h"
#include "usb_device.h"

namespace hostpass {

// The JSON object of one device (docs/usb.md), for every command that prints USB devices.
nlohmann::json usb_device_to_json(const UsbDevice& d);

// Prints every USB device as lsusb does, or the JSON array documented in docs/usb.md.
// --class, --driver and --group are refused (device_select.h).
int run_list_usb(Cli& cli, const DeviceFilterText& filters);

}  // namespace hostpass
