// End-to-end: `hostpass mdev ...` on the standard fixture host (T4 0000:01:00.0 with nvidia-222
// GRID T4-1B x16, nvidia-223 GRID T4-2B x8, nvidia-230 GRID T4-1Q x16).
//
// Read commands run the built binary. create/remove need the kernel's mdev core behind the
// `create` and `remove` attributes, which plain fixture files do not have: those run the same
// CLI code (run_cli) in this process over tests/support/sim_mdev.h, and the binary is used for
// what it can show on plain files (bad input, refusals, and noticing that no device appeared).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli.h"
#include "fixture_tree.h"
#include "run_cli_captured.h"
#include "run_program.h"
#include "sim_mdev.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

constexpr const char* kUuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";

class MdevCli : public ::testing::Test {
 protected:
  MdevCli() : tree_(dir_.path() + "/root") { build_standard_host(tree_); }
  ProgramRun hostpass(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  // run_cli in this process, over the simulated mdev core.
  ProgramRun hostpass_sim(std::vector<std::string> args) {
    args.insert(args.begin(), {"--root", tree_.root()});
    return run_cli_captured(args, [](const std::string& root) {
      return std::make_unique<SimMdevHost>(std::make_unique<RealHost>(root));
    });
  }
  std::string file(const std::string& p) {
    std::ifstream in(tree_.path(p));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  ScratchDir dir_;
  FixtureTree tree_;
};

TEST_F(MdevCli, TypesPrintsMdevctlsLayout) {
  ProgramRun r = hostpass({"mdev", "types"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "0000:01:00.0\n"
            "  nvidia-222\n    Available instances: 16\n    Device API: vfio-pci\n"
            "    Name: GRID T4-1B\n    Description: num_heads=4\n"
            "  nvidia-223\n    Available instances: 8\n    Device API: vfio-pci\n"
            "    Name: GRID T4-2B\n    Description: num_heads=4\n"
            "  nvidia-230\n    Available instances: 16\n    Device API: vfio-pci\n"
            "    Name: GRID T4-1Q\n    Description: num_heads=4\n");
}

TEST_F(MdevCli, TypesJsonHasTheDocumentedKeys) {
  ProgramRun r = hostpass({"--json", "mdev", "types", "--parent", "0000:01:00.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[1], (nlohmann::json{{"parent", "0000:01:00.0"},
                                  {"id", "nvidia-223"},
                                  {"name", "GRID T4-2B"},
                                  {"description", "num_heads=4"},
                                  {"device_api", "vfio-pci"},
                                  {"available_instances", 8}}));
}

TEST_F(MdevCli, ListShowsActiveAndDefinedDevices) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-230", kUuid);
  tree_.write(std::string("/etc/mdevctl.d/0000:01:00.0/") + kUuid,
              "{\n  \"mdev_type\": \"nvidia-230\",\n  \"start\": \"auto\",\n  \"attrs\": []\n}");
  tree_.write("/etc/mdevctl.d/0000:01:00.0/00000000-0000-4000-8000-000000000007",
              "{\n  \"mdev_type\": \"nvidia-222\",\n  \"start\": \"manual\"\n}");
  ProgramRun r = hostpass({"mdev", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "00000000-0000-4000-8000-000000000007 0000:01:00.0 nvidia-222  not active, defined "
            "(start: manual)\n" +
                std::string(kUuid) +
                " 0000:01:00.0 nvidia-230 (GRID T4-1Q)  active, defined (start: auto)\n");
  ProgramRun j = hostpass({"--json", "mdev", "list"});
  ASSERT_EQ(j.exit_code, 0);
  auto a = nlohmann::json::parse(j.out);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1]["uuid"], kUuid);
  EXPECT_EQ(a[1]["type"], "nvidia-230");
  EXPECT_EQ(a[1]["type_name"], "GRID T4-1Q");
  EXPECT_EQ(a[1]["active"], true);
  EXPECT_EQ(a[1]["definition"]["start"], "auto");
  EXPECT_EQ(a[0]["active"], false);
}

