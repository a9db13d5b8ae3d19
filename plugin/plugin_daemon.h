// plugin_daemon.h — `hostpass plugin`: the life of the device-plugin daemon on one node.
//
// Start: load the inventory, serve every served resource (device_plugin.h served_resources) on
// its own socket in the device-plugins directory, then Register it with the kubelet.
// Then, driven by inotify (never by polling):
//   device-plugins dir  kubelet.sock created (kubelet restarted: it deletes every socket in the
//                       directory and creates a new kubelet.sock) → serve again whatever socket
//                       is gone and re-register every resource; our own socket deleted → serve
//                       it again and re-register.
//   policy file's dir   the policy changed (an edit, or a ConfigMap's ..data swap) → reload the
//                       inventory and apply the difference: new resources are served and
//                       registered, removed ones send an empty list and stop, changed ones get
//                       a new list on their open stream; unchanged ones are not touched.
//                       A policy that cannot be loaded, or that would have a device served
//                       twice (kubevirt_inventory.h double_serving; start() fails with it), is
//                       logged a line at a time and the current resources stay as they are.
//   health dirs         /dev/vfio, /sys/bus/pci/drivers/vfio-pci, /sys/bus/pci/devices,
//                       /sys/bus/mdev/devices, /sys/bus/usb/devices, /dev/bus/usb/BBB → re-check
//                       the units the entry concerns and send the new list when health changed.
// and by kernel uevents (NETLINK_KOBJECT_UEVENT, device_plugin_uevent.h): bind, unbind, add,
// remove of a PCI function, USB device or mdev → the same re-check, for the units holding that
// device or sharing an IOMMU group with it.
// Registration failures are retried with exponential back-off (doubling, capped); a missing
// kubelet.sock is waited for, not retried. SIGTERM/SIGINT (with stop_on_signals) or stop() end
// the loop: streams end, servers stop, sockets are removed.
//
// Every path is a Host path, turned into a real one with Host::resolve for inotify and gRPC;
// the device-plugins directory is then canonicalized so a socket path fits sun_path (107 bytes).
// sysfs does not raise inotify events for changes the kernel makes itself (binding a driver), only
// /dev (devtmpfs) does, so on a real node the uevent is what carries a member of a multi-device
// group leaving vfio-pci while /dev/vfio/<group> stays. inotify on sysfs still serves fixture
// roots, where the tests' "kernel" writes files.
// Like inotify, eventfd and signalfd, the netlink socket is the daemon's own event source, not a
// Host operation: Host models the files, these model the notifications about them.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host.h"
#include "kubevirt_inventory.h"
#include "result.h"

namespace hostpass {

struct PluginDaemonOptions {
  std::string plugin_dir = "/var/lib/kubelet/device-plugins";  // Host path
  std::string policy_path;  // path on policy_host (default: the daemon's host); "" = not watched
  Host* policy_host = nullptr;  // the CR is the user's file: the CLI reads it from the real "/"
  std::function<Result<Inventory>()> load_inventory;  // REQUIRED
  bool serve_all = false;                             // see served_resources()
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
  std::chrono::milliseconds register_timeout{std::chrono::seconds(5)};
  // Stop on SIGTERM/SIGINT. REQUIRES: the caller blocked both in every thread
  // (pthread_sigmask before any thread starts), so that they reach the daemon's signalfd.
  bool stop_on_signals = false;
  std::function<void(const std::string&)> log;  // default: stderr, "hostpass plugin: ..."
  // Kernel uevents: a datagram socket carrying them (device_plugin_uevent.h format). -1
  // (default): open a NETLINK_KOBJECT_UEVENT socket when the host's /sys is a real sysfs (the
  // node's, or the host's mounted under --root in a pod), none on a fixture root. A test passes one
  // end of a socketpair and plays the kernel with it. The daemon does not close a socket it was
  // given.
  int uevent_fd = -1;
};

class PluginDaemon {
 public:
  PluginDaemon(Host& host, PluginDaemonOptions options);
  ~PluginDaemon();
  PluginDaemon(const PluginDaemon&) = delete;
  PluginDaemon& operator=(const PluginDaemon&) = delete;

  // Loads the inventory, serves and registers every resource, sets up the watches.
  // Fails when the inventory cannot be loaded or the directory cannot be watched.
  Status start();
  // The event loop; returns after stop() or a signal, with every server stopped and every socket
  // removed. REQUIRES: start() succeeded.
  Status run();
  // Thread-safe; may be called before run() starts.
  void stop();

  // Names of the resources being served (for tests and logs).
  std::vector<std::string> served() const;

  // For tests only: stops and forgets the served resource `name` but leaves it in the serving
  // order and the health index, breaking the invariant the loop's lookups rely on, so that a test
  // can show a broken invariant costs logged skips (until the next policy reload serves the
  // resource again), not the daemon. REQUIRES: run() is not running.
  void forget_resource_for_testing(const std::string& name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hostpass
