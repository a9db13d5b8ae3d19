// preflight.cc — see preflight.h. Each check is one function named after its id; each reads the
// files it names in `observed` and nothing else.
#include "preflight.h"

#include <algorithm>
#include <set>

#include "host_use.h"
#include "node_name.h"
#include "pci_device.h"
#include "pci_id.h"
#include "vfio_rules.h"

namespace hostpass {

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

// The value of "key : value" for the first processor in /proc/cpuinfo.
std::optional<std::string> cpuinfo_field(const std::string& cpuinfo, std::string_view key) {
  size_t pos = 0;
  while (pos < cpuinfo.size()) {
    size_t eol = cpuinfo.find('\n', pos);
    if (eol == std::string::npos) eol = cpuinfo.size();
    std::string_view line(cpuinfo.data() + pos, eol - pos);
    pos = eol + 1;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (trim(line.substr(0, colon)) == key) return std::string(trim(line.substr(colon + 1)));
  }
  return std::nullopt;
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

// The value of the last "name=value" argument (the kernel applies them in order), or none.
std::optional<std::string> cmdline_value(const std::vector<std::string>& args,
                                         std::string_view name) {
  std::optional<std::string> v;
  for (const std::string& a : args)
    if (a.size() > name.size() && a.compare(0, name.size(), name) == 0 && a[name.size()] == '=')
      v = a.substr(name.size() + 1);
  return v;
}

bool value_has(const std::string& value, std::string_view option) {
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    if (comma == std::string::npos) comma = value.size();
    if (std::string_view(value).substr(pos, comma - pos) == option) return true;
    pos = comma + 1;
  }
  return false;
}

struct HostFacts {
  std::string cpuinfo;
  bool cpuinfo_ok = false;
  CpuVendor vendor = CpuVendor::Unknown;
  std::string vendor_id;
  std::string cmdline;
  bool cmdline_ok = false;
  std::vector<std::string> args;
  std::vector<std::string> iommu_units;  // /sys/class/iommu entries
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

