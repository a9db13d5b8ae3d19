// host_use.h — which PCI devices the host itself needs, and why.
//
// A device is in use by the host when taking it away would break the machine running hostpass:
//   - a block device below it is mounted (/proc/self/mountinfo, else /proc/self/mounts), and
//     above all when it backs "/"; device-mapper and md devices are followed through their
//     `slaves/` to the disks below them;
//   - a block device below it is active swap (/proc/swaps);
//   - a network interface below it is up (/sys/class/net/<if>/flags & IFF_UP) or carries the
//     default route (/proc/net/route, /proc/net/ipv6_route); bridges, bonds and VLANs are followed
//     through their `lower_*` links to the NICs below them;
//   - it is the firmware's boot display (boot_vga = 1).
// A block or network device belongs to the deepest PCI function in its /sys/devices path.
//
// Detection is one pass over these global tables, not a walk per device: `list` pays for it once.
// It reads only; enforcing it is the bind engine's job.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "host.h"
#include "pci_address.h"
#include "pci_device.h"

namespace hostpass {

struct HostUseMap {
  std::map<PciAddress, std::vector<HostUse>> by_device;
  std::vector<std::string> warnings;  // tables that could not be read
  // Set when this process cannot see the host's own mounts and routes (a chroot, a pod without
  // hostPID and the host's /proc): what is wrong and how to fix it. Then `by_device` is not the
  // whole truth: read commands report host use as unknown and every mutation is refused
  // (guard.h: Guard::HostUnseen).
  std::optional<std::string> unseen;
};

// Scans mounts, swaps and network interfaces once.
HostUseMap detect_host_use(Host& host);

// Copies the reasons of `map` into each device's `in_use`, and adds BootVga for display devices
// whose boot_vga reads 1 (one small read, display-class devices only).
void attach_host_use(Host& host, const HostUseMap& map, std::vector<PciDevice>& devices);
void attach_host_use(Host& host, const HostUseMap& map, PciDevice& device);

// The deepest PCI address in a /sys/devices path, if any:
// "/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/nvme/nvme0" → 0000:02:00.0.
std::optional<PciAddress> deepest_pci_address(std::string_view sysfs_path);

}  // namespace hostpass
