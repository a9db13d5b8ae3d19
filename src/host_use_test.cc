#include "host_use.h"

#include <gtest/gtest.h>

#include <filesystem>

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
  tree_.symlink("../../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1",
                "/sys/class/block/nvme0n1");
  tree_.symlink("../../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1",
                "/sys/dev/block/259:0");
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

TEST_F(HostUseTest, ARootWithoutProcIsUnseen) {
  RealHost empty(dir_.path() + "/nothing");
  HostUseMap m = detect_host_use(empty);
  EXPECT_TRUE(m.by_device.empty());
  EXPECT_EQ(m.warnings.size(), 3u);  // mounts, swaps, network interfaces
  ASSERT_TRUE(m.unseen.has_value());
  EXPECT_NE(m.unseen->find("no mount table can be read"), std::string::npos) << *m.unseen;
  EXPECT_NE(m.unseen->find("/sys/class/net cannot be listed"), std::string::npos) << *m.unseen;
}

// One /proc/<pid>/mountinfo line as the kernel prints it.
std::string mountinfo_line(int id, const std::string& majmin, const std::string& root,
                           const std::string& point, const std::string& fstype,
                           const std::string& source) {
  return std::to_string(id) + " 1 " + majmin + " " + root + " " + point +
         " rw,relatime shared:1 - " + fstype + " " + source + " rw\n";
}

// A container's own table: an overlay "/", and the host's disk only through the files the
// runtime binds in (their root field is the path on the host's filesystem).
std::string container_mountinfo() {
  return mountinfo_line(900, "0:120", "/", "/", "overlay",
                        "overlay rw,lowerdir=/var/lib/containerd/snapshots/1/fs") +
         mountinfo_line(901, "0:121", "/", "/proc", "proc", "proc") +
         mountinfo_line(902, "254:1", "/var/lib/kubelet/pods/p1/etc-hosts", "/etc/hosts", "ext4",
                        "/dev/vda1");
}

TEST_F(HostUseTest, AFreshFixtureIsAHostSeenFromItsOwnNamespace) {
  // rootfs on "/", no /proc/1: what every test tree looks like.
  HostUseMap m = detect_host_use(host_);
  EXPECT_FALSE(m.unseen.has_value()) << *m.unseen;
  testing::build_standard_host(tree_);
  EXPECT_FALSE(detect_host_use(host_).unseen.has_value());
}

TEST_F(HostUseTest, ChrootWithoutARootEntryIsUnseen) {
  testing::build_standard_host(tree_);
  // chroot /srv/jail: only the mounts below the jail, relative to it; the host's "/" is outside.
  tree_.write("/proc/self/mountinfo",
              mountinfo_line(40, "0:5", "/", "/proc", "proc", "proc") +
                  mountinfo_line(41, "254:1", "/srv/jail/data", "/data", "ext4", "/dev/vda1"));
  HostUseMap m = detect_host_use(host_);
  ASSERT_TRUE(m.unseen.has_value());
  EXPECT_NE(m.unseen->find("/proc/self/mountinfo has no entry for \"/\""), std::string::npos)
      << *m.unseen;
  EXPECT_NE(m.unseen->find("chroot"), std::string::npos) << *m.unseen;
  EXPECT_NE(m.unseen->find("hostPID: true"), std::string::npos) << *m.unseen;
  // What it did see is kept, and is not mistaken for the root filesystem.
  EXPECT_EQ(reasons(m, "0000:00:02.0"),
            (std::vector<std::string>{"mounted (/dev/vda1 on /data)", "swap (/dev/vda2)"}));
}

TEST_F(HostUseTest, ChrootWithProcMountedSeesTheHostThroughPid1) {
  testing::build_standard_host(tree_);
  tree_.write("/proc/1/mountinfo", *host_.read_file("/proc/self/mountinfo"));
  tree_.write("/proc/self/mountinfo", mountinfo_line(40, "0:5", "/", "/proc", "proc", "proc"));
  HostUseMap m = detect_host_use(host_);
  EXPECT_FALSE(m.unseen.has_value()) << *m.unseen;
  EXPECT_EQ(reasons(m, "0000:00:02.0")[0], "root filesystem (/dev/vda1 on /)");
}