  bool units_of(std::string_view prefix) const {
    return std::any_of(iommu_units.begin(), iommu_units.end(),
                       [&](const std::string& u) { return u.rfind(prefix, 0) == 0; });
  }
  // Firmware readable and it describes no IOMMU at all: kernel arguments cannot help.
  bool firmware_lacks_iommu() const {
    return acpi_tables && !dmar_table && !ivrs_table && iommu_units.empty();
  }
};

// Reads the build default of the Intel IOMMU driver from the kernel's config file.
// drivers/iommu/intel/Kconfig: CONFIG_INTEL_IOMMU_DEFAULT_ON=y turns VT-d on unless
// intel_iommu=off; without it the driver stays off unless intel_iommu=on. Debian's kernels
// (patch "intel-iommu: Add Kconfig option to exclude iGPU by default", Debian bug #935270)
// replace the option with a choice: CONFIG_INTEL_IOMMU_DEFAULT_ON, ..._DEFAULT_ON_INTGPU_OFF
// ("on,intgpu_off": on for every device except Intel integrated GPUs on the root bus, so a
// discrete device is translated and grouped), or ..._DEFAULT_OFF.
void read_intel_default(Host& host, HostFacts& f) {
  auto release = read_kernel_release(host);
  if (!release) return;
  f.config_path = "/boot/config-" + *release;
  auto config = host.read_file(f.config_path, 16 << 20);
  if (!config.ok()) return;
  auto has_line = [&](std::string_view line) {
    size_t pos = 0;
    while ((pos = config->find(line, pos)) != std::string::npos) {
      bool starts = pos == 0 || (*config)[pos - 1] == '\n';
      size_t end = pos + line.size();
      bool ends = end == config->size() || (*config)[end] == '\n';
      if (starts && ends) return true;
      pos = end;
    }
    return false;
  };
  if (has_line("CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y")) {
    f.intel_default_line =
        "CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y (on, except integrated GPUs)";
    f.intel_default_on = true;
  } else if (has_line("CONFIG_INTEL_IOMMU_DEFAULT_ON=y")) {
    f.intel_default_line = "CONFIG_INTEL_IOMMU_DEFAULT_ON=y (on)";
    f.intel_default_on = true;
  } else if (has_line("CONFIG_INTEL_IOMMU_DEFAULT_OFF=y")) {
    f.intel_default_line = "CONFIG_INTEL_IOMMU_DEFAULT_OFF=y (off)";
    f.intel_default_on = false;
  } else if (has_line("# CONFIG_INTEL_IOMMU_DEFAULT_ON is not set")) {
    f.intel_default_line = "CONFIG_INTEL_IOMMU_DEFAULT_ON is not set (off)";
    f.intel_default_on = false;
  } else if (has_line("# CONFIG_INTEL_IOMMU is not set")) {
    f.intel_default_line = "CONFIG_INTEL_IOMMU is not set (no VT-d driver)";
    f.intel_default_on = false;
  }
}

HostFacts gather(Host& host) {
  HostFacts f;
  if (auto c = host.read_file("/proc/cpuinfo", 4 << 20); c.ok()) {
    f.cpuinfo = std::move(*c);
    f.cpuinfo_ok = true;
    f.vendor_id = cpuinfo_field(f.cpuinfo, "vendor_id").value_or("");
    if (f.vendor_id == "GenuineIntel")
      f.vendor = CpuVendor::Intel;
    else if (f.vendor_id == "AuthenticAMD" || f.vendor_id == "HygonGenuine")
      f.vendor = CpuVendor::Amd;
    else if (!f.vendor_id.empty())
      f.vendor = CpuVendor::Other;
  }
  if (auto c = host.read_file("/proc/cmdline", 64 << 10); c.ok()) {
    f.cmdline = std::string(trim(*c));
    f.cmdline_ok = true;
    f.args = split_cmdline(f.cmdline);
  }
  if (auto units = host.list_dir("/sys/class/iommu"); units.ok()) {
    f.iommu_units = std::move(*units);
    std::sort(f.iommu_units.begin(), f.iommu_units.end());
  }
  if (auto groups = host.list_dir(kIommuGroupsDir); groups.ok()) f.iommu_groups = groups->size();
  // drivers/acpi/sysfs.c publishes every ACPI table the firmware handed over, whatever the
  // kernel did with it: DMAR (VT-d, drivers/iommu/intel/dmar.c) and IVRS (AMD-Vi,
  // drivers/iommu/amd/init.c) are the firmware's own statement that an IOMMU exists.
  if (auto tables = host.list_dir("/sys/firmware/acpi/tables"); tables.ok()) {
    f.acpi_tables = true;
    for (const std::string& t : *tables) {
      if (t == "DMAR") f.dmar_table = true;
      if (t == "IVRS") f.ivrs_table = true;
    }
  }
  // The kernel knows better than the CPU's vendor string: QEMU's default TCG CPU says
  // AuthenticAMD next to an emulated intel-iommu, and nested clouds mix them too.
  if (f.units_of("dmar")) {
    f.iommu_vendor = CpuVendor::Intel;
    f.iommu_basis = "/sys/class/iommu/dmar*";
  } else if (f.units_of("ivhd")) {
    f.iommu_vendor = CpuVendor::Amd;
    f.iommu_basis = "/sys/class/iommu/ivhd*";
  } else if (f.dmar_table) {
    f.iommu_vendor = CpuVendor::Intel;
    f.iommu_basis = "/sys/firmware/acpi/tables/DMAR";
  } else if (f.ivrs_table) {
    f.iommu_vendor = CpuVendor::Amd;
    f.iommu_basis = "/sys/firmware/acpi/tables/IVRS";
  } else {
    f.iommu_vendor = f.vendor;
    f.iommu_basis = "/proc/cpuinfo";
  }
  if (f.iommu_vendor == CpuVendor::Intel) read_intel_default(host, f);
  return f;
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
  if (iommu_known && f.iommu_vendor != f.vendor)
    // QEMU's TCG CPU (AuthenticAMD) next to -device intel-iommu, nested clouds: the IOMMU the
    // kernel drives decides the kernel arguments, not the CPU's vendor string.
    return make("cpu.vendor", CheckStatus::Pass,
                std::string(cpu ? cpu : "CPU vendor " + f.vendor_id) + " with an " +
                    iommu_name(f.iommu_vendor) + " IOMMU (" + iommu_evidence(f) +
                    "): its kernel arguments apply",
                obs);
  switch (f.vendor) {
    case CpuVendor::Intel:
      return make("cpu.vendor", CheckStatus::Pass, "Intel CPU (VT-d IOMMU)", obs);
    case CpuVendor::Amd:
      return make("cpu.vendor", CheckStatus::Pass, "AMD CPU (AMD-Vi IOMMU)", obs);
    default:
      return make("cpu.vendor", CheckStatus::Warn, "CPU vendor is neither Intel nor AMD", obs,
                  "hostpass knows the kernel arguments of Intel VT-d and AMD-Vi only; consult "
                  "your platform's IOMMU documentation");
  }
}

Check check_cpu_virtualization(const HostFacts& f) {
  if (!f.cpuinfo_ok)
    return make("cpu.virtualization", CheckStatus::Skip, "CPU flags unknown",
                "/proc/cpuinfo: unreadable");
  std::string flags = cpuinfo_field(f.cpuinfo, "flags").value_or("");
  bool vmx = has_word(flags, "vmx"), svm = has_word(flags, "svm");
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
                    "; /sys/kernel/iommu_groups: " + std::to_string(f.iommu_groups) + " groups";
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
                "(hostpass kernel-args --format grub --apply) and reboot");
  if (f.iommu_vendor != CpuVendor::Amd && intel && value_has(*intel, "off"))
    return make("iommu.active", CheckStatus::Fail,
                "VT-d is disabled by intel_iommu=off on the kernel command line",
                obs + "; /proc/cmdline: intel_iommu=" + *intel,
                "replace intel_iommu=off with intel_iommu=on "
                "(hostpass kernel-args --format grub --apply) and reboot");
  if (f.iommu_vendor == CpuVendor::Amd && amd && value_has(*amd, "off"))
    return make("iommu.active", CheckStatus::Fail,
                "AMD-Vi is disabled by amd_iommu=off on the kernel command line",
                obs + "; /proc/cmdline: amd_iommu=" + *amd,
                "remove amd_iommu=off from the kernel command line "
                "(hostpass kernel-args --format grub --apply) and reboot");
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
                "add intel_iommu=on iommu=pt to the kernel command line (hostpass kernel-args "
                "--format grub --apply) and reboot: " +
                    why);
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
        "command line (hostpass kernel-args --format grub --apply) and reboot";
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
                  "(hostpass kernel-args --format grub --apply) and reboot");
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
                "(hostpass kernel-args --format grub --apply) and reboot");
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
                "default (hostpass kernel-args --format grub --apply)");
  if (f.firmware_lacks_iommu())
    return make("cmdline.iommu", CheckStatus::Skip,
                "no VT-d in the firmware: intel_iommu=on would do nothing (see iommu.active)", obs);
  return make("cmdline.iommu", CheckStatus::Fail, "intel_iommu=on is missing", obs,
              "add intel_iommu=on iommu=pt to the kernel command line "
              "(hostpass kernel-args --format grub --apply, or --format machineconfig on "
              "OpenShift) and reboot");
}

