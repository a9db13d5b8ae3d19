// preflight_test.cc — every host shape check knows (IOMMU on/off/absent, vendors, modules,
// devices), each asserting exact check ids and statuses.
#include "preflight.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "faulty_host.h"
#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

namespace fs = std::filesystem;
using testing::FixtureTree;
using testing::ScratchDir;

// id → status name, for the host checks (or one device's checks).
std::map<std::string, std::string> statuses(const std::vector<Check>& checks) {
  std::map<std::string, std::string> m;
  for (const Check& c : checks) m[c.id] = check_status_name(c.status);
  return m;
}

// Takes the IOMMU away the way a kernel booted without it looks: no /sys/class/iommu entries, no
// /sys/kernel/iommu_groups/<n>, no iommu_group links on devices.
void strip_iommu(FixtureTree& t) {
  for (const auto& e : fs::directory_iterator(t.path("/sys/class/iommu"))) fs::remove(e.path());
  for (const auto& e : fs::directory_iterator(t.path("/sys/kernel/iommu_groups")))
    fs::remove_all(e.path());
  for (const auto& e : fs::directory_iterator(t.path("/sys/bus/pci/devices")))
    fs::remove(e.path() / "iommu_group");
}

class Preflight : public ::testing::Test {
 protected:
  Preflight() : tree_(dir_.path() + "/root") { testing::build_standard_host(tree_); }
  std::map<std::string, std::string> host_statuses() {
    RealHost host(tree_.root());
    return statuses(host_checks(host));
  }
  std::map<std::string, std::string> device_statuses(const char* addr) {
    RealHost host(tree_.root());
    return statuses(device_checks(host, *PciAddress::parse(addr)));
  }
  const Check find(const char* id, const char* addr = nullptr) {
    RealHost host(tree_.root());
    PreflightOptions o;
    if (addr) o.devices.push_back(*PciAddress::parse(addr));
    PreflightReport r = run_preflight(host, o);
    std::optional<PciAddress> a;
    if (addr) a = *PciAddress::parse(addr);
    const Check* c = r.find(id, a);
    EXPECT_NE(c, nullptr) << id;
    return c ? *c : Check{};
  }
  ScratchDir dir_;
  FixtureTree tree_;
};

TEST_F(Preflight, IntelHostWithIommuOnPasses) {
  std::map<std::string, std::string> want = {{"cpu.vendor", "pass"},
                                             {"cpu.virtualization", "pass"},
                                             {"iommu.active", "pass"},
                                             {"cmdline.iommu", "pass"},
                                             {"cmdline.iommu-pt", "pass"},
                                             {"cmdline.vfio-ids", "skip"},
                                             {"modules.vfio", "pass"},
                                             {"dev.vfio", "pass"},
                                             {"iommu.interrupt-remapping", "pass"}};
  EXPECT_EQ(host_statuses(), want);
  Check c = find("iommu.active");
  EXPECT_EQ(c.observed, "/sys/class/iommu: dmar0; /sys/kernel/iommu_groups: 9 groups");
  EXPECT_NE(find("iommu.interrupt-remapping").observed.find("intel-iommu/ecap: f050da"),
            std::string::npos);
}

TEST_F(Preflight, IntelHostBootedWithoutIntelIommuFailsWithTheRemedy) {
  strip_iommu(tree_);
  tree_.set_cmdline("BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/vda1 ro quiet");
  auto s = host_statuses();
  EXPECT_EQ(s["iommu.active"], "fail");
  EXPECT_EQ(s["cmdline.iommu"], "fail");
  EXPECT_EQ(s["cmdline.iommu-pt"], "warn");
  EXPECT_EQ(s["iommu.interrupt-remapping"], "skip");
  EXPECT_EQ(s["cpu.virtualization"], "pass");
  EXPECT_EQ(s["modules.vfio"], "pass");
  Check c = find("iommu.active");
  EXPECT_EQ(c.summary,
            "VT-d is in the firmware (ACPI DMAR table) but the kernel did not enable it");
  EXPECT_EQ(c.observed,
            "/sys/class/iommu: empty; /sys/kernel/iommu_groups: 0 groups; "
            "/sys/firmware/acpi/tables: DMAR");
  EXPECT_EQ(c.remedy.rfind("add intel_iommu=on iommu=pt to the kernel command line", 0), 0u)
      << c.remedy;
  EXPECT_EQ(find("cmdline.iommu").observed, "/proc/cmdline: no intel_iommu=");
  EXPECT_EQ(find("cmdline.iommu").summary, "intel_iommu=on is missing");
  auto d = device_statuses("0000:01:00.0");
  EXPECT_EQ(d["device.iommu-group"], "fail");
  EXPECT_EQ(d["device.group-viable"], "skip");
}

