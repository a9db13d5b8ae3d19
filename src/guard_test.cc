// guard_test.cc — the --force convention and the host-use blockers.
#include "guard.h"

#include <gtest/gtest.h>

#include "test_dirs.h"

namespace hostpass {
namespace {

PciAddress addr(const char* text) {
  return *PciAddress::parse(text);
}

TEST(Guard, NamesRoundTrip) {
  for (Guard g :
       {Guard::RootFilesystem, Guard::HostUnseen, Guard::Mounted, Guard::Swap, Guard::NetworkUp,
        Guard::DefaultRoute, Guard::BootVga, Guard::SriovVfs, Guard::MdevLive, Guard::MdevDefined,
        Guard::LedgerAssigned, Guard::UnmatchedType}) {
    auto back = parse_guard_name(guard_name(g));
    ASSERT_TRUE(back.ok()) << guard_name(g);
    EXPECT_EQ(*back, g);
  }
  EXPECT_FALSE(parse_guard_name("everything").ok());
}

TEST(Guard, RootFilesystemAndUnseenAreNeverOverridable) {
  EXPECT_FALSE(guard_overridable(Guard::RootFilesystem));
  EXPECT_FALSE(guard_overridable(Guard::HostUnseen));
  EXPECT_TRUE(guard_overridable(Guard::Mounted));
  ForceSet all;
  all.all = true;
  EXPECT_FALSE(all.overrides(Guard::RootFilesystem));
  EXPECT_TRUE(all.overrides(Guard::Swap));
}

TEST(Guard, ForceParse) {
  auto none = ForceSet::parse({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto bare = ForceSet::parse({""});
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->all);
  auto some = ForceSet::parse({"mounted,network-up", "assigned"});
  ASSERT_TRUE(some.ok());
  EXPECT_FALSE(some->all);
  EXPECT_TRUE(some->overrides(Guard::Mounted));
  EXPECT_TRUE(some->overrides(Guard::NetworkUp));
  EXPECT_TRUE(some->overrides(Guard::LedgerAssigned));
  EXPECT_FALSE(some->overrides(Guard::Swap));
  auto bad = ForceSet::parse({"mounted,bogus"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(bad.error().message.find("bogus"), std::string::npos);
  auto root = ForceSet::parse({"root-filesystem"});
  ASSERT_FALSE(root.ok());
  EXPECT_NE(root.error().message.find("never overridden"), std::string::npos);
}

TEST(Guard, HostUseBlockersAndForce) {
  PciDevice d;
  d.address = addr("0000:04:00.0");
  d.in_use = {{HostUse::Kind::RootFilesystem, "root filesystem (/dev/nvme0n1p2 on /)"},
              {HostUse::Kind::Mounted, "mounted (/dev/nvme0n1p3 on /data)"}};
  HostUseMap uses;
  auto blockers = host_use_blockers(uses, d);
  ASSERT_EQ(blockers.size(), 2u);
  EXPECT_EQ(blockers[0].guard, Guard::RootFilesystem);
  EXPECT_EQ(refusal_line(blockers[0]),
            "refusing 0000:04:00.0: it holds the root filesystem (/dev/nvme0n1p2 on /); --force "
            "does not override this");
  EXPECT_NE(refusal_line(blockers[1]).find("--force=mounted"), std::string::npos);
  // Together, the mounted line does not offer --force for a device the root filesystem keeps.
  EXPECT_EQ(refusal_lines(blockers),
            (std::vector<std::string>{
                "refusing 0000:04:00.0: it holds the root filesystem (/dev/nvme0n1p2 on /); "
                "--force does not override this",
                "refusing 0000:04:00.0: the host uses it: mounted (/dev/nvme0n1p3 on /data) "
                "(--force=mounted would override this, but not its root-filesystem blocker: this "
                "device cannot be taken)"}));

  ForceSet all;
  all.all = true;
  GuardVerdict v = apply_force(blockers, all);
  ASSERT_EQ(v.refused.size(), 1u);
  EXPECT_EQ(v.refused[0].guard, Guard::RootFilesystem);
  ASSERT_EQ(v.forced.size(), 1u);
  EXPECT_EQ(forced_note(v.forced[0]),
            "--force=mounted: overriding for 0000:04:00.0: the host uses it: mounted "
            "(/dev/nvme0n1p3 on /data)");

  uses.unseen = "the host's mounts cannot be seen";
  auto unseen = host_use_blockers(uses, d);
  ASSERT_EQ(unseen.size(), 3u);
  EXPECT_EQ(unseen[0].guard, Guard::HostUnseen);
  EXPECT_FALSE(apply_force(unseen, all).ok());
}

// One device the root filesystem keeps, another --force could take: the refusal says which.
TEST(Guard, AMixedRefusalSaysWhichDevicesForceCanTakeAndWhichNever) {
  std::vector<Blocker> b = {
      {addr("0000:00:02.0"), Guard::RootFilesystem,
       "it holds the root filesystem (/dev/vda1 on /)"},
      {addr("0000:00:03.0"), Guard::NetworkUp, "the host uses it: network interface eth0 is up"}};
  EXPECT_EQ(refusal_lines(b),
            (std::vector<std::string>{
                "refusing 0000:00:02.0: it holds the root filesystem (/dev/vda1 on /); --force "
                "does not override this",
                "refusing 0000:00:03.0: the host uses it: network interface eth0 is up (free it "
                "first, or --force=network-up to take it anyway)",
                "--force can override what blocks 0000:00:03.0, never what blocks 0000:00:02.0 "
                "(root-filesystem): leave that device out"}));
  // Only overridable blockers: the lines are refusal_line's, nothing added.
  std::vector<Blocker> one(b.begin() + 1, b.end());
  EXPECT_EQ(refusal_lines(one), std::vector<std::string>{refusal_line(b[1])});
}

// The context-driven guards, judged from plain data (no sysfs behind the host).
class DeviceGuards : public ::testing::Test {
 protected:
  DeviceGuards() : host_(dir_.path()) {
    parent_.address = addr("0000:01:00.0");
    parent_.class_code = 0x030200;  // 3D controller: boot_vga is read, and absent
    parent_.driver = "nvidia";
    c_.mdevs.push_back(MdevInstance{"u-live", "0000:01:00.0", "nvidia-230", "", ""});
    c_.mdev_definitions.push_back(MdevDefinition{"u-def", "0000:01:00.0", "nvidia-222", true, {}});
    c_.assignments.push_back(GuardAssignment{"u-live", "vm1"});
    c_.assignments.push_back(GuardAssignment{"0000:04:00.0", "vm2"});
  }
  std::vector<Guard> guards(const std::vector<Blocker>& b) {
    std::vector<Guard> out;
    for (const Blocker& x : b) out.push_back(x.guard);
    return out;
  }
  testing::ScratchDir dir_;
  RealHost host_;
  GuardContext c_;
  PciDevice parent_;
};

TEST_F(DeviceGuards, AVgpuParentIsBlockedByItsMdevsAndTheirOwner) {
  auto b = device_blockers(host_, c_, parent_, GuardOp::Bind);
  EXPECT_EQ(guards(b),
            (std::vector<Guard>{Guard::MdevLive, Guard::MdevDefined, Guard::LedgerAssigned}));
  EXPECT_NE(b[0].reason.find("1 live mediated device (u-live)"), std::string::npos) << b[0].reason;
  EXPECT_NE(b[2].reason.find("its mdev u-live is assigned to VM 'vm1'"), std::string::npos);
  // Unbind is judged by the same three; a bind to where it already is moves nothing.
  EXPECT_EQ(guards(device_blockers(host_, c_, parent_, GuardOp::Unbind)), guards(b));
  EXPECT_TRUE(device_blockers(host_, c_, parent_, GuardOp::Bind, "nvidia").empty());
  // --force=mdev-live leaves the other two standing.
  GuardVerdict v = apply_force(b, *ForceSet::parse({"mdev-live"}));
  EXPECT_EQ(guards(v.refused), (std::vector<Guard>{Guard::MdevDefined, Guard::LedgerAssigned}));
  EXPECT_EQ(guards(v.forced), (std::vector<Guard>{Guard::MdevLive}));
}

TEST_F(DeviceGuards, TheLedgerNamesTheVmOfADeviceAndOfAnMdev) {
  PciDevice nvme;
  nvme.address = addr("0000:04:00.0");
  nvme.driver = "vfio-pci";
  auto b = device_blockers(host_, c_, nvme, GuardOp::Unbind);
  ASSERT_EQ(guards(b), std::vector<Guard>{Guard::LedgerAssigned});
  EXPECT_EQ(refusal_line(b[0]),
            "refusing 0000:04:00.0: it is assigned to VM 'vm2' in the ledger (release it first: "
            "hostpass release 0000:04:00.0) (free it first, or --force=assigned to take it "
            "anyway)");
  auto m = mdev_blockers(c_, "u-live", "0000:01:00.0", GuardOp::MdevRemove);
  ASSERT_EQ(guards(m), std::vector<Guard>{Guard::LedgerAssigned});
  EXPECT_EQ(m[0].who(), "mdev u-live on 0000:01:00.0");
  EXPECT_TRUE(mdev_blockers(c_, "u-live", "0000:01:00.0", GuardOp::MdevCreate).empty());
}

TEST_F(DeviceGuards, AnUnseenHostBlocksEveryOperationAndForceCannotLiftIt) {
  c_.uses.unseen = "cannot see the host's mounts: /proc/self/mountinfo has no entry for /";
  PciDevice nic;
  nic.address = addr("0000:00:04.0");
  nic.driver = "e1000e";
  for (GuardOp op : {GuardOp::Bind, GuardOp::Unbind}) {
    auto b = device_blockers(host_, c_, nic, op);
    ASSERT_FALSE(b.empty());
    EXPECT_EQ(b[0].guard, Guard::HostUnseen);
    ForceSet all;
    all.all = true;
    EXPECT_FALSE(apply_force(b, all).ok());
  }
  EXPECT_EQ(guards(mdev_blockers(c_, "u-def", "0000:01:00.0", GuardOp::MdevCreate)),
            std::vector<Guard>{Guard::HostUnseen});
  EXPECT_EQ(guards(unseen_blockers(c_, "release vm1")), std::vector<Guard>{Guard::HostUnseen});
}

TEST_F(DeviceGuards, AnSriovPfWithVfsIsBlockedUnlessAlreadyOnTheTarget) {
  PciDevice pf;
  pf.address = addr("0000:07:00.0");
  pf.driver = "i40e";
  pf.sriov_numvfs = 2;
  auto b = device_blockers(host_, c_, pf, GuardOp::Bind);
  ASSERT_EQ(guards(b), std::vector<Guard>{Guard::SriovVfs});
  EXPECT_NE(b[0].reason.find("2 virtual functions enabled, which unbinding i40e destroys"),
            std::string::npos);
  EXPECT_TRUE(device_blockers(host_, c_, pf, GuardOp::Bind, "i40e").empty());
}

}  // namespace
}  // namespace hostpass
