// preflight.cc — see preflight.h. Each check is one function named after its id
// (check_iommu_active for iommu.active, check_device_group_viable for device.group-viable, ...)
// and judges the facts preflight_facts.h gathered; it reads nothing itself, and `observed` names
// the files those facts came from.
#include "preflight.h"

#include <algorithm>

#include "iommu_group.h"
#include "kernel_cmdline.h"
#include "pci_device.h"
#include "pci_id.h"
#include "preflight_facts.h"
#include "vfio_rules.h"

namespace hostpass {

using preflight::DeviceFacts;
using preflight::HostFacts;
using preflight::is_gpu_host_driver;
using preflight::ModuleState;

const char* check_status_name(CheckStatus status) {
  switch (status) {
    case CheckStatus::Pass:
      return "pass";
    case CheckStatus::Warn:
      return "warn";
    case CheckStatus::Fail:
      return "fail";
    case CheckStatus::Skip:
      return "skip";
  }
  return "skip";
}

const char* cpu_vendor_name(CpuVendor vendor) {
  switch (vendor) {
    case CpuVendor::Intel:
      return "intel";
    case CpuVendor::Amd:
      return "amd";
    case CpuVendor::Other:
      return "other";
    case CpuVendor::Unknown:
      return "unknown";
  }
  return "unknown";
}

bool PreflightReport::any_failed() const {
  return std::any_of(checks.begin(), checks.end(),
                     [](const Check& c) { return c.status == CheckStatus::Fail; });
}

const Check* PreflightReport::find(const std::string& id,
                                   const std::optional<PciAddress>& device) const {
  for (const Check& c : checks)
    if (c.id == id && c.device == device) return &c;
  return nullptr;
}

namespace {

Check make(std::string id, CheckStatus status, std::string summary, std::string observed,
           std::string remedy = {}) {
  Check c;
  c.id = std::move(id);
  c.status = status;
  c.summary = std::move(summary);
  c.observed = std::move(observed);
  c.remedy = std::move(remedy);
  return c;
}

bool has_word(std::string_view list, std::string_view word) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t sp = list.find(' ', pos);
    if (sp == std::string_view::npos) sp = list.size();
    if (list.substr(pos, sp - pos) == word) return true;
    pos = sp + 1;
  }
  return false;
}

// The IOMMU the kernel shows, for summaries: "Intel VT-d" / "AMD-Vi".
const char* iommu_name(CpuVendor v) {
  return v == CpuVendor::Intel ? "Intel VT-d" : v == CpuVendor::Amd ? "AMD-Vi" : "IOMMU";
}

// Where the IOMMU's kind was read when it is not the CPU ("dmar0", "ACPI DMAR table").
std::string iommu_evidence(const HostFacts& f) {
  std::vector<std::string> units;
  for (const std::string& u : f.iommu_units)
    if (u.rfind(f.iommu_vendor == CpuVendor::Intel ? "dmar" : "ivhd", 0) == 0) units.push_back(u);
  if (!units.empty()) return join(units, ", ");
  return f.iommu_vendor == CpuVendor::Intel ? "ACPI DMAR table" : "ACPI IVRS table";
}

Check check_cpu_vendor(const HostFacts& f) {
  bool iommu_known = f.iommu_basis != "/proc/cpuinfo";
  if (!f.cpuinfo_ok)
    return make("cpu.vendor", iommu_known ? CheckStatus::Pass : CheckStatus::Warn,
                iommu_known ? std::string("CPU vendor unknown; the IOMMU is ") +
                                  iommu_name(f.iommu_vendor) + " (" + iommu_evidence(f) + ")"
                            : "CPU vendor unknown",
                "/proc/cpuinfo: unreadable",
                iommu_known ? ""
                            : "pass the vendor explicitly where asked (hostpass kernel-args "
                              "--cpu intel|amd)");
  std::string obs = "/proc/cpuinfo: vendor_id " + (f.vendor_id.empty() ? "absent" : f.vendor_id);
  if (iommu_known) obs += "; " + f.iommu_basis + ": present";
  const char* cpu = f.vendor == CpuVendor::Intel ? "Intel CPU"
                    : f.vendor == CpuVendor::Amd ? "AMD CPU"
                                                 : nullptr;
  // An IOMMU is named only when the kernel (a unit) or the firmware (an ACPI table) shows one.
  if (iommu_known) {
    std::string summary = std::string(cpu ? cpu : "CPU vendor " + f.vendor_id) + " with an " +
                          iommu_name(f.iommu_vendor) + " IOMMU (" + iommu_evidence(f) + ")";
    // QEMU's TCG CPU (AuthenticAMD) next to -device intel-iommu, nested clouds: the IOMMU the
    // kernel drives decides the kernel arguments, not the CPU's vendor string.
    if (f.iommu_vendor != f.vendor) summary += ": its kernel arguments apply";
    return make("cpu.vendor", CheckStatus::Pass, summary, obs);
  }
  if (!cpu)
    return make("cpu.vendor", CheckStatus::Warn, "CPU vendor is neither Intel nor AMD", obs,
                "hostpass knows the kernel arguments of Intel VT-d and AMD-Vi only; consult "
                "your platform's IOMMU documentation");
  // No IOMMU seen: the CPU's vendor only says which one this platform would have.
  const char* iommu = iommu_name(f.vendor);
  return make("cpu.vendor", CheckStatus::Pass,
              f.firmware_lacks_iommu()
                  ? std::string(cpu) + "; " + iommu +
                        " is the IOMMU to enable (the firmware "
                        "describes none: see iommu.active)"
                  : std::string(cpu) +
                        "; no IOMMU seen (no unit in /sys/class/iommu, no ACPI "
                        "table readable): " +
                        iommu + " would be this CPU's",
              obs);
}

