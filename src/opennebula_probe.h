// opennebula_probe.h — this host's PCI devices in the exact format of OpenNebula's PCI
// monitoring probe, so that hostpass can stand in for it (or be checked against it).
//
// Contract followed: OpenNebula/one src/im_mad/remotes/node-probes.d/pci.rb (7.x). The probe runs
// `lspci -mmnn [-d FILTER]` once per comma-separated filter, then for every device prints
//
//   PCI = [
//    TYPE = "10de:1eb8:0302" ,
//    VENDOR = "10de" ,
//    VENDOR_NAME = "NVIDIA Corporation" ,
//    DEVICE = "1eb8" ,
//    CLASS = "0302" ,
//    CLASS_NAME = "3D controller" ,
//    ADDRESS = "0000:01:00:0" ,
//    SHORT_ADDRESS = "01:00.0" ,
//    DOMAIN = "0000" ,
//    BUS = "01" ,
//    SLOT = "00" ,
//    FUNCTION = "0" ,
//    NUMA_NODE = "0" ,
//    DEVICE_NAME = "NVIDIA Corporation TU104GL [Tesla T4]"
//   ]
//
// (each value is `%( NAME = "VALUE" )` joined by ",\n"). Note ADDRESS: OpenNebula builds it as
// "0000:" + SHORT_ADDRESS with '.' turned into ':' — "0000:01:00:0", not the kernel's form; the
// front-end parses it that way, so hostpass prints it that way. NUMA_NODE is "-" when the kernel
// says -1. DEVICE_NAME comes last; for NVIDIA vendors (pci.conf :nvidia_vendors, default 10de)
// it is "VENDOR_NAME DEVICE_NAME", and NVIDIA virtual functions (a `physfn` link) add UUID
// (uuidgen --sha1 --namespace @x500 --name ADDRESS), PROFILES (mdev_supported_types of
// /sys/class/mdev_bus/<addr>, else nvidia/creatable_vgpu_types) and MDEV_MODE (legacy|nvidia).
// NVIDIA physical functions that have virtual functions (virtfnN links) are skipped.
//
// Filters follow pci.conf: :filter is lspci's `-d [<vendor>]:[<device>][:<class>[:<prog-if>]]`
// (hex, an empty field or "*" is a wildcard; several separated by commas; a device matching two
// filters is printed twice, as the probe does), :short_address an allow-list of short addresses,
// :device_name case-insensitive regular expressions matched against the device name.
//
// Deliberate differences, both for devices the probe mishandles: names and ids come from sysfs
// and pci.ids through libpci (the same lookups lspci makes), not from running lspci; a device in
// a PCI domain other than 0000 gets its real DOMAIN and ADDRESS (the probe hard-codes "0000").
// A double quote or backslash inside a name is escaped with a backslash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host.h"
#include "pci_device.h"
#include "result.h"

namespace hostpass {

// One lspci `-d` filter. None: wildcard.
struct LspciFilter {
  std::optional<uint16_t> vendor, device;
  std::optional<uint16_t> class_code;  // class and subclass, lspci's [cccc]
  std::optional<uint8_t> prog_if;      // lspci >= 3.8 accepts a 4th field, the prog-if
};

// "10de::0300,::0106" → two filters. InvalidInput on anything lspci would reject
// ("Invalid vendor ID" and friends), naming the offending part.
Result<std::vector<LspciFilter>> parse_lspci_filters(std::string_view text);
bool filter_matches(const LspciFilter& filter, const PciDevice& device);

struct OneProbeOptions {
  std::string filter = "*:*";                       // pci.conf :filter (one-deploy sets "*:*")
  std::vector<std::string> short_addresses;         // pci.conf :short_address
  std::vector<std::string> device_name_patterns;    // pci.conf :device_name
  std::vector<uint16_t> nvidia_vendors = {0x10de};  // pci.conf :nvidia_vendors
};

// The probe's output for this host, every block ending in "]\n".
Result<std::string> opennebula_probe(Host& host, const OneProbeOptions& options);

// The name-based (SHA-1, version 5) UUID `uuidgen --sha1 --namespace @x500 --name NAME` prints.
std::string uuid_v5_x500(std::string_view name);

}  // namespace hostpass
