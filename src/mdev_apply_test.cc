// Tests for mdev_apply.cc: KubeVirt's desired-type selection and round-robin, on a node with two
// T4 cards (0000:01:00.0 from the standard host and 0000:81:00.0), through the kernel-like
// mdev core of tests/support/sim_mdev.h.
#include "mdev_apply.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "fixture_tree.h"
#include "sim_mdev.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::MdevTypeSpec;
using testing::PciSpec;
using testing::ScratchDir;
using testing::SimMdevHost;

TEST(DesiredMdevTypes, NodeEntriesWinWhenTheirSelectorMatchesElseTheClusterList) {
  MediatedDevicesConfiguration c;
  c.types = {"nvidia-222", "nvidia-228"};
  c.node_types = {{{{"nvidia.com/gpu.product", "Tesla-T4"}}, {"nvidia-230", "nvidia-223"}},
                  {{{"nvidia.com/gpu.product", "Tesla-T4"}, {"zone", "a"}}, {"nvidia-230", "nvidia-999"}},
                  {{{"nvidia.com/gpu.product", "A10"}}, {"nvidia-500"}}};
  EXPECT_EQ(desired_mdev_types(c, {}), (std::vector<std::string>{"nvidia-222", "nvidia-228"}));
  EXPECT_EQ(desired_mdev_types(c, {{"nvidia.com/gpu.product", "Tesla-T4"}}),
            (std::vector<std::string>{"nvidia-230", "nvidia-223"}));
  EXPECT_EQ(desired_mdev_types(c, {{"nvidia.com/gpu.product", "Tesla-T4"}, {"zone", "a"}}),
            (std::vector<std::string>{"nvidia-230", "nvidia-223", "nvidia-999"}));
  EXPECT_EQ(desired_mdev_types(c, {{"nvidia.com/gpu.product", "V100"}}),
            (std::vector<std::string>{"nvidia-222", "nvidia-228"}));
}

class MdevApply : public ::testing::Test {
 protected:
  MdevApply() : tree_(dir_.path() + "/root"), real_(tree_.root()), sim_(real_) {
    testing::build_standard_host(tree_);
    PciSpec s;
    s.address = "0000:81:00.0";
    s.vendor = 0x10de;
    s.device = 0x1eb8;
    s.class_code = 0x030200;
    s.revision = 0xa1;
    s.driver = "nvidia";
    s.iommu_group = 20;
    tree_.add_pci(s);
    tree_.add_mdev_type("0000:81:00.0", MdevTypeSpec{"nvidia-222", "GRID T4-1B", "vfio-pci", 16, "num_heads=4"});
    tree_.add_mdev_type("0000:81:00.0", MdevTypeSpec{"nvidia-223", "GRID T4-2B", "vfio-pci", 8, "num_heads=4"});
    tree_.add_mdev_type("0000:81:00.0", MdevTypeSpec{"nvidia-230", "GRID T4-1Q", "vfio-pci", 16, "num_heads=4"});
  }
  MdevApplyPlan plan(const std::vector<std::string>& desired) {
    auto types = list_mdev_types(real_);
    auto instances = list_mdev_instances(real_);
    EXPECT_TRUE(types.ok() && instances.ok());
    return plan_mdev_apply(*types, *instances, desired);
  }
  size_t definitions() {
    std::vector<std::string> w;
    return list_mdev_definitions(real_, &w)->size();
  }
  ScratchDir dir_;
  FixtureTree tree_;
  RealHost real_;
  SimMdevHost sim_;
};

TEST_F(MdevApply, TypesTakeTurnsOverTheCardsAndFillEachCard) {
  MdevApplyPlan p = plan({"GRID_T4-2B", "nvidia-230"});
  ASSERT_EQ(p.creates.size(), 2u);
  EXPECT_EQ(p.creates[0].parent, "0000:01:00.0");
  EXPECT_EQ(p.creates[0].type_id, "nvidia-223");
  EXPECT_EQ(p.creates[0].count, 8);
  EXPECT_EQ(p.creates[1].parent, "0000:81:00.0");
  EXPECT_EQ(p.creates[1].type_id, "nvidia-230");
  EXPECT_EQ(p.creates[1].count, 16);
  EXPECT_TRUE(p.unmatched.empty());

  MdevApplyResult r = apply_mdev_plan(sim_, p, MdevApplyOptions{});
  EXPECT_TRUE(r.errors.empty()) << r.errors[0];
  EXPECT_EQ(r.created.size(), 24u);
  EXPECT_EQ(sim_.creates(), 24);
  auto instances = list_mdev_instances(real_);
  ASSERT_EQ(instances->size(), 24u);
  auto types = list_mdev_types(real_);
  for (const MdevType& t : *types) EXPECT_EQ(t.available_instances, 0) << t.parent << " " << t.id;
  EXPECT_EQ(definitions(), 24u);  // persisted in mdevctl's format
}