Check check_cpu_virtualization(const HostFacts& f) {
  if (!f.cpuinfo_ok)
    return make("cpu.virtualization", CheckStatus::Skip, "CPU flags unknown",
                "/proc/cpuinfo: unreadable");
  bool vmx = has_word(f.cpu_flags, "vmx"), svm = has_word(f.cpu_flags, "svm");
  if (vmx || svm)
    return make("cpu.virtualization", CheckStatus::Pass,
                std::string("hardware virtualization available (") + (vmx ? "vmx" : "svm") + ")",
                std::string("/proc/cpuinfo: flags include ") + (vmx ? "vmx" : "svm"));
  return make("cpu.virtualization", CheckStatus::Fail, "no hardware virtualization (vmx/svm)",
              "/proc/cpuinfo: flags have neither vmx nor svm",
              "enable Intel VT-x / AMD-V (SVM) in the firmware setup; inside a VM, enable nested "
              "virtualization on the hypervisor (e.g. QEMU -cpu host)");
}

// The firmware setup step, in the words firmware menus use.
std::string firmware_remedy(CpuVendor v) {
  const char* tail =
      " in the firmware (BIOS/UEFI) setup and reboot; kernel arguments cannot enable an IOMMU the "
      "firmware does not describe (in a VM: give it a virtual IOMMU, e.g. QEMU -device "
      "intel-iommu or amd-iommu)";
  if (v == CpuVendor::Intel)
    return std::string("enable VT-d (Intel Virtualization Technology for Directed I/O)") + tail;
  if (v == CpuVendor::Amd)
    return std::string("enable the AMD IOMMU (AMD-Vi; menus call it IOMMU, next to SVM Mode)") +
           tail;
  return std::string("enable the IOMMU (Intel: VT-d; AMD: IOMMU, next to SVM Mode)") + tail;
}