TEST_F(Preflight, IntelIommuActiveByKernelDefaultIsAWarn) {
  tree_.set_cmdline("root=/dev/vda1 ro");
  auto s = host_statuses();
  EXPECT_EQ(s["iommu.active"], "pass");
  EXPECT_EQ(s["cmdline.iommu"], "warn");
}

TEST_F(Preflight, IntelIommuOffIsAFail) {
  strip_iommu(tree_);
  tree_.set_cmdline("root=/dev/vda1 ro intel_iommu=off");
  EXPECT_EQ(host_statuses()["cmdline.iommu"], "fail");
  EXPECT_EQ(find("cmdline.iommu").observed, "/proc/cmdline: intel_iommu=off");
}

// An AMD host: its firmware has an IVRS table, not a DMAR one.
void make_amd(FixtureTree& t) {
  fs::remove(t.path("/sys/class/iommu/dmar0"));
  fs::remove_all(t.path("/sys/devices/virtual/iommu/dmar0"));
  fs::remove(t.path("/sys/firmware/acpi/tables/DMAR"));
  t.add_acpi_table("IVRS");
  t.add_amd_iommu("ivhd0");
  t.set_cpuinfo("AuthenticAMD", "fpu vme de pse tsc msr pae svm npt");
}

TEST_F(Preflight, AmdHostIsOnByDefault) {
  make_amd(tree_);
  tree_.set_cpuinfo("AuthenticAMD", "fpu vme de pse tsc msr pae svm npt");
  tree_.set_cmdline("BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro iommu=pt");
  std::map<std::string, std::string> want = {{"cpu.vendor", "pass"},
                                             {"cpu.virtualization", "pass"},
                                             {"iommu.active", "pass"},
                                             {"cmdline.iommu", "pass"},
                                             {"cmdline.iommu-pt", "pass"},
                                             {"cmdline.vfio-ids", "skip"},
                                             {"modules.vfio", "pass"},
                                             {"dev.vfio", "pass"},
                                             {"iommu.interrupt-remapping", "warn"}};
  EXPECT_EQ(host_statuses(), want);
  EXPECT_EQ(find("cmdline.iommu").summary, "AMD-Vi is on by default (no amd_iommu=off)");
  // Not a guess shown as fact: the warn says the kernel log was not read.
  EXPECT_NE(find("iommu.interrupt-remapping").observed.find("dmesg) is not read"),
            std::string::npos);
}

TEST_F(Preflight, AmdIommuOffFails) {
  make_amd(tree_);
  strip_iommu(tree_);
  tree_.set_cpuinfo("AuthenticAMD", "fpu svm");
  tree_.set_cmdline("root=/dev/vda1 ro amd_iommu=off");
  auto s = host_statuses();
  EXPECT_EQ(s["cmdline.iommu"], "fail");
  EXPECT_EQ(s["iommu.active"], "fail");
  EXPECT_EQ(s["cpu.vendor"], "pass");
  Check c = find("cmdline.iommu");
  EXPECT_EQ(c.observed, "/proc/cmdline: amd_iommu=off");
  EXPECT_NE(c.remedy.find("remove amd_iommu=off"), std::string::npos);
  Check a = find("iommu.active");
  EXPECT_EQ(a.summary, "AMD-Vi is disabled by amd_iommu=off on the kernel command line");
  EXPECT_EQ(a.observed,
            "/sys/class/iommu: empty; /sys/kernel/iommu_groups: 0 groups; "
            "/sys/firmware/acpi/tables: IVRS; /proc/cmdline: amd_iommu=off");
  EXPECT_EQ(a.remedy,
            "remove amd_iommu=off from the kernel command line "
            "(hostpass kernel-args --format grub --apply) and reboot");
}

// ---- which IOMMU, and why it is off: the kernel and the firmware, not the CPU vendor --------