Check check_cmdline_pt(const HostFacts& f) {
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

enum class ModuleState { Loaded, Builtin, Loadable, Missing };

struct ModuleProbe {
  std::string modules_text;  // /proc/modules
  bool modules_ok = false;
  std::optional<std::string> release;
  std::string builtin, dep;  // modules.builtin, modules.dep
  bool builtin_ok = false, dep_ok = false;
};

// "kernel/drivers/vfio/pci/vfio-pci.ko.xz" → "vfio_pci"
std::string module_name_of_path(std::string_view path) {
  std::string name = base_name(path);
  size_t ko = name.find(".ko");
  if (ko != std::string::npos) name.resize(ko);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

bool listed_in(const std::string& text, const std::string& module, bool dep_format) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    if (dep_format) line = line.substr(0, line.find(':'));
    if (!line.empty() && module_name_of_path(trim(line)) == module) return true;
  }
  return false;
}

ModuleState module_state(Host& host, const ModuleProbe& p, const std::string& module) {
  if (p.modules_ok) {
    size_t pos = 0;
    while (pos < p.modules_text.size()) {
      size_t sp = p.modules_text.find(' ', pos);
      size_t eol = p.modules_text.find('\n', pos);
      if (eol == std::string::npos) eol = p.modules_text.size();
      if (sp != std::string::npos && sp < eol && p.modules_text.compare(pos, sp - pos, module) == 0)
        return ModuleState::Loaded;
      pos = eol + 1;
    }
  }
  if (p.builtin_ok && listed_in(p.builtin, module, false)) return ModuleState::Builtin;
  if (p.dep_ok && listed_in(p.dep, module, true)) return ModuleState::Loadable;
  if (!p.dep_ok && p.release) {
    // No modules.dep (depmod not run): look for the object in the kernel's module directory.
    static const char* const kDirs[] = {"kernel/drivers/vfio", "kernel/drivers/vfio/pci"};
    for (const char* d : kDirs) {
      auto entries = host.list_dir("/lib/modules/" + *p.release + "/" + d);
      if (!entries.ok()) continue;
      for (const std::string& e : *entries)
        if (e.find(".ko") != std::string::npos && module_name_of_path(e) == module)
          return ModuleState::Loadable;
    }
  }
  return ModuleState::Missing;
}