TEST_F(HostUseTest, PodWithHostPidFindsTheHostsRootDiskThroughPid1) {
  testing::build_standard_host(tree_);
  tree_.write("/proc/1/mountinfo", *host_.read_file("/proc/self/mountinfo"));  // the host's
  tree_.write("/proc/self/mountinfo", container_mountinfo());                  // the pod's
  tree_.symlink("mnt:[4026533001]", "/proc/self/ns/mnt");
  tree_.symlink("mnt:[4026531841]", "/proc/1/ns/mnt");
  HostUseMap m = detect_host_use(host_);
  EXPECT_FALSE(m.unseen.has_value()) << *m.unseen;
  EXPECT_EQ(reasons(m, "0000:00:02.0"),
            (std::vector<std::string>{"root filesystem (/dev/vda1 on /)", "swap (/dev/vda2)"}));
}

TEST_F(HostUseTest, PodWithoutHostPidIsUnseen) {
  testing::build_standard_host(tree_);
  // Its /proc/1 is the container's own init: the same namespace, the same overlay "/".
  tree_.write("/proc/1/mountinfo", container_mountinfo());
  tree_.write("/proc/self/mountinfo", container_mountinfo());
  tree_.symlink("mnt:[4026533001]", "/proc/self/ns/mnt");
  tree_.symlink("mnt:[4026533001]", "/proc/1/ns/mnt");
  HostUseMap m = detect_host_use(host_);
  ASSERT_TRUE(m.unseen.has_value());
  EXPECT_NE(m.unseen->find("\"/\" is overlay in /proc/1/mountinfo"), std::string::npos)
      << *m.unseen;
  EXPECT_NE(m.unseen->find("run hostpass on the host, or in the pod with hostPID: true and the "
                           "host's /proc mounted"),
            std::string::npos)
      << *m.unseen;
  // The bind-mounted /etc/hosts shows the disk mounted, never as the root filesystem.
  EXPECT_EQ(reasons(m, "0000:00:02.0")[0], "mounted (/dev/vda1 on /etc/hosts)");
}

TEST_F(HostUseTest, AnOverlayStackedOnRootIsUnseenEvenAboveADisk) {
  testing::build_standard_host(tree_);
  tree_.add_mount("overlay", "0:120", "/", "overlay");  // the last "/" entry is the top
  HostUseMap m = detect_host_use(host_);
  ASSERT_TRUE(m.unseen.has_value());
  EXPECT_NE(m.unseen->find("\"/\" is overlay in /proc/self/mountinfo"), std::string::npos);
}

TEST_F(HostUseTest, AnotherMountNamespaceWithoutPid1sTableIsUnseen) {
  testing::build_standard_host(tree_);  // its own table has a disk on "/", yet it is not the host's
  tree_.symlink("mnt:[4026533001]", "/proc/self/ns/mnt");
  tree_.symlink("mnt:[4026531841]", "/proc/1/ns/mnt");
  HostUseMap m = detect_host_use(host_);
  ASSERT_TRUE(m.unseen.has_value());
  EXPECT_NE(m.unseen->find("another mount namespace (mnt:[4026533001]) than the host's init "
                           "(mnt:[4026531841]) and cannot read /proc/1/mountinfo"),
            std::string::npos)
      << *m.unseen;
  // The same links in the same namespace (hidepid hides /proc/1's tables): seen.
  tree_.symlink("mnt:[4026533001]", "/proc/1/ns/mnt");
  EXPECT_FALSE(detect_host_use(host_).unseen.has_value());
}

TEST_F(HostUseTest, MountsFallBackToProcSelfMounts) {
  testing::build_standard_host(tree_);
  std::filesystem::remove(tree_.path("/proc/self/mountinfo"));
  HostUseMap m = detect_host_use(host_);
  EXPECT_FALSE(m.unseen.has_value()) << *m.unseen;
  EXPECT_EQ(reasons(m, "0000:00:02.0")[0], "root filesystem (/dev/vda1 on /)");
}