// Firmware without VT-d: no DMAR table (the other ACPI tables are there), no unit, no group.
// intel_iommu=on is on the command line and does nothing; the remedy is the firmware setup.
TEST_F(Preflight, FirmwareWithoutVtdNamesTheFirmwareSetupNotTheKernelArgument) {
  strip_iommu(tree_);
  fs::remove(tree_.path("/sys/firmware/acpi/tables/DMAR"));
  tree_.add_acpi_table("FACP");
  tree_.add_acpi_table("APIC");
  auto s = host_statuses();
  EXPECT_EQ(s["iommu.active"], "fail");
  EXPECT_EQ(s["cmdline.iommu"], "pass");  // the argument is right; the firmware is not
  Check c = find("iommu.active");
  EXPECT_EQ(c.summary, "no IOMMU in the firmware (no ACPI DMAR or IVRS table)");
  EXPECT_EQ(c.observed,
            "/sys/class/iommu: empty; /sys/kernel/iommu_groups: 0 groups; "
            "/sys/firmware/acpi/tables: no DMAR, no IVRS");
  EXPECT_EQ(c.remedy,
            "enable VT-d (Intel Virtualization Technology for Directed I/O) in the firmware "
            "(BIOS/UEFI) setup and reboot; kernel arguments cannot enable an IOMMU the firmware "
            "does not describe (in a VM: give it a virtual IOMMU, e.g. QEMU -device intel-iommu "
            "or amd-iommu)");
  // Without the argument, check does not ask for one that would do nothing.
  tree_.set_cmdline("root=/dev/vda1 ro quiet");
  EXPECT_EQ(host_statuses()["cmdline.iommu"], "skip");
  EXPECT_EQ(find("cmdline.iommu").summary,
            "no VT-d in the firmware: intel_iommu=on would do nothing (see iommu.active)");
  RealHost host(tree_.root());
  Status gate = preflight_gate(host);
  ASSERT_FALSE(gate.ok());
  EXPECT_NE(gate.error().message.find("no IOMMU in the firmware"), std::string::npos)
      << gate.error().message;
}

TEST_F(Preflight, FirmwareWithoutAmdViNamesTheAmdFirmwareSetting) {
  make_amd(tree_);
  strip_iommu(tree_);
  fs::remove(tree_.path("/sys/firmware/acpi/tables/IVRS"));
  tree_.add_acpi_table("FACP");
  tree_.set_cmdline("root=/dev/vda1 ro iommu=pt");
  auto s = host_statuses();
  EXPECT_EQ(s["iommu.active"], "fail");
  EXPECT_EQ(s["cmdline.iommu"], "skip");
  EXPECT_EQ(find("iommu.active")
                .remedy.rfind(
                    "enable the AMD IOMMU (AMD-Vi; menus call it IOMMU, next to SVM Mode) in the "
                    "firmware (BIOS/UEFI) setup and reboot",
                    0),
            0u)
      << find("iommu.active").remedy;
  RealHost host(tree_.root());
  EXPECT_EQ(read_iommu_vendor(host), CpuVendor::Amd);  // no table: the CPU words the remedy
}

TEST_F(Preflight, IntelIommuOffOnTheCommandLineNamesTheArgument) {
  strip_iommu(tree_);
  tree_.set_cmdline("root=/dev/vda1 ro intel_iommu=off");
  Check c = find("iommu.active");
  EXPECT_EQ(c.status, CheckStatus::Fail);
  EXPECT_EQ(c.summary, "VT-d is disabled by intel_iommu=off on the kernel command line");
  EXPECT_EQ(c.observed,
            "/sys/class/iommu: empty; /sys/kernel/iommu_groups: 0 groups; "
            "/sys/firmware/acpi/tables: DMAR; /proc/cmdline: intel_iommu=off");
  EXPECT_EQ(c.remedy,
            "replace intel_iommu=off with intel_iommu=on "
            "(hostpass kernel-args --format grub --apply) and reboot");
}