Check check_iommu_active(const HostFacts& f) {
  std::string obs = "/sys/class/iommu: " +
                    (f.iommu_units.empty() ? std::string("empty") : join(f.iommu_units, ", ")) +
                    "; /sys/kernel/iommu_groups: " + plural(f.iommu_groups, "group", "groups");
  if (!f.iommu_units.empty() && f.iommu_groups > 0)
    return make("iommu.active", CheckStatus::Pass,
                std::string(iommu_name(f.iommu_vendor)) + " active", obs);
  if (f.acpi_tables)
    obs +=
        std::string("; /sys/firmware/acpi/tables: ") + (f.dmar_table && f.ivrs_table ? "DMAR, IVRS"
                                                        : f.dmar_table               ? "DMAR"
                                                        : f.ivrs_table               ? "IVRS"
                                                                       : "no DMAR, no IVRS");
  auto intel = cmdline_value(f.args, "intel_iommu");
  auto amd = cmdline_value(f.args, "amd_iommu");
  auto generic = cmdline_value(f.args, "iommu");
  if (!f.iommu_units.empty())
    return make("iommu.active", CheckStatus::Fail, "IOMMU present but no IOMMU groups", obs,
                "check the kernel log (dmesg | grep -i -e DMAR -e AMD-Vi -e iommu) for why the "
                "IOMMU API did not start, and that iommu=off is not on the kernel command line");
  // Disabled on the command line: the firmware side is fine, the argument is the fix.
  // drivers/iommu/intel/iommu.c intel_iommu_setup(): "off" sets dmar_disabled; x86's iommu=off
  // sets no_iommu, which both intel_iommu_init() and amd_iommu_detect() honour.
  if (generic && value_has(*generic, "off"))
    return make("iommu.active", CheckStatus::Fail, "iommu=off disables the IOMMU",
                obs + "; /proc/cmdline: iommu=" + *generic,
                "remove iommu=off from the kernel command line "
                "(" +
                    f.kernel_args_apply + ") and reboot");
  if (f.iommu_vendor != CpuVendor::Amd && intel && value_has(*intel, "off"))
    return make("iommu.active", CheckStatus::Fail,
                "VT-d is disabled by intel_iommu=off on the kernel command line",
                obs + "; /proc/cmdline: intel_iommu=" + *intel,
                "replace intel_iommu=off with intel_iommu=on "
                "(" +
                    f.kernel_args_apply + ") and reboot");
  if (f.iommu_vendor == CpuVendor::Amd && amd && value_has(*amd, "off"))
    return make("iommu.active", CheckStatus::Fail,
                "AMD-Vi is disabled by amd_iommu=off on the kernel command line",
                obs + "; /proc/cmdline: amd_iommu=" + *amd,
                "remove amd_iommu=off from the kernel command line "
                "(" +
                    f.kernel_args_apply + ") and reboot");
  if (f.firmware_lacks_iommu())
    return make("iommu.active", CheckStatus::Fail,
                "no IOMMU in the firmware (no ACPI DMAR or IVRS table)", obs,
                firmware_remedy(f.vendor));
  if (f.dmar_table) {
    std::string why = "this kernel leaves VT-d off unless intel_iommu=on";
    if (f.intel_default_line) obs += "; " + f.config_path + ": " + *f.intel_default_line;
    if (f.intel_default_on && *f.intel_default_on)
      why = "the kernel's build default is on, yet no DMAR unit started";
    return make("iommu.active", CheckStatus::Fail,
                "VT-d is in the firmware (ACPI DMAR table) but the kernel did not enable it", obs,
                "add intel_iommu=on iommu=pt to the kernel command line (" + f.kernel_args_apply +
                    ") and reboot: " + why);
  }
  if (f.ivrs_table)
    return make("iommu.active", CheckStatus::Fail,
                "AMD-Vi is in the firmware (ACPI IVRS table) but the kernel did not enable it", obs,
                "AMD-Vi is on by default: check the kernel log (dmesg | grep AMD-Vi) for why it "
                "stayed off, and that the kernel has CONFIG_AMD_IOMMU");
  // No firmware tables to read (not ACPI, or /sys/firmware not visible): name both steps.
  std::string remedy;
  if (f.iommu_vendor == CpuVendor::Amd)
    remedy =
        "enable AMD-Vi (IOMMU) in the firmware setup, remove amd_iommu=off from the kernel "
        "command line if present, and reboot (hostpass kernel-args)";
  else
    remedy =
        "enable VT-d in the firmware setup, add intel_iommu=on iommu=pt to the kernel "
        "command line (" +
        f.kernel_args_apply + ") and reboot";
  return make("iommu.active", CheckStatus::Fail, "IOMMU is not active", obs, remedy);
}

