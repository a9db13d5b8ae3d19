// The simulated kernel behaves like drivers/pci and drivers/base for every write the bind engine
// (or a user's echo) makes. Each test states the kernel behaviour it checks.
#include "sim_kernel.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "fixture_tree.h"
#include "pci_address.h"
#include "pci_device.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

class SimKernel : public ::testing::Test {
 protected:
  SimKernel() : tree_(dir_.path() + "/root") {
    build_standard_host(tree_);
    PciSpec s;
    s.address = "0000:05:00.0";
    s.vendor = 0x8086;
    s.device = 0x10d3;
    s.driver = "e1000e";  // no iommu_group: the IOMMU does not cover it
    tree_.add_pci(s);
    real_ = std::make_unique<RealHost>(tree_.root());
    sim_ = std::make_unique<SimKernelHost>(*real_);
  }
  std::optional<std::string> driver(const char* a) {
    return current_driver(*sim_, *PciAddress::parse(a));
  }
  std::string override_of(const char* a) {
    auto v = sim_->read_file(std::string("/sys/bus/pci/devices/") + a + "/driver_override");
    return v.ok() ? *v : "<unreadable>";
  }
  bool exists(const std::string& p) { return std::filesystem::exists(tree_.path(p)); }
  Status write(const std::string& path, const std::string& data) {
    return sim_->write_attribute(path, data);
  }

  ScratchDir dir_;
  FixtureTree tree_;
  std::unique_ptr<RealHost> real_;
  std::unique_ptr<SimKernelHost> sim_;
};

TEST_F(SimKernel, DriverOverrideIsStoredAndClearedButNeverRebinds) {
  ASSERT_TRUE(write("/sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci").ok());
  EXPECT_EQ(override_of("0000:01:00.0"), "vfio-pci\n");
  EXPECT_EQ(driver("0000:01:00.0"), "nvidia");
  ASSERT_TRUE(write("/sys/bus/pci/devices/0000:01:00.0/driver_override", "\n").ok());
  EXPECT_EQ(override_of("0000:01:00.0"), "(null)\n");
  // Through the canonical /sys/devices path too, and the value ends at the first newline.
  ASSERT_TRUE(
      write("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/driver_override", "vfio-pci\nrest")
          .ok());
  EXPECT_EQ(override_of("0000:01:00.0"), "vfio-pci\n");
}

TEST_F(SimKernel, UnbindRemovesBothLinks) {
  ASSERT_TRUE(write("/sys/bus/pci/drivers/nvidia/unbind", "0000:01:00.0").ok());
  EXPECT_EQ(driver("0000:01:00.0"), std::nullopt);
  EXPECT_FALSE(exists("/sys/bus/pci/drivers/nvidia/0000:01:00.0"));
  EXPECT_FALSE(std::filesystem::is_symlink(tree_.path("/sys/bus/pci/drivers/nvidia/0000:01:00.0")));
}

TEST_F(SimKernel, UnbindFromAnotherDriverIsENODEVAndChangesNothing) {
  Status s = write("/sys/bus/pci/drivers/e1000e/unbind", "0000:01:00.0");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("No such device"), std::string::npos) << s.error().message;
  EXPECT_EQ(driver("0000:01:00.0"), "nvidia");
}

TEST_F(SimKernel, DeviceDriverUnbindExistsOnlyWhileBound) {
  ASSERT_TRUE(write("/sys/bus/pci/devices/0000:01:00.0/driver/unbind", "0000:01:00.0").ok());
  EXPECT_EQ(driver("0000:01:00.0"), std::nullopt);
  Status s = write("/sys/bus/pci/devices/0000:01:00.0/driver/unbind", "0000:01:00.0");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::NotFound);
}

TEST_F(SimKernel, BindNeedsAMatchAndAnUnboundDevice) {
  // vfio-pci has no ids for the T4 and no override names it: no match.
  Status s = write("/sys/bus/pci/drivers/vfio-pci/bind", "0000:03:00.0");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("No such device"), std::string::npos);
  ASSERT_TRUE(write("/sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci").ok());
  s = write("/sys/bus/pci/drivers/vfio-pci/bind", "0000:01:00.0");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("Device or resource busy"), std::string::npos);
  ASSERT_TRUE(write("/sys/bus/pci/drivers/nvidia/unbind", "0000:01:00.0").ok());
  ASSERT_TRUE(write("/sys/bus/pci/drivers/vfio-pci/bind", "0000:01:00.0").ok());
  EXPECT_EQ(driver("0000:01:00.0"), "vfio-pci");
  EXPECT_TRUE(exists("/dev/vfio/1"));
}

