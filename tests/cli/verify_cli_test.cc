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
            "device (under --root " +
                tree_.root() +
                ")\n"
                "not assignable: 0000:04:00.0 failed at step 'container'\n");
  EXPECT_EQ(r.err,
            "hostpass: 0000:04:00.0 is not assignable: step 'container' failed: cannot "
            "open the VFIO container: /dev/vfio/vfio is not a character device (under "
            "--root " +
                tree_.root() + ")\n");
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
    EXPECT_TRUE(d["vfio_device"].is_null());
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

// A mediated device is verified by its UUID (VFIO_GROUP_GET_DEVICE_FD takes it); the full walk
// runs on the real kernel's mtty sample (tests/kernel, KernelMdev.Verify*).
TEST_F(VerifyCli, AMediatedDeviceIsNamedByItsUuidWithItsParentAndType) {
  const std::string uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-230", uuid);
  ProgramRun r = hostpass({"--json", "verify", "83B8F4F2-509F-382F-3C1E-E6BFE0FA1001"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["address"], uuid);
  EXPECT_EQ(j[0]["kind"], "mdev");
  EXPECT_EQ(j[0]["mdev_parent"], "0000:01:00.0");
  EXPECT_EQ(j[0]["mdev_type"], "nvidia-230");
  EXPECT_EQ(j[0]["failed_step"], "container");

  ProgramRun text = hostpass({"verify", uuid});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_EQ(text.out.substr(0, text.out.find('\n')), uuid + "  mdev nvidia-230 on 0000:01:00.0");
  EXPECT_EQ(text.out.substr(text.out.rfind("not assignable")),
            "not assignable: " + uuid + " failed at step 'container'\n");
}

TEST_F(VerifyCli, AMalformedUuidOrAddressExits2NamingBothForms) {
  ProgramRun r = hostpass({"verify", "83b8f4f2-509f-382f-3c1e-e6bfe0fa10zz"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("invalid UUID '83b8f4f2-509f-382f-3c1e-e6bfe0fa10zz'"), std::string::npos)
      << r.err;
  ProgramRun other = hostpass({"verify", "gpu0"});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("(or give a mediated device's UUID, as `hostpass mdev list` shows it)"),
            std::string::npos)
      << other.err;
}

}  // namespace
}  // namespace hostpass::testing
