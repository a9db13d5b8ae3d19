// device_json.h — the JSON form of a PCI device, shared by `list --json`, `show --json` and
// every other command that prints devices. The schema is documented in the README.
#pragma once

#include <nlohmann/json.hpp>

#include "pci_device.h"
#include "pci_id.h"  // hex4, for the commands that print ids beside the JSON

namespace hostpass {

// Every JSON the CLI prints is dumped with this handler: a mount point, an interface or a device
// name is any bytes to the kernel, and nlohmann's dump() throws on invalid UTF-8 (std::terminate
// in a command). Invalid bytes become U+FFFD instead: j.dump(2, ' ', false, kInvalidUtf8).
inline constexpr auto kInvalidUtf8 = nlohmann::json::error_handler_t::replace;

// Keys always present: address, vendor, device, class, class_code, revision, vendor_name,
// device_name, class_name, driver, iommu_group, numa_node, bridge, in_use, warnings.
// The names are null when pci.ids does not know them (docs/json.md: unknown is null).
// `in_use` is the list of the host's reasons, or null when host use is unknown because the host
// cannot be seen from here (HostUseMap::unseen): pass `host_use_known` false then.
// With `full`: subsystem_vendor, subsystem_device, driver_override, boot_vga, reset_methods,
// sriov_totalvfs, sriov_numvfs, physfn, mdev_supported_types.
nlohmann::json device_to_json(const PciDevice& d, bool full, bool host_use_known = true);

}  // namespace hostpass
