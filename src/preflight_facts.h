// preflight_facts.h — everything `hostpass check` reads, gathered before any check judges it.
//
// preflight.cc's checks are functions of these facts alone: they read nothing themselves, so
// what a check says follows from what was gathered here, and `observed` names the files read
// (preflight.h lists them). Gathering never writes and never fails: an unreadable file is a fact
// too (cpuinfo_ok, cmdline_ok, an empty list, a none).
//
// What it deliberately does not do: judge anything (preflight.cc does) or read the kernel log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "host.h"
#include "pci_address.h"
#include "pci_device.h"
#include "preflight.h"

namespace hostpass::preflight {

enum class ModuleState { Loaded, Builtin, Loadable, Missing };

struct HostFacts {
  // /proc/cpuinfo, its first processor.
  bool cpuinfo_ok = false;
  CpuVendor vendor = CpuVendor::Unknown;
  std::string vendor_id;
  std::string cpu_flags;
  // /proc/cmdline.
  std::string cmdline;
  bool cmdline_ok = false;
  std::vector<std::string> args;
  std::vector<std::string> iommu_units;  // /sys/class/iommu entries, sorted
  size_t iommu_groups = 0;
  // /sys/firmware/acpi/tables: readable at all (an ACPI kernel), and whether the firmware
  // describes an IOMMU there (DMAR: Intel VT-d, IVRS: AMD-Vi).
  bool acpi_tables = false, dmar_table = false, ivrs_table = false;
  // The IOMMU whose kernel arguments apply: from the units, else the tables, else the CPU.
  CpuVendor iommu_vendor = CpuVendor::Unknown;
  std::string iommu_basis;  // what iommu_vendor was read from, for `observed`
  // /boot/config-<release>: the INTEL_IOMMU build default line, when the file is readable.
  std::optional<std::string> intel_default_line;
  std::optional<bool> intel_default_on;  // the build default for discrete devices
  std::string config_path;

  // The rest is read by gather_host_facts only.
  // /proc/modules, /proc/sys/kernel/osrelease, /lib/modules/<release>/modules.builtin, .dep.
  bool modules_ok = false, builtin_ok = false, dep_ok = false;
  std::optional<std::string> release;
  std::vector<std::pair<std::string, ModuleState>>
      vfio_modules;       // vfio, vfio_iommu_type1, vfio_pci
  bool dev_vfio = false;  // /dev/vfio/vfio exists
  // /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts, trimmed; none: absent.
  std::optional<std::string> allow_unsafe_interrupts;
  // /sys/class/iommu/<unit>/intel-iommu/ecap of each unit where it reads as hex.
  struct Ecap {
    std::string unit, text;
    uint64_t value = 0;  // a 64-bit register (parse_sysfs_hex64)
  };
  std::vector<Ecap> ecaps;
  // The command that edits this host's kernel command line (boot_loader.h: apply_advice), for
  // the fix lines: --format kernel-cmdline on systemd-boot hosts, --format grub otherwise.
  std::string kernel_args_apply = "hostpass kernel-args --format grub --apply";

  bool units_of(std::string_view prefix) const;
  // Firmware readable and it describes no IOMMU at all: kernel arguments cannot help.
  bool firmware_lacks_iommu() const;
};

// The CPU, the kernel command line, the IOMMU units, groups and firmware tables, and (for an
// Intel IOMMU) the kernel's build default: what read_cpu_vendor and read_iommu_vendor need.
HostFacts gather_platform_facts(Host& host);
// The platform facts, then the modules, /dev/vfio/vfio and the interrupt-remapping facts: what
// every host check needs.
HostFacts gather_host_facts(Host& host);

struct DeviceFacts {
  PciAddress address;
  // Full detail with its host use attached; none when it could not be read (device_error says
  // why).
  std::optional<PciDevice> device;
  std::string device_error;
  std::optional<std::string> host_unseen;  // host_use.h: why the host's own use cannot be seen
  // The IOMMU group (when the device has one): its members with their host use (Basic detail;
  // the device itself in Full), or why it could not be read.
  std::optional<std::string> group_error;
  std::vector<PciDevice> group;
  std::string hostname = "<node>";  // this_node_name (node_name.h), read for GPUs on a host driver
};

DeviceFacts gather_device_facts(Host& host, const PciAddress& address);

// nvidia, nouveau, amdgpu, radeon: a GPU operator would keep claiming the device.
bool is_gpu_host_driver(const std::string& driver);

}  // namespace hostpass::preflight
