#include "host_use.h"

#include <gtest/gtest.h>

#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::PciSpec;

std::vector<std::string> reasons(const HostUseMap& m, const std::string& addr) {
  std::vector<std::string> out;
  auto it = m.by_device.find(*PciAddress::parse(addr));
  if (it != m.by_device.end())
    for (const HostUse& u : it->second) out.push_back(u.detail);
  return out;
}

class HostUseTest : public ::testing::Test {
 protected:
  HostUseTest() : tree_(dir_.path()), host_(dir_.path()) {}
  void add(const std::string& addr, uint32_t cls, const std::string& driver) {
    PciSpec s;
    s.address = addr;
    s.class_code = cls;
    s.driver = driver;
    tree_.add_pci(s);
  }
  testing::ScratchDir dir_;
  FixtureTree tree_;
  RealHost host_;
};

TEST_F(HostUseTest, StandardHostRootDiskSwapAndUplink) {
  testing::build_standard_host(tree_);
  HostUseMap m = detect_host_use(host_);
  EXPECT_EQ(reasons(m, "0000:00:02.0"),
            (std::vector<std::string>{"root filesystem (/dev/vda1 on /)", "swap (/dev/vda2)"}));
  EXPECT_EQ(reasons(m, "0000:00:03.0"),
            (std::vector<std::string>{"network interface eth0 is up", "default route via eth0"}));
  EXPECT_TRUE(reasons(m, "0000:00:04.0").empty());  // down, no route
  EXPECT_TRUE(reasons(m, "0000:01:00.0").empty());
  EXPECT_TRUE(m.warnings.empty());
}

TEST_F(HostUseTest, DeviceMapperRootIsTracedThroughItsSlaves) {
  add("0000:00:1f.2", 0x010601, "ahci");
  tree_.add_disk("0000:00:1f.2", "ata1/host0/target0:0:0/0:0:0:0", "sda", 8, 0, {"sda1", "sda2"});
  // dm-0 (LVM root) sits on sda2.
  tree_.mkdir("/sys/devices/virtual/block/dm-0/slaves");
  tree_.symlink("../../../../pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda2",
                "/sys/devices/virtual/block/dm-0/slaves/sda2");
  tree_.symlink("../../devices/virtual/block/dm-0", "/sys/class/block/dm-0");
  tree_.symlink("../../devices/virtual/block/dm-0", "/sys/dev/block/253:0");
  tree_.add_mount("/dev/mapper/vg-root", "253:0", "/");
  tree_.add_mount("/dev/sda1", "8:1", "/boot");
  HostUseMap m = detect_host_use(host_);
  EXPECT_EQ(reasons(m, "0000:00:1f.2"),
            (std::vector<std::string>{"root filesystem (/dev/mapper/vg-root on /)",
                                      "mounted (/dev/sda1 on /boot)"}));
}

TEST_F(HostUseTest, MountinfoWithMajorZeroFallsBackToTheSourceDevice) {
  add("0000:00:1f.2", 0x010601, "ahci");
  tree_.add_disk("0000:00:1f.2", "ata1/host0/target0:0:0/0:0:0:0", "sda", 8, 0, {"sda1"});
  tree_.add_mount("/dev/sda1", "0:33", "/srv/my\\040data", "btrfs");
  HostUseMap m = detect_host_use(host_);
  EXPECT_EQ(reasons(m, "0000:00:1f.2"),
            (std::vector<std::string>{"mounted (/dev/sda1 on /srv/my data)"}));
}

TEST_F(HostUseTest, DefaultRouteOnABridgeMarksTheNicBelowIt) {
  add("0000:00:19.0", 0x020000, "e1000e");
  tree_.add_net("0000:00:19.0", "", "eno1", true);
  tree_.add_virtual_net("br0", {"eno1"}, true);
  tree_.set_default_route("br0");
  HostUseMap m = detect_host_use(host_);
  EXPECT_EQ(reasons(m, "0000:00:19.0"),
            (std::vector<std::string>{"network interface eno1 is up", "default route via br0"}));
}

TEST_F(HostUseTest, NvmeMultipathNamespaceFindsItsController) {
  add("0000:03:00.0", 0x010802, "nvme");
  std::string ctrl = "/sys/devices/pci0000:00/0000:03:00.0/nvme/nvme0";
  tree_.mkdir(ctrl);
  std::string ns = "/sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1";
  tree_.mkdir(ns);
  tree_.symlink("../../../pci0000:00/0000:03:00.0/nvme/nvme0",
                "/sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0");
  tree_.symlink("../../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1", "/sys/class/block/nvme0n1");
  tree_.symlink("../../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1", "/sys/dev/block/259:0");
  tree_.add_mount("/dev/nvme0n1", "259:0", "/var/lib/data", "xfs");
  HostUseMap m = detect_host_use(host_);
  EXPECT_EQ(reasons(m, "0000:03:00.0"),
            (std::vector<std::string>{"mounted (/dev/nvme0n1 on /var/lib/data)"}));
}

TEST_F(HostUseTest, BootVgaIsAttachedToDisplayDevices) {
  testing::build_tricky_host(tree_);
  auto ds = discover_pci(host_, DiscoverOptions{});
  ASSERT_TRUE(ds.ok());
  attach_host_use(host_, detect_host_use(host_), *ds);
  for (const PciDevice& d : *ds) {
    if (d.address.to_string() == "0000:05:00.0") {
      ASSERT_EQ(d.in_use.size(), 1u);
      EXPECT_EQ(d.in_use[0].kind, HostUse::Kind::BootVga);
    } else {
      EXPECT_TRUE(d.in_use.empty()) << d.address.to_string();
    }
  }
}

TEST_F(HostUseTest, MissingProcTablesAreWarningsNotFailures) {
  RealHost empty(dir_.path() + "/nothing");
  HostUseMap m = detect_host_use(empty);
  EXPECT_TRUE(m.by_device.empty());
  EXPECT_EQ(m.warnings.size(), 3u);
}

TEST(DeepestPciAddress, PicksTheLastFunctionInThePath) {
  EXPECT_EQ(deepest_pci_address("/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/nvme/nvme0")
                ->to_string(),
            "0000:02:00.0");
  EXPECT_FALSE(deepest_pci_address("/sys/devices/virtual/net/lo").has_value());
}

}  // namespace
}  // namespace hostpass
