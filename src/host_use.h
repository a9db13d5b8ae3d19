// host_use.h — which PCI devices the host itself needs, and why; and whether this process can
// see the host at all.
//
// A device is in use by the host when taking it away would break the machine running hostpass:
//   - a block device below it is mounted, and above all when it backs "/"; device-mapper and md
//     devices are followed through their `slaves/` to the disks below them;
//   - a block device below it is active swap (/proc/swaps);
//   - a network interface below it is up (/sys/class/net/<if>/flags & IFF_UP) or carries the
//     default route; bridges, bonds and VLANs are followed through their `lower_*` links to the
//     NICs below them;
//   - it is the firmware's boot display (boot_vga = 1).
// A block or network device belongs to the deepest PCI function in its /sys/devices path.
//
// The host's own views. Mounts and routes are per namespace, so they are read from PID 1, the
// host's init, whenever its files are readable, and from this process otherwise:
//   mounts  /proc/1/mountinfo, else /proc/self/mountinfo, else /proc/self/mounts. The kernel
//           prints each task's table relative to that task's root (show_mountinfo,
//           seq_path_root), so /proc/1/mountinfo is the host's table with "/" the host's root
//           even from a chroot or from a pod with hostPID (or the host's /proc at --root);
//           /proc/self is this process's own namespace (a pod's, a chroot's).
//   routes  /proc/1/net/route and /proc/1/net/ipv6_route when /proc/1/net/route is readable,
//           else /proc/net/...: /proc/net is /proc/self/net, the network namespace of this
//           process, which in a pod without hostNetwork is the pod's.
//   swap    /proc/swaps (one global table).
// /sys/class/net is per network namespace too: it lists the interfaces of the namespace that
// mounted that sysfs. A pod without hostNetwork sees its own veth there, not the host's NICs —
// unless the host's /sys is mounted at --root (a bind mount keeps the host's sysfs). The kernel
// lists every interface of a namespace in <pid>/net/dev, so when /proc/1/net/dev (else
// /proc/net/dev) names an interface that /sys/class/net lacks, this sysfs shows another
// namespace. (Comparing the /proc/self/ns/net and /proc/1/ns/net links would not tell it: with
// the host's /sys at --root they differ and yet /sys/class/net is the host's.)
//
// Failing closed (HostUseMap::unseen). Host use is unknown, and every mutation is refused, when:
//   - no mount table can be read at all (a root without /proc);
//   - /proc/1/mountinfo cannot be read and the /proc/self/ns/mnt and /proc/1/ns/mnt links
//     ("mnt:[4026531841]") differ: this process is in another mount namespace than the host;
//   - the table has no "/" entry: a chroot, whose view leaves out the host's root mount;
//   - the top "/" entry is an overlay (overlay, aufs, fuse-overlayfs): a container's root — or a
//     live system's, whose root device hides below a loop file; either way nothing says which
//     device holds the root filesystem. A pod without hostPID is this case: its /proc/1 is the
//     container's own init, in the same namespace;
//   - /sys/class/net lacks an interface of the host's namespace (above).
// A "/" on rootfs, tmpfs or NFS is seen: a diskless host, no local device holds it. The fixture
// trees of the tests (tests/support/fixture_tree.h) write a /proc/self/mountinfo with a "/"
// entry and no /proc/1: a host seen from its own namespace.
//
// Mount fields are decoded as the kernel encodes them: space, tab, newline and backslash as \ooo
// octal, every other byte raw (so a mount point may be invalid UTF-8: JSON output replaces it).
// Control bytes in a decoded name are shown as \ooo again, so a reason is always one line.
//
// Detection is one pass over these global tables, not a walk per device: `list` pays for it once.
// It reads only; enforcing it is the guards' job (guard.h).
#pragma once

#include <map>
#include <optional>
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

// Scans mounts, swaps and network interfaces once, from the host's own views (see above), and
// sets `unseen` when they cannot be seen. Never fails: unreadable tables become `warnings`.
HostUseMap detect_host_use(Host& host);

// Copies the reasons of `map` into each device's `in_use`, and adds BootVga for display devices
// whose boot_vga reads 1 (one small read, display-class devices only).
void attach_host_use(Host& host, const HostUseMap& map, std::vector<PciDevice>& devices);
void attach_host_use(Host& host, const HostUseMap& map, PciDevice& device);

// The deepest PCI address in a /sys/devices path, if any:
// "/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/nvme/nvme0" → 0000:02:00.0.
std::optional<PciAddress> deepest_pci_address(std::string_view sysfs_path);

}  // namespace hostpass
