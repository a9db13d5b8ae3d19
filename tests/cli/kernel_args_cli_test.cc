// End-to-end: `hostpass kernel-args` in each format, and the grub --apply round trip.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "boot_hosts.h"
#include "fixture_tree.h"
#include "run_program.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

namespace fs = std::filesystem;

class KernelArgsCli : public ::testing::Test {
 protected:
  KernelArgsCli() : tree_(dir_.path() + "/root") { build_standard_host(tree_); }
  ProgramRun hostpass(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  std::string read(const std::string& p) {
    std::ifstream f(tree_.path(p));
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  ScratchDir dir_;
  FixtureTree tree_;
};

TEST_F(KernelArgsCli, CmdlineForThisIntelHost) {
  ProgramRun r = hostpass({"kernel-args", "--vfio-ids", "10de:1eb8"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "intel_iommu=on iommu=pt vfio-pci.ids=10de:1eb8\n");
}

TEST_F(KernelArgsCli, CmdlineNamesWhatTheRunningKernelMustLose) {
  // An AMD host: no DMAR unit or table (the standard host's), an IVRS table.
  fs::remove(tree_.path("/sys/class/iommu/dmar0"));
  fs::remove(tree_.path("/sys/firmware/acpi/tables/DMAR"));
  tree_.add_acpi_table("IVRS");
  tree_.set_cpuinfo("AuthenticAMD", "svm");
  tree_.set_cmdline("ro amd_iommu=off");
  ProgramRun r = hostpass({"kernel-args"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "iommu=pt\n");
  EXPECT_NE(r.err.find("remove from the command line: amd_iommu=off"), std::string::npos) << r.err;
}

TEST_F(KernelArgsCli, MachineConfigIsReadyForOcCreate) {
  ProgramRun r = hostpass({"kernel-args", "--format", "machineconfig", "--role", "worker"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  YAML::Node y = YAML::Load(r.out);
  EXPECT_EQ(y["kind"].as<std::string>(), "MachineConfig");
  EXPECT_EQ(y["metadata"]["name"].as<std::string>(), "100-worker-iommu");
  EXPECT_EQ(y["spec"]["kernelArguments"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"intel_iommu=on", "iommu=pt"}));
  ProgramRun b = hostpass({"kernel-args", "--format", "butane", "--cpu", "amd"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  YAML::Node by = YAML::Load(b.out);
  EXPECT_EQ(by["variant"].as<std::string>(), "openshift");
  EXPECT_EQ(by["openshift"]["kernel_arguments"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"iommu=pt"}));
}

TEST_F(KernelArgsCli, GrubDiffThenApplyThenNothingToDo) {
  tree_.write("/etc/os-release", "ID=debian\n");
  const std::string before =
      "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
      "GRUB_CMDLINE_LINUX=\"console=ttyS0 intel_iommu=off\"\n";
  tree_.write("/etc/default/grub", before);
  ProgramRun diff = hostpass({"kernel-args", "--format", "grub"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_EQ(diff.out,
            "--- /etc/default/grub\n+++ /etc/default/grub\n@@ -3,1 +3,1 @@\n"
            "-GRUB_CMDLINE_LINUX=\"console=ttyS0 intel_iommu=off\"\n"
            "+GRUB_CMDLINE_LINUX=\"console=ttyS0 intel_iommu=on iommu=pt\"\n"
            "(not written: add --apply, then run: update-grub && reboot)\n");
  EXPECT_EQ(read("/etc/default/grub"), before);
  ProgramRun apply = hostpass({"kernel-args", "--format", "grub", "--apply"});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_NE(apply.out.find("now run: update-grub && reboot"), std::string::npos) << apply.out;
  EXPECT_EQ(read("/etc/default/grub.hostpass.bak"), before);
  const std::string after = read("/etc/default/grub");
  EXPECT_EQ(after,
            "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
            "GRUB_CMDLINE_LINUX=\"console=ttyS0 intel_iommu=on iommu=pt\"\n");
  ProgramRun again = hostpass({"kernel-args", "--format", "grub", "--apply"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(again.out, "/etc/default/grub already has intel_iommu=on iommu=pt; nothing to do\n");
  EXPECT_EQ(read("/etc/default/grub"), after);
  EXPECT_EQ(read("/etc/default/grub.hostpass.bak"), before);
}

TEST_F(KernelArgsCli, RhelGetsGrub2Mkconfig) {
  tree_.write("/etc/os-release", "ID=\"rhel\"\nID_LIKE=\"fedora\"\n");
  tree_.write("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n");
  ProgramRun r = hostpass({"kernel-args", "--format", "grub", "--apply"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("now run: grub2-mkconfig -o /boot/grub2/grub.cfg && reboot"),
            std::string::npos)
      << r.out;
}

TEST_F(KernelArgsCli, Rhel93BlsSaysGrubbyAndApplyEditsEveryEntry) {
  build_rhel93_bls_host(tree_);
  ProgramRun advice = hostpass({"kernel-args"});
  ASSERT_EQ(advice.exit_code, 0) << advice.err;
  EXPECT_NE(advice.err.find("set them with: grubby --update-kernel=ALL "
                            "--args=\"intel_iommu=on iommu=pt\""),
            std::string::npos)
      << advice.err;
  EXPECT_EQ(advice.err.find("grub2-mkconfig"), std::string::npos) << advice.err;
  ProgramRun diff = hostpass({"kernel-args", "--format", "grub"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_NE(diff.out.find("+++ " + rhel93_entry(false)), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("or, without hostpass: grubby --update-kernel=ALL"), std::string::npos)
      << diff.out;
  EXPECT_EQ(diff.out.find("grub2-mkconfig"), std::string::npos) << diff.out;
  ProgramRun apply = hostpass({"kernel-args", "--format", "grub", "--apply"});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_NE(apply.out.find("wrote " + rhel93_entry(true) + " (previous content in " +
                           rhel93_entry(true) + ".hostpass.bak)"),
            std::string::npos)
      << apply.out;
  EXPECT_NE(apply.out.find("now run: reboot\n"), std::string::npos) << apply.out;
  EXPECT_NE(read(rhel93_entry(false)).find("$tuned_params intel_iommu=on iommu=pt\n"),
            std::string::npos);
  ProgramRun again = hostpass({"kernel-args", "--format", "grub", "--apply"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("already have intel_iommu=on iommu=pt; nothing to do"),
            std::string::npos)
      << again.out;
}

TEST_F(KernelArgsCli, Rhel8KerneloptsEntryIsRefusedWithExitTwo) {
  build_rhel8_kernelopts_host(tree_);
  const std::string grub = read("/etc/default/grub");
  ProgramRun r = hostpass({"kernel-args", "--format", "grub", "--apply"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("$kernelopts"), std::string::npos) << r.err;
  EXPECT_EQ(read("/etc/default/grub"), grub);
  EXPECT_FALSE(fs::exists(tree_.path("/etc/default/grub.hostpass.bak")));
}

TEST_F(KernelArgsCli, SystemdBootKernelCmdlineApplyNamesUpdateInitramfs) {
  build_debian12_systemd_boot_host(tree_);
  ProgramRun advice = hostpass({"kernel-args"});
  ASSERT_EQ(advice.exit_code, 0) << advice.err;
  EXPECT_NE(advice.err.find("hostpass kernel-args --format kernel-cmdline --apply"),
            std::string::npos)
      << advice.err;
  ProgramRun grub = hostpass({"kernel-args", "--format", "grub"});
  EXPECT_EQ(grub.exit_code, 1);
  EXPECT_NE(grub.err.find("use --format kernel-cmdline"), std::string::npos) << grub.err;
  ProgramRun diff = hostpass({"kernel-args", "--format", "kernel-cmdline"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_NE(diff.out.find("(not written: add --apply, then run: update-initramfs -u -k all && "
                          "reboot)"),
            std::string::npos)
      << diff.out;
  ProgramRun apply = hostpass({"kernel-args", "--format", "kernel-cmdline", "--apply"});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_EQ(read("/etc/kernel/cmdline"),
            "root=UUID=3c1f6b6e-8f4e-4d0a-9b57-2a9d1f0c7e15 ro quiet intel_iommu=on iommu=pt\n");
  EXPECT_NE(apply.out.find("now run: update-initramfs -u -k all && reboot"), std::string::npos)
      << apply.out;
}

TEST_F(KernelArgsCli, BadInputExitsTwoAndWritesNothing) {
  tree_.write("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"\"\n");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"kernel-args", "--vfio-ids", "10de"},
        {"kernel-args", "--vfio-ids", "10de:1eb8,xyz"},
        {"kernel-args", "--format", "yaml"},
        {"kernel-args", "--format", "cmdline", "--apply"},
        {"kernel-args", "--format", "machineconfig", "--role", "Bad Role"},
        {"kernel-args", "--format", "grub", "--apply", "--cpu", "arm"}}) {
    ProgramRun r = hostpass(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
  }
  EXPECT_EQ(read("/etc/default/grub"), "GRUB_CMDLINE_LINUX=\"\"\n");
}

TEST_F(KernelArgsCli, MissingGrubFileExitsOne) {
  ProgramRun r = hostpass({"kernel-args", "--format", "grub"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/etc/default/grub"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hostpass::testing
