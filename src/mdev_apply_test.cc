// Tests for mdev_apply.cc: KubeVirt's desired-type selection and round-robin, on a node with two
// T4 cards (0000:01:00.0 from the standard host and 0000:81:00.0), through the kernel-like
// mdev core of tests/support/sim_mdev.h.
#include "mdev_apply.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "faulty_host.h"
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
  c.node_types = {
      {{{"nvidia.com/gpu.product", "Tesla-T4"}}, {"nvidia-230", "nvidia-223"}},
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
    tree_.add_mdev_type("0000:81:00.0",
                        MdevTypeSpec{"nvidia-222", "GRID T4-1B", "vfio-pci", 16, "num_heads=4"});
    tree_.add_mdev_type("0000:81:00.0",
                        MdevTypeSpec{"nvidia-223", "GRID T4-2B", "vfio-pci", 8, "num_heads=4"});
    tree_.add_mdev_type("0000:81:00.0",
                        MdevTypeSpec{"nvidia-230", "GRID T4-1Q", "vfio-pci", 16, "num_heads=4"});
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
  EXPECT_TRUE(again.removes.empty());
  EXPECT_TRUE(again.kept.empty());
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

constexpr const char* kOld = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";

TEST_F(MdevApply, ConfiguredCardsWithADesiredTypeAreLeftAlone) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-230", kOld);
  MdevApplyPlan p = plan({"nvidia-230"});
  ASSERT_EQ(p.creates.size(), 1u);
  EXPECT_EQ(p.creates[0].parent, "0000:81:00.0");
  EXPECT_FALSE(p.creates[0].after_removal);
  EXPECT_TRUE(p.removes.empty());
  EXPECT_EQ(p.configured_parents, (std::vector<std::string>{"0000:01:00.0"}));
  MdevApplyResult r = apply_mdev_plan(sim_, p, MdevApplyOptions{false});
  EXPECT_EQ(r.created.size(), 16u);
  EXPECT_EQ(sim_.removes(), 0);
  EXPECT_EQ(definitions(), 0u);  // persist off
  EXPECT_EQ(list_mdev_instances(real_)->size(), 17u);
}

// KubeVirt's removeUndesiredMDEVs: an instance whose type is no longer desired goes, and its
// parent, empty again, is configured with the desired type in the same pass.
TEST_F(MdevApply, InstancesOfUndesiredTypesAreRemovedAndTheirCardReconfigured) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kOld);
  ASSERT_TRUE(
      define_mdev(real_, MdevDefinition{kOld, "0000:01:00.0", "nvidia-222", true, {}}).ok());
  MdevApplyPlan p = plan({"nvidia-230"});
  ASSERT_EQ(p.removes.size(), 1u);
  EXPECT_EQ(p.removes[0].uuid, kOld);
  EXPECT_TRUE(p.kept.empty());
  EXPECT_TRUE(p.configured_parents.empty());
  ASSERT_EQ(p.creates.size(), 2u);
  EXPECT_EQ(p.creates[0].parent, "0000:01:00.0");
  EXPECT_TRUE(p.creates[0].after_removal);
  EXPECT_EQ(p.creates[1].parent, "0000:81:00.0");
  EXPECT_FALSE(p.creates[1].after_removal);

  MdevApplyResult r = apply_mdev_plan(sim_, p, MdevApplyOptions{});
  EXPECT_TRUE(r.errors.empty()) << r.errors[0];
  ASSERT_EQ(r.removed.size(), 1u);
  EXPECT_EQ(r.removed[0].uuid, kOld);
  EXPECT_EQ(sim_.removes(), 1);
  EXPECT_EQ(r.created.size(), 32u);
  EXPECT_FALSE(real_.exists(std::string("/sys/bus/mdev/devices/") + kOld));
  EXPECT_FALSE(real_.exists(std::string("/etc/mdevctl.d/0000:01:00.0/") + kOld));
  EXPECT_EQ(definitions(), 32u);
  auto after = list_mdev_instances(real_);
  ASSERT_TRUE(after.ok());
  for (const MdevInstance& m : *after) EXPECT_EQ(m.type_id, "nvidia-230");
}

TEST_F(MdevApply, AnInstanceDesiredByItsNameWithUnderscoresStays) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kOld);
  MdevApplyPlan p = plan({"GRID_T4-1B"});
  EXPECT_TRUE(p.removes.empty());
  EXPECT_EQ(p.configured_parents, (std::vector<std::string>{"0000:01:00.0"}));
  // Written with its space it is not the desired type (shouldRemoveMDEV compares '_' names).
  EXPECT_EQ(plan({"GRID T4-1B"}).removes.size(), 1u);
}