TEST_F(MdevCli, CreateAndRemoveThroughTheKernelsMdevCore) {
  ProgramRun c = hostpass_sim(
      {"mdev", "create", "--parent", "0000:01:00.0", "--type", "GRID T4-1Q", "--uuid", kUuid});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, std::string(kUuid) + "\n");
  EXPECT_TRUE(
      std::filesystem::is_symlink(tree_.path(std::string("/sys/bus/mdev/devices/") + kUuid)));
  EXPECT_EQ(
      file("/sys/class/mdev_bus/0000:01:00.0/mdev_supported_types/nvidia-230/available_instances"),
      "15\n");
  EXPECT_EQ(file(std::string("/etc/mdevctl.d/0000:01:00.0/") + kUuid),
            "{\n  \"mdev_type\": \"nvidia-230\",\n  \"start\": \"auto\",\n  \"attrs\": []\n}");

  ProgramRun l = hostpass({"mdev", "list"});  // the real binary sees what the kernel made
  EXPECT_EQ(l.out, std::string(kUuid) +
                       " 0000:01:00.0 nvidia-230 (GRID T4-1Q)  active, defined (start: auto)\n");

  ProgramRun r = hostpass_sim({"mdev", "remove", kUuid});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string("removed ") + kUuid + " and its mdevctl definition\n");
  EXPECT_FALSE(std::filesystem::exists(tree_.path(std::string("/sys/bus/mdev/devices/") + kUuid)));
  EXPECT_FALSE(
      std::filesystem::exists(tree_.path(std::string("/etc/mdevctl.d/0000:01:00.0/") + kUuid)));
  EXPECT_EQ(
      file("/sys/class/mdev_bus/0000:01:00.0/mdev_supported_types/nvidia-230/available_instances"),
      "16\n");
}

TEST_F(MdevCli, TransientCreateWritesNoDefinitionAndPrintsAGeneratedUuid) {
  ProgramRun c = hostpass_sim(
      {"mdev", "create", "--parent", "0000:01:00.0", "--type", "nvidia-223", "--transient"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, "00000000-0000-4000-8000-000000000001\n");
  EXPECT_FALSE(std::filesystem::exists(tree_.path("/etc/mdevctl.d/0000:01:00.0")));
}

TEST_F(MdevCli, CreateWithNoInstanceLeftIsRefusedWithExitTwo) {
  tree_.write(
      "/sys/class/mdev_bus/0000:01:00.0/mdev_supported_types/nvidia-230/available_instances",
      "0\n");
  ProgramRun r = hostpass({"mdev", "create", "--parent", "0000:01:00.0", "--type", "nvidia-230"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "hostpass: no available instances of nvidia-230 (GRID T4-1Q) on 0000:01:00.0: "
            "remove an instance first (`hostpass mdev list`)\n");
}

TEST_F(MdevCli, BadUuidOrParentExitsTwoAndWritesNothing) {
  ProgramRun u = hostpass({"mdev", "create", "--parent", "0000:01:00.0", "--type", "nvidia-230",
                           "--uuid", "not-a-uuid"});
  EXPECT_EQ(u.exit_code, 2);
  EXPECT_NE(u.err.find("invalid UUID 'not-a-uuid'"), std::string::npos) << u.err;
  ProgramRun p = hostpass({"mdev", "create", "--parent", "../..", "--type", "nvidia-230"});
  EXPECT_EQ(p.exit_code, 2);
  ProgramRun rm = hostpass({"mdev", "remove", "1234"});
  EXPECT_EQ(rm.exit_code, 2);
  EXPECT_EQ(file("/sys/class/mdev_bus/0000:01:00.0/mdev_supported_types/nvidia-230/create"), "");
}

// --parent goes through pci_address_resolve.h: a short form is the one domain that has it; absent,
// malformed and a device without mdev types are exit 2 (they used to print nothing, exit 0).
TEST_F(MdevCli, ParentIsResolvedAndBadParentsExitTwo) {
  ProgramRun full = hostpass({"mdev", "types", "--parent", "0000:01:00.0"});
  ProgramRun short_form = hostpass({"mdev", "types", "--parent", "01:00.0"});
  ASSERT_EQ(short_form.exit_code, 0) << short_form.err;
  EXPECT_EQ(short_form.out, full.out);
  EXPECT_NE(full.out, "");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"0000:99:00.0", "hostpass: no PCI device 0000:99:00.0 on this host\n"},
      {"00:04.0",
       "hostpass: 0000:00:04.0 is not a mediated device parent (no mdev_supported_types)\n"},
      {"garbage",
       "hostpass: no mediated device parent 'garbage' on this host (not in /sys/class/mdev_bus, "
       "and not a PCI address such as 0000:01:00.0)\n"}};
  for (const auto& [parent, says] : bad) {
    ProgramRun t = hostpass({"mdev", "types", "--parent", parent});
    EXPECT_EQ(t.exit_code, 2) << parent;
    EXPECT_EQ(t.out, "") << parent;
    EXPECT_EQ(t.err, says) << parent;
    ProgramRun c = hostpass({"mdev", "create", "--parent", parent, "--type", "nvidia-230"});
    EXPECT_EQ(c.exit_code, 2) << parent;
    EXPECT_EQ(c.err, says) << parent;
  }
  ProgramRun made = hostpass_sim({"mdev", "create", "--parent", "01:00.0", "--type", "nvidia-230",
                                  "--uuid", kUuid, "--transient"});
  EXPECT_EQ(made.exit_code, 0) << made.err;
  EXPECT_EQ(made.out, std::string(kUuid) + "\n");
}