Check check_cmdline_iommu(const HostFacts& f, bool iommu_active) {
  if (!f.cmdline_ok)
    return make("cmdline.iommu", CheckStatus::Skip, "kernel command line unknown",
                "/proc/cmdline: unreadable");
  auto intel = cmdline_value(f.args, "intel_iommu");
  auto amd = cmdline_value(f.args, "amd_iommu");
  auto generic = cmdline_value(f.args, "iommu");
  std::string obs = "/proc/cmdline: ";
  // The rules follow the IOMMU the kernel shows (units, then firmware tables), not the CPU.
  if (f.iommu_vendor == CpuVendor::Amd) {
    obs += amd ? "amd_iommu=" + *amd : "no amd_iommu=";
    if (amd && value_has(*amd, "off"))
      return make("cmdline.iommu", CheckStatus::Fail, "amd_iommu=off disables the AMD IOMMU", obs,
                  "remove amd_iommu=off from the kernel command line "
                  "(" +
                      f.kernel_args_apply + ") and reboot");
    if (generic && value_has(*generic, "off"))
      return make("cmdline.iommu", CheckStatus::Fail, "iommu=off disables the IOMMU",
                  obs + ", iommu=" + *generic,
                  "remove iommu=off from the kernel command line and reboot");
    if (f.firmware_lacks_iommu())
      return make("cmdline.iommu", CheckStatus::Skip,
                  "no AMD-Vi in the firmware: no kernel argument can enable it (see iommu.active)",
                  obs);
    return make("cmdline.iommu", CheckStatus::Pass, "AMD-Vi is on by default (no amd_iommu=off)",
                obs);
  }
  if (f.iommu_vendor != CpuVendor::Intel)
    return make("cmdline.iommu", CheckStatus::Skip, "no IOMMU argument rule for this CPU vendor",
                obs + f.cmdline);
  obs += intel ? "intel_iommu=" + *intel : "no intel_iommu=";
  if (intel && value_has(*intel, "on"))
    return make("cmdline.iommu", CheckStatus::Pass, "intel_iommu=on", obs);
  if (intel && value_has(*intel, "off"))
    return make("cmdline.iommu", CheckStatus::Fail, "intel_iommu=off disables VT-d", obs,
                "replace intel_iommu=off with intel_iommu=on "
                "(" +
                    f.kernel_args_apply + ") and reboot");
  if (generic && value_has(*generic, "off"))
    return make("cmdline.iommu", CheckStatus::Fail, "iommu=off disables the IOMMU",
                obs + ", iommu=" + *generic,
                "remove iommu=off from the kernel command line and reboot");
  if (f.intel_default_line) obs += "; " + f.config_path + ": " + *f.intel_default_line;
  if (iommu_active)
    // The kernel's build default turned VT-d on (CONFIG_INTEL_IOMMU_DEFAULT_ON, or Debian's
    // ..._DEFAULT_ON_INTGPU_OFF): passthrough works today, and keeps working only as long as
    // every kernel this host boots has the same default.
    return make("cmdline.iommu", CheckStatus::Warn,
                "VT-d is active by the kernel's build default, without intel_iommu=on", obs,
                "add intel_iommu=on so that VT-d stays on under a kernel built with another "
                "default (" +
                    f.kernel_args_apply + ")");
  if (f.firmware_lacks_iommu())
    return make("cmdline.iommu", CheckStatus::Skip,
                "no VT-d in the firmware: intel_iommu=on would do nothing (see iommu.active)", obs);
  return make("cmdline.iommu", CheckStatus::Fail, "intel_iommu=on is missing", obs,
              "add intel_iommu=on iommu=pt to the kernel command line "
              "(" +
                  f.kernel_args_apply +
                  "; on OpenShift: hostpass kernel-args --format machineconfig) and reboot");
}

Check check_cmdline_iommu_pt(const HostFacts& f) {
  if (!f.cmdline_ok)
    return make("cmdline.iommu-pt", CheckStatus::Skip, "kernel command line unknown",
                "/proc/cmdline: unreadable");
  auto generic = cmdline_value(f.args, "iommu");
  std::string obs = "/proc/cmdline: " + (generic ? "iommu=" + *generic : std::string("no iommu="));
  if (generic && value_has(*generic, "pt"))
    return make("cmdline.iommu-pt", CheckStatus::Pass, "iommu=pt (host devices skip translation)",
                obs);
  return make("cmdline.iommu-pt", CheckStatus::Warn, "iommu=pt is recommended", obs,
              "add iommu=pt: devices the host keeps bypass IOMMU translation, which avoids its "
              "DMA overhead (hostpass kernel-args)");
}

Check check_cmdline_vfio_ids(const HostFacts& f) {
  if (!f.cmdline_ok)
    return make("cmdline.vfio-ids", CheckStatus::Skip, "kernel command line unknown",
                "/proc/cmdline: unreadable");
  auto ids = cmdline_value(f.args, "vfio-pci.ids");
  if (!ids)
    return make("cmdline.vfio-ids", CheckStatus::Skip, "no vfio-pci.ids= (optional early binding)",
                "/proc/cmdline: no vfio-pci.ids=");
  return make("cmdline.vfio-ids", CheckStatus::Pass,
              "vfio-pci claims " + *ids + " at boot (every device with these ids)",
              "/proc/cmdline: vfio-pci.ids=" + *ids);
}

