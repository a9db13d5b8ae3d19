// End-to-end: `hostpass apply` through hostpass_sim (the CLI over the simulated kernel) and
// `hostpass persist` through hostpass, on fixture roots. "Zero writes" is checked on the whole
// tree: every file's content and every link's target, before and after (the simulator's own
// /.simkernel bookkeeping aside).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "fixture_tree.h"
#include "run_program.h"
#include "test_dirs.h"
#include "tree_digest.h"

namespace fs = std::filesystem;

namespace hostpass::testing {
namespace {

// Left out of "nothing changed": the simulated kernel's records and hostpass's state lock file.
const std::vector<std::string> kBookkeeping = {"/.simkernel", kStateLockFile};

class ApplyCli : public ::testing::Test {
 protected:
  ApplyCli() : tree_(dir_.path() + "/root") { build_standard_host(tree_); }
  ProgramRun sim(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_sim_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  ProgramRun hostpass(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  std::string driver(const std::string& a) {
    std::error_code ec;
    auto t = fs::read_symlink(tree_.path("/sys/bus/pci/devices/" + a + "/driver"), ec);
    return ec ? "-" : t.filename().string();
  }
  ScratchDir dir_;
  FixtureTree tree_;
};

TEST_F(ApplyCli, PlansConvergesAndASecondRunIsANoOp) {
  tree_.write("/etc/hostpass/hostpass.yaml",
              "version: 1\ndevices:\n  - address: \"0000:00:04.0\"\n  - selector: \"8086:5845\"\n");
  ProgramRun r = sim({"apply", "-f", tree_.path("/etc/hostpass/hostpass.yaml")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "plan (" + tree_.path("/etc/hostpass/hostpass.yaml") +
                       "):\n"
                       "  0000:00:04.0  e1000e -> vfio-pci\n"
                       "  0000:03:00.0  no driver -> vfio-pci\n"
                       "  0000:04:00.0  vfio-pci (no change)\n"
                       "applied: 2 device(s) changed\n");
  EXPECT_EQ(driver("0000:00:04.0"), "vfio-pci");
  EXPECT_EQ(driver("0000:03:00.0"), "vfio-pci");
  auto before = tree_digest(tree_.root(), kBookkeeping);
  ProgramRun again = sim({"apply", "-f", tree_.path("/etc/hostpass/hostpass.yaml")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("nothing to do"), std::string::npos) << again.out;
  EXPECT_EQ(tree_digest(tree_.root(), kBookkeeping), before);
}

// One function of a two-function group (the QAT at 02:00.0/.1, group 6): refused with exit 2,
// nothing written, and the remedy is apply's own — name the sibling in the file — not bind's
// --group, which apply does not have (found on the real kernel: docs/kernel-tier.md, KernelApply).
TEST_F(ApplyCli, HalfASharedGroupIsRefusedAndTheRemedyIsTheFile) {
  tree_.write("/etc/hostpass/hostpass.yaml",
              "version: 1\ndevices:\n  - address: \"0000:02:00.0\"\n");
  auto before = tree_digest(tree_.root(), kBookkeeping);
  ProgramRun r = sim({"apply", "-f", tree_.path("/etc/hostpass/hostpass.yaml")});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.err,
            "hostpass: refusing 0000:02:00.0: IOMMU group 6 is not viable: 0000:02:00.1 is on "
            "qat_c62x (a VM gets the whole group, so every endpoint must be on vfio-pci or "
            "unbound); name them too, in the apply file\n");
  EXPECT_EQ(r.err.find("--group"), std::string::npos) << r.err;
  EXPECT_EQ(driver("0000:02:00.0"), "qat_c62x");
  EXPECT_EQ(tree_digest(tree_.root(), kBookkeeping), before);
}

// The same numbered list bind --dry-run prints (spine_cli.h planned_writes_text), every step's in
// one list: the release of 04:00.0 first (its driver_override cleared with "\n", shown escaped,
// never as a line break), then the bind of 00:04.0.
TEST_F(ApplyCli, DryRunPrintsTheWritesAsBindDoesAndChangesNothing) {
  tree_.write("/etc/hostpass/hostpass.yaml",
              "version: 1\ndevices:\n  - address: \"0000:00:04.0\"\n"
              "  - address: \"0000:04:00.0\"\n    driver: host\n");
  auto before = tree_digest(tree_.root(), "/.simkernel");
  ProgramRun r = sim({"apply", "-f", tree_.path("/etc/hostpass/hostpass.yaml"), "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string writes = r.out.substr(r.out.find("dry run:"));
  EXPECT_EQ(writes.rfind("dry run: these writes would be made, in order (nothing was changed):\n"
                         "   1. journal /var/lib/hostpass/journal.json  (each device's entry "
                         "driver and driver_override)\n",
                         0),
            0u)
      << r.out;
  EXPECT_NE(writes.find(". write   /sys/bus/pci/devices/0000:04:00.0/driver_override  \"\\n\"\n"),
            std::string::npos)
      << writes;
  EXPECT_NE(writes.find(". write   /sys/bus/pci/devices/0000:00:04.0/driver_override  "
                        "\"vfio-pci\"\n"),
            std::string::npos)
      << writes;
  EXPECT_NE(writes.find(". write   /sys/bus/pci/drivers/e1000e/unbind  \"0000:00:04.0\"\n"),
            std::string::npos)
      << writes;
  // One list: its numbers run on across the two steps, and every line is an item.
  size_t items = 0;
  std::istringstream lines(writes.substr(writes.find('\n') + 1));
  for (std::string line; std::getline(lines, line);) {
    ++items;
    char number[8];
    std::snprintf(number, sizeof number, "  %2zu. ", items);
    EXPECT_EQ(line.rfind(number, 0), 0u) << line;
  }
  EXPECT_GE(items, 8u);
  EXPECT_EQ(r.out.find("<-"), std::string::npos) << r.out;
  EXPECT_EQ(tree_digest(tree_.root(), "/.simkernel"), before);
}

TEST_F(ApplyCli, BadFilesExitTwoWithTheLineAndZeroWrites) {
  const std::vector<std::pair<std::string, std::string>> corpus = {
      {"version: 1\ndevices:\n  - address: \"04:00.0\"\n", "hostpass.yaml:3:"},
      {"version: 1\ndevices:\n  - address: \"0000:04:00.0\"\n    colour: red\n",
       "hostpass.yaml:4: unknown key 'colour'"},
      {"version: 1\ndevices:\n  - selector: \"10de\"\n", "hostpass.yaml:3: invalid selector"},
      {"version: 1\ndevices:\n  - selector: \"10de:1eb8\"\n    count: -1\n",
       "hostpass.yaml:4: count must be a positive integer"},
      {"version: 1\ndevices: [\n", "hostpass.yaml:"},
      {"version: 1\ndevices:\n\t- address: x\n", "hostpass.yaml:"},
      {"", "hostpass.yaml: expected a mapping"},
  };
  for (const auto& [text, message] : corpus) {
    tree_.write("/hostpass.yaml", text);
    auto before = tree_digest(tree_.root(), "/.simkernel");
    ProgramRun r = sim({"apply", "-f", tree_.path("/hostpass.yaml")});
    EXPECT_EQ(r.exit_code, 2) << text << "\n" << r.err;
    EXPECT_NE(r.err.find("hostpass: " + tree_.path("/" + message)), std::string::npos)
        << text << "\n"
        << r.err;
    EXPECT_EQ(tree_digest(tree_.root(), "/.simkernel"), before) << text;
  }
  ProgramRun missing = sim({"apply", "-f", "/nope.yaml"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
}

// -f is the user's file (cli/user_file.h): read from the real filesystem, never under --root, by
// apply and persist as by every other command.
TEST_F(ApplyCli, TheFileIsReadFromTheRealFilesystemNotUnderRoot) {
  const std::string text = "version: 1\ndevices:\n  - address: \"0000:00:04.0\"\n";
  tree_.write("/under-root.yaml", text);
  ProgramRun under = sim({"apply", "-f", "/under-root.yaml", "--dry-run"});
  EXPECT_EQ(under.exit_code, 2) << under.err;
  EXPECT_EQ(under.err, "hostpass: cannot read /under-root.yaml: No such file or directory\n");
  std::string outside = dir_.path() + "/outside.yaml";
  std::ofstream(outside) << text;
  ProgramRun apply = sim({"apply", "-f", outside, "--dry-run"});
  EXPECT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_NE(apply.out.find("0000:00:04.0  e1000e -> vfio-pci"), std::string::npos) << apply.out;
  ProgramRun persist = hostpass({"persist", "--format", "cmdline", "-f", outside});
  EXPECT_EQ(persist.exit_code, 0) << persist.err;
  EXPECT_EQ(persist.out, "vfio-pci.ids=8086:10d3\n");
  ProgramRun dir = hostpass({"persist", "--format", "cmdline", "-f", dir_.path()});
  EXPECT_EQ(dir.exit_code, 2);
  EXPECT_EQ(dir.err, "hostpass: cannot read " + dir_.path() + ": it is a directory\n");
}

TEST_F(ApplyCli, RefusesTheRootDiskWithExitTwo) {
  tree_.write("/h.yaml", "version: 1\ndevices:\n  - address: \"0000:00:02.0\"\n");
  auto before = tree_digest(tree_.root(), kBookkeeping);
  ProgramRun r = sim({"apply", "-f", tree_.path("/h.yaml")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("root filesystem"), std::string::npos) << r.err;
  EXPECT_EQ(tree_digest(tree_.root(), kBookkeeping), before);
}

TEST_F(ApplyCli, PersistPrintsByDefaultAndWritesWithWrite) {
  ProgramRun p = hostpass({"persist", "--format", "driverctl"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.out, "==> /etc/driverctl.d/pci-0000:04:00.0 <==\nvfio-pci\n");
  EXPECT_FALSE(fs::exists(tree_.path("/etc/driverctl.d")));
  ProgramRun w = hostpass({"persist", "--format", "driverctl", "--write"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(w.out, "wrote /etc/driverctl.d/pci-0000:04:00.0\n");
  std::ifstream f(tree_.path("/etc/driverctl.d/pci-0000:04:00.0"));
  std::string content((std::istreambuf_iterator<char>(f)), {});
  EXPECT_EQ(content, "vfio-pci\n");
}

TEST_F(ApplyCli, PersistFromAnApplyFile) {
  tree_.write("/etc/hostpass/hostpass.yaml",
              "version: 1\ndevices:\n  - address: \"0000:01:00.0\"\n");
  ProgramRun r =
      hostpass({"persist", "--format", "cmdline", "-f", tree_.path("/etc/hostpass/hostpass.yaml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "vfio-pci.ids=10de:1eb8\n");
  ProgramRun s = hostpass({"persist", "--format", "systemd", "-f",
                           tree_.path("/etc/hostpass/hostpass.yaml"), "--write"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_TRUE(fs::exists(tree_.path("/etc/systemd/system/hostpass.service")));
}

TEST_F(ApplyCli, PersistUdevWarnsOnWorldWritable) {
  ProgramRun r = hostpass({"persist", "--format", "udev", "--udev-world-writable"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("MODE=\"0666\""), std::string::npos);
  EXPECT_NE(r.err.find("hostpass: warning: MODE=0666"), std::string::npos) << r.err;
}

TEST_F(ApplyCli, PersistBadInputExitsTwo) {
  auto before = tree_digest(tree_.root(), "/.simkernel");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"persist", "--format", "yaml"},
        {"persist", "--format", "butane", "--write"},
        {"persist", "--format", "modprobe", "--udev-world-writable"},
        {"persist", "--format", "machineconfig", "--role", "A B"},
        {"persist", "--format", "systemd", "--hostpass-bin", "hostpass"},
        {"persist"}}) {
    ProgramRun r = hostpass(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
  }
  EXPECT_EQ(tree_digest(tree_.root(), "/.simkernel"), before);
}

}  // namespace
}  // namespace hostpass::testing