TEST_F(SimKernel, DriversProbeHonoursTheOverrideOnly) {
  ASSERT_TRUE(write("/sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci").ok());
  ASSERT_TRUE(write("/sys/bus/pci/drivers/nvidia/unbind", "0000:01:00.0").ok());
  EXPECT_FALSE(exists("/dev/vfio/1"));
  ASSERT_TRUE(write("/sys/bus/pci/drivers_probe", "0000:01:00.0").ok());
  EXPECT_EQ(driver("0000:01:00.0"), "vfio-pci");
  EXPECT_TRUE(exists("/dev/vfio/1"));
  EXPECT_TRUE(
      std::filesystem::is_symlink(tree_.path("/sys/bus/pci/drivers/vfio-pci/0000:01:00.0")));
}

TEST_F(SimKernel, DriversProbeWithoutOverrideGivesTheNativeDriverBack) {
  ASSERT_TRUE(write("/sys/bus/pci/drivers/nvidia/unbind", "0000:01:00.0").ok());
  ASSERT_TRUE(write("/sys/bus/pci/drivers_probe", "0000:01:00.0\n").ok());
  EXPECT_EQ(driver("0000:01:00.0"), "nvidia");
  // Already bound: drivers_probe changes nothing.
  ASSERT_TRUE(write("/sys/bus/pci/drivers_probe", "0000:01:00.0").ok());
  EXPECT_EQ(driver("0000:01:00.0"), "nvidia");
}

TEST_F(SimKernel, DriversProbeSucceedsEvenWhenNothingClaimsTheDevice) {
  ASSERT_TRUE(write("/sys/bus/pci/devices/0000:01:00.0/driver_override", "nouveau").ok());
  ASSERT_TRUE(write("/sys/bus/pci/drivers/nvidia/unbind", "0000:01:00.0").ok());
  ASSERT_TRUE(write("/sys/bus/pci/drivers_probe", "0000:01:00.0").ok());
  EXPECT_EQ(driver("0000:01:00.0"), std::nullopt);
  Status s = write("/sys/bus/pci/drivers_probe", "0000:77:00.0");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("No such device"), std::string::npos);
}

TEST_F(SimKernel, GroupNodeGoesAwayWithTheLastVfioMember) {
  for (const char* a : {"0000:02:00.0", "0000:02:00.1"}) {
    ASSERT_TRUE(
        write(std::string("/sys/bus/pci/devices/") + a + "/driver_override", "vfio-pci").ok());
    ASSERT_TRUE(write("/sys/bus/pci/drivers/qat_c62x/unbind", a).ok());
    ASSERT_TRUE(write("/sys/bus/pci/drivers_probe", a).ok());
  }
  EXPECT_TRUE(exists("/dev/vfio/6"));
  ASSERT_TRUE(write("/sys/bus/pci/drivers/vfio-pci/unbind", "0000:02:00.0").ok());
  EXPECT_TRUE(exists("/dev/vfio/6"));
  ASSERT_TRUE(write("/sys/bus/pci/drivers/vfio-pci/unbind", "0000:02:00.1").ok());
  EXPECT_FALSE(exists("/dev/vfio/6"));
}

TEST_F(SimKernel, VfioRefusesBridgesAndDevicesWithoutAGroup) {
  ASSERT_TRUE(write("/sys/bus/pci/devices/0000:00:01.0/driver_override", "vfio-pci").ok());
  ASSERT_TRUE(write("/sys/bus/pci/drivers/pcieport/unbind", "0000:00:01.0").ok());
  ASSERT_TRUE(write("/sys/bus/pci/drivers_probe", "0000:00:01.0").ok());
  EXPECT_EQ(driver("0000:00:01.0"), std::nullopt);
  ASSERT_TRUE(write("/sys/bus/pci/devices/0000:05:00.0/driver_override", "vfio-pci").ok());
  ASSERT_TRUE(write("/sys/bus/pci/drivers/e1000e/unbind", "0000:05:00.0").ok());
  EXPECT_FALSE(write("/sys/bus/pci/drivers/vfio-pci/bind", "0000:05:00.0").ok());
  EXPECT_EQ(driver("0000:05:00.0"), std::nullopt);
}