Check check_modules_vfio(const HostFacts& f) {
  if (!f.modules_ok && !f.release)
    return make("modules.vfio", CheckStatus::Skip, "VFIO modules unknown",
                "/proc/modules and /proc/sys/kernel/osrelease: unreadable");
  std::string libdir = f.release ? "/lib/modules/" + *f.release : "";
  std::vector<std::string> parts, missing, loadable;
  for (const auto& [module, s] : f.vfio_modules) {
    const char* word = s == ModuleState::Loaded     ? "loaded"
                       : s == ModuleState::Builtin  ? "built-in"
                       : s == ModuleState::Loadable ? "loadable"
                                                    : "missing";
    parts.push_back(module + " " + word);
    if (s == ModuleState::Missing) missing.push_back(module);
    if (s == ModuleState::Loadable) loadable.push_back(module);
  }
  std::string obs = f.modules_ok ? "/proc/modules" : "/proc/modules (unreadable)";
  if (!f.release)
    obs += ", /proc/sys/kernel/osrelease (unreadable)";
  else if (f.builtin_ok && f.dep_ok)
    obs += ", " + libdir + "/modules.builtin, modules.dep";
  else
    obs += ", " + libdir + "/" + (f.builtin_ok ? "modules.builtin" : "modules.builtin (absent)") +
           ", " + (f.dep_ok ? "modules.dep" : "modules.dep (absent)");
  obs += ": " + join(parts, ", ");
  if (!missing.empty())
    return make("modules.vfio", CheckStatus::Fail,
                "VFIO modules not available: " + join(missing, ", "), obs,
                f.release ? "install the kernel's module package for " + *f.release +
                                " (Debian/Ubuntu: linux-image-" + *f.release +
                                " or linux-modules-extra-" + *f.release +
                                "; RHEL: kernel-modules-core) or use a kernel with CONFIG_VFIO_PCI"
                          : "cannot tell the running kernel release; check that vfio-pci is "
                            "installed (modinfo vfio-pci)");
  if (!loadable.empty())
    return make("modules.vfio", CheckStatus::Pass,
                "VFIO modules available (" + join(loadable, ", ") +
                    " loadable; hostpass bind loads "
                    "them)",
                obs);
  return make("modules.vfio", CheckStatus::Pass, "VFIO modules loaded", obs);
}

Check check_dev_vfio(const HostFacts& f) {
  if (f.dev_vfio)
    return make("dev.vfio", CheckStatus::Pass, "/dev/vfio/vfio present", "/dev/vfio/vfio: exists");
  return make("dev.vfio", CheckStatus::Fail, "/dev/vfio/vfio is missing", "/dev/vfio/vfio: absent",
              "load VFIO: modprobe vfio-pci (hostpass bind does it), and persist it with "
              "hostpass persist --format modprobe");
}

Check check_iommu_interrupt_remapping(const HostFacts& f) {
  std::string param_path = "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts";
  std::string obs;
  bool unsafe = false;
  if (const auto& p = f.allow_unsafe_interrupts) {
    unsafe = *p == "Y" || *p == "1";
    obs = param_path + ": " + *p;
  } else {
    obs = param_path + ": absent (vfio_iommu_type1 not loaded)";
  }
  auto intremap = cmdline_value(f.args, "intremap");
  if (intremap) obs += "; /proc/cmdline: intremap=" + *intremap;
  if (unsafe)
    return make("iommu.interrupt-remapping", CheckStatus::Warn,
                "unsafe interrupts are allowed: a guest could inject interrupts into the host", obs,
                "remove vfio_iommu_type1.allow_unsafe_interrupts=1 (kernel command line or "
                "modprobe.d) if the platform supports interrupt remapping");
  if (intremap && value_has(*intremap, "off"))
    return make("iommu.interrupt-remapping", CheckStatus::Warn,
                "intremap=off: VFIO refuses device assignment without interrupt remapping", obs,
                "remove intremap=off from the kernel command line");
  // Intel: the ecap register of each DMAR unit, bit 3 (IR) says the hardware remaps interrupts.
  int intel_units = 0, intel_ir = 0;
  for (const HostFacts::Ecap& e : f.ecaps) {
    ++intel_units;
    if (e.value & 0x8) ++intel_ir;
    obs += "; /sys/class/iommu/" + e.unit + "/intel-iommu/ecap: " + e.text;
  }
  if (intel_units > 0 && intel_ir == intel_units)
    return make("iommu.interrupt-remapping", CheckStatus::Pass,
                "interrupt remapping supported by every DMAR unit (ecap IR bit)", obs);
  if (intel_units > 0)
    return make("iommu.interrupt-remapping", CheckStatus::Warn,
                "a DMAR unit lacks interrupt remapping (ecap IR bit clear)", obs,
                "VFIO refuses to assign devices unless vfio_iommu_type1.allow_unsafe_interrupts=1, "
                "which lets a guest inject interrupts: use it only on a trusted platform");
  if (f.iommu_units.empty())
    return make("iommu.interrupt-remapping", CheckStatus::Skip,
                "no IOMMU: interrupt remapping cannot be assessed", obs);
  // The kernel log line of the IOMMU this host has: drivers/iommu/intel/irq_remapping.c prints
  // "DMAR-IR: Enabled IRQ remapping in x2apic mode" (or xapic), drivers/iommu/amd/init.c
  // "AMD-Vi: Interrupt remapping enabled".
  const char* summary =
      f.iommu_vendor == CpuVendor::Intel
          ? "interrupt remapping not confirmed: no DMAR unit's ecap register could be read"
          : "interrupt remapping not confirmed: this IOMMU reports it only in the kernel log";
  std::string confirm =
      f.iommu_vendor == CpuVendor::Intel
          ? "confirm with: dmesg | grep DMAR-IR (expect 'DMAR-IR: Enabled IRQ remapping in "
            "x2apic mode' or xapic mode)"
      : f.iommu_vendor == CpuVendor::Amd
          ? "confirm with: dmesg | grep AMD-Vi (expect 'AMD-Vi: Interrupt remapping enabled')"
          : "confirm in the kernel log (dmesg | grep -i remapping) that this IOMMU remaps "
            "interrupts";
  return make("iommu.interrupt-remapping", CheckStatus::Warn, summary,
              obs + "; the kernel log (dmesg) is not read by hostpass",
              confirm + "; VFIO refuses assignment without it unless allow_unsafe_interrupts=1");
}

}  // namespace