TEST_F(HostUseTest, RoutesComeFromPid1sNetworkNamespace) {
  testing::build_standard_host(tree_);
  // The host's default route leaves through the NIC that is down here (enp0s4); this process's
  // own namespace (/proc/net) routes through eth0.
  std::string header =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
  tree_.write("/proc/1/net/route",
              header + "enp0s4\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
  tree_.write("/proc/1/net/ipv6_route", "");
  HostUseMap m = detect_host_use(host_);
  EXPECT_EQ(reasons(m, "0000:00:04.0"), (std::vector<std::string>{"default route via enp0s4"}));
  EXPECT_EQ(reasons(m, "0000:00:03.0"), (std::vector<std::string>{"network interface eth0 is up"}));
  EXPECT_FALSE(m.unseen.has_value());
  // IPv6 only: the default route (::/0) in /proc/1/net/ipv6_route.
  tree_.write("/proc/1/net/route", header);
  tree_.write("/proc/1/net/ipv6_route",
              std::string(32, '0') + " 00 " + std::string(32, '0') + " 00 " +
                  "fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n");
  EXPECT_EQ(reasons(detect_host_use(host_), "0000:00:03.0"),
            (std::vector<std::string>{"network interface eth0 is up", "default route via eth0"}));
}

TEST_F(HostUseTest, SysfsOfAnotherNetworkNamespaceIsUnseen) {
  testing::build_standard_host(tree_);
  std::string dev_header =
      "Inter-|   Receive                            |  Transmit\n"
      " face |bytes    packets errs drop fifo frame|bytes    packets errs drop fifo colls\n";
  auto dev_line = [](const std::string& name) {
    return std::string(6 - std::min<size_t>(6, name.size()), ' ') + name +
           ":    3267      29    0    0    0     0     3267      29    0    0    0     0\n";
  };
  tree_.write("/proc/1/net/route", *host_.read_file("/proc/net/route"));
  // The host's namespace has exactly the interfaces this sysfs lists: seen.
  tree_.write("/proc/1/net/dev", dev_header + dev_line("eth0") + dev_line("enp0s4"));
  EXPECT_FALSE(detect_host_use(host_).unseen.has_value());
  // It has eno1 and eno2, which this sysfs (a pod's, without hostNetwork) lacks.
  tree_.write("/proc/1/net/dev", dev_header + dev_line("eth0") + dev_line("enp0s4") +
                                     dev_line("eno1") + dev_line("eno2"));
  HostUseMap m = detect_host_use(host_);
  ASSERT_TRUE(m.unseen.has_value());
  EXPECT_NE(m.unseen->find("/sys/class/net lacks eno1, eno2 of /proc/1/net/dev"), std::string::npos)
      << *m.unseen;
  EXPECT_NE(m.unseen->find("hostNetwork: true"), std::string::npos) << *m.unseen;
  EXPECT_EQ(m.unseen->find("hostPID"), std::string::npos) << *m.unseen;  // the mounts are seen
}

TEST_F(HostUseTest, MountFieldsAreDecodedAsTheKernelEscapesThem) {
  add("0000:00:1f.2", 0x010601, "ahci");
  tree_.add_disk("0000:00:1f.2", "ata1/host0/target0:0:0/0:0:0:0", "sda", 8, 0,
                 {"sda1", "sda2", "sda3"});
  // \040 space and \134 backslash decode; \012 (newline) and a raw ESC stay escaped so that the
  // reason is one line; invalid UTF-8 (0xff) is kept raw, for JSON output to replace.
  tree_.add_mount("/dev/sda1", "8:1", "/srv/a\\040b\\134c");
  tree_.add_mount("/dev/sda2", "8:2", "/srv/x\\012y\x1bz");
  tree_.add_mount("/dev/sda3", "8:3", "/srv/caf\xc3\xa9\xff");
  HostUseMap m = detect_host_use(host_);
  EXPECT_EQ(reasons(m, "0000:00:1f.2"),
            (std::vector<std::string>{"mounted (/dev/sda1 on /srv/a b\\c)",
                                      "mounted (/dev/sda2 on /srv/x\\012y\\033z)",
                                      "mounted (/dev/sda3 on /srv/caf\xc3\xa9\xff)"}));
}

TEST(DeepestPciAddress, PicksTheLastFunctionInThePath) {
  EXPECT_EQ(deepest_pci_address("/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/nvme/nvme0")
                ->to_string(),
            "0000:02:00.0");
  EXPECT_FALSE(deepest_pci_address("/sys/devices/virtual/net/lo").has_value());
}

}  // namespace
}  // namespace hostpass
