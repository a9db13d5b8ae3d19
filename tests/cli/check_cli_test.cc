// End-to-end: `hostpass check` on fixture roots and, read-only, on the machine running the tests.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "boot_hosts.h"
#include "fixture_tree.h"
#include "run_program.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

namespace fs = std::filesystem;

class CheckCli : public ::testing::Test {
 protected:
  CheckCli() : tree_(dir_.path() + "/root") { build_standard_host(tree_); }
  ProgramRun hostpass(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  ScratchDir dir_;
  FixtureTree tree_;
};

std::string status_of(const nlohmann::json& j, const std::string& id,
                      const std::string& device = "") {
  for (const auto& c : j["checks"])
    if (c["id"] == id && (device.empty() ? c["device"].is_null() : c["device"] == device))
      return c["status"];
  return "absent";
}

TEST_F(CheckCli, PreparedHostPassesWithExitZero) {
  ProgramRun r = hostpass({"check"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\u2713 iommu.active"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ready for passthrough"), std::string::npos) << r.out;
}

TEST_F(CheckCli, HostWithoutIommuFailsWithTheRemedyUnderIt) {
  for (const auto& e : fs::directory_iterator(tree_.path("/sys/class/iommu"))) fs::remove(e.path());
  for (const auto& e : fs::directory_iterator(tree_.path("/sys/kernel/iommu_groups")))
    fs::remove_all(e.path());
  tree_.set_cmdline("root=/dev/vda1 ro quiet");
  ProgramRun r = hostpass({"check"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  size_t fail = r.out.find("\u2717 iommu.active");
  ASSERT_NE(fail, std::string::npos) << r.out;
  // The firmware has VT-d (the DMAR table is there): the kernel argument is the fix.
  size_t fix = r.out.find("fix: add intel_iommu=on iommu=pt to the kernel command line", fail);
  EXPECT_NE(fix, std::string::npos) << r.out;
  EXPECT_LT(fix, r.out.find("cmdline.iommu ", fail)) << "the remedy sits under its failure";
}

// Strips what a kernel shows when it drives no IOMMU (the firmware tables stay).
void strip_iommu(FixtureTree& t) {
  for (const auto& e : fs::directory_iterator(t.path("/sys/class/iommu"))) fs::remove(e.path());
  for (const auto& e : fs::directory_iterator(t.path("/sys/kernel/iommu_groups")))
    fs::remove_all(e.path());
  for (const auto& e : fs::directory_iterator(t.path("/sys/bus/pci/devices")))
    fs::remove(e.path() / "iommu_group");
}

TEST_F(CheckCli, FirmwareWithoutVtdSaysEnableItInTheFirmwareNotTheKernelArgument) {
  strip_iommu(tree_);
  fs::remove(tree_.path("/sys/firmware/acpi/tables/DMAR"));
  tree_.add_acpi_table("FACP");
  ProgramRun r = hostpass({"check"});  // intel_iommu=on is on the command line: it does nothing
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("\u2717 iommu.active               no IOMMU in the firmware (no ACPI "
                       "DMAR or IVRS table)\n"
                       "      observed: /sys/class/iommu: empty; /sys/kernel/iommu_groups: 0 "
                       "groups; /sys/firmware/acpi/tables: no DMAR, no IVRS\n"
                       "      fix: enable VT-d (Intel Virtualization Technology for Directed I/O) "
                       "in the firmware (BIOS/UEFI) setup and reboot;"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\u2713 cmdline.iommu              intel_iommu=on\n"), std::string::npos)
      << r.out;
  tree_.set_cmdline("root=/dev/vda1 ro");
  ProgramRun bare = hostpass({"check"});
  EXPECT_EQ(bare.exit_code, 1) << bare.out;
  EXPECT_NE(bare.out.find("- cmdline.iommu              no VT-d in the firmware: intel_iommu=on "
                          "would do nothing (see iommu.active)\n"),
            std::string::npos)
      << bare.out;
}

TEST_F(CheckCli, IntelIommuOffSaysReplaceTheArgument) {
  strip_iommu(tree_);
  tree_.set_cmdline("root=/dev/vda1 ro intel_iommu=off");
  ProgramRun r = hostpass({"check"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("\u2717 iommu.active               VT-d is disabled by intel_iommu=off on "
                       "the kernel command line\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("      fix: replace intel_iommu=off with intel_iommu=on (hostpass "
                       "kernel-args --format grub --apply) and reboot\n"),
            std::string::npos)
      << r.out;
}

// On a systemd-boot host the fix names the format that edits what it boots from.
TEST_F(CheckCli, OnASystemdBootHostTheFixNamesKernelCmdline) {
  strip_iommu(tree_);
  build_debian12_systemd_boot_host(tree_);
  tree_.set_cmdline("root=/dev/vda1 ro intel_iommu=off");
  ProgramRun r = hostpass({"check"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("      fix: replace intel_iommu=off with intel_iommu=on (hostpass "
                       "kernel-args --format kernel-cmdline --apply) and reboot\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("--format grub"), std::string::npos) << r.out;
}

TEST_F(CheckCli, KernelBuildDefaultOffSaysAddTheArgument) {
  strip_iommu(tree_);
  tree_.set_cmdline("root=/dev/vda1 ro");
  tree_.set_kernel_release("5.14.0-362.el9.x86_64");
  tree_.set_kernel_config("5.14.0-362.el9.x86_64", "# CONFIG_INTEL_IOMMU_DEFAULT_ON is not set\n");
  ProgramRun r = hostpass({"check", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(status_of(j, "iommu.active"), "fail");
  EXPECT_EQ(status_of(j, "cmdline.iommu"), "fail");
  for (const auto& c : j["checks"]) {
    if (c["id"] == "iommu.active") {
      EXPECT_EQ(c["remedy"],
                "add intel_iommu=on iommu=pt to the kernel command line (hostpass kernel-args "
                "--format grub --apply) and reboot: this kernel leaves VT-d off unless "
                "intel_iommu=on");
    }
  }
}

TEST_F(CheckCli, BuildDefaultOnIsReadyWithAWarning) {
  tree_.set_cmdline("root=/dev/vda1 ro iommu=pt");
  tree_.set_kernel_release("6.1.0-13-amd64");
  tree_.set_kernel_config("6.1.0-13-amd64", "CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y\n");
  ProgramRun r = hostpass({"check"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\u2713 iommu.active               Intel VT-d active\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("! cmdline.iommu              VT-d is active by the kernel's build "
                       "default, without intel_iommu=on\n"
                       "      fix: add intel_iommu=on so that VT-d stays on under a kernel built "
                       "with another default (hostpass kernel-args --format grub --apply)\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("ready for passthrough"), std::string::npos) << r.out;
}

TEST_F(CheckCli, AmdVendorNextToADmarUnitGetsTheIntelRules) {
  tree_.set_cpuinfo("AuthenticAMD", "fpu svm");
  ProgramRun r = hostpass({"check", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["cpu_vendor"], "amd");
  EXPECT_EQ(j["iommu_vendor"], "intel");
  EXPECT_EQ(status_of(j, "cmdline.iommu"), "pass");  // intel_iommu=on, judged by the Intel rule
  for (const auto& c : j["checks"]) {
    if (c["id"] == "cpu.vendor") {
      EXPECT_EQ(c["summary"],
                "AMD CPU with an Intel VT-d IOMMU (dmar0): its kernel arguments apply");
    }
  }
  ProgramRun args = hostpass({"kernel-args"});
  EXPECT_EQ(args.exit_code, 0) << args.err;
  EXPECT_EQ(args.out, "intel_iommu=on iommu=pt\n");
}

TEST_F(CheckCli, DevicesGetTheirOwnSection) {
  ProgramRun r = hostpass({"check", "02:00.0", "0000:04:00.0"});
  EXPECT_EQ(r.exit_code, 1) << r.out;  // the QAT's group sibling is on a host driver
  EXPECT_NE(r.out.find("device 0000:02:00.0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\u2717 device.group-viable"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fix: bind the whole group on purpose (hostpass bind --group 0000:02:00.0)"),
            std::string::npos)
      << r.out;
  ProgramRun ok = hostpass({"check", "0000:04:00.0"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
}

TEST_F(CheckCli, JsonListsEveryCheckWithItsDevice) {
  ProgramRun r = hostpass({"check", "--json", "0000:01:00.0"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["cpu_vendor"], "intel");
  EXPECT_EQ(j["iommu_vendor"], "intel");
  EXPECT_EQ(status_of(j, "iommu.active"), "pass");
  EXPECT_EQ(status_of(j, "device.driver", "0000:01:00.0"), "warn");
  EXPECT_EQ(status_of(j, "device.gpu-operator", "0000:01:00.0"), "warn");
  EXPECT_EQ(j["counts"]["fail"], 0);
  for (const auto& c : j["checks"])
    for (const char* key : {"id", "status", "summary", "observed", "remedy", "device"})
      EXPECT_TRUE(c.contains(key)) << key;
}

TEST_F(CheckCli, BadAddressesExitTwo) {
  for (const char* bad : {"06:00", "0000:06:00.8", "../x", ""}) {
    ProgramRun r = hostpass({"check", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

// An address no device of this host has is the user's to fix (pci_address_resolve.h): exit 2
// before any check runs.
TEST_F(CheckCli, MissingDeviceIsBadInputWithExitTwo) {
  ProgramRun r = hostpass({"check", "0000:99:00.0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "hostpass: no PCI device 0000:99:00.0 on this host\n");
}

// A --root that is not a host tree is refused before any check: never "/sys/class/iommu: empty".
TEST_F(CheckCli, ARootWithoutSysIsNotAHost) {
  ProgramRun r = run_program({hostpass_bin(), "--root", dir_.path(), "check"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "hostpass: --root " + dir_.path() + " has no sys/: not a host root\n");
}

// The machine running the tests is a VM without an IOMMU: `check` must say so, read-only.
TEST(CheckCliRealMachine, ReportsTheMissingIommuReadOnly) {
  std::error_code ec;
  bool has_iommu = fs::exists("/sys/class/iommu", ec) && !fs::is_empty("/sys/class/iommu", ec) &&
                   !fs::is_empty("/sys/kernel/iommu_groups", ec);
  if (has_iommu) GTEST_SKIP() << "this machine has an active IOMMU";
  ProgramRun r = run_program({hostpass_bin(), "--root", "/", "check", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(status_of(j, "iommu.active"), "fail");
  EXPECT_EQ(j["ready"], false);
  ProgramRun human = run_program({hostpass_bin(), "--root", "/", "check"});
  EXPECT_EQ(human.exit_code, 1);
  EXPECT_NE(human.out.find("\u2717 iommu.active"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("fix: enable"), std::string::npos) << human.out;
}

}  // namespace
}  // namespace hostpass::testing