Check check_modules(Host& host) {
  ModuleProbe p;
  if (auto m = host.read_file("/proc/modules", 4 << 20); m.ok()) {
    p.modules_text = std::move(*m);
    p.modules_ok = true;
  }
  p.release = read_kernel_release(host);
  std::string libdir = p.release ? "/lib/modules/" + *p.release : "";
  if (p.release) {
    if (auto b = host.read_file(libdir + "/modules.builtin", 4 << 20); b.ok()) {
      p.builtin = std::move(*b);
      p.builtin_ok = true;
    }
    if (auto d = host.read_file(libdir + "/modules.dep", 16 << 20); d.ok()) {
      p.dep = std::move(*d);
      p.dep_ok = true;
    }
  }
  if (!p.modules_ok && !p.release)
    return make("modules.vfio", CheckStatus::Skip, "VFIO modules unknown",
                "/proc/modules and /proc/sys/kernel/osrelease: unreadable");
  std::vector<std::string> parts, missing, loadable;
  for (const char* module : {"vfio", "vfio_iommu_type1", "vfio_pci"}) {
    ModuleState s = module_state(host, p, module);
    const char* word = s == ModuleState::Loaded     ? "loaded"
                       : s == ModuleState::Builtin  ? "built-in"
                       : s == ModuleState::Loadable ? "loadable"
                                                    : "missing";
    parts.push_back(std::string(module) + " " + word);
    if (s == ModuleState::Missing) missing.push_back(module);
    if (s == ModuleState::Loadable) loadable.push_back(module);
  }
  std::string obs = p.modules_ok ? "/proc/modules" : "/proc/modules (unreadable)";
  if (!p.release)
    obs += ", /proc/sys/kernel/osrelease (unreadable)";
  else if (p.builtin_ok && p.dep_ok)
    obs += ", " + libdir + "/modules.builtin, modules.dep";
  else
    obs += ", " + libdir + "/" + (p.builtin_ok ? "modules.builtin" : "modules.builtin (absent)") +
           ", " + (p.dep_ok ? "modules.dep" : "modules.dep (absent)");
  obs += ": " + join(parts, ", ");
  if (!missing.empty())
    return make("modules.vfio", CheckStatus::Fail,
                "VFIO modules not available: " + join(missing, ", "), obs,
                p.release ? "install the kernel's module package for " + *p.release +
                                " (Debian/Ubuntu: linux-image-" + *p.release +
                                " or linux-modules-extra-" + *p.release +
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

Check check_dev_vfio(Host& host) {
  if (host.exists("/dev/vfio/vfio"))
    return make("dev.vfio", CheckStatus::Pass, "/dev/vfio/vfio present", "/dev/vfio/vfio: exists");
  return make("dev.vfio", CheckStatus::Fail, "/dev/vfio/vfio is missing", "/dev/vfio/vfio: absent",
              "load VFIO: modprobe vfio-pci (hostpass bind does it), and persist it with "
              "hostpass persist --format modprobe");
}

Check check_interrupt_remapping(Host& host, const HostFacts& f) {
  std::string param_path = "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts";
  std::string obs;
  bool unsafe = false;
  if (auto p = host.read_file(param_path, 16); p.ok()) {
    unsafe = trim(*p) == "Y" || trim(*p) == "1";
    obs = param_path + ": " + std::string(trim(*p));
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
  for (const std::string& u : f.iommu_units) {
    auto ecap = host.read_file("/sys/class/iommu/" + u + "/intel-iommu/ecap", 64);
    if (!ecap.ok()) continue;
    auto v = parse_sysfs_hex(std::string("0x") + std::string(trim(*ecap)));
    if (!v) continue;
    ++intel_units;
    if (*v & 0x8) ++intel_ir;
    obs += "; /sys/class/iommu/" + u + "/intel-iommu/ecap: " + std::string(trim(*ecap));
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
  return make("iommu.interrupt-remapping", CheckStatus::Warn,
              "interrupt remapping not confirmed: this IOMMU reports it only in the kernel log",
              obs + "; the kernel log (dmesg) is not read by hostpass",
              "confirm with: dmesg | grep -i 'remapping' (AMD: 'AMD-Vi: Interrupt remapping "
              "enabled'); VFIO refuses assignment without it unless allow_unsafe_interrupts=1");
}

}  // namespace

std::vector<std::string> split_cmdline(std::string_view cmdline) {
  std::vector<std::string> args;
  std::string cur;
  bool in_quote = false, have = false;
  for (char c : cmdline) {
    if (c == '"') {
      in_quote = !in_quote;
      cur += c;
      have = true;
    } else if (!in_quote && (c == ' ' || c == '\t' || c == '\n')) {
      if (have) {
        if (cur == "--") return args;
        args.push_back(cur);
      }
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have && cur != "--") args.push_back(cur);
  return args;
}

CpuVendor read_cpu_vendor(Host& host) {
  return gather(host).vendor;
}

CpuVendor read_iommu_vendor(Host& host) {
  return gather(host).iommu_vendor;
}

std::optional<std::string> read_kernel_release(Host& host) {
  auto r = host.read_file("/proc/sys/kernel/osrelease", 256);
  if (!r.ok()) return std::nullopt;
  std::string rel(trim(*r));
  // A release is a path component under /lib/modules: never let it climb out.
  if (rel.empty() || rel.find('/') != std::string::npos || rel == "." || rel == "..")
    return std::nullopt;
  return rel;
}

std::vector<Check> host_checks(Host& host, CpuVendor* vendor_out, CpuVendor* iommu_out) {
  HostFacts f = gather(host);
  if (vendor_out) *vendor_out = f.vendor;
  if (iommu_out) *iommu_out = f.iommu_vendor;
  std::vector<Check> out;
  out.push_back(check_cpu_vendor(f));
  out.push_back(check_cpu_virtualization(f));
  Check active = check_iommu_active(f);
  bool iommu_active = active.status == CheckStatus::Pass;
  out.push_back(std::move(active));
  out.push_back(check_cmdline_iommu(f, iommu_active));
  out.push_back(check_cmdline_pt(f));
  out.push_back(check_cmdline_vfio_ids(f));
  out.push_back(check_modules(host));
  out.push_back(check_dev_vfio(host));
  out.push_back(check_interrupt_remapping(host, f));
  return out;
}

namespace {

std::string member_text(const PciDevice& m) {
  return m.address.to_string() + " (" + (m.driver ? *m.driver : std::string("no driver")) +
         (m.is_bridge() ? ", bridge" : "") + ")";
}

bool is_gpu_host_driver(const std::string& driver) {
  return driver == "nvidia" || driver == "nouveau" || driver == "amdgpu" || driver == "radeon";
}

}  // namespace

std::vector<Check> device_checks(Host& host, const PciAddress& address,
                                 const std::string& target_driver) {
  std::vector<Check> out;
  const std::string addr = address.to_string();
  auto add = [&](Check c) {
    c.device = address;
    out.push_back(std::move(c));
  };
  auto dev = read_pci_device(host, address, Detail::Full);
  if (!dev.ok()) {
    add(make("device.exists", CheckStatus::Fail, "no PCI device " + addr,
             pci_device_dir(address) + ": " + dev.error().message,
             "check the address with hostpass list (lspci -D shows full addresses)"));
    return out;
  }
  PciDevice& d = *dev;
  HostUseMap uses = detect_host_use(host);
  attach_host_use(host, uses, d);
  std::string ids = d.vendor && d.device ? vendor_device_string(*d.vendor, *d.device) : "?";
  add(make("device.exists", CheckStatus::Pass, addr + " [" + ids + "]",
           pci_device_dir(address) + ": present"));

  // IOMMU group and its members.
  std::vector<PciDevice> group;
  if (!d.iommu_group) {
    add(make("device.iommu-group", CheckStatus::Fail, "no IOMMU group",
             pci_device_dir(address) + "/iommu_group: absent",
             "enable the IOMMU (see iommu.active); without a group the device cannot be "
             "assigned"));
  } else {
    auto g = read_iommu_group(host, *d.iommu_group);
    if (!g.ok()) {
      add(make("device.iommu-group", CheckStatus::Fail,
               "IOMMU group " + std::to_string(*d.iommu_group) + " unreadable", g.error().message,
               "check /sys/kernel/iommu_groups"));
    } else {
      std::vector<std::string> texts;
      for (const PciAddress& a : g->members) {
        if (a == address) {
          group.push_back(d);
        } else if (auto m = read_pci_device(host, a, Detail::Basic); m.ok()) {
          attach_host_use(host, uses, *m);
          group.push_back(std::move(*m));
        } else {
          continue;
        }
        texts.push_back(member_text(group.back()));
      }
      add(make("device.iommu-group", CheckStatus::Pass,
               "IOMMU group " + std::to_string(*d.iommu_group) + ": " +
                   std::to_string(group.size()) + (group.size() == 1 ? " device" : " devices"),
               std::string(kIommuGroupsDir) + "/" + std::to_string(*d.iommu_group) +
                   "/devices: " + join(texts, ", ")));
    }
  }

  // Viability (vfio_rules.h): every other member unbound or on a driver that leaves the group's
  // DMA to VFIO (vfio drivers, pci-stub, pcieport), bridges included.
  if (group.empty()) {
    add(make("device.group-viable", CheckStatus::Skip, "no IOMMU group to assess", ""));
  } else {
    std::vector<std::string> blocking, bridge_blocking, host_needed;
    std::vector<GroupMember> members;
    for (const PciDevice& m : group) {
      members.push_back(group_member(m));
      if (m.address == address) continue;
      for (const HostUse& u : m.in_use)
        host_needed.push_back(m.address.to_string() + ": " + u.detail);
    }
    for (const GroupMember& b : viability_blockers(members, {address})) {
      const PciDevice& m = *std::find_if(
          group.begin(), group.end(), [&](const PciDevice& x) { return x.address == b.address; });
      blocking.push_back(member_text(m));
      if (b.bridge)
        bridge_blocking.push_back(describe_blocker(b) + "; " + bridge_blocker_remedy(b));
    }
    std::string gname = "group " + std::to_string(*d.iommu_group);
    if (!host_needed.empty()) {
      add(make("device.group-viable", CheckStatus::Fail, gname + " holds a device the host needs",
               join(host_needed, "; "),
               "the group can only be assigned whole: move the host's use off " +
                   join(host_needed, "; ") +
                   " or pick a device in another slot (ACS isolates slots)"));
    } else if (!bridge_blocking.empty()) {
      add(make("device.group-viable", CheckStatus::Fail,
               gname + " holds a bridge on a driver that claims its DMA", join(blocking, ", "),
               join(bridge_blocking, "; ")));
    } else if (!blocking.empty()) {
      add(make("device.group-viable", CheckStatus::Fail,
               gname + " also holds endpoints on host drivers", join(blocking, ", "),
               "bind the whole group on purpose (hostpass bind --group " + addr +
                   ") or move the device to a slot with its own group"));
    } else {
      add(make("device.group-viable", CheckStatus::Pass,
               gname + ": every other member is unbound or leaves its DMA to VFIO",
               std::to_string(group.size()) + " members"));
    }
  }

  // Host use (the boot display has its own check below).
  std::vector<std::string> reasons;
  bool root_fs = false;
  for (const HostUse& u : d.in_use) {
    if (u.kind == HostUse::Kind::BootVga) continue;
    reasons.push_back(u.detail);
    if (u.kind == HostUse::Kind::RootFilesystem) root_fs = true;
  }
  if (uses.unseen && reasons.empty())
    // Nothing found is not "not used" when the host's own mounts and routes cannot be seen:
    // every mutation is refused then (guard.h, host-unseen), and check says why.
    add(make("device.host-use", CheckStatus::Fail, "host use unknown: the host cannot be seen",
             *uses.unseen,
             "run hostpass on the host, or in a pod with hostPID: true and the host's /proc"));
  else if (reasons.empty())
    add(make("device.host-use", CheckStatus::Pass, "not used by the host",
             "/proc/1/mountinfo (else /proc/self/mountinfo), /proc/swaps, /sys/class/net, "
             "/proc/1/net/route: no use found"));
  else
    add(make("device.host-use", CheckStatus::Fail, "the host uses it: " + join(reasons, "; "),
             join(reasons, "; "),
             root_fs ? "never: it holds the root filesystem; choose another device"
                     : "stop that use first (unmount, swapoff, take the interface down and move "
                       "its routes), or accept the loss with hostpass bind --force"));

  // Driver.
  std::string drv_path = pci_device_dir(address) + "/driver";
  if (d.driver && *d.driver == target_driver) {
    add(make("device.driver", CheckStatus::Pass, "bound to " + target_driver,
             drv_path + " -> " + *d.driver));
  } else if (d.driver) {
    add(make("device.driver", CheckStatus::Warn, "on " + *d.driver + ", not " + target_driver,
             drv_path + " -> " + *d.driver,
             "hostpass bind " + addr +
                 (target_driver == "vfio-pci" ? "" : " --driver " + target_driver)));
  } else {
    add(make("device.driver", CheckStatus::Warn, "unbound, not on " + target_driver,
             drv_path + ": absent",
             "hostpass bind " + addr +
                 (target_driver == "vfio-pci" ? "" : " --driver " + target_driver)));
  }

  // Reset.
  std::string rm_path = pci_device_dir(address) + "/reset_method";
  if (!d.reset_methods)
    add(make("device.reset", CheckStatus::Skip, "reset methods unknown (kernel before 5.15)",
             rm_path + ": absent"));
  else if (d.reset_methods->empty())
    add(make("device.reset", CheckStatus::Warn, "no reset method", rm_path + ": empty",
             "the device may not survive a VM restart; expect to reboot the host to recover it"));
  else
    add(make("device.reset", CheckStatus::Pass, "resettable (" + join(*d.reset_methods, " ") + ")",
             rm_path + ": " + join(*d.reset_methods, " ")));

  // Boot display.
  if (d.class_code && (*d.class_code >> 16) == 0x03) {
    std::string bv = pci_device_dir(address) + "/boot_vga";
    if (d.boot_vga)
      add(make("device.boot-vga", CheckStatus::Fail, "it is the boot display", bv + ": 1",
               "select another primary display in the firmware setup, or accept losing the "
               "console with hostpass bind --force"));
    else
      add(make("device.boot-vga", CheckStatus::Pass, "not the boot display", bv + ": 0"));
  } else {
    add(make("device.boot-vga", CheckStatus::Skip, "not a display device", ""));
  }

  // SR-IOV.
  if (d.physfn) {
    add(make("device.sriov", CheckStatus::Pass, "virtual function of " + d.physfn->to_string(),
             pci_device_dir(address) + "/physfn -> " + d.physfn->to_string()));
  } else if (d.sriov_totalvfs && *d.sriov_totalvfs > 0) {
    int num = d.sriov_numvfs.value_or(0);
    std::string obs = pci_device_dir(address) + "/sriov_numvfs: " + std::to_string(num) + " of " +
                      std::to_string(*d.sriov_totalvfs);
    if (num > 0)
      add(make("device.sriov", CheckStatus::Warn,
               "SR-IOV physical function with " + std::to_string(num) + " virtual functions", obs,
               "passing the PF through removes its VFs; pass through the VFs instead, or "
               "write 0 to sriov_numvfs first"));
    else
      add(make("device.sriov", CheckStatus::Pass, "SR-IOV physical function, no VFs enabled", obs));
  } else {
    add(make("device.sriov", CheckStatus::Skip, "not SR-IOV", ""));
  }

  // GPU operators (seed 000): a GPU on a host GPU driver on an OpenShift/Kubernetes node is
  // usually managed by the NVIDIA GPU Operator, which would re-claim it.
  if (d.driver && is_gpu_host_driver(*d.driver)) {
    auto name = this_node_name(host);
    std::string node = name.ok() ? *name : "<node>";
    add(make("device.gpu-operator", CheckStatus::Warn,
             "GPU on " + *d.driver + ": a GPU operator may keep claiming it",
             drv_path + " -> " + *d.driver,
             "on Kubernetes/OpenShift with the NVIDIA GPU Operator, keep its operands off this "
             "node: oc label node " +
                 node + " nvidia.com/gpu.deploy.operands=false"));
  }
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
