// sim_mdev.h — a Host whose mdev `create` and `remove` writes behave like the kernel's mdev core,
// over a kernel-shaped fixture tree (fixture_tree.h add_mdev_type).
//
// Behaviour followed (drivers/vfio/mdev/mdev_sysfs.c create_store, mdev_core.c
// mdev_device_create/mdev_device_remove, Linux 6.1):
//   write "<uuid>" (optionally "\n") to <parent>/mdev_supported_types/<type>/create:
//     not a UUID (guid_parse)           -> EINVAL "Invalid argument", nothing changes
//     the UUID exists on any parent     -> EEXIST "File exists"
//     available_instances is 0          -> EUSERS "Too many users"
//     else the instance appears (FixtureTree::write_mdev_instance) and available_instances
//     drops by one; with one_type_per_parent (NVIDIA vGPU's rule, on by default) every other
//     type of that parent reports 0 until the parent's last instance is removed.
//   write to /sys/bus/mdev/devices/<uuid>/remove: a non-zero number removes the instance and
//     gives the instance back; "0" does nothing (remove_store: `if (val && ...)`); not a number
//     -> EINVAL.
//   read /proc/sys/kernel/random/uuid: a fresh version 4 UUID on every read (deterministic
//     sequence, so tests can predict them: 00000000-0000-4000-8000-00000000000N).
// Everything else is forwarded to the wrapped host unchanged. Writes to the tree happen through
// std::filesystem on inner.resolve(path): this is the simulated kernel, not library code.
//
// Separate from tests/support/sim_kernel.h (PCI bind/unbind, owned by the bind work); a
// simulated host that needs both wraps one inside the other.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "forwarding_host.h"

namespace hostpass::testing {

class SimMdevHost : public ForwardingHost {
 public:
  explicit SimMdevHost(Host& inner) : ForwardingHost(inner) {}
  // Owns the wrapped host: what a CLI HostFactory returns (run_cli over a fixture root).
  explicit SimMdevHost(std::unique_ptr<Host> owned) : ForwardingHost(std::move(owned)) {}

  void set_one_type_per_parent(bool on) { one_type_per_parent_ = on; }
  int creates() const { return creates_; }
  int removes() const { return removes_; }

  // What the simulated mdev core changes; everything else reaches the inner host.
  Result<std::string> read_file(std::string_view path, size_t max_bytes = 1 << 20) override;
  Status write_attribute(std::string_view path, std::string_view data) override;
  // No device nodes in the simulation: Host's refusal, not the fixture's plain files.
  Result<std::unique_ptr<DeviceHandle>> open_device(std::string_view path) override {
    return Host::open_device(path);
  }

 private:
  Status create(const std::string& parent_dev, const std::string& type, std::string_view data,
                std::string_view path);
  Status remove(const std::string& uuid, std::string_view data, std::string_view path);
  std::string root() const;  // the fixture root on disk
  // The /sys/devices path behind an in-tree path that may go through links.
  std::string canonical(const std::string& path) const;
  int read_count(const std::string& path) const;
  void write_count(const std::string& path, int n);

  std::mutex mu_;
  bool one_type_per_parent_ = true;
  int creates_ = 0, removes_ = 0;
  int next_uuid_ = 1;
  // one_type_per_parent: available_instances of the other types, saved while they read 0.
  std::map<std::string, int> saved_available_;
};

}  // namespace hostpass::testing
