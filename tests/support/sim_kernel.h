// sim_kernel.h — a Host wrapper that makes writes to a fixture tree behave like the kernel's PCI
// core, so the bind engine (and the raw `echo` sequences users type) can be exercised end to end.
//
// Written once, from the kernel's documented behaviour (Documentation/ABI/testing/sysfs-bus-pci,
// drivers/pci/pci-driver.c, drivers/pci/pci-sysfs.c, drivers/base/bus.c, drivers/base/dd.c,
// drivers/vfio/pci/vfio_pci.c, drivers/vfio/group.c):
//
//   devices/A/driver_override  "NAME\n": only NAME may claim A from now on (pci_match_device);
//                              "\n" or "": cleared, reads "(null)\n". Never binds or unbinds.
//   drivers/D/unbind  "A"      A loses its driver (both links go). ENODEV when A is not bound to
//                              D (unbind_store: dev->driver != drv).
//   devices/A/driver/unbind    the same through the device's link; the file does not exist
//                              (ENOENT) when A is unbound.
//   drivers/D/bind    "A"      binds A to D if D matches A (override, dynamic or static ids) and
//                              A is unbound: ENODEV on no match, EBUSY when bound, the probe's
//                              error when D refuses the device.
//   drivers_probe     "A"      if A is unbound: tries every driver that matches A (the override
//                              only, when set) until one probes it; succeeds even when none does
//                              (bus_rescan_devices_helper ignores "no driver"). ENODEV for no A.
//   drivers/D/new_id  "VVVV DDDD [...]"  adds a dynamic id (EEXIST when present) and attaches
//                              every unbound device it matches (driver_attach).
//   drivers/D/remove_id "VVVV DDDD"      removes it (ENODEV when absent); never unbinds.
//   vfio drivers (name starts with "vfio" or ends in "_vfio_pci", a variant): probe refuses bridges
//   (non-normal header, EINVAL)
//                              and devices without an IOMMU group (EINVAL); binding the first
//                              member of a group creates /dev/vfio/<group>, unbinding the last
//                              vfio member removes it.
//   run_command modprobe M     creates /sys/bus/pci/drivers/<M> (vfio_pci → vfio-pci) and
//                              /sys/module/<m>, then attaches unbound devices it matches.
//                              Any other command is refused.
//
// "Static ids" are modelled by a per-tree native driver table: which driver's id table claims a
// device. It is recorded from the tree the first time a SimKernelHost sees it (each bound
// device's driver, except vfio drivers and pci-stub, which claim nothing by id) and can be edited.
// All simulated state (native table, dynamic ids, knobs) lives in the tree under /.simkernel/,
// so a second process (hostpass_sim) or a fresh host over the same tree sees the same kernel.
//
// Deliberately not modelled: asynchronous probing, driver registration order (drivers are tried
// in name order), subsystem ids and class masks in new_id matching, pci-stub's ids= parameter.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "forwarding_host.h"

namespace hostpass::testing {

class SimKernelHost : public ForwardingHost {
 public:
  // `inner` is a RealHost on a fixture root (or anything whose resolve() names real files).
  explicit SimKernelHost(Host& inner);

  // ---- knobs (persisted under <root>/.simkernel) ----
  // The driver whose static id table matches `address` (none: no host driver exists for it).
  void set_native_driver(const std::string& address, const std::optional<std::string>& driver);
  std::optional<std::string> native_driver(const std::string& address);
  // Driver `driver` fails to probe `address` (a bind/probe of that pair fails for real).
  void refuse_probe(const std::string& driver, const std::string& address);
  // `modprobe` exits 1 with modprobe's "Module ... not found" message.
  void set_modprobe_fails(bool fails);
  // Unloads a driver: removes /sys/bus/pci/drivers/<driver> (REQUIRES: no device bound to it).
  void remove_driver(const std::string& driver);

  // What the simulated kernel changes; everything else reaches the inner host (ForwardingHost).
  Status write_attribute(std::string_view path, std::string_view data) override;
  Result<CommandOutput> run_command(const std::vector<std::string>& argv) override;
  // The simulated kernel has no device nodes: Host's refusal, not the fixture's plain files.
  Result<std::unique_ptr<DeviceHandle>> open_device(std::string_view path) override {
    return Host::open_device(path);
  }

 private:
  struct Line {
    std::vector<std::string> fields;
  };
  std::vector<Line> load(const std::string& name);
  void save(const std::string& name, const std::vector<Line>& lines);
  void record_native_table_once();

  bool device_exists(const std::string& address);
  std::optional<std::string> driver_of(const std::string& address);
  std::string override_of(const std::string& address);  // "" when cleared
  bool driver_exists(const std::string& driver);
  bool matches(const std::string& driver, const std::string& address);
  // The probe: Io error (with the errno text) when the driver refuses the device.
  Status probe(const std::string& driver, const std::string& address);
  Status attach(const std::string& driver, const std::string& address);  // probe + links
  void detach(const std::string& address);
  void attach_all_unbound(const std::string& driver);  // driver_attach()

  Status write_override(const std::string& address, std::string_view data);
  Status write_unbind(const std::string& path, const std::string& driver, std::string_view data);
  Status write_bind(const std::string& path, const std::string& driver, std::string_view data);
  Status write_probe(const std::string& path, std::string_view data);
  Status write_id(const std::string& path, const std::string& driver, std::string_view data,
                  bool add);
  void create_driver(const std::string& driver, const std::string& module);
};

}  // namespace hostpass::testing
