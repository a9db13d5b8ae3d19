// End-to-end: every id-wide next-boot form (persist modprobe/butane/machineconfig/cmdline,
// kernel-args cmdline/grub, opennebula filter/inventory) on a host with identical devices where
// one of each is the host's own (twin_devices_host.h), and hostpass never
// replacing a file it did not write. "Nothing changed" is the whole tree before and after.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fixture_tree.h"
#include "run_program.h"
#include "test_dirs.h"
#include "tree_digest.h"
#include "twin_devices_host.h"

namespace fs = std::filesystem;

namespace hostpass::testing {
namespace {

class NextBootCli : public ::testing::Test {
 protected:
  NextBootCli() : tree_(dir_.path() + "/root") {
    build_twin_devices_host(tree_);
    tree_.write("/nv.yaml", "version: 1\ndevices:\n  - address: \"0000:05:00.0\"\n");
    tree_.write("/nic.yaml", "version: 1\ndevices:\n  - address: \"0000:00:1a.0\"\n");
    tree_.write("/gpu.yaml", "version: 1\ndevices:\n  - address: \"0000:01:00.0\"\n");
    tree_.write("/etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"quiet\"\n");
    tree_.write("/etc/os-release", "ID=debian\n");
    std::ofstream(inventory()) << "all:\n  children:\n    node:\n      hosts:\n"
                                  "        n1:\n          pci_passthrough_enabled: true\n"
                                  "          pci_devices:\n"
                                  "            - address: \"0000:05:00.0\"\n";
  }
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
  std::string inventory() const { return dir_.path() + "/inv.yml"; }
  ScratchDir dir_;
  FixtureTree tree_;
};

// Every id-wide entry point, each with the device the user names (the twin of a host-used one).
std::vector<std::vector<std::string>> id_wide_commands(const std::string& yaml,
                                                       const std::string& ids,
                                                       const std::string& named,
                                                       const std::string& inventory) {
  return {{"persist", "--format", "modprobe", "-f", yaml, "--write"},
          {"persist", "--format", "modprobe", "-f", yaml},
          {"persist", "--format", "butane", "-f", yaml},
          {"persist", "--format", "machineconfig", "-f", yaml},
          {"persist", "--format", "cmdline", "-f", yaml},
          {"kernel-args", "--vfio-ids", ids},
          {"kernel-args", "--vfio-ids", ids, "--format", "grub", "--apply"},
          {"opennebula", "filter", named},
          {"opennebula", "inventory", "-f", inventory, "--host", "n1"}};
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

// The table: every id-wide command × each host use a twin has. Exit 2, the caught device and its
// reason in the message, nothing written.
TEST_F(NextBootCli, EveryIdWideFormRefusesTheHostUsedTwinAndWritesNothing) {
  struct Case {
    std::string yaml, ids, named, caught, reason;
    std::vector<std::string> force;  // flags that must not help
  };
  std::ofstream(dir_.path() + "/inv-nic.yml")
      << "all:\n  hosts:\n    n1:\n      pci_passthrough_enabled: true\n"
         "      pci_devices:\n        - address: \"0000:00:1a.0\"\n";
  const Case cases[] = {
      {"/nv.yaml", "8086:5845", "0000:05:00.0", "0000:04:00.0", "root filesystem", {"--force"}},
      {"/nic.yaml",
       "8086:10d3",
       "0000:00:1a.0",
       "0000:00:19.0",
       "network-up",
       {"--force=default-route"}},
      {"/nic.yaml",
       "8086:10d3",
       "0000:00:1a.0",
       "0000:00:19.0",
       "default-route",
       {"--force=network-up"}},
  };
  for (const Case& c : cases) {
    std::string inv = c.caught == "0000:04:00.0" ? inventory() : dir_.path() + "/inv-nic.yml";
    for (std::vector<std::string> cmd : id_wide_commands(tree_.path(c.yaml), c.ids, c.named, inv)) {
      for (bool with_force : {false, true}) {
        std::vector<std::string> args = cmd;
        if (with_force) args.insert(args.end(), c.force.begin(), c.force.end());
        auto before = tree_digest(tree_.root(), std::vector<std::string>{kStateLockFile});
        ProgramRun r = hostpass(args);
        SCOPED_TRACE(joined(args));
        EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
        EXPECT_NE(r.err.find("refusing " + c.caught), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(c.reason), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "");
        EXPECT_EQ(tree_digest(tree_.root(), std::vector<std::string>{kStateLockFile}), before);
      }
    }
  }
}

TEST_F(NextBootCli, TheIssuesScenarioOffersWhatWorks) {
  ProgramRun p =
      hostpass({"persist", "--format", "modprobe", "-f", tree_.path("/nv.yaml"), "--write"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find("refusing 0000:04:00.0: it holds the root filesystem"), std::string::npos)
      << p.err;
  EXPECT_NE(p.err.find("--format driverctl or systemd"), std::string::npos) << p.err;
  EXPECT_FALSE(fs::exists(tree_.path("/etc/modprobe.d/vfio.conf")));
  ProgramRun k =
      hostpass({"kernel-args", "--vfio-ids", "8086:5845", "--format", "grub", "--apply"});
  EXPECT_EQ(k.exit_code, 2);
  EXPECT_NE(k.err.find("vfio-pci.ids=8086:5845 also matches devices the host uses"),
            std::string::npos)
      << k.err;
  EXPECT_NE(k.err.find("persist --format driverctl"), std::string::npos) << k.err;
  EXPECT_FALSE(fs::exists(tree_.path("/etc/default/grub.hostpass.bak")));
  ProgramRun o = hostpass({"opennebula", "filter", "0000:05:00.0", "0000:04:00.0"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("refusing 0000:04:00.0: it holds the root filesystem"), std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find("PCI_SHORT_ADDRESS"), std::string::npos) << o.err;
  ProgramRun i = hostpass({"opennebula", "inventory", "-f", inventory(), "--host", "n1"});
  EXPECT_EQ(i.exit_code, 2);
  EXPECT_NE(i.err.find("refusing 0000:04:00.0"), std::string::npos) << i.err;
}

TEST_F(NextBootCli, ByAddressFormsAreAccepted) {
  ProgramRun d =
      hostpass({"persist", "--format", "driverctl", "-f", tree_.path("/nv.yaml"), "--write"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "wrote /etc/driverctl.d/pci-0000:05:00.0\n");
  EXPECT_EQ(read("/etc/driverctl.d/pci-0000:05:00.0"), "vfio-pci\n");
  ProgramRun s =
      hostpass({"persist", "--format", "systemd", "-f", tree_.path("/nv.yaml"), "--write"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(read("/etc/hostpass/hostpass.yaml").find("# Written by hostpass"), std::string::npos);
  ProgramRun o = hostpass({"opennebula", "filter", "--short-address", "0000:05:00.0"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, "PCI_FILTER=\"8086:5845\"\nPCI_SHORT_ADDRESS=\"05:00.0\"\n");
  ProgramRun i =
      hostpass({"opennebula", "inventory", "-f", inventory(), "--host", "n1", "--short-address"});
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_NE(i.out.find("PCI_SHORT_ADDRESS=\"05:00.0\""), std::string::npos) << i.out;
  // Naming the root disk itself is refused by address too.
  ProgramRun r = hostpass({"opennebula", "filter", "--short-address", "--force", "0000:04:00.0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("root filesystem"), std::string::npos) << r.err;
}

TEST_F(NextBootCli, OpenShiftTakesTheIdsWithoutANodeAndSaysSo) {
  for (const char* format : {"butane", "machineconfig"}) {
    ProgramRun p = hostpass({"persist", "--format", format, "--vfio-ids", "8086:5845"});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    EXPECT_NE(p.out.find("100-worker-vfiopci"), std::string::npos) << p.out;
    EXPECT_NE(p.err.find("not checked against any node"), std::string::npos) << p.err;
    ProgramRun k = hostpass({"kernel-args", "--vfio-ids", "8086:5845", "--format", format});
    ASSERT_EQ(k.exit_code, 0) << k.err;
    EXPECT_NE(k.out.find("vfio-pci.ids=8086:5845"), std::string::npos) << k.out;
    EXPECT_NE(k.err.find("not checked against any node"), std::string::npos) << k.err;
  }
  ProgramRun bad = hostpass({"persist", "--format", "modprobe", "--vfio-ids", "8086:5845"});
  EXPECT_EQ(bad.exit_code, 2);
  ProgramRun both = hostpass(
      {"persist", "--format", "butane", "--vfio-ids", "8086:5845", "-f", tree_.path("/nv.yaml")});
  EXPECT_EQ(both.exit_code, 2);
}

TEST_F(NextBootCli, ForceNamesWhatItOverridesAndNeverTheRootFilesystem) {
  ProgramRun f = hostpass({"persist", "--format", "modprobe", "-f", tree_.path("/nic.yaml"),
                           "--write", "--force=network-up,default-route"});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_NE(f.err.find("--force=network-up: overriding for 0000:00:19.0"), std::string::npos)
      << f.err;
  EXPECT_NE(read("/etc/modprobe.d/vfio.conf").find("ids=8086:10d3"), std::string::npos);
  ProgramRun bad = hostpass(
      {"persist", "--format", "modprobe", "-f", tree_.path("/nv.yaml"), "--force=root-filesystem"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("never overridden"), std::string::npos) << bad.err;
  // A flag, never eating the next argument: "--force" then a positional address.
  ProgramRun k = hostpass({"kernel-args", "--vfio-ids", "8086:10d3", "--force"});
  EXPECT_EQ(k.exit_code, 0) << k.err;
  EXPECT_NE(k.err.find("--force=network-up: overriding for 0000:00:19.0"), std::string::npos)
      << k.err;
}

TEST_F(NextBootCli, AHandWrittenModprobeFileIsRefusedWithADiffAndForceKeepsABackup) {
  const std::string mine = "# mine\noptions vfio-pci ids=10de:1eb8 disable_vga=1\n";
  tree_.write("/etc/modprobe.d/vfio.conf", mine);
  auto before = tree_digest(tree_.root(), std::vector<std::string>{kStateLockFile});
  ProgramRun r =
      hostpass({"persist", "--format", "modprobe", "-f", tree_.path("/gpu.yaml"), "--write"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("refusing to replace /etc/modprobe.d/vfio.conf"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--- /etc/modprobe.d/vfio.conf\n+++ /etc/modprobe.d/vfio.conf\n"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("\n-options vfio-pci ids=10de:1eb8 disable_vga=1\n"), std::string::npos)
      << r.err;
  EXPECT_EQ(tree_digest(tree_.root(), std::vector<std::string>{kStateLockFile}), before);
  ProgramRun f = hostpass(
      {"persist", "--format", "modprobe", "-f", tree_.path("/gpu.yaml"), "--write", "--force"});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(read("/etc/modprobe.d/vfio.conf.hostpass.bak"), mine);
  EXPECT_NE(f.err.find("/etc/modprobe.d/vfio.conf.hostpass.bak"), std::string::npos) << f.err;
  // Ours now: a second write needs no --force.
  ProgramRun again =
      hostpass({"persist", "--format", "modprobe", "-f", tree_.path("/gpu.yaml"), "--write"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST_F(NextBootCli, AnotherModprobeFileSettingIdsIsNamedAndRefusedUnlessForced) {
  tree_.write("/etc/modprobe.d/nic.conf", "options vfio-pci ids=8086:10d3\n");
  ProgramRun r =
      hostpass({"persist", "--format", "modprobe", "-f", tree_.path("/gpu.yaml"), "--write"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("/etc/modprobe.d/nic.conf:1: options vfio-pci ids=8086:10d3"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("the last ids= wins"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tree_.path("/etc/modprobe.d/vfio.conf")));
  ProgramRun f = hostpass(
      {"persist", "--format", "modprobe", "-f", tree_.path("/gpu.yaml"), "--write", "--force"});
  EXPECT_EQ(f.exit_code, 0) << f.err;
}

TEST_F(NextBootCli, ASecondGrubApplyKeepsTheFirstBackup) {
  const std::string original = read("/etc/default/grub");
  ProgramRun one = hostpass({"kernel-args", "--format", "grub", "--apply"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const std::string middle = read("/etc/default/grub");
  ProgramRun two =
      hostpass({"kernel-args", "--vfio-ids", "10de:1eb8", "--format", "grub", "--apply"});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_NE(two.out.find("/etc/default/grub.hostpass.bak.1"), std::string::npos) << two.out;
  EXPECT_EQ(read("/etc/default/grub.hostpass.bak"), original);
  EXPECT_EQ(read("/etc/default/grub.hostpass.bak.1"), middle);
  // Both GPUs go with the ids: named on stderr.
  EXPECT_NE(two.err.find("0000:02:00.0 (now on nvidia)"), std::string::npos) << two.err;
}

}  // namespace
}  // namespace hostpass::testing