TEST_F(MdevCli, CreateFailsWhenNoDeviceAppears) {
  // The binary on plain files: the write lands in an ordinary file and nothing appears.
  ProgramRun r = hostpass(
      {"mdev", "create", "--parent", "0000:01:00.0", "--type", "nvidia-230", "--uuid", kUuid});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("did not appear"), std::string::npos) << r.err;
  EXPECT_FALSE(
      std::filesystem::exists(tree_.path(std::string("/etc/mdevctl.d/0000:01:00.0/") + kUuid)));
}

TEST_F(MdevCli, RemovingAnUnknownDeviceFails) {
  ProgramRun r = hostpass({"mdev", "remove", kUuid});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, std::string("hostpass: no mediated device ") + kUuid +
                       " (neither active nor defined; see `hostpass mdev list`)\n");
}

// ---- mdev apply ----

constexpr const char* kCr = R"(apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata:
  name: kubevirt
  namespace: kubevirt
spec:
  configuration:
    mediatedDevicesConfiguration:
      mediatedDeviceTypes:
      - nvidia-230
      nodeMediatedDeviceTypes:
      - nodeSelector:
          kubernetes.io/hostname: node02
        mediatedDeviceTypes:
        - GRID_T4-2B
    permittedHostDevices:
      mediatedDevices:
      - mdevNameSelector: "GRID T4-1Q"
        resourceName: "nvidia.com/GRID_T4-1Q"
)";

class MdevApplyCli : public MdevCli {
 protected:
  MdevApplyCli() : cr_(dir_.path() + "/kubevirt.yaml") { std::ofstream(cr_) << kCr; }
  size_t instances() {
    return std::distance(std::filesystem::directory_iterator(tree_.path("/sys/bus/mdev/devices")),
                         std::filesystem::directory_iterator());
  }
  std::string cr_;
};

TEST_F(MdevApplyCli, CreatesTheClusterWideTypeThenChangesNothingOnReapply) {
  ProgramRun r = hostpass_sim({"mdev", "apply", "-f", cr_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "desired types: nvidia-230\n"
            "0000:01:00.0: create 16 x nvidia-230 (GRID T4-1Q)\n"
            "created 16 mediated devices (mdevctl definitions written)\n");
  EXPECT_EQ(instances(), 16u);
  EXPECT_EQ(
      std::distance(std::filesystem::directory_iterator(tree_.path("/etc/mdevctl.d/0000:01:00.0")),
                    std::filesystem::directory_iterator()),
      16);
  EXPECT_EQ(
      file("/sys/class/mdev_bus/0000:01:00.0/mdev_supported_types/nvidia-230/available_instances"),
      "0\n");

  ProgramRun again = hostpass_sim({"mdev", "apply", "-f", cr_});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out,
            "desired types: nvidia-230\n"
            "0000:01:00.0: already has mediated devices: left as it is\n"
            "created 0 mediated devices\n");
  EXPECT_EQ(instances(), 16u);
}

