// pci_address_resolve.h — an address typed on the command line, resolved to a device of this
// host (or of a given list, the ledger's devices for a device no longer on the host).
//
// The command line accepts the short form "BB:DD.F" (lspci without -D) as well as the full
// "DDDD:BB:DD.F"; the short form means the one PCI domain of this host that has that bus, device
// and function, read from /sys/bus/pci/devices (one entry per function, named by its full
// address). Every answer that is not a device is InvalidInput (exit 2: the user's input):
//   malformed     pci_address.h's message, which names the expected forms
//   absent        "no PCI device 0000:99:00.0 on this host"
//   ambiguous     "06:00.0 is ambiguous: 0000:06:00.0, 0001:06:00.0 (give the domain)"
// Files (an apply file, a one-deploy inventory, a CR's pciAddressSelector) keep requiring full
// addresses: they are read on other machines too, and PciAddress::parse_full is their gate.
// This module only reads; it never follows a link or reads a device's attributes beyond the
// existence of its directory (and, for mdev parents, of mdev_supported_types).
#pragma once

#include <string_view>
#include <vector>

#include "host.h"
#include "pci_address.h"
#include "pci_device.h"  // kPciDevicesDir
#include "result.h"

namespace hostpass {

// Every PCI function of this host, by its /sys/bus/pci/devices entry (none when the directory is
// missing; an error when it cannot be read).
Result<std::vector<PciAddress>> host_pci_addresses(Host& host);

// The device of this host that `text` names. See the header comment for the errors.
Result<PciAddress> resolve_pci_address(Host& host, std::string_view text);

// The same among `known` (say, the devices a ledger records) instead of the host's devices;
// `where` ends the absent message ("no PCI device 0000:99:00.0 <where>").
Result<PciAddress> resolve_pci_address_among(std::string_view text,
                                             const std::vector<PciAddress>& known,
                                             std::string_view where);

// A mediated device parent named on the command line: a PCI address (short or full, resolved as
// above) whose device has mdev_supported_types, or another bus's device name found in
// /sys/class/mdev_bus (a CCW or platform parent). Returns the name as the kernel spells it
// ("0000:5e:00.0"). InvalidInput "0000:5e:00.0 is not a mediated device parent (no
// mdev_supported_types)" for a device that offers no types.
Result<std::string> resolve_mdev_parent(Host& host, std::string_view text);

}  // namespace hostpass
