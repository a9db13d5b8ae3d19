// group_explain_test.cc — the replay of the kernel's PCI grouping on fixture trees with real
// 4096-byte config spaces: QEMU's shapes (pcie-root-port with ACS, an x3130 switch without it,
// a pcie-pci-bridge), ACS present but disabled, a capability that does not offer a bit, a
// multifunction device, short config space, and a group the kernel formed by a quirk.
#include "group_explain.h"

#include <gtest/gtest.h>

#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using testing::acs_port;
using testing::FixtureTree;
using testing::kAcsCr;
using testing::kAcsSv;
using testing::ScratchDir;

PciAddress addr(const char* text) {
  return *PciAddress::parse(text);
}

class GroupExplainTest : public ::testing::Test {
 protected:
  GroupExplainTest() : tree_(dir_.path() + "/root"), host_(tree_.root()) {
    testing::build_acs_host(tree_);
  }
  ScratchDir dir_;
  FixtureTree tree_;
  RealHost host_;
};

TEST_F(GroupExplainTest, ConfigSpaceOfAPortWithAcsReadsAsTheKernelReadsIt) {
  auto config = host_.read_file(tree_.device_path("0000:00:03.0") + "/config", 4096);
  ASSERT_TRUE(config.ok());
  ASSERT_EQ(config->size(), 4096u);
  AcsFacts f = parse_acs_facts(*config, addr("0000:00:03.0"));
  EXPECT_EQ(f.pcie, AcsFacts::Pcie::Yes);
  EXPECT_EQ(f.port_type, 4);
  EXPECT_TRUE(f.extended_read);
  EXPECT_TRUE(f.has_acs);
  EXPECT_EQ(f.acs_control, kAcsSv | kAcsCr);
  EXPECT_EQ(missing_acs_bits(f), testing::kAcsRr | testing::kAcsUf);
  EXPECT_TRUE(f.unreadable.empty());
}

TEST_F(GroupExplainTest, ASwitchWithoutAcsSharesTheDownstreamPortsGroup) {
  auto e = explain_group(host_, 5);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_TRUE(e->complete());
  ASSERT_EQ(e->reasons.size(), 1u);
  EXPECT_EQ(e->reasons[0].kind, GroupReason::Kind::NoAcs);
  EXPECT_EQ(e->reasons[0].device, addr("0000:03:00.0"));
  EXPECT_EQ(e->summary,
            "group 5 is shared because switch downstream port 0000:03:00.0 has no ACS "
            "capability; a slot behind a port with ACS would isolate it.");
  ASSERT_TRUE(e->predicted);
  EXPECT_EQ(*e->predicted, e->members);
  EXPECT_FALSE(e->quirk);
}

TEST_F(GroupExplainTest, AcsWithARequiredBitOffNamesTheBits) {
  auto e = explain_group(host_, 6);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->reasons.size(), 1u);
  EXPECT_EQ(e->reasons[0].kind, GroupReason::Kind::AcsDisabled);
  EXPECT_NE(e->reasons[0].text.find("leaves Request Redirect, Upstream Forwarding off"),
            std::string::npos)
      << e->reasons[0].text;
  EXPECT_FALSE(e->quirk);
}

TEST_F(GroupExplainTest, OnlySharedGroupsAreExplainedAndAllAgreeWithTheKernel) {
  auto all = explain_shared_groups(host_);
  ASSERT_TRUE(all.ok());
  std::vector<int> numbers;
  for (const GroupExplanation& e : *all) {
    numbers.push_back(e.group);
    EXPECT_TRUE(e.complete()) << e.summary;
    EXPECT_FALSE(e.quirk) << e.summary;  // the hard-wired UF port isolated 08:00.0 too
  }
  EXPECT_EQ(numbers, (std::vector<int>{5, 6, 7, 9}));
}

TEST_F(GroupExplainTest, APcieToPciBridgeAliasesEverythingBehindIt) {
  auto e = explain_group(host_, 9);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->reasons.size(), 1u);
  EXPECT_EQ(e->reasons[0].kind, GroupReason::Kind::BridgeAlias);
  EXPECT_EQ(e->reasons[0].device, addr("0000:06:00.0"));
  EXPECT_EQ(e->reasons[0].affected, e->members);
  EXPECT_NE(e->summary.find("PCIe-to-PCI bridge 0000:06:00.0 aliases every device behind it"),
            std::string::npos)
      << e->summary;
}

TEST_F(GroupExplainTest, FunctionsOfAMultifunctionDeviceWithoutAcsShareAGroup) {
  auto e = explain_group(host_, 7);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->reasons.size(), 1u);
  EXPECT_EQ(e->reasons[0].kind, GroupReason::Kind::Multifunction);
  EXPECT_EQ(e->reasons[0].affected.size(), 3u);
  EXPECT_EQ(e->summary.find("a slot behind a port with ACS"), std::string::npos);
}

TEST_F(GroupExplainTest, AGroupTheReplayDoesNotPredictIsAQuirkNotAReason) {
  // The kernel put the e1000e behind an isolating root port into the port's group (as a DMA
  // alias quirk does): the replay must say so, not invent an ACS reason.
  std::string dev = tree_.device_path("0000:01:00.0");
  tree_.symlink(FixtureTree::relative(dev + "/iommu_group", "/sys/kernel/iommu_groups/1"),
                dev + "/iommu_group");
  tree_.symlink(FixtureTree::relative("/sys/kernel/iommu_groups/1/devices/0000:01:00.0",
                                      tree_.device_path("0000:01:00.0")),
                "/sys/kernel/iommu_groups/1/devices/0000:01:00.0");
  auto e = explain_group(host_, 1);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->complete());
  EXPECT_TRUE(e->reasons.empty());
  ASSERT_TRUE(e->quirk);
  EXPECT_NE(e->quirk->find("the kernel applies an ACS or DMA-alias quirk here"), std::string::npos);
  EXPECT_EQ(e->predicted->size(), 1u);
}

TEST_F(GroupExplainTest, ShortConfigSpaceMakesTheExplanationIncomplete) {
  // As an unprivileged reader sees it on a real host: the first 64 bytes only.
  std::string config =
      FixtureTree::config_space(acs_port("0000:03:00.0", "", 6, std::nullopt, 0, 5));
  tree_.write(tree_.device_path("0000:03:00.0") + "/config", config.substr(0, 64));
  auto e = explain_group(host_, 5);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->complete());
  EXPECT_FALSE(e->predicted);
  EXPECT_TRUE(e->reasons.empty());  // never a guess
  EXPECT_NE(e->summary.find("cannot be complete: 0000:03:00.0: config space reads 64 bytes"),
            std::string::npos)
      << e->summary;
}

TEST(GroupExplain, TheStandardHostsConfigSpaceIsTooShortToExplain) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  testing::build_standard_host(tree);
  RealHost host(tree.root());
  auto e = explain_group(host, 1);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->complete());
  EXPECT_NE(e->summary.find("0000:00:01.0: config space reads 256 bytes"), std::string::npos)
      << e->summary;
  auto alone = explain_group(host, 7);
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ(alone->summary, "0000:03:00.0 is alone in group 7.");
  EXPECT_EQ(explain_group(host, 99).error().kind, ErrorKind::NotFound);
}

}  // namespace
}  // namespace hostpass