TEST_F(MdevApplyCli, NodeLabelsSelectNodeMediatedDeviceTypes) {
  ProgramRun r = hostpass_sim(
      {"mdev", "apply", "-f", cr_, "--node-label", "kubernetes.io/hostname=node02", "--transient"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "desired types: GRID_T4-2B\n"
            "0000:01:00.0: create 8 x nvidia-223 (GRID T4-2B)\n"
            "created 8 mediated devices\n");
  EXPECT_FALSE(std::filesystem::exists(tree_.path("/etc/mdevctl.d/0000:01:00.0")));
}

TEST_F(MdevApplyCli, TheHostnameIsANodeLabel) {
  tree_.write("/proc/sys/kernel/hostname", "node02\n");
  ProgramRun r = hostpass({"mdev", "apply", "-f", cr_, "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "desired types: GRID_T4-2B\n"
            "0000:01:00.0: would create 8 x nvidia-223 (GRID T4-2B)\n");
}

TEST_F(MdevApplyCli, DryRunChangesNothingAndJsonShowsThePlan) {
  ProgramRun r = hostpass({"--json", "mdev", "apply", "-f", cr_, "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["dry_run"], true);
  EXPECT_EQ(j["desired"], (nlohmann::json{"nvidia-230"}));
  EXPECT_EQ(j["creates"], (nlohmann::json{{{"parent", "0000:01:00.0"},
                                           {"type", "nvidia-230"},
                                           {"type_name", "GRID T4-1Q"},
                                           {"count", 16},
                                           {"after_removal", false}}}));
  EXPECT_EQ(j["removes"], nlohmann::json::array());
  EXPECT_EQ(j["kept"], nlohmann::json::array());
  EXPECT_EQ(j["removed"], nlohmann::json::array());
  EXPECT_EQ(j["created"], nlohmann::json::array());
  EXPECT_EQ(file("/sys/class/mdev_bus/0000:01:00.0/mdev_supported_types/nvidia-230/create"), "");
  EXPECT_FALSE(std::filesystem::exists(tree_.path("/etc/mdevctl.d")));
}

// KubeVirt's removeUndesiredMDEVs: an instance of a type no longer desired is removed (with the
// mdevctl definition), and its card is configured with the desired type in the same run.
TEST_F(MdevApplyCli, AnInstanceOfATypeNoLongerDesiredIsRemovedAndItsCardReconfigured) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kUuid);
  tree_.write(std::string("/etc/mdevctl.d/0000:01:00.0/") + kUuid,
              "{\n  \"mdev_type\": \"nvidia-222\",\n  \"start\": \"auto\",\n  \"attrs\": []\n}");
  ProgramRun dry = hostpass({"mdev", "apply", "-f", cr_, "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(dry.out, std::string("desired types: nvidia-230\n"
                                 "would remove ") +
                         kUuid +
                         " 0000:01:00.0 nvidia-222 (GRID T4-1B): type not desired\n"
                         "0000:01:00.0: would create nvidia-230 (GRID T4-1Q), as many as it offers "
                         "once its undesired instances are removed\n");
  EXPECT_EQ(instances(), 1u);

  ProgramRun r = hostpass_sim({"mdev", "apply", "-f", cr_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string("desired types: nvidia-230\n"
                               "remove ") +
                       kUuid +
                       " 0000:01:00.0 nvidia-222 (GRID T4-1B): type not desired\n"
                       "0000:01:00.0: create nvidia-230 (GRID T4-1Q), as many as it offers once "
                       "its undesired instances are removed\n"
                       "removed 1 mediated device\n"
                       "created 16 mediated devices (mdevctl definitions written)\n");
  EXPECT_EQ(instances(), 16u);
  EXPECT_FALSE(std::filesystem::exists(tree_.path(std::string("/sys/bus/mdev/devices/") + kUuid)));
  EXPECT_FALSE(
      std::filesystem::exists(tree_.path(std::string("/etc/mdevctl.d/0000:01:00.0/") + kUuid)));
}

TEST_F(MdevApplyCli, AnInstanceAVmHoldsIsKeptAndNamesTheProcess) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kUuid);
  tree_.symlink("../../../../../../kernel/iommu_groups/12",
                std::string("/sys/bus/mdev/devices/") + kUuid + "/iommu_group");
  tree_.write("/proc/4242/comm", "qemu-system-x86\n");
  tree_.symlink("/dev/vfio/12", "/proc/4242/fd/31");
  ProgramRun r = hostpass_sim({"mdev", "apply", "-f", cr_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string("desired types: nvidia-230\n"
                               "kept: ") +
                       kUuid +
                       " 0000:01:00.0 nvidia-222: not desired but in use by 4242 "
                       "(qemu-system-x86) through /dev/vfio/12; stop that VM first\n"
                       "0000:01:00.0: already has mediated devices: left as it is\n"
                       "created 0 mediated devices\n");
  EXPECT_EQ(instances(), 1u);
}

TEST_F(MdevApplyCli, KeepUndesiredOnlyReports) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kUuid);
  ProgramRun r = hostpass_sim({"--json", "mdev", "apply", "-f", cr_, "--keep-undesired"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kept"], (nlohmann::json{{{"uuid", kUuid},
                                        {"parent", "0000:01:00.0"},
                                        {"type", "nvidia-222"},
                                        {"reason", "not desired; kept (--keep-undesired)"}}}));
  EXPECT_EQ(j["removed"], nlohmann::json::array());
  EXPECT_EQ(j["created"], nlohmann::json::array());
  EXPECT_EQ(instances(), 1u);
}