// A kernel whose build default leaves VT-d off (RHEL 9: "# CONFIG_INTEL_IOMMU_DEFAULT_ON is not
// set"), booted without intel_iommu=: the firmware has it, the argument is the fix.
TEST_F(Preflight, KernelBuildDefaultOffNamesTheConfigAndTheArgument) {
  strip_iommu(tree_);
  tree_.set_cmdline("BOOT_IMAGE=(hd0,gpt2)/vmlinuz-5.14.0-362.el9.x86_64 root=/dev/vda1 ro");
  tree_.set_kernel_release("5.14.0-362.el9.x86_64");
  tree_.set_kernel_config("5.14.0-362.el9.x86_64",
                          "CONFIG_INTEL_IOMMU=y\nCONFIG_INTEL_IOMMU_SVM=y\n"
                          "# CONFIG_INTEL_IOMMU_DEFAULT_ON is not set\n");
  auto s = host_statuses();
  EXPECT_EQ(s["iommu.active"], "fail");
  EXPECT_EQ(s["cmdline.iommu"], "fail");
  Check c = find("iommu.active");
  EXPECT_EQ(c.observed,
            "/sys/class/iommu: empty; /sys/kernel/iommu_groups: 0 groups; "
            "/sys/firmware/acpi/tables: DMAR; /boot/config-5.14.0-362.el9.x86_64: "
            "CONFIG_INTEL_IOMMU_DEFAULT_ON is not set (off)");
  EXPECT_EQ(c.remedy,
            "add intel_iommu=on iommu=pt to the kernel command line (hostpass kernel-args "
            "--format grub --apply) and reboot: this kernel leaves VT-d off unless intel_iommu=on");
  Check a = find("cmdline.iommu");
  EXPECT_EQ(a.summary, "intel_iommu=on is missing");
  EXPECT_EQ(a.observed,
            "/proc/cmdline: no intel_iommu=; /boot/config-5.14.0-362.el9.x86_64: "
            "CONFIG_INTEL_IOMMU_DEFAULT_ON is not set (off)");
}

// Debian 12's kernel: CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y turns VT-d on for every device
// but Intel integrated GPUs, so a discrete device gets its group without intel_iommu=on.
TEST_F(Preflight, DebianBuildDefaultOnPassesTheIommuAndOnlyWarnsOnTheArgument) {
  tree_.set_cmdline("BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/vda1 ro quiet");
  tree_.set_kernel_release("6.1.0-13-amd64");
  tree_.set_kernel_config("6.1.0-13-amd64",
                          "CONFIG_INTEL_IOMMU=y\n# CONFIG_INTEL_IOMMU_DEFAULT_ON is not set\n"
                          "CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y\n"
                          "# CONFIG_INTEL_IOMMU_DEFAULT_OFF is not set\n");
  auto s = host_statuses();
  EXPECT_EQ(s["iommu.active"], "pass");
  EXPECT_EQ(s["cmdline.iommu"], "warn");
  EXPECT_EQ(find("iommu.active").summary, "Intel VT-d active");
  Check c = find("cmdline.iommu");
  EXPECT_EQ(c.summary, "VT-d is active by the kernel's build default, without intel_iommu=on");
  EXPECT_EQ(c.observed,
            "/proc/cmdline: no intel_iommu=; /boot/config-6.1.0-13-amd64: "
            "CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y (on, except integrated GPUs)");
  RealHost host(tree_.root());
  EXPECT_TRUE(preflight_gate(host).ok());
}

// QEMU's default TCG CPU (AuthenticAMD) next to -device intel-iommu, some nested clouds: the
// DMAR unit decides, so the Intel rules and remedies apply.
TEST_F(Preflight, AmdVendorNextToADmarUnitBelievesTheUnit) {
  tree_.set_cpuinfo("AuthenticAMD", "fpu vme de pse tsc msr pae svm");
  tree_.set_cmdline("root=/dev/vda1 ro");
  std::map<std::string, std::string> want = {{"cpu.vendor", "pass"},
                                             {"cpu.virtualization", "pass"},
                                             {"iommu.active", "pass"},
                                             {"cmdline.iommu", "warn"},
                                             {"cmdline.iommu-pt", "warn"},
                                             {"cmdline.vfio-ids", "skip"},
                                             {"modules.vfio", "pass"},
                                             {"dev.vfio", "pass"},
                                             {"iommu.interrupt-remapping", "pass"}};
  EXPECT_EQ(host_statuses(), want);
  Check v = find("cpu.vendor");
  EXPECT_EQ(v.summary, "AMD CPU with an Intel VT-d IOMMU (dmar0): its kernel arguments apply");
  EXPECT_EQ(v.observed, "/proc/cpuinfo: vendor_id AuthenticAMD; /sys/class/iommu/dmar*: present");
  EXPECT_EQ(find("cmdline.iommu").observed, "/proc/cmdline: no intel_iommu=");
  RealHost host(tree_.root());
  EXPECT_EQ(read_cpu_vendor(host), CpuVendor::Amd);
  EXPECT_EQ(read_iommu_vendor(host), CpuVendor::Intel);
  PreflightReport r = run_preflight(host, {});
  EXPECT_EQ(r.cpu_vendor, CpuVendor::Amd);
  EXPECT_EQ(r.iommu_vendor, CpuVendor::Intel);
  // The same machine with intel_iommu=off: no unit, but the DMAR table still says VT-d.
  strip_iommu(tree_);
  tree_.set_cmdline("root=/dev/vda1 ro intel_iommu=off");
  EXPECT_EQ(read_iommu_vendor(host), CpuVendor::Intel);
  EXPECT_EQ(host_statuses()["cmdline.iommu"], "fail");
  EXPECT_EQ(find("cmdline.iommu").summary, "intel_iommu=off disables VT-d");
  EXPECT_EQ(find("iommu.active").summary,
            "VT-d is disabled by intel_iommu=off on the kernel command line");
}