TEST_F(MdevApply, ExternallyProvidedTypesAreNeverRemoved) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kOld);
  MdevApplyInputs in;
  in.desired = {"nvidia-230"};
  in.external_selectors = {"GRID T4-1B"};  // getExternallyProvidedMdevs: spaces as '_'
  MdevApplyPlan p = plan_mdev_apply(*list_mdev_types(real_), *list_mdev_instances(real_), in);
  EXPECT_TRUE(p.removes.empty());
  EXPECT_TRUE(p.kept.empty());
  EXPECT_EQ(p.configured_parents, (std::vector<std::string>{"0000:01:00.0"}));
  ASSERT_EQ(p.creates.size(), 1u);
  EXPECT_EQ(p.creates[0].parent, "0000:81:00.0");
}

TEST_F(MdevApply, WithNoDesiredTypeEveryInstanceNotExternalIsRemovedAsKubeVirtDoes) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kOld);
  tree_.add_mdev_instance("0000:81:00.0", "nvidia-230", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1002");
  MdevApplyPlan p = plan({});
  EXPECT_EQ(p.removes.size(), 2u);
  EXPECT_TRUE(p.creates.empty());
  MdevApplyResult r = apply_mdev_plan(sim_, p, MdevApplyOptions{});
  EXPECT_EQ(r.removed.size(), 2u);
  EXPECT_TRUE(list_mdev_instances(real_)->empty());
}

TEST_F(MdevApply, AnInstanceInUseIsKeptWithWhoHoldsItAndItsCardStaysConfigured) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kOld);
  MdevApplyInputs in;
  in.desired = {"nvidia-230"};
  in.in_use[kOld] = "in use by 4242 (qemu-system-x86) through /dev/vfio/12";
  MdevApplyPlan p = plan_mdev_apply(*list_mdev_types(real_), *list_mdev_instances(real_), in);
  EXPECT_TRUE(p.removes.empty());
  ASSERT_EQ(p.kept.size(), 1u);
  EXPECT_EQ(p.kept[0].instance.uuid, kOld);
  EXPECT_EQ(p.kept[0].reason,
            "not desired but in use by 4242 (qemu-system-x86) through /dev/vfio/12; stop that VM "
            "first");
  EXPECT_EQ(p.configured_parents, (std::vector<std::string>{"0000:01:00.0"}));
  ASSERT_EQ(p.creates.size(), 1u);
  EXPECT_EQ(p.creates[0].parent, "0000:81:00.0");
  MdevApplyResult r = apply_mdev_plan(sim_, p, MdevApplyOptions{});
  EXPECT_EQ(sim_.removes(), 0);
  EXPECT_TRUE(real_.exists(std::string("/sys/bus/mdev/devices/") + kOld));
}

TEST_F(MdevApply, KeepUndesiredRemovesNothing) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kOld);
  MdevApplyInputs in;
  in.desired = {"nvidia-230"};
  in.remove_undesired = false;
  MdevApplyPlan p = plan_mdev_apply(*list_mdev_types(real_), *list_mdev_instances(real_), in);
  EXPECT_TRUE(p.removes.empty());
  ASSERT_EQ(p.kept.size(), 1u);
  EXPECT_EQ(p.kept[0].reason, "not desired; kept (--keep-undesired)");
  EXPECT_EQ(p.configured_parents, (std::vector<std::string>{"0000:01:00.0"}));
}

TEST_F(MdevApply, AFailedRemovalLeavesItsCardUnconfiguredAndSaysWhy) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kOld);
  FaultyHost faulty(sim_);
  faulty.fail_write_matching("/remove", "Device or resource busy");
  MdevApplyResult r = apply_mdev_plan(faulty, plan({"nvidia-230"}), MdevApplyOptions{});
  EXPECT_TRUE(r.removed.empty());
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[1],
            "0000:01:00.0: not configured with nvidia-230: an undesired instance on it could not "
            "be removed");
  EXPECT_EQ(r.created.size(), 16u);  // the other card
  for (const MdevInstance& m : r.created) EXPECT_EQ(m.parent, "0000:81:00.0");
  EXPECT_TRUE(real_.exists(std::string("/sys/bus/mdev/devices/") + kOld));
}

