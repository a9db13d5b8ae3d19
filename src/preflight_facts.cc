// preflight_facts.cc — see preflight_facts.h; preflight.h lists the files read.
#include "preflight_facts.h"

#include <algorithm>

#include "boot_loader.h"
#include "host_use.h"
#include "iommu_group.h"
#include "kernel_cmdline.h"
#include "node_name.h"

namespace hostpass {

namespace preflight {

namespace {

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

struct ModuleProbe {
  std::string modules_text;  // /proc/modules
  bool modules_ok = false;
  std::optional<std::string> release;
  std::string builtin, dep;  // modules.builtin, modules.dep
  bool builtin_ok = false, dep_ok = false;
};

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

void read_modules(Host& host, HostFacts& f) {
  ModuleProbe p;
  if (auto m = host.read_file("/proc/modules", 4 << 20); m.ok()) {
    p.modules_text = std::move(*m);
    p.modules_ok = true;
  }
  p.release = read_kernel_release(host);
  if (p.release) {
    std::string libdir = "/lib/modules/" + *p.release;
    if (auto b = host.read_file(libdir + "/modules.builtin", 4 << 20); b.ok()) {
      p.builtin = std::move(*b);
      p.builtin_ok = true;
    }
    if (auto d = host.read_file(libdir + "/modules.dep", 16 << 20); d.ok()) {
      p.dep = std::move(*d);
      p.dep_ok = true;
    }
  }
  f.modules_ok = p.modules_ok;
  f.builtin_ok = p.builtin_ok;
  f.dep_ok = p.dep_ok;
  f.release = p.release;
  if (!p.modules_ok && !p.release) return;
  for (const char* module : {"vfio", "vfio_iommu_type1", "vfio_pci"})
    f.vfio_modules.emplace_back(module, module_state(host, p, module));
}

void read_interrupt_remapping(Host& host, HostFacts& f) {
  if (auto p =
          host.read_file("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", 16);
      p.ok())
    f.allow_unsafe_interrupts = std::string(trim(*p));
  // Intel: the ecap register of each DMAR unit (bit 3, IR, says the hardware remaps interrupts).
  // It is 64 bits wide (drivers/iommu/intel/iommu.h: u64 ecap, shown with %llx, no 0x):
  // "19e2ff0505e" is a common value.
  for (const std::string& u : f.iommu_units) {
    auto ecap = host.read_file("/sys/class/iommu/" + u + "/intel-iommu/ecap", 64);
    if (!ecap.ok()) continue;
    std::string text(trim(*ecap));
    auto v = parse_sysfs_hex64(text);
    if (!v) continue;
    f.ecaps.push_back(HostFacts::Ecap{u, text, *v});
  }
}

}  // namespace

bool HostFacts::units_of(std::string_view prefix) const {
  return std::any_of(iommu_units.begin(), iommu_units.end(),
                     [&](const std::string& u) { return u.rfind(prefix, 0) == 0; });
}

bool HostFacts::firmware_lacks_iommu() const {
  return acpi_tables && !dmar_table && !ivrs_table && iommu_units.empty();
}

HostFacts gather_platform_facts(Host& host) {
  HostFacts f;
  if (auto c = host.read_file("/proc/cpuinfo", 4 << 20); c.ok()) {
    f.cpuinfo_ok = true;
    f.vendor_id = cpuinfo_field(*c, "vendor_id").value_or("");
    f.cpu_flags = cpuinfo_field(*c, "flags").value_or("");
    if (f.vendor_id == "GenuineIntel")
      f.vendor = CpuVendor::Intel;
    else if (f.vendor_id == "AuthenticAMD" || f.vendor_id == "HygonGenuine")
      f.vendor = CpuVendor::Amd;
    else if (!f.vendor_id.empty())
      f.vendor = CpuVendor::Other;
  }
  if (auto c = read_proc_cmdline(host); c.ok()) {
    f.cmdline = std::move(*c);
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

HostFacts gather_host_facts(Host& host) {
  HostFacts f = gather_platform_facts(host);
  read_modules(host, f);
  f.dev_vfio = host.exists("/dev/vfio/vfio");
  read_interrupt_remapping(host, f);
  f.kernel_args_apply = detect_boot_loader(host).apply_advice();
  return f;
}

bool is_gpu_host_driver(const std::string& driver) {
  return driver == "nvidia" || driver == "nouveau" || driver == "amdgpu" || driver == "radeon";
}

DeviceFacts gather_device_facts(Host& host, const PciAddress& address) {
  DeviceFacts f;
  f.address = address;
  auto dev = read_pci_device(host, address, Detail::Full);
  if (!dev.ok()) {
    f.device_error = dev.error().message;
    return f;
  }
  PciDevice& d = f.device.emplace(std::move(*dev));
  HostUseMap uses = detect_host_use(host);
  attach_host_use(host, uses, d);
  f.host_unseen = uses.unseen;
  if (d.iommu_group) {
    auto g = read_iommu_group(host, *d.iommu_group);
    if (!g.ok()) {
      f.group_error = g.error().message;
    } else {
      for (const PciAddress& a : g->members) {
        if (a == address) {
          f.group.push_back(d);
        } else if (auto m = read_pci_device(host, a, Detail::Basic); m.ok()) {
          attach_host_use(host, uses, *m);
          f.group.push_back(std::move(*m));
        }
      }
    }
  }
  if (d.driver && is_gpu_host_driver(*d.driver))
    if (auto name = this_node_name(host); name.ok()) f.hostname = *name;
  return f;
}

}  // namespace preflight

std::optional<std::string> read_kernel_release(Host& host) {
  auto r = host.read_file("/proc/sys/kernel/osrelease", 256);
  if (!r.ok()) return std::nullopt;
  std::string rel(trim(*r));
  // A release is a path component under /lib/modules: never let it climb out.
  if (rel.empty() || rel.find('/') != std::string::npos || rel == "." || rel == "..")
    return std::nullopt;
  return rel;
}

CpuVendor read_cpu_vendor(Host& host) {
  return preflight::gather_platform_facts(host).vendor;
}

CpuVendor read_iommu_vendor(Host& host) {
  return preflight::gather_platform_facts(host).iommu_vendor;
}

}  // namespace hostpass