// The fixture's IOMMU unit is shaped like the kernel's class device.
TEST(PreflightFixture, IommuUnitsAreClassLinksToVirtualDevices) {
  ScratchDir dir;
  FixtureTree t(dir.path() + "/root");
  t.add_iommu("dmar0");
  t.add_amd_iommu("ivhd1");
  EXPECT_EQ(fs::read_symlink(t.path("/sys/class/iommu/dmar0")).string(),
            "../../devices/virtual/iommu/dmar0");
  EXPECT_EQ(fs::read_symlink(t.path("/sys/class/iommu/ivhd1")).string(),
            "../../devices/virtual/iommu/ivhd1");
  EXPECT_EQ(fs::read_symlink(t.path("/sys/devices/virtual/iommu/dmar0/subsystem")).string(),
            "../../../../class/iommu");
  for (const char* a : {"version", "address", "cap", "ecap", "domains_supported", "domains_used"})
    EXPECT_TRUE(fs::is_regular_file(t.path(std::string("/sys/class/iommu/dmar0/intel-iommu/") + a)))
        << a;
}

TEST_F(Preflight, NoVirtualizationFlagsFails) {
  tree_.set_cpuinfo("GenuineIntel", "fpu vme de pse tsc msr pae hypervisor");
  auto s = host_statuses();
  EXPECT_EQ(s["cpu.virtualization"], "fail");
  EXPECT_EQ(s["iommu.active"], "pass");
  EXPECT_EQ(find("cpu.virtualization").observed, "/proc/cpuinfo: flags have neither vmx nor svm");
}

TEST_F(Preflight, VfioModulesMissingFails) {
  tree_.set_modules({"nvidia", "e1000e"});
  fs::remove(tree_.path("/dev/vfio/vfio"));
  tree_.set_kernel_release("6.1.0-13-amd64");
  tree_.add_kernel_modules("6.1.0-13-amd64",
                           {"kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko"});
  auto s = host_statuses();
  EXPECT_EQ(s["modules.vfio"], "fail");
  EXPECT_EQ(s["dev.vfio"], "fail");
  Check c = find("modules.vfio");
  EXPECT_EQ(c.summary, "VFIO modules not available: vfio, vfio_iommu_type1, vfio_pci");
  EXPECT_EQ(c.observed,
            "/proc/modules, /lib/modules/6.1.0-13-amd64/modules.builtin, modules.dep: vfio "
            "missing, vfio_iommu_type1 missing, vfio_pci missing");
  RealHost host(tree_.root());
  Status gate = preflight_gate(host);
  ASSERT_FALSE(gate.ok());
  EXPECT_EQ(gate.error().kind, ErrorKind::Unsupported);
  EXPECT_NE(gate.error().message.find("VFIO modules not available"), std::string::npos);
}

