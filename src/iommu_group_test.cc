// iommu_group_test.cc — reading groups (PCI members, an mdev's own group) from fixture trees
// shaped like sysfs, and the blockers the group rule finds among members.
#include "iommu_group.h"

#include <gtest/gtest.h>

#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::ScratchDir;

PciAddress addr(const char* text) {
  return *PciAddress::parse(text);
}

TEST(IommuGroup, ListsItsMembersSorted) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  testing::build_tricky_host(tree);
  RealHost host(tree.root());
  auto g = read_iommu_group(host, 1);
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->members.size(), 3u);
  EXPECT_EQ(g->members[0].to_string(), "0000:00:1c.0");
  EXPECT_EQ(g->members[2].to_string(), "0000:05:00.1");
  EXPECT_EQ(read_iommu_group(host, 99).error().kind, ErrorKind::NotFound);
}

TEST(IommuGroup, AnMdevsGroupIsItsIommuGroupLink) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  RealHost host(tree.root());
  tree.mkdir("/sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
  tree.symlink("../../../../kernel/iommu_groups/17",
               "/sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/iommu_group");
  EXPECT_EQ(mdev_iommu_group(host, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"), 17);
  EXPECT_EQ(mdev_iommu_group(host, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1002"), std::nullopt);
}

TEST(IommuGroup, BlockersAreTheMembersOutsideMovingWhoseDriversClaimDma) {
  std::vector<GroupMember> g = {
      {addr("0000:00:1c.0"), std::string("pcieport"), true},
      {addr("0000:00:1c.4"), std::string("shpchp"), true},
      {addr("0000:01:00.0"), std::string("nvidia"), false},
      {addr("0000:01:00.1"), std::string("snd_hda_intel"), false},
      {addr("0000:01:00.2"), std::nullopt, false},
      {addr("0000:01:00.3"), std::string("pci-stub"), false},
  };
  auto b = viability_blockers(g, {addr("0000:01:00.0")});
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0], g[1]);
  EXPECT_EQ(b[1], g[3]);
  EXPECT_EQ(describe_blocker(b[1]), "0000:01:00.1 is on snd_hda_intel");
  EXPECT_EQ(describe_blocker(b[0]),
            "bridge 0000:00:1c.4 is on shpchp, which claims the group's DMA for the host (a "
            "bridge keeps the group viable only unbound or on pcieport)");
  EXPECT_EQ(bridge_blocker_remedy(b[0]),
            "unbind it (echo 0000:00:1c.4 > /sys/bus/pci/drivers/shpchp/unbind; it loses what "
            "shpchp did for it, such as hot-plug)");
  EXPECT_TRUE(
      viability_blockers(g, {addr("0000:00:1c.4"), addr("0000:01:00.0"), addr("0000:01:00.1")})
          .empty());
}

TEST(IommuGroup, MembersAreReadWithDriverAndHeaderType) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  testing::build_standard_host(tree);
  RealHost host(tree.root());
  auto g = read_group_members(host, 1);  // the root port and the T4 behind it
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(*g, (std::vector<GroupMember>{{addr("0000:00:01.0"), std::string("pcieport"), true},
                                          {addr("0000:01:00.0"), std::string("nvidia"), false}}));
  auto lpc = read_group_members(host, 5);
  ASSERT_TRUE(lpc.ok());
  ASSERT_EQ(lpc->size(), 3u);
  EXPECT_EQ((*lpc)[0], (GroupMember{addr("0000:00:1f.0"), std::string("lpc_ich"), false}));
  EXPECT_EQ(read_group_members(host, 77).error().kind, ErrorKind::NotFound);
}

}  // namespace
}  // namespace hostpass