std::vector<Check> host_checks(Host& host, CpuVendor* vendor_out, CpuVendor* iommu_out) {
  HostFacts f = preflight::gather_host_facts(host);
  if (vendor_out) *vendor_out = f.vendor;
  if (iommu_out) *iommu_out = f.iommu_vendor;
  std::vector<Check> out;
  out.push_back(check_cpu_vendor(f));
  out.push_back(check_cpu_virtualization(f));
  Check active = check_iommu_active(f);
  bool iommu_active = active.status == CheckStatus::Pass;
  out.push_back(std::move(active));
  out.push_back(check_cmdline_iommu(f, iommu_active));
  out.push_back(check_cmdline_iommu_pt(f));
  out.push_back(check_cmdline_vfio_ids(f));
  out.push_back(check_modules_vfio(f));
  out.push_back(check_dev_vfio(f));
  out.push_back(check_iommu_interrupt_remapping(f));
  return out;
}

namespace {

std::string member_text(const PciDevice& m) {
  return m.address.to_string() + " (" + (m.driver ? *m.driver : std::string("no driver")) +
         (m.is_bridge() ? ", bridge" : "") + ")";
}

// Whether other endpoints of the device's group keep it from being viable alone (then binding
// it needs them too: bind's --group). Bridges do not count: --group never moves one.
bool group_needs_siblings(const DeviceFacts& f) {
  std::vector<GroupMember> members;
  for (const PciDevice& m : f.group) members.push_back(group_member(m));
  for (const GroupMember& b : viability_blockers(members, {f.address}))
    if (!b.bridge) return true;
  return false;
}

// The bind command that fits: with --group when the group's other endpoints must come along.
std::string bind_hint(const DeviceFacts& f, const std::string& target_driver) {
  return std::string("hostpass bind ") + (group_needs_siblings(f) ? "--group " : "") +
         f.address.to_string() + (target_driver == "vfio-pci" ? "" : " --driver " + target_driver);
}

// Every device check below but device.exists REQUIRES f.device.

Check check_device_exists(const DeviceFacts& f) {
  const std::string addr = f.address.to_string();
  if (!f.device)
    return make("device.exists", CheckStatus::Fail, "no PCI device " + addr,
                pci_device_dir(f.address) + ": " + f.device_error,
                "check the address with hostpass list (lspci -D shows full addresses)");
  const PciDevice& d = *f.device;
  std::string ids = d.vendor && d.device ? vendor_device_string(*d.vendor, *d.device) : "?";
  return make("device.exists", CheckStatus::Pass, addr + " [" + ids + "]",
              pci_device_dir(f.address) + ": present");
}

Check check_device_iommu_group(const DeviceFacts& f) {
  const PciDevice& d = *f.device;
  if (!d.iommu_group)
    return make("device.iommu-group", CheckStatus::Fail, "no IOMMU group",
                pci_device_dir(f.address) + "/iommu_group: absent",
                "enable the IOMMU (see iommu.active); without a group the device cannot be "
                "assigned");
  if (f.group_error)
    return make("device.iommu-group", CheckStatus::Fail,
                "IOMMU group " + std::to_string(*d.iommu_group) + " unreadable", *f.group_error,
                "check /sys/kernel/iommu_groups");
  std::vector<std::string> texts;
  for (const PciDevice& m : f.group) texts.push_back(member_text(m));
  return make("device.iommu-group", CheckStatus::Pass,
              "IOMMU group " + std::to_string(*d.iommu_group) + ": " +
                  std::to_string(f.group.size()) + (f.group.size() == 1 ? " device" : " devices"),
              std::string(kIommuGroupsDir) + "/" + std::to_string(*d.iommu_group) +
                  "/devices: " + join(texts, ", "));
}

// Viability (iommu_group.h, vfio_rules.h): every other member unbound or on a driver that leaves
// the group's DMA to VFIO (vfio drivers, pci-stub, pcieport), bridges included.
Check check_device_group_viable(const DeviceFacts& f) {
  const std::string addr = f.address.to_string();
  if (f.group.empty())
    return make("device.group-viable", CheckStatus::Skip, "no IOMMU group to assess", "");
  std::vector<std::string> blocking, bridge_blocking, host_needed;
  std::vector<GroupMember> members;
  for (const PciDevice& m : f.group) {
    members.push_back(group_member(m));
    if (m.address == f.address) continue;
    for (const HostUse& u : m.in_use)
      host_needed.push_back(m.address.to_string() + ": " + u.detail);
  }
  for (const GroupMember& b : viability_blockers(members, {f.address})) {
    const PciDevice& m = *std::find_if(f.group.begin(), f.group.end(),
                                       [&](const PciDevice& x) { return x.address == b.address; });
    blocking.push_back(member_text(m));
    if (b.bridge) bridge_blocking.push_back(describe_blocker(b) + "; " + bridge_blocker_remedy(b));
  }
  std::string gname = "group " + std::to_string(*f.device->iommu_group);
  if (!host_needed.empty())
    return make("device.group-viable", CheckStatus::Fail, gname + " holds a device the host needs",
                join(host_needed, "; "),
                "the group can only be assigned whole: move the host's use off " +
                    join(host_needed, "; ") +
                    " or pick a device in another slot (ACS isolates slots)");
  if (!bridge_blocking.empty())
    return make("device.group-viable", CheckStatus::Fail,
                gname + " holds a bridge on a driver that claims its DMA", join(blocking, ", "),
                join(bridge_blocking, "; "));
  if (!blocking.empty())
    return make("device.group-viable", CheckStatus::Fail,
                gname + " also holds endpoints on host drivers", join(blocking, ", "),
                "bind the whole group on purpose (hostpass bind --group " + addr +
                    ") or move the device to a slot with its own group");
  return make("device.group-viable", CheckStatus::Pass,
              gname + ": every other member is unbound or leaves its DMA to VFIO",
              plural(f.group.size(), "member", "members"));
}

// Host use; the boot display has its own check (device.boot-vga).
Check check_device_host_use(const DeviceFacts& f) {
  std::vector<std::string> reasons;
  bool root_fs = false;
  for (const HostUse& u : f.device->in_use) {
    if (u.kind == HostUse::Kind::BootVga) continue;
    reasons.push_back(u.detail);
    if (u.kind == HostUse::Kind::RootFilesystem) root_fs = true;
  }
  if (f.host_unseen && reasons.empty())
    // Nothing found is not "not used" when the host's own mounts and routes cannot be seen:
    // every mutation is refused then (guard.h, host-unseen), and check says why.
    return make("device.host-use", CheckStatus::Fail, "host use unknown: the host cannot be seen",
                *f.host_unseen,
                "run hostpass on the host, or in a pod with hostPID: true and the host's /proc");
  if (reasons.empty())
    return make("device.host-use", CheckStatus::Pass, "not used by the host",
                "/proc/1/mountinfo (else /proc/self/mountinfo), /proc/swaps, /sys/class/net, "
                "/proc/1/net/route: no use found");
  return make("device.host-use", CheckStatus::Fail, "the host uses it: " + join(reasons, "; "),
              join(reasons, "; "),
              root_fs ? "never: it holds the root filesystem; choose another device"
                      : "stop that use first (unmount, swapoff, take the interface down and move "
                        "its routes), or accept the loss with hostpass bind --force");
}

Check check_device_driver(const DeviceFacts& f, const std::string& target_driver) {
  const PciDevice& d = *f.device;
  std::string drv_path = pci_device_dir(f.address) + "/driver";
  if (d.driver && *d.driver == target_driver)
    return make("device.driver", CheckStatus::Pass, "bound to " + target_driver,
                drv_path + " -> " + *d.driver);
  if (d.driver)
    return make("device.driver", CheckStatus::Warn, "on " + *d.driver + ", not " + target_driver,
                drv_path + " -> " + *d.driver, bind_hint(f, target_driver));
  return make("device.driver", CheckStatus::Warn, "unbound, not on " + target_driver,
              drv_path + ": absent", bind_hint(f, target_driver));
}

Check check_device_reset(const DeviceFacts& f) {
  const PciDevice& d = *f.device;
  std::string rm_path = pci_device_dir(f.address) + "/reset_method";
  if (!d.reset_methods)
    return make("device.reset", CheckStatus::Skip, "reset methods unknown (kernel before 5.15)",
                rm_path + ": absent");
  if (d.reset_methods->empty())
    return make("device.reset", CheckStatus::Warn, "no reset method", rm_path + ": empty",
                "the device may not survive a VM restart; expect to reboot the host to recover it");
  return make("device.reset", CheckStatus::Pass, "resettable (" + join(*d.reset_methods, " ") + ")",
              rm_path + ": " + join(*d.reset_methods, " "));
}

Check check_device_boot_vga(const DeviceFacts& f) {
  const PciDevice& d = *f.device;
  if (!d.class_code || (*d.class_code >> 16) != 0x03)
    return make("device.boot-vga", CheckStatus::Skip, "not a display device", "");
  std::string bv = pci_device_dir(f.address) + "/boot_vga";
  if (d.boot_vga)
    return make("device.boot-vga", CheckStatus::Fail, "it is the boot display", bv + ": 1",
                "select another primary display in the firmware setup, or accept losing the "
                "console with hostpass bind --force");
  return make("device.boot-vga", CheckStatus::Pass, "not the boot display", bv + ": 0");
}

Check check_device_sriov(const DeviceFacts& f) {
  const PciDevice& d = *f.device;
  if (d.physfn)
    return make("device.sriov", CheckStatus::Pass, "virtual function of " + d.physfn->to_string(),
                pci_device_dir(f.address) + "/physfn -> " + d.physfn->to_string());
  if (!d.sriov_totalvfs || *d.sriov_totalvfs <= 0)
    return make("device.sriov", CheckStatus::Skip, "not SR-IOV", "");
  int num = d.sriov_numvfs.value_or(0);
  std::string obs = pci_device_dir(f.address) + "/sriov_numvfs: " + std::to_string(num) + " of " +
                    std::to_string(*d.sriov_totalvfs);
  if (num > 0)
    return make("device.sriov", CheckStatus::Warn,
                "SR-IOV physical function with " +
                    plural(static_cast<size_t>(num), "virtual function", "virtual functions"),
                obs,
                "passing the PF through removes its VFs; pass through the VFs instead, or "
                "write 0 to sriov_numvfs first");
  return make("device.sriov", CheckStatus::Pass, "SR-IOV physical function, no VFs enabled", obs);
}

// A GPU on a host GPU driver on an OpenShift/Kubernetes node is usually managed by the NVIDIA
// GPU Operator, which would re-claim it (OpenShift Virtualization's PCI passthrough procedure
// labels the node so that the operator's operands stay off it). None for any other device.
std::optional<Check> check_device_gpu_operator(const DeviceFacts& f) {
  const PciDevice& d = *f.device;
  if (!d.driver || !is_gpu_host_driver(*d.driver)) return std::nullopt;
  return make("device.gpu-operator", CheckStatus::Warn,
              "GPU on " + *d.driver + ": a GPU operator may keep claiming it",
              pci_device_dir(f.address) + "/driver -> " + *d.driver,
              "on Kubernetes/OpenShift with the NVIDIA GPU Operator, keep its operands off this "
              "node: oc label node " +
                  f.hostname + " nvidia.com/gpu.deploy.operands=false");
}

}  // namespace