TEST_F(Preflight, VfioModulesLoadableOrBuiltinPass) {
  tree_.set_modules({"nvidia"});
  tree_.set_kernel_release("6.1.0-13-amd64");
  tree_.add_kernel_modules(
      "6.1.0-13-amd64",
      {"kernel/drivers/vfio/vfio_iommu_type1.ko.xz", "kernel/drivers/vfio/pci/vfio-pci.ko.xz"},
      {"kernel/drivers/vfio/vfio.ko"});
  EXPECT_EQ(host_statuses()["modules.vfio"], "pass");
  EXPECT_EQ(find("modules.vfio").observed,
            "/proc/modules, /lib/modules/6.1.0-13-amd64/modules.builtin, modules.dep: vfio "
            "built-in, vfio_iommu_type1 loadable, vfio_pci loadable");
}

TEST_F(Preflight, ModuleDirectoryIsEnoughWithoutModulesDep) {
  tree_.set_modules({});
  tree_.set_kernel_release("6.9.0");
  tree_.write("/lib/modules/6.9.0/kernel/drivers/vfio/vfio.ko.zst", "");
  tree_.write("/lib/modules/6.9.0/kernel/drivers/vfio/vfio_iommu_type1.ko.zst", "");
  tree_.write("/lib/modules/6.9.0/kernel/drivers/vfio/pci/vfio-pci.ko.zst", "");
  EXPECT_EQ(host_statuses()["modules.vfio"], "pass");
  fs::remove(tree_.path("/lib/modules/6.9.0/kernel/drivers/vfio/pci/vfio-pci.ko.zst"));
  EXPECT_EQ(host_statuses()["modules.vfio"], "fail");
}

