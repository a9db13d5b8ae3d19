// persist.h — make a passthrough binding survive a reboot, in the format the platform expects.
//
// Input: the devices bound to vfio-pci now (sysfs), or the devices an apply file resolves to.
// Output: files (printed by default, written under the root with --write):
//   modprobe       /etc/modprobe.d/vfio.conf: "options vfio-pci ids=VVVV:DDDD,..." and one
//                  "softdep <host module> pre: vfio-pci" per host module (modprobe.d(5): load
//                  vfio-pci before that module so vfio-pci claims the ids first), plus
//                  /etc/modules-load.d/vfio-pci.conf: "vfio-pci" (modules-load.d(5)).
//   driverctl      /etc/driverctl.d/pci-<address> holding "<driver>\n": the file driverctl's
//                  save_override writes ($confdir/$bus-$dev) and its udev rule / load-override
//                  read back at boot (driverctl 0.111, `driverctl` script).
//   systemd        /etc/systemd/system/hostpass.service (oneshot `hostpass apply -f ...`, Before=
//                  kubelet.service libvirtd.service virtqemud.service) and
//                  /etc/hostpass/hostpass.yaml.
//   butane, machineconfig  OpenShift Virtualization's 100-<role>-vfiopci: the two modprobe files as
//   an OpenShift
//                  Butane source / MachineConfig (openshift_config.h; print only).
//   udev           /etc/udev/rules.d/70-hostpass-vfio.rules: SUBSYSTEM=="vfio" group nodes to
//                  GROUP="kvm" MODE="0660"; "0666" only when asked, with a warning.
//   cmdline        "vfio-pci.ids=..." for the kernel command line (the CAPK guide's hint; print
//   only).
// Id-wide formats (modprobe, cmdline, butane, machineconfig) give every device with a persisted
// vendor:device to vfio-pci, not just the chosen ones: next_boot_guard.h checks them all against
// this host's use and refuses (exit 2) naming each host-used one; butane/machineconfig can take
// the ids alone (PersistOptions::vfio_ids) and render without reading any node, with a note saying
// so. Installed files carry the marker of owned_file.h; an operator's file at the target is
// refused with a diff unless --force, which keeps a numbered backup. modprobe also refuses when
// another modprobe.d file sets `options vfio-pci ids=` (the last one read wins).
// The host module of a device is its current driver's module when not on vfio, else the module
// whose modules.alias pattern (/lib/modules/<release>/modules.alias) matches its modalias
// "pci:vVVVVVVVVdDDDDDDDDsvSSSSSSSSsdSSSSSSSSbcCCscSSiII" (drivers/pci/pci-driver.c).
// What it deliberately does not do: run update-initramfs/dracut, systemctl, udevadm or driverctl
// (it prints what to run), or bind anything.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apply_config.h"
#include "guard.h"
#include "host.h"
#include "openshift_config.h"
#include "owned_file.h"
#include "pci_address.h"
#include "result.h"

namespace hostpass {

enum class PersistFormat { Modprobe, Driverctl, Systemd, Butane, MachineConfig, Udev, Cmdline };
Result<PersistFormat> parse_persist_format(std::string_view name);

struct PersistDevice {
  PciAddress address;
  uint16_t vendor = 0, device = 0;
  std::string driver = "vfio-pci";         // the driver it should be on after boot
  std::optional<std::string> host_module;  // the module that would claim it otherwise
};

// Devices bound to `driver` now, with their host modules.
Result<std::vector<PersistDevice>> devices_bound_to(Host& host,
                                                    const std::string& driver = "vfio-pci");
// Devices on any VFIO driver now (vfio-pci or a variant such as mlx5_vfio_pci, as
// vfio_variant.h knows them), each with the driver it is on and its host module.
Result<std::vector<PersistDevice>> devices_on_vfio_drivers(Host& host);
// The devices an apply plan puts on a driver other than "host".
Result<std::vector<PersistDevice>> devices_from_plan(Host& host, const ApplyPlan& plan);

// The module whose modules.alias pattern matches the device (vfio and pci-stub excluded).
std::optional<std::string> host_module_for(Host& host, const PciAddress& address);

struct PersistOptions {
  PersistFormat format = PersistFormat::Modprobe;
  std::string role = "worker";
  bool udev_world_writable = false;  // MODE="0666": any local user can open the groups
  std::string hostpass_bin = "/usr/local/bin/hostpass";
  std::string apply_file = "/etc/hostpass/hostpass.yaml";
  std::string apply_text;  // the apply file to install (systemd); empty: rendered from devices
  ForceSet force;          // host use of devices the ids also catch; an operator's file (bare)
  // butane/machineconfig only: render these ids ("8086:5845", parse_vfio_ids' form) without
  // reading any node (the devices are then ignored; no softdep lines: no host module is known).
  std::vector<std::string> vfio_ids;
};

struct PersistOutput {
  std::vector<NodeFile> files;        // what --write installs
  std::string text;                   // for print-only formats (butane, machineconfig, cmdline)
  std::vector<std::string> notes;     // what to run next
  std::vector<std::string> warnings;  // ids= also catching other devices, 0666, ...
  // Facts about the host that refuse --write unless bare --force: another modprobe.d file that
  // also sets vfio-pci's ids=. Also printed as warnings.
  std::vector<std::string> write_conflicts;
  bool print_only() const { return files.empty(); }
};

Result<PersistOutput> render_persist(Host& host, const std::vector<PersistDevice>& devices,
                                     const PersistOptions& options);

// Writes every file of `out` under the host's root (owned_file.h: an operator's file is refused
// with a diff unless bare --force, which keeps a backup). InvalidInput for print-only formats;
// Refused for out.write_conflicts unless bare --force. Nothing is written when refused.
Result<OwnedWriteReport> write_persist(Host& host, const PersistOutput& out,
                                       const ForceSet& force = {});

}  // namespace hostpass