// A misspelt type (spaces where KubeVirt compares '_', a wrong letter) matches nothing, so the
// plan would remove the live T4-1Q instance and create nothing: refused, overridable by --force.
TEST_F(MdevApplyCli, AProbableTypoThatWouldRemoveALiveInstanceIsRefusedUnlessForced) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-230", kUuid);
  std::ofstream(cr_) << "spec:\n  configuration:\n    mediatedDevicesConfiguration:\n"
                        "      mediatedDeviceTypes:\n      - GRID T4-1X\n";
  ProgramRun r = hostpass_sim({"mdev", "apply", "-f", cr_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("the wanted type 'GRID T4-1X' matches no type on this host (nearest "
                       "offered: 'GRID T4-1B' (nvidia-222), 'GRID T4-1Q' (nvidia-230)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(std::string("the plan would remove ") + kUuid), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force=unmatched-type"), std::string::npos) << r.err;
  EXPECT_EQ(instances(), 1u);
  ProgramRun dry = hostpass({"mdev", "apply", "-f", cr_, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 2) << dry.err;

  ProgramRun forced = hostpass_sim({"mdev", "apply", "-f", cr_, "--force=unmatched-type"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(forced.err.find("--force=unmatched-type: overriding for mdev apply"), std::string::npos)
      << forced.err;
  EXPECT_EQ(instances(), 0u);
}

TEST_F(MdevApplyCli, AnUnmatchedTypeThatRemovesNothingPasses) {
  std::ofstream(cr_) << "spec:\n  configuration:\n    mediatedDevicesConfiguration:\n"
                        "      mediatedDeviceTypes:\n      - nvidia-230\n      - A100-1-5C\n";
  ProgramRun r = hostpass({"mdev", "apply", "-f", cr_, "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(MdevApplyCli, ABrokenCrExitsTwoWithFileAndLine) {
  std::ofstream(cr_) << "spec:\n  configuration:\n    mediatedDevicesConfiguration:\n"
                        "      mediatedDeviceTypes: nvidia-230\n";
  ProgramRun r = hostpass({"mdev", "apply", "-f", cr_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(cr_ + ":4"), std::string::npos) << r.err;
}

TEST_F(MdevApplyCli, BadNodeLabelExitsTwo) {
  ProgramRun r = hostpass({"mdev", "apply", "-f", cr_, "--node-label", "nolabel"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "hostpass: invalid --node-label 'nolabel': expected KEY=VALUE, as in "
            "nvidia.com/gpu.product=Tesla-T4\n");
}

}  // namespace
}  // namespace hostpass::testing