std::vector<Check> device_checks(Host& host, const PciAddress& address,
                                 const std::string& target_driver) {
  DeviceFacts f = preflight::gather_device_facts(host, address);
  std::vector<Check> out{check_device_exists(f)};
  if (f.device) {
    out.push_back(check_device_iommu_group(f));
    out.push_back(check_device_group_viable(f));
    out.push_back(check_device_host_use(f));
    out.push_back(check_device_driver(f, target_driver));
    out.push_back(check_device_reset(f));
    out.push_back(check_device_boot_vga(f));
    out.push_back(check_device_sriov(f));
    if (auto gpu = check_device_gpu_operator(f)) out.push_back(std::move(*gpu));
  }
  for (Check& c : out) c.device = address;
  return out;
}

PreflightReport run_preflight(Host& host, const PreflightOptions& options) {
  PreflightReport r;
  r.checks = host_checks(host, &r.cpu_vendor, &r.iommu_vendor);
  for (const PciAddress& a : options.devices)
    for (Check& c : device_checks(host, a, options.target_driver)) r.checks.push_back(std::move(c));
  return r;
}

Status preflight_gate(Host& host) {
  for (const Check& c : host_checks(host)) {
    if (c.status != CheckStatus::Fail) continue;
    if (c.id != "iommu.active" && c.id != "modules.vfio") continue;
    return unsupported(c.summary + " (" + c.observed + "); " + c.remedy);
  }
  return ok_status();
}

}  // namespace hostpass
