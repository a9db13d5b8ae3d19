// preflight.h — is this host ready for VFIO passthrough, and if not, exactly what to do.
//
// `hostpass check` prints these checks; `bind` refuses early with the first failing host check's
// message (preflight_gate); the device plugin reports them at start-up. Every check has a stable
// id, a status, what was observed (the file read and the value found) and the remedy.
//
// Contract read (all through Host, all read-only):
//   /proc/cpuinfo                      vendor_id (GenuineIntel / AuthenticAMD), flags: vmx / svm
//   /sys/class/iommu/<unit>            one entry per active IOMMU (dmar<N> Intel, ivhd<N> AMD),
//                                      a link to ../../devices/virtual/iommu/<unit>
//   /sys/kernel/iommu_groups/<n>       non-empty once the IOMMU API is active
//   /sys/firmware/acpi/tables/DMAR|IVRS  the firmware describes VT-d / AMD-Vi (present even when
//                                      the kernel left the IOMMU off)
//   /boot/config-<release>             CONFIG_INTEL_IOMMU_DEFAULT_ON[_INTGPU_OFF] / _DEFAULT_OFF
//   /proc/cmdline                      intel_iommu=, amd_iommu=, iommu=, intremap=, vfio-pci.ids=
//   /proc/modules, /sys/module/<m>     loaded (or built-in) modules
//   /proc/sys/kernel/osrelease         the running kernel's release (uname -r)
//   /lib/modules/<release>/modules.builtin, modules.dep, kernel/drivers/vfio/...  loadable?
//   /dev/vfio/vfio                     the VFIO container node (appears with the vfio module)
//   /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts   "Y"/"N"
//   /sys/class/iommu/dmar<N>/intel-iommu/ecap   bit 3 (IR): the unit supports interrupt remapping
//   /proc/sys/kernel/hostname          the node name for the `oc label node` hint, else
//   /etc/hostname                      (node_name.h)
//   per device: pci_device.h's attributes, its IOMMU group, host_use.h's reasons.
//
// The IOMMU's kind (and so the kernel arguments a remedy names) comes from what the kernel and
// firmware show, not from the CPU vendor; the CPU vendor only words the firmware-setup remedy
// when the firmware describes no IOMMU at all.
//
// What it deliberately does not do: read the kernel log (dmesg is not a file under the root, and
// on most hosts is root-only), so whether interrupt remapping is *enabled* on AMD is reported as
// unknown rather than guessed; probe hardware; change anything.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host.h"
#include "pci_address.h"
#include "result.h"

namespace hostpass {

enum class CheckStatus { Pass, Warn, Fail, Skip };
const char* check_status_name(CheckStatus status);  // "pass", "warn", "fail", "skip"

struct Check {
  std::string id;  // stable: "iommu.active", "device.group-viable", ...
  CheckStatus status = CheckStatus::Skip;
  std::string summary;               // one line: "IOMMU is not active"
  std::string observed;              // the file(s) read and what they held
  std::string remedy;                // what to do; empty on pass
  std::optional<PciAddress> device;  // set on per-device checks
};

enum class CpuVendor { Intel, Amd, Other, Unknown };
const char* cpu_vendor_name(CpuVendor vendor);  // "intel", "amd", "other", "unknown"

// vendor_id of the first processor in /proc/cpuinfo. Unknown when unreadable.
CpuVendor read_cpu_vendor(Host& host);

// Whose IOMMU this host has, as the kernel tells it: Intel when /sys/class/iommu holds dmar*
// units, AMD for ivhd*; else the firmware's ACPI table (DMAR: Intel, IVRS: AMD); else the CPU's
// vendor. The kernel arguments (intel_iommu= or amd_iommu=) follow this, not the CPU: QEMU's
// default TCG CPU says AuthenticAMD next to an emulated intel-iommu.
CpuVendor read_iommu_vendor(Host& host);

// The kernel release (uname -r) from /proc/sys/kernel/osrelease, or none.
std::optional<std::string> read_kernel_release(Host& host);

struct PreflightOptions {
  std::vector<PciAddress> devices;  // per-device checks for these
  std::string target_driver = "vfio-pci";
};

struct PreflightReport {
  std::vector<Check> checks;  // host checks first, then each device's, in input order
  CpuVendor cpu_vendor = CpuVendor::Unknown;
  CpuVendor iommu_vendor = CpuVendor::Unknown;  // read_iommu_vendor()

  bool any_failed() const;
  const Check* find(const std::string& id, const std::optional<PciAddress>& device = {}) const;
};

// The host checks: cpu.vendor, cpu.virtualization, iommu.active, cmdline.iommu, cmdline.iommu-pt,
// cmdline.vfio-ids, modules.vfio, dev.vfio, iommu.interrupt-remapping.
std::vector<Check> host_checks(Host& host, CpuVendor* vendor_out = nullptr,
                               CpuVendor* iommu_out = nullptr);

// The checks of one device: device.exists, device.iommu-group, device.group-viable,
// device.host-use, device.driver, device.reset, device.boot-vga, device.sriov,
// device.gpu-operator. When the device does not exist, only device.exists (fail) is returned.
std::vector<Check> device_checks(Host& host, const PciAddress& address,
                                 const std::string& target_driver = "vfio-pci");

// Host checks, then the per-device checks of options.devices. Never writes.
PreflightReport run_preflight(Host& host, const PreflightOptions& options);

// For mutating commands: ok when no host check that passthrough depends on fails (IOMMU active,
// VFIO modules available); else Unsupported with "<summary>: <observed>; <remedy>".
Status preflight_gate(Host& host);

}  // namespace hostpass
