// pci_tree_test.cc — the sysfs parent chain as a tree: bridges above endpoints, several root
// buses, a filtered-out bridge, a link that cannot be read.
#include "pci_tree.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

std::string addr_of(const std::vector<PciDevice>& ds, const PciTreeNode& n) {
  return ds[n.device].address.to_string();
}

TEST(PciTree, FollowsTheSysfsParentChain) {
  testing::ScratchDir dir;
  testing::FixtureTree tree(dir.path() + "/root");
  testing::build_acs_host(tree);
  RealHost host(tree.root());
  auto ds = discover_pci(host, DiscoverOptions{});
  ASSERT_TRUE(ds.ok());
  std::vector<std::string> warnings;
  std::vector<PciTreeRoot> roots = build_pci_tree(host, *ds, &warnings);
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_EQ(roots[0].name, "0000:00");
  // 00:00.0 00:01.0 00:02.0 00:03.0 00:04.0 00:05.0 00:1f.0 00:1f.2 00:1f.3
  ASSERT_EQ(roots[0].children.size(), 9u);
  const PciTreeNode& rp = roots[0].children[2];
  EXPECT_EQ(addr_of(*ds, rp), "0000:00:02.0");
  ASSERT_EQ(rp.children.size(), 1u);
  const PciTreeNode& up = rp.children[0];
  EXPECT_EQ(addr_of(*ds, up), "0000:02:00.0");
  ASSERT_EQ(up.children.size(), 1u);
  ASSERT_EQ(up.children[0].children.size(), 1u);
  EXPECT_EQ(addr_of(*ds, up.children[0].children[0]), "0000:04:00.0");
}

TEST(PciTree, AFilteredBridgeLeavesItsChildrenBelowTheNearestListedAncestor) {
  testing::ScratchDir dir;
  testing::FixtureTree tree(dir.path() + "/root");
  testing::build_acs_host(tree);
  RealHost host(tree.root());
  auto ds = discover_pci(host, DiscoverOptions{});
  ASSERT_TRUE(ds.ok());
  std::vector<PciDevice> some;
  for (const PciDevice& d : *ds)
    if (d.address.to_string() != "0000:03:00.0" && d.address.to_string() != "0000:02:00.0")
      some.push_back(d);
  std::filesystem::remove(tree.path("/sys/bus/pci/devices/0000:01:00.0"));
  std::vector<std::string> warnings;
  std::vector<PciTreeRoot> roots = build_pci_tree(host, some, &warnings);
  ASSERT_EQ(warnings.size(), 1u);  // 01:00.0's link is gone
  ASSERT_EQ(roots.size(), 2u);
  EXPECT_EQ(roots[1].name, "unknown");
  ASSERT_EQ(roots[1].children.size(), 1u);
  EXPECT_EQ(addr_of(some, roots[1].children[0]), "0000:01:00.0");
  const PciTreeNode& rp = roots[0].children[2];
  EXPECT_EQ(addr_of(some, rp), "0000:00:02.0");
  ASSERT_EQ(rp.children.size(), 1u);
  EXPECT_EQ(addr_of(some, rp.children[0]), "0000:04:00.0");
}

TEST(PciTree, EachRootBusIsARoot) {
  testing::ScratchDir dir;
  testing::FixtureTree tree(dir.path() + "/root");
  testing::build_standard_host(tree);
  RealHost host(tree.root());
  auto ds = discover_pci(host, DiscoverOptions{});
  ASSERT_TRUE(ds.ok());
  std::vector<PciTreeRoot> roots = build_pci_tree(host, *ds);
  std::vector<std::string> names;
  for (const PciTreeRoot& r : roots) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"0000:00", "0000:02", "0000:03", "0000:04"}));
}

}  // namespace
}  // namespace hostpass