TEST_F(MdevApply, UsersOfAnInstancesVfioGroupAreFoundInProc) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kOld);
  tree_.add_mdev_instance("0000:81:00.0", "nvidia-230", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1002");
  tree_.symlink("../../../../../../kernel/iommu_groups/12",
                std::string("/sys/bus/mdev/devices/") + kOld + "/iommu_group");
  tree_.symlink("../../../../../../kernel/iommu_groups/13",
                "/sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1002/iommu_group");
  tree_.write("/proc/4242/comm", "qemu-system-x86\n");
  tree_.symlink("/dev/vfio/vfio", "/proc/4242/fd/5");
  tree_.symlink("/dev/vfio/12", "/proc/4242/fd/7");
  tree_.symlink("/dev/null", "/proc/4242/fd/0");
  tree_.write("/proc/77/comm", "sleep\n");
  tree_.symlink("/dev/vfio/12", "/proc/77/fd/3");
  tree_.mkdir("/proc/99/fd");  // holds nothing
  auto users = mdev_users_by_uuid(real_, *list_mdev_instances(real_));
  ASSERT_TRUE(users.ok()) << users.error().message;
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ(users->at(kOld), "in use by 77 (sleep), 4242 (qemu-system-x86) through /dev/vfio/12");
}

TEST_F(MdevApply, NamesWrittenWithSpacesMatchNothingAndSaySo) {
  MdevApplyPlan p = plan({"GRID T4-1Q", "nvidia-999"});
  EXPECT_TRUE(p.creates.empty());
  EXPECT_EQ(p.unmatched, (std::vector<std::string>{"GRID T4-1Q", "nvidia-999"}));
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_EQ(p.notes[0],
            "'GRID T4-1Q' matches no type: KubeVirt compares type names with spaces "
            "replaced by '_'; write 'GRID_T4-1Q' or the type id 'nvidia-230'");
}

TEST_F(MdevApply, NeverCreatesMoreThanAvailableAsTheKernelSaysItRightBeforeTheStep) {
  tree_.write(
      "/sys/class/mdev_bus/0000:81:00.0/mdev_supported_types/nvidia-230/available_instances",
      "3\n");
  MdevApplyPlan p = plan({"nvidia-230"});
  ASSERT_EQ(p.creates.size(), 2u);
  EXPECT_EQ(p.creates[1].count, 3);
  // The kernel may have fewer by the time we write: createMdevTypes reads it again.
  tree_.write(
      "/sys/class/mdev_bus/0000:81:00.0/mdev_supported_types/nvidia-230/available_instances",
      "2\n");
  MdevApplyResult r = apply_mdev_plan(sim_, p, MdevApplyOptions{});
  EXPECT_EQ(r.created.size(), 18u);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(sim_.creates(), 18);
}

TEST_F(MdevApply, AKernelRefusalStopsThatCardsStepAndIsReported) {
  FaultyHost faulty(sim_);
  faulty.fail_write_matching("0000:81:00.0/mdev_supported_types/nvidia-230/create",
                             "Too many users");
  MdevApplyResult r = apply_mdev_plan(faulty, plan({"nvidia-230"}), MdevApplyOptions{});
  EXPECT_EQ(r.created.size(), 16u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rfind("0000:81:00.0: instance 1 of 16 of nvidia-230: creating nvidia-230 "
                              "instance ",
                              0),
            0u)
      << r.errors[0];
}

}  // namespace
}  // namespace hostpass

namespace hostpass {
namespace {

// Only the part of a KubeVirt CR that mdev apply reads.
constexpr const char* kApplyCr = R"(spec:
  configuration:
    mediatedDevicesConfiguration:
      mediatedDeviceTypes: ["nvidia-230"]
      nodeMediatedDeviceTypes:
      - nodeSelector:
          kubernetes.io/hostname: node02
        mediatedDeviceTypes: ["nvidia-223"]
)";

class MdevApplyInputsTest : public MdevApply {
 protected:
  Policy policy() {
    auto p = parse_policy(kApplyCr, "cr.yaml");
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
    return p.ok() ? *p : Policy{};
  }
};

TEST_F(MdevApplyInputsTest, WhenProcCannotBeReadEveryInstanceIsKeptAndNoneRemoved) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kOld);
  std::filesystem::remove_all(tree_.path("/proc"));
  auto instances = list_mdev_instances(real_);
  ASSERT_TRUE(instances.ok());
  MdevApplyInputs in = mdev_apply_inputs(real_, policy(), {}, *instances, false);
  ASSERT_EQ(in.in_use.size(), 1u);
  EXPECT_EQ(in.in_use.at(kOld).rfind("cannot tell whether it is in use (", 0), 0u)
      << in.in_use.at(kOld);
  MdevApplyPlan p = plan_mdev_apply(*list_mdev_types(real_), *instances, in);
  EXPECT_TRUE(p.removes.empty());
  ASSERT_EQ(p.kept.size(), 1u);
  EXPECT_EQ(p.kept[0].instance.uuid, kOld);
}

