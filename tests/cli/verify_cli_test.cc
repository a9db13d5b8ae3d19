// End-to-end: `hostpass verify` run as a user would, on fixture roots. A fixture has no VFIO
// device nodes, so verify must stop cleanly at its first step with a clear message and exit 1;
// bad addresses exit 2 before anything is opened. The full walk runs on the real kernel
// (tests/kernel, KernelIommu.Verify*).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "fixture_tree.h"
#include "run_program.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

class VerifyCli : public ::testing::Test {
 protected:
  VerifyCli() : tree_(dir_.path() + "/root") { build_standard_host(tree_); }
  ProgramRun hostpass(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  ScratchDir dir_;
  FixtureTree tree_;
};

TEST_F(VerifyCli, OnAFixtureRootFailsAtTheContainerStepWithExit1) {
  // The standard host has a plain file at /dev/vfio/vfio, as fixtures do.
  ProgramRun r = hostpass({"verify", "0000:04:00.0"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out,
            "0000:04:00.0\n"
            "  FAIL container cannot open the VFIO container: /dev/vfio/vfio is not a character "
            "device (under --root " + tree_.root() + ")\n"
            "not assignable: 0000:04:00.0 failed at step 'container'\n");
  EXPECT_EQ(r.err, "hostpass: 0000:04:00.0 is not assignable: step 'container' failed: cannot "
                   "open the VFIO container: /dev/vfio/vfio is not a character device (under "
                   "--root " + tree_.root() + ")\n");
}

TEST_F(VerifyCli, WithoutTheContainerNodeSaysTheVfioModuleIsNotLoaded) {
  std::filesystem::remove(tree_.path("/dev/vfio/vfio"));
  ProgramRun r = hostpass({"verify", "04:00.0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("  FAIL container no /dev/vfio/vfio character device: the vfio module is "
                       "not loaded (modprobe vfio-pci"),
            std::string::npos)
      << r.out;
}

TEST_F(VerifyCli, JsonNamesTheFailedStepForEveryDevice) {
  ProgramRun r = hostpass({"--json", "verify", "0000:04:00.0", "0000:03:00.0"});
  EXPECT_EQ(r.exit_code, 1);
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["address"], "0000:04:00.0");
  EXPECT_EQ(j[1]["address"], "0000:03:00.0");
  for (const auto& d : j) {
    EXPECT_EQ(d["ok"], false);
    EXPECT_EQ(d["failed_step"], "container");
    ASSERT_EQ(d["steps"].size(), 1u);
    EXPECT_EQ(d["steps"][0]["step"], "container");
    EXPECT_EQ(d["steps"][0]["ok"], false);
    EXPECT_TRUE(d["iommu_group"].is_null());
    EXPECT_TRUE(d["device"].is_null());
  }
}

TEST_F(VerifyCli, BadAddressesExit2BeforeAnythingIsOpened) {
  for (const char* bad : {"06:00", "0000:06:00.8", "../x", "0000:04:00.0/../.."}) {
    ProgramRun r = hostpass({"verify", "0000:04:00.0", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_EQ(r.out, "") << bad;  // nothing verified, not even the valid first address
  }
  ProgramRun none = hostpass({"verify"});
  EXPECT_EQ(none.exit_code, 2);
}

}  // namespace
}  // namespace hostpass::testing
