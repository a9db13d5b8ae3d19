// device_plugin_uevent.h — what a kernel uevent tells the device plugin's health watch.
//
// sysfs raises no inotify event for a change the kernel makes itself: when a function of a
// multi-device IOMMU group is rebound from vfio-pci to a host driver, /sys/bus/pci/drivers/*
// and <dev>/driver change silently, and /dev/vfio/<group> stays (the group's other members
// still hold it). The kernel does announce it, as a uevent on the NETLINK_KOBJECT_UEVENT socket
// (multicast group 1, the one udev listens to):
//
//   datagram  "<action>@<devpath>\0ACTION=<action>\0DEVPATH=<devpath>\0SUBSYSTEM=<s>\0...\0"
//             lib/kobject_uevent.c kobject_uevent_env(): a "<action>@<devpath>" header, then
//             the environment as NUL-terminated KEY=value strings (at most 2048 bytes).
//   actions   add, remove, change, move, online, offline, bind, unbind (include/linux/kobject.h
//             kobject_action; bind/unbind since Linux 4.14, sent by drivers/base/dd.c
//             driver_bound() and __device_release_driver()).
//   keys      DRIVER=<name> on bind (drivers/base/core.c dev_uevent: only while a driver is
//             bound, so never on unbind); PCI: PCI_SLOT_NAME=0000:05:00.1 (drivers/pci/
//             pci-driver.c pci_uevent); USB devices: DEVTYPE=usb_device, BUSNUM, DEVNUM.
//
// KubeVirt's own PCI and USB plugins watch only the device nodes with fsnotify
// (kubevirt/kubevirt pkg/virt-handler/device-manager/pci_device.go healthCheckFunc: Create of
// /dev/vfio/<group> → Healthy, Remove/Rename → Unhealthy; usb_device.go healthCheck likewise on
// /dev/bus/usb/BBB/DDD), so they miss a sibling leaving vfio-pci; hostpass also listens to
// uevents.
//
// This file only parses and maps: a uevent names a device, and uevent_health_entry() turns it
// into the (directory, entry) pair the HealthIndex (device_plugin.h) already keys units by, so
// that a uevent and an inotify event on the same device re-check the same units. Opening the
// netlink socket is the daemon's (plugin/plugin_daemon.cc). Deliberately not parsed: udev's own
// "libudev" messages (multicast group 2, a binary header): they repeat the kernel's, later.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace hostpass {

struct Uevent {
  std::string action;                      // "bind", "unbind", "add", "remove", ...
  std::string devpath;                     // "/devices/pci0000:00/0000:00:1c.0/0000:05:00.1"
  std::map<std::string, std::string> env;  // every KEY=value, ACTION/DEVPATH/SUBSYSTEM included

  std::string get(const std::string& key) const;  // "" when absent
};

// Parses one kernel uevent datagram. nullopt for anything else: a libudev message, a header
// without '@', a devpath not starting with "/devices/" or holding "..", an ACTION or DEVPATH
// key that contradicts the header.
std::optional<Uevent> parse_uevent(std::string_view datagram);

// The health-watch entry the uevent concerns, as a Host path pair (directory, entry name):
//   SUBSYSTEM=pci                        → ("/sys/bus/pci/devices", "0000:05:00.1")
//   SUBSYSTEM=usb, DEVTYPE=usb_device    → ("/sys/bus/usb/devices", "1-2")
//   SUBSYSTEM=mdev                       → ("/sys/bus/mdev/devices", "<uuid>")
// for add, remove, bind, unbind, change and move; nullopt otherwise (USB interfaces, other
// buses, online/offline).
std::optional<std::pair<std::string, std::string>> uevent_health_entry(const Uevent& event);

}  // namespace hostpass