TEST_F(MdevApply, ReapplyingChangesNothing) {
  MdevApplyResult first = apply_mdev_plan(sim_, plan({"nvidia-222"}), MdevApplyOptions{});
  ASSERT_TRUE(first.errors.empty());
  EXPECT_EQ(first.created.size(), 32u);  // 16 on each card
  MdevApplyPlan again = plan({"nvidia-222"});
  EXPECT_TRUE(again.creates.empty());
  EXPECT_EQ(again.configured_parents, (std::vector<std::string>{"0000:01:00.0", "0000:81:00.0"}));
  EXPECT_TRUE(again.undesired.empty());
  MdevApplyResult second = apply_mdev_plan(sim_, again, MdevApplyOptions{});
  EXPECT_TRUE(second.created.empty());
  EXPECT_EQ(sim_.creates(), 32);
  EXPECT_EQ(definitions(), 32u);
}

TEST_F(MdevApply, OneTypeGetsEveryCardInTurn) {
  MdevApplyPlan p = plan({"nvidia-222"});
  ASSERT_EQ(p.creates.size(), 2u);
  EXPECT_EQ(p.creates[0].parent, "0000:01:00.0");
  EXPECT_EQ(p.creates[1].parent, "0000:81:00.0");
}

TEST_F(MdevApply, ConfiguredCardsAreLeftAloneAndUndesiredInstancesReportedNotRemoved) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
  MdevApplyPlan p = plan({"nvidia-230"});
  ASSERT_EQ(p.creates.size(), 1u);
  EXPECT_EQ(p.creates[0].parent, "0000:81:00.0");
  ASSERT_EQ(p.undesired.size(), 1u);
  EXPECT_EQ(p.undesired[0].uuid, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
  MdevApplyResult r = apply_mdev_plan(sim_, p, MdevApplyOptions{false});
  EXPECT_EQ(r.created.size(), 16u);
  EXPECT_EQ(sim_.removes(), 0);
  EXPECT_EQ(definitions(), 0u);  // persist off
  EXPECT_EQ(list_mdev_instances(real_)->size(), 17u);
}

TEST_F(MdevApply, NamesWrittenWithSpacesMatchNothingAndSaySo) {
  MdevApplyPlan p = plan({"GRID T4-1Q", "nvidia-999"});
  EXPECT_TRUE(p.creates.empty());
  EXPECT_EQ(p.unmatched, (std::vector<std::string>{"GRID T4-1Q", "nvidia-999"}));
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_EQ(p.notes[0], "'GRID T4-1Q' matches no type: KubeVirt compares type names with spaces "
                        "replaced by '_'; write 'GRID_T4-1Q' or the type id 'nvidia-230'");
}

TEST_F(MdevApply, NeverCreatesMoreThanAvailable) {
  tree_.write("/sys/class/mdev_bus/0000:81:00.0/mdev_supported_types/nvidia-230/available_instances",
              "3\n");
  MdevApplyPlan p = plan({"nvidia-230"});
  ASSERT_EQ(p.creates.size(), 2u);
  EXPECT_EQ(p.creates[1].count, 3);
  // The kernel may have fewer by the time we write: the step stops at the first refusal.
  tree_.write("/sys/class/mdev_bus/0000:81:00.0/mdev_supported_types/nvidia-230/available_instances",
              "2\n");
  MdevApplyResult r = apply_mdev_plan(sim_, p, MdevApplyOptions{});
  EXPECT_EQ(r.created.size(), 18u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "0000:81:00.0: instance 3 of 3 of nvidia-230: no available instances of "
                         "nvidia-230 (GRID T4-1Q) on 0000:81:00.0: remove an instance first "
                         "(`hostpass mdev list`)");
}

}  // namespace
}  // namespace hostpass