TEST_F(Preflight, UnsafeInterruptsAndMissingIrBitWarn) {
  tree_.write("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
  EXPECT_EQ(host_statuses()["iommu.interrupt-remapping"], "warn");
  tree_.write("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N\n");
  EXPECT_EQ(host_statuses()["iommu.interrupt-remapping"], "pass");
  tree_.write("/sys/class/iommu/dmar0/intel-iommu/ecap", "f050d2\n");  // bit 3 clear
  EXPECT_EQ(host_statuses()["iommu.interrupt-remapping"], "warn");
  EXPECT_EQ(find("iommu.interrupt-remapping").summary,
            "a DMAR unit lacks interrupt remapping (ecap IR bit clear)");
}

// ecap is a 64-bit register (drivers/iommu/intel/iommu.h u64 ecap, printed "%llx"): a value
// wider than 32 bits is read whole, and bit 3 (IR) decides.
TEST_F(Preflight, A64BitEcapIsReadWholeAndItsIrBitDecides) {
  tree_.write("/sys/class/iommu/dmar0/intel-iommu/ecap", "19e2ff0505e\n");  // bit 3 set
  EXPECT_EQ(host_statuses()["iommu.interrupt-remapping"], "pass");
  EXPECT_NE(find("iommu.interrupt-remapping").observed.find("intel-iommu/ecap: 19e2ff0505e"),
            std::string::npos);
  tree_.write("/sys/class/iommu/dmar0/intel-iommu/ecap", "19e2ff05056\n");  // bit 3 clear
  EXPECT_EQ(find("iommu.interrupt-remapping").summary,
            "a DMAR unit lacks interrupt remapping (ecap IR bit clear)");
}

// When the register cannot be read, the kernel-log hint is the one of the IOMMU the host has.
TEST_F(Preflight, TheInterruptRemappingHintNamesThisHostsIommu) {
  fs::remove(tree_.path("/sys/class/iommu/dmar0/intel-iommu/ecap"));
  Check intel = find("iommu.interrupt-remapping");
  EXPECT_EQ(intel.status, CheckStatus::Warn);
  EXPECT_EQ(intel.summary,
            "interrupt remapping not confirmed: no DMAR unit's ecap register could be read");
  EXPECT_EQ(intel.remedy.rfind("confirm with: dmesg | grep DMAR-IR (expect 'DMAR-IR: Enabled IRQ "
                               "remapping in x2apic mode' or xapic mode)",
                               0),
            0u)
      << intel.remedy;
  EXPECT_EQ(intel.remedy.find("AMD"), std::string::npos) << intel.remedy;
  make_amd(tree_);
  tree_.set_cpuinfo("AuthenticAMD", "fpu svm");
  Check amd = find("iommu.interrupt-remapping");
  EXPECT_EQ(
      amd.remedy.rfind(
          "confirm with: dmesg | grep AMD-Vi (expect 'AMD-Vi: Interrupt remapping enabled')", 0),
      0u)
      << amd.remedy;
  EXPECT_EQ(amd.remedy.find("DMAR"), std::string::npos) << amd.remedy;
}

// cpu.vendor names an IOMMU only when the kernel or the firmware shows one.
TEST_F(Preflight, CpuVendorClaimsNoIommuTheHostDoesNotShow) {
  EXPECT_EQ(find("cpu.vendor").summary, "Intel CPU with an Intel VT-d IOMMU (dmar0)");
  strip_iommu(tree_);  // the DMAR table stays: the firmware still describes VT-d
  EXPECT_EQ(find("cpu.vendor").summary, "Intel CPU with an Intel VT-d IOMMU (ACPI DMAR table)");
  fs::remove(tree_.path("/sys/firmware/acpi/tables/DMAR"));
  tree_.add_acpi_table("FACP");
  EXPECT_EQ(find("cpu.vendor").summary,
            "Intel CPU; Intel VT-d is the IOMMU to enable (the firmware describes none: see "
            "iommu.active)");
  tree_.set_cpuinfo("AuthenticAMD", "fpu svm");
  EXPECT_EQ(find("cpu.vendor").summary,
            "AMD CPU; AMD-Vi is the IOMMU to enable (the firmware describes none: see "
            "iommu.active)");
  fs::remove_all(tree_.path("/sys/firmware/acpi/tables"));  // no table readable at all
  Check unknown = find("cpu.vendor");
  EXPECT_EQ(unknown.status, CheckStatus::Pass);
  EXPECT_EQ(unknown.summary,
            "AMD CPU; no IOMMU seen (no unit in /sys/class/iommu, no ACPI table readable): AMD-Vi "
            "would be this CPU's");
}

TEST_F(Preflight, VfioIdsOnTheCommandLineAreNoted) {
  tree_.set_cmdline("ro intel_iommu=on iommu=pt vfio-pci.ids=10de:1eb8,8086:5845");
  EXPECT_EQ(host_statuses()["cmdline.vfio-ids"], "pass");
  EXPECT_EQ(find("cmdline.vfio-ids").observed, "/proc/cmdline: vfio-pci.ids=10de:1eb8,8086:5845");
}

TEST_F(Preflight, TargetSharingItsGroupWithAHostDriverFails) {
  std::map<std::string, std::string> want = {
      {"device.exists", "pass"},   {"device.iommu-group", "pass"}, {"device.group-viable", "fail"},
      {"device.host-use", "pass"}, {"device.driver", "warn"},      {"device.reset", "pass"},
      {"device.boot-vga", "skip"}, {"device.sriov", "skip"}};
  EXPECT_EQ(device_statuses("0000:02:00.0"), want);
  Check c = find("device.group-viable", "0000:02:00.0");
  EXPECT_EQ(c.observed, "0000:02:00.1 (qat_c62x)");
  EXPECT_NE(c.remedy.find("hostpass bind --group 0000:02:00.0"), std::string::npos);
  EXPECT_EQ(find("device.iommu-group", "0000:02:00.0").observed,
            "/sys/kernel/iommu_groups/6/devices: 0000:02:00.0 (qat_c62x), 0000:02:00.1 (qat_c62x)");
  // The driver's fix is the bind that works here: the sibling must come along.
  EXPECT_EQ(find("device.driver", "0000:02:00.0").remedy, "hostpass bind --group 0000:02:00.0");
  EXPECT_EQ(find("device.driver", "0000:00:04.0").remedy, "hostpass bind 0000:00:04.0");
}

TEST_F(Preflight, GpuOnNvidiaBehindABridgeIsViableAndGetsTheOperatorHint) {
  tree_.set_hostname("worker-3");
  auto d = device_statuses("0000:01:00.0");
  EXPECT_EQ(d["device.group-viable"], "pass");  // the root port is a bridge: allowed
  EXPECT_EQ(d["device.driver"], "warn");
  EXPECT_EQ(d["device.gpu-operator"], "warn");
  std::string remedy = find("device.gpu-operator", "0000:01:00.0").remedy;
  ASSERT_NE(remedy.find("oc label"), std::string::npos) << remedy;
  EXPECT_EQ(remedy.substr(remedy.find("oc label")),
            "oc label node worker-3 nvidia.com/gpu.deploy.operands=false");
}

TEST_F(Preflight, DeviceOnVfioPassesAndTheRootDiskFails) {
  auto ok = device_statuses("0000:04:00.0");
  EXPECT_EQ(ok["device.driver"], "pass");
  EXPECT_EQ(ok["device.group-viable"], "pass");
  EXPECT_EQ(ok.count("device.gpu-operator"), 0u);
  auto root = device_statuses("0000:00:02.0");
  EXPECT_EQ(root["device.host-use"], "fail");
  EXPECT_NE(find("device.host-use", "0000:00:02.0").remedy.find("root filesystem"),
            std::string::npos);
}

TEST_F(Preflight, HostUseIsAFailWhenTheHostCannotBeSeen) {
  EXPECT_EQ(device_statuses("0000:04:00.0")["device.host-use"], "pass");
  // A chroot: its mount table has no "/" entry, so "no use found" means nothing.
  tree_.write("/proc/self/mountinfo",
              "40 1 0:5 / /proc rw - proc proc rw\n"
              "41 1 254:1 /srv/jail/data /data rw - ext4 /dev/vda1 rw\n");
  EXPECT_EQ(device_statuses("0000:04:00.0")["device.host-use"], "fail");
  Check c = find("device.host-use", "0000:04:00.0");
  EXPECT_EQ(c.summary, "host use unknown: the host cannot be seen");
  EXPECT_NE(c.observed.find("chroot"), std::string::npos) << c.observed;
  EXPECT_NE(c.remedy.find("hostPID"), std::string::npos) << c.remedy;
}

TEST_F(Preflight, MissingDeviceYieldsOnlyExistsFail) {
  auto d = device_statuses("0000:99:00.0");
  EXPECT_EQ(d, (std::map<std::string, std::string>{{"device.exists", "fail"}}));
}

TEST_F(Preflight, ResetBootVgaAndSriov) {
  testing::PciSpec s;
  s.address = "0000:05:00.0";
  s.vendor = 0x1002;
  s.device = 0x67df;
  s.class_code = 0x030000;
  s.driver = "amdgpu";
  s.iommu_group = 9;
  s.boot_vga = true;
  s.reset_method = "";
  tree_.add_pci(s);
  s = {};
  s.address = "0000:06:00.0";
  s.vendor = 0x8086;
  s.device = 0x1572;
  s.class_code = 0x020000;
  s.driver = "i40e";
  s.iommu_group = 10;
  s.sriov_totalvfs = 8;
  s.sriov_numvfs = 2;
  tree_.add_pci(s);
  auto vga = device_statuses("0000:05:00.0");
  EXPECT_EQ(vga["device.reset"], "warn");
  EXPECT_EQ(vga["device.boot-vga"], "fail");
  EXPECT_EQ(vga["device.host-use"], "pass");  // boot VGA is reported by its own check
  EXPECT_EQ(vga["device.gpu-operator"], "warn");
  auto pf = device_statuses("0000:06:00.0");
  EXPECT_EQ(pf["device.sriov"], "warn");
  EXPECT_EQ(find("device.sriov", "0000:06:00.0").observed,
            "/sys/bus/pci/devices/0000:06:00.0/sriov_numvfs: 2 of 8");
}

TEST_F(Preflight, NeverWrites) {
  RealHost real(tree_.root());
  FaultyHost host(real);
  PreflightOptions o;
  for (const char* a : {"0000:01:00.0", "0000:02:00.0", "0000:00:02.0", "0000:99:00.0"})
    o.devices.push_back(*PciAddress::parse(a));
  PreflightReport r = run_preflight(host, o);
  EXPECT_GT(r.checks.size(), 30u);
  EXPECT_GT(host.read_count(), 0);
  EXPECT_EQ(host.write_count(), 0);
}

}  // namespace
}  // namespace hostpass

namespace hostpass {
namespace {

// The real machine, read-only: the checks run against "/" and make no mutating call.
TEST(PreflightRealMachine, NeverWritesToTheRealHost) {
  RealHost real("/");
  FaultyHost host(real);
  PreflightReport r = run_preflight(host, PreflightOptions{});
  EXPECT_EQ(r.checks.size(), 9u);
  EXPECT_EQ(host.write_count(), 0);
  ASSERT_NE(r.find("iommu.active"), nullptr);
}

}  // namespace
}  // namespace hostpass