TEST_F(MdevApplyInputsTest, WithProcReadableAnInstanceNobodyHoldsIsRemoved) {
  tree_.add_mdev_instance("0000:01:00.0", "nvidia-222", kOld);
  tree_.mkdir("/proc/99/fd");  // a process holding nothing
  auto instances = list_mdev_instances(real_);
  ASSERT_TRUE(instances.ok());
  MdevApplyInputs in = mdev_apply_inputs(real_, policy(), {}, *instances, false);
  EXPECT_TRUE(in.in_use.empty());
  EXPECT_EQ(in.desired, (std::vector<std::string>{"nvidia-230"}));
  EXPECT_TRUE(in.remove_undesired);
  MdevApplyPlan p = plan_mdev_apply(*list_mdev_types(real_), *instances, in);
  ASSERT_EQ(p.removes.size(), 1u);
  EXPECT_EQ(p.removes[0].uuid, kOld);
  EXPECT_FALSE(mdev_apply_inputs(real_, policy(), {}, *instances, true).remove_undesired);
}

TEST_F(MdevApplyInputsTest, NodeLabelsAreParsedAndTheHostnameLabelComesFromTheNodeName) {
  tree_.write("/proc/sys/kernel/hostname", "Node02\n");
  auto labels = mdev_node_labels(real_, {"nvidia.com/gpu.product=Tesla-T4"});
  ASSERT_TRUE(labels.ok()) << labels.error().message;
  EXPECT_EQ(*labels, (std::map<std::string, std::string>{{"kubernetes.io/hostname", "node02"},
                                                         {"nvidia.com/gpu.product", "Tesla-T4"}}));
  EXPECT_EQ(mdev_apply_inputs(real_, policy(), *labels, {}, false).desired,
            (std::vector<std::string>{"nvidia-223"}));
  auto given = mdev_node_labels(real_, {"kubernetes.io/hostname=node05"});
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->at("kubernetes.io/hostname"), "node05");
  for (const char* bad : {"novalue", "=x"}) {
    auto b = mdev_node_labels(real_, {bad});
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.error().kind, ErrorKind::InvalidInput);
  }
}

MdevType offered(const char* parent, const char* id, const char* name) {
  MdevType t;
  t.parent = parent;
  t.id = id;
  t.name = name;
  t.available_instances = 4;
  return t;
}

TEST(MdevTypo, NearestOfferedTypesByIdAndName) {
  std::vector<MdevType> types = {offered("0000:5e:00.0", "nvidia-222", "GRID T4-1Q"),
                                 offered("0000:5e:00.0", "nvidia-228", "GRID T4-8Q"),
                                 offered("0000:5e:00.0", "nvidia-232", "GRID T4-16Q"),
                                 offered("0000:5f:00.0", "nvidia-222", "GRID T4-1Q")};
  std::vector<MdevType> near = nearest_mdev_types(types, "GRID T4-1B", 2);
  ASSERT_EQ(near.size(), 2u);
  EXPECT_EQ(near[0].id, "nvidia-222");  // one distance 1 away, listed once for both cards
  EXPECT_EQ(near[1].id, "nvidia-228");
  EXPECT_EQ(nearest_mdev_types(types, "NVIDIA-232", 1).at(0).id, "nvidia-232");
}

TEST(MdevTypo, AnUnmatchedTypeBlocksOnlyAPlanThatRemoves) {
  std::vector<MdevType> types = {offered("0000:5e:00.0", "nvidia-222", "GRID T4-1Q")};
  MdevInstance live;
  live.uuid = "4b20d080-1b54-4048-85b3-a6a62d165c01";
  live.parent = "0000:5e:00.0";
  live.type_id = "nvidia-222";
  live.type_name = "GRID T4-1Q";
  MdevApplyPlan plan = plan_mdev_apply(types, {live}, {"GRID T4-1B"});
  ASSERT_EQ(plan.removes.size(), 1u);
  EXPECT_TRUE(plan.creates.empty());
  std::vector<Blocker> b = unmatched_type_blockers(plan, types);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].guard, Guard::UnmatchedType);
  EXPECT_EQ(refusal_line(b[0]),
            "refusing mdev apply: the wanted type 'GRID T4-1B' matches no type on this host "
            "(nearest offered: 'GRID T4-1Q' (nvidia-222)), and the plan would remove "
            "4b20d080-1b54-4048-85b3-a6a62d165c01 (nvidia-222 on 0000:5e:00.0): a probable typo "
            "in the CR (correct the type, or --force=unmatched-type to run the plan anyway)");
  EXPECT_TRUE(apply_force(b, ForceSet{true, {}}).ok());
  // Nothing to remove: an unmatched entry (another card's type) is no danger.
  EXPECT_TRUE(unmatched_type_blockers(plan_mdev_apply(types, {}, {"GRID T4-1B"}), types).empty());
}

}  // namespace
}  // namespace hostpass