TEST_F(SimKernel, NewIdAttachesUnboundMatchesAndRemoveIdNeverUnbinds) {
  // 0000:03:00.0 (8086:5845) is unbound; 0000:04:00.0 has the same ids and is on vfio-pci.
  ASSERT_TRUE(write("/sys/bus/pci/drivers/vfio-pci/new_id", "8086 5845").ok());
  EXPECT_EQ(driver("0000:03:00.0"), "vfio-pci");
  Status again = write("/sys/bus/pci/drivers/vfio-pci/new_id", "8086 5845");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("File exists"), std::string::npos);
  ASSERT_TRUE(write("/sys/bus/pci/drivers/vfio-pci/remove_id", "8086 5845").ok());
  EXPECT_EQ(driver("0000:03:00.0"), "vfio-pci");
  Status gone = write("/sys/bus/pci/drivers/vfio-pci/remove_id", "8086 5845");
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().message.find("No such device"), std::string::npos);
  EXPECT_FALSE(write("/sys/bus/pci/drivers/vfio-pci/new_id", "zz").ok());
}

TEST_F(SimKernel, ModprobeCreatesTheDriverDirectoryOrFailsOnRequest) {
  SimKernelHost& sim = *sim_;
  sim.remove_driver("vfio-pci");
  // 04:00.0 was on vfio-pci: take it off first (the REQUIRES of remove_driver).
  std::filesystem::remove(tree_.path("/sys/bus/pci/devices/0000:04:00.0/driver"));
  sim.set_modprobe_fails(true);
  auto r = sim.run_command({"modprobe", "vfio-pci"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_NE(r->err.find("Module vfio-pci not found"), std::string::npos);
  EXPECT_FALSE(exists("/sys/bus/pci/drivers/vfio-pci"));
  sim.set_modprobe_fails(false);
  r = sim.run_command({"modprobe", "vfio_pci"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_TRUE(exists("/sys/bus/pci/drivers/vfio-pci/bind"));
  EXPECT_TRUE(exists("/sys/module/vfio_pci"));
  EXPECT_FALSE(sim.run_command({"rm", "-rf", "/"}).ok());
}

TEST_F(SimKernel, RefusedProbeMakesBindFailAndProbeLeaveTheDeviceUnbound) {
  sim_->refuse_probe("vfio-pci", "0000:01:00.0");
  ASSERT_TRUE(write("/sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci").ok());
  ASSERT_TRUE(write("/sys/bus/pci/drivers/nvidia/unbind", "0000:01:00.0").ok());
  EXPECT_FALSE(write("/sys/bus/pci/drivers/vfio-pci/bind", "0000:01:00.0").ok());
  ASSERT_TRUE(write("/sys/bus/pci/drivers_probe", "0000:01:00.0").ok());
  EXPECT_EQ(driver("0000:01:00.0"), std::nullopt);
}

TEST_F(SimKernel, StateIsSharedByEveryHostOverTheSameTree) {
  sim_->set_native_driver("0000:03:00.0", "nvme");
  tree_.add_driver("nvme");
  RealHost other_real(tree_.root());
  SimKernelHost other(other_real);
  EXPECT_EQ(other.native_driver("0000:03:00.0"), "nvme");
  EXPECT_EQ(other.native_driver("0000:01:00.0"), "nvidia");
  EXPECT_EQ(other.native_driver("0000:04:00.0"), std::nullopt);  // vfio-pci claims nothing by id
  ASSERT_TRUE(other.write_attribute("/sys/bus/pci/drivers_probe", "0000:03:00.0").ok());
  EXPECT_EQ(driver("0000:03:00.0"), "nvme");
}

}  // namespace
}  // namespace hostpass::testing
