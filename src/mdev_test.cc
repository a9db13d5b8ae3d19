// Tests for mdev.cc against a kernel-like mdev core (tests/support/sim_mdev.h) on the standard
// fixture host, whose T4 0000:01:00.0 offers nvidia-222 (GRID T4-1B, 16), nvidia-223
// (GRID T4-2B, 8) and nvidia-230 (GRID T4-1Q, 16).
#include "mdev.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "faulty_host.h"
#include "fixture_tree.h"
#include "sim_mdev.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::ScratchDir;
using testing::SimMdevHost;

constexpr const char* kT4 = "0000:01:00.0";
constexpr const char* kUuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";

class Mdev : public ::testing::Test {
 protected:
  Mdev() : tree_(dir_.path() + "/root"), real_(tree_.root()), sim_(real_) {
    testing::build_standard_host(tree_);
  }
  std::string file(const std::string& p) {
    std::ifstream in(tree_.path(p));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string avail(const std::string& type) {
    return file("/sys/class/mdev_bus/0000:01:00.0/mdev_supported_types/" + type +
                "/available_instances");
  }
  ScratchDir dir_;
  FixtureTree tree_;
  RealHost real_;
  SimMdevHost sim_;
};

TEST_F(Mdev, ListsTheTypesOfEachParent) {
  auto types = list_mdev_types(real_);
  ASSERT_TRUE(types.ok()) << types.error().message;
  ASSERT_EQ(types->size(), 3u);
  const MdevType& t = (*types)[2];
  EXPECT_EQ(t.parent, kT4);
  EXPECT_EQ(t.id, "nvidia-230");
  EXPECT_EQ(t.name, "GRID T4-1Q");
  EXPECT_EQ(t.description, "num_heads=4");
  EXPECT_EQ(t.device_api, "vfio-pci");
  EXPECT_EQ(t.available_instances, 16);
  EXPECT_EQ((*types)[0].id, "nvidia-222");
  EXPECT_EQ((*types)[1].available_instances, 8);
}

TEST_F(Mdev, NoMdevSupportIsEmptyNotAnError) {
  std::filesystem::remove_all(tree_.path("/sys/class/mdev_bus"));
  std::filesystem::remove_all(tree_.path("/sys/bus/mdev"));
  auto types = list_mdev_types(real_);
  ASSERT_TRUE(types.ok());
  EXPECT_TRUE(types->empty());
  auto instances = list_mdev_instances(real_);
  ASSERT_TRUE(instances.ok());
  EXPECT_TRUE(instances->empty());
}

TEST_F(Mdev, MalformedAvailableInstancesSkipsTheTypeWithAWarning) {
  tree_.write(
      "/sys/class/mdev_bus/0000:01:00.0/mdev_supported_types/nvidia-223/"
      "available_instances",
      "lots\n");
  std::vector<std::string> warnings;
  auto types = list_mdev_types(real_, &warnings);
  ASSERT_TRUE(types.ok());
  EXPECT_EQ(types->size(), 2u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "type nvidia-223 of 0000:01:00.0: available_instances is not a number: "
            "'lots'; type skipped");
}

TEST_F(Mdev, CreateWritesTheUuidAndTheInstanceAppearsLikeTheKernelShowsIt) {
  FaultyHost watch(sim_);
  auto made = create_mdev(watch, MdevCreateRequest{kT4, "nvidia-230", std::string(kUuid)});
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->uuid, kUuid);
  EXPECT_EQ(made->parent, kT4);
  EXPECT_EQ(made->type_id, "nvidia-230");
  EXPECT_EQ(made->type_name, "GRID T4-1Q");
  EXPECT_EQ(made->sysfs_path,
            std::string("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/") + kUuid);
  ASSERT_EQ(watch.writes().size(), 1u);
  EXPECT_EQ(watch.writes()[0].path,
            "/sys/class/mdev_bus/0000:01:00.0/mdev_supported_types/nvidia-230/create");
  EXPECT_EQ(watch.writes()[0].data, kUuid);

  EXPECT_TRUE(
      std::filesystem::is_symlink(tree_.path(std::string("/sys/bus/mdev/devices/") + kUuid)));
  EXPECT_EQ(avail("nvidia-230"), "15\n");
  EXPECT_EQ(avail("nvidia-222"), "0\n");  // one vGPU type per card
  auto instances = list_mdev_instances(real_);
  ASSERT_TRUE(instances.ok());
  ASSERT_EQ(instances->size(), 1u);
  EXPECT_EQ((*instances)[0].uuid, kUuid);
  EXPECT_EQ((*instances)[0].type_id, "nvidia-230");
}

TEST_F(Mdev, CreateWithoutUuidTakesOneFromTheKernel) {
  auto a = create_mdev(sim_, MdevCreateRequest{kT4, "nvidia-223", std::nullopt});
  auto b = create_mdev(sim_, MdevCreateRequest{kT4, "nvidia-223", std::nullopt});
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(a->uuid, "00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(b->uuid, "00000000-0000-4000-8000-000000000002");
  EXPECT_EQ(avail("nvidia-223"), "6\n");
}

TEST_F(Mdev, CreateAcceptsTheTypeNameAsShownOrAsKubeVirtWritesIt) {
  auto a = create_mdev(sim_, MdevCreateRequest{kT4, "GRID T4-1Q", std::nullopt});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->type_id, "nvidia-230");
  auto b = create_mdev(sim_, MdevCreateRequest{kT4, "GRID_T4-1Q", std::nullopt});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->type_id, "nvidia-230");
}

TEST_F(Mdev, CreateIsRefusedWhenNoInstanceIsAvailable) {
  ASSERT_TRUE(create_mdev(sim_, MdevCreateRequest{kT4, "nvidia-222", std::nullopt}).ok());
  FaultyHost watch(sim_);
  auto r = create_mdev(watch, MdevCreateRequest{kT4, "nvidia-223", std::nullopt});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Refused);
  EXPECT_EQ(r.error().message,
            "no available instances of nvidia-223 (GRID T4-2B) on "
            "0000:01:00.0: remove an instance first (`hostpass mdev list`)");
  EXPECT_EQ(watch.write_count(), 0);
}

TEST_F(Mdev, CreateRefusesAUuidThatExists) {
  ASSERT_TRUE(create_mdev(sim_, MdevCreateRequest{kT4, "nvidia-230", std::string(kUuid)}).ok());
  auto r = create_mdev(sim_, MdevCreateRequest{kT4, "nvidia-230", std::string(kUuid)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Refused);
  EXPECT_EQ(r.error().message, std::string("mediated device ") + kUuid +
                                   " already exists (type nvidia-230 on 0000:01:00.0)");
  EXPECT_EQ(avail("nvidia-230"), "15\n");
}

TEST_F(Mdev, BadInputIsRejectedBeforeAnyAccess) {
  FaultyHost watch(sim_);
  for (const char* parent : {"", "..", "0000:01:00.0/../x"}) {
    auto r = create_mdev(watch, MdevCreateRequest{parent, "nvidia-230", std::nullopt});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput) << parent;
  }
  auto r = create_mdev(watch, MdevCreateRequest{kT4, "nvidia-230", std::string("1234")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
  auto t = create_mdev(watch, MdevCreateRequest{kT4, "../../x", std::nullopt});
  EXPECT_EQ(t.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(watch.read_count(), 0);
  EXPECT_EQ(watch.write_count(), 0);
}

TEST_F(Mdev, UnknownParentOrTypeSaysWhatExists) {
  auto p = create_mdev(sim_, MdevCreateRequest{"0000:65:00.0", "nvidia-230", std::nullopt});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(p.error().message,
            "no mediated device parent 0000:65:00.0 (not in "
            "/sys/class/mdev_bus; see `hostpass mdev types`)");
  auto t = create_mdev(sim_, MdevCreateRequest{kT4, "nvidia-999", std::nullopt});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message,
            "parent 0000:01:00.0 has no mediated device type 'nvidia-999' "
            "(it has: nvidia-222, nvidia-223, nvidia-230)");
}

TEST_F(Mdev, AFailedCreateWriteLeavesNothingBehind) {
  FaultyHost faulty(sim_);
  faulty.fail_write_matching("/create");
  auto r = create_mdev(faulty, MdevCreateRequest{kT4, "nvidia-230", std::string(kUuid)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("creating nvidia-230 instance " + std::string(kUuid) +
                                   " on 0000:01:00.0"),
            std::string::npos)
      << r.error().message;
  EXPECT_TRUE(list_mdev_instances(real_)->empty());
  EXPECT_EQ(avail("nvidia-230"), "16\n");
}

TEST_F(Mdev, CreateNoticesWhenTheDeviceDoesNotAppear) {
  // Plain files, no mdev core behind `create`: the write succeeds and nothing appears.
  auto r = create_mdev(real_, MdevCreateRequest{kT4, "nvidia-230", std::string(kUuid)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Io);
  EXPECT_EQ(r.error().message.find(std::string("wrote ") + kUuid +
                                   " to /sys/class/mdev_bus/0000:01:00.0/mdev_supported_types/"
                                   "nvidia-230/create but /sys/bus/mdev/devices/" +
                                   kUuid + " did not appear"),
            0u)
      << r.error().message;
}

TEST_F(Mdev, RemoveWritesOneAndTheInstanceIsGone) {
  ASSERT_TRUE(create_mdev(sim_, MdevCreateRequest{kT4, "nvidia-230", std::string(kUuid)}).ok());
  FaultyHost watch(sim_);
  auto r = remove_mdev(watch, "83B8F4F2-509F-382F-3C1E-E6BFE0FA1001");  // any case
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->type_id, "nvidia-230");
  ASSERT_EQ(watch.writes().size(), 1u);
  EXPECT_EQ(watch.writes()[0].path, std::string("/sys/bus/mdev/devices/") + kUuid + "/remove");
  EXPECT_EQ(watch.writes()[0].data, "1");
  EXPECT_TRUE(list_mdev_instances(real_)->empty());
  EXPECT_FALSE(std::filesystem::exists(
      tree_.path("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/" + std::string(kUuid))));
  EXPECT_EQ(avail("nvidia-230"), "16\n");
  EXPECT_EQ(avail("nvidia-222"), "16\n");  // the card is free for any type again
}

TEST_F(Mdev, RemoveOfAnUnknownUuidIsNotFound) {
  auto r = remove_mdev(sim_, kUuid);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(r.error().message,
            std::string("no mediated device ") + kUuid + " (see `hostpass mdev list`)");
}

TEST_F(Mdev, ExistingInstancesOfTheFixtureAreListed) {
  tree_.add_mdev_instance(kT4, "nvidia-223", kUuid);
  auto instances = list_mdev_instances(real_);
  ASSERT_TRUE(instances.ok());
  ASSERT_EQ(instances->size(), 1u);
  EXPECT_EQ((*instances)[0].parent, kT4);
  EXPECT_EQ((*instances)[0].type_name, "GRID T4-2B");
  EXPECT_EQ(avail("nvidia-223"), "7\n");
}

TEST_F(Mdev, ListingOnlyReads) {
  tree_.add_mdev_instance(kT4, "nvidia-223", kUuid);
  ASSERT_TRUE(define_mdev(real_, MdevDefinition{kUuid, kT4, "nvidia-223", true, {}}).ok());
  FaultyHost watch(real_);
  std::vector<std::string> warnings;
  EXPECT_EQ(list_mdev_types(watch, &warnings)->size(), 3u);
  EXPECT_EQ(list_mdev_instances(watch, &warnings)->size(), 1u);
  EXPECT_EQ(list_mdev_definitions(watch, &warnings)->size(), 1u);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(watch.write_count(), 0);
  EXPECT_GT(watch.read_count(), 10);
}

// ---- UUIDs and matching ----

TEST(MdevUuid, AcceptsOnlyTheCanonicalFormAndLowersIt) {
  EXPECT_EQ(*parse_mdev_uuid("83B8F4F2-509F-382F-3C1E-E6BFE0FA1001"), kUuid);
  for (const char* bad :
       {"", "83b8f4f2509f382f3c1ee6bfe0fa1001", "83b8f4f2-509f-382f-3c1e-e6bfe0fa100",
        "83b8f4f2-509f-382f-3c1e-e6bfe0fa10011", "83b8f4f2-509f-382f-3c1e_e6bfe0fa1001",
        "g3b8f4f2-509f-382f-3c1e-e6bfe0fa1001", "{83b8f4f2-509f-382f-3c1e-e6bfe0fa100}",
        "../../../../../../../../etc/passwd/xx"}) {
    auto r = parse_mdev_uuid(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
    }
  }
}

TEST(MdevMatch, KubeVirtComparesNamesWithSpacesAsUnderscores) {
  MdevType t;
  t.id = "nvidia-230";
  t.name = "GRID T4-1Q";
  EXPECT_TRUE(mdev_type_matches(t, "nvidia-230"));
  EXPECT_TRUE(mdev_type_matches(t, "GRID_T4-1Q"));
  EXPECT_FALSE(mdev_type_matches(t, "GRID T4-1Q"));  // mediatedDeviceTypes: verbatim
  EXPECT_FALSE(mdev_type_matches(t, "GRID_T4-1"));
  EXPECT_TRUE(mdev_name_selector_matches(t, "GRID T4-1Q"));  // mdevNameSelector: normalized
  EXPECT_TRUE(mdev_name_selector_matches(t, "GRID_T4-1Q"));
  EXPECT_FALSE(mdev_name_selector_matches(t, "GRID T4-2Q"));
}

// ---- mdevctl ----

TEST(Mdevctl, WritesTheBytesMdevctlWrites) {
  MdevDefinition d{kUuid, kT4, "nvidia-230", true, {}};
  // mdevctl tests/define/*/expected and tests/modify/addattr/expected: serde_json pretty,
  // preserve_order, no final newline.
  EXPECT_EQ(mdevctl_config_text(d),
            "{\n  \"mdev_type\": \"nvidia-230\",\n  \"start\": \"auto\",\n  \"attrs\": []\n}");
  d.auto_start = false;
  d.attrs = {{"assign_adapter", "5"}, {"assign_domain", "0xab"}};
  EXPECT_EQ(mdevctl_config_text(d),
            "{\n  \"mdev_type\": \"nvidia-230\",\n  \"start\": \"manual\",\n  \"attrs\": [\n"
            "    {\n      \"assign_adapter\": \"5\"\n    },\n"
            "    {\n      \"assign_domain\": \"0xab\"\n    }\n  ]\n}");
  EXPECT_EQ(mdevctl_config_path(d), std::string("/etc/mdevctl.d/0000:01:00.0/") + kUuid);
}

TEST(Mdevctl, ParsesWhatMdevctlWritesIncludingItsOlderFormWithoutAttrs) {
  auto old = parse_mdevctl_config(
      "{\n  \"mdev_type\": \"i915-GVTg_V5_4\",\n  \"start\": \"manual\"\n}", "0000:00:02.0", kUuid);
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_EQ(old->type_id, "i915-GVTg_V5_4");
  EXPECT_FALSE(old->auto_start);
  EXPECT_TRUE(old->attrs.empty());
  MdevDefinition d{kUuid, kT4, "nvidia-230", true, {{"a", "1"}, {"a", "2"}}};
  auto back = parse_mdevctl_config(mdevctl_config_text(d), kT4, kUuid);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->type_id, "nvidia-230");
  EXPECT_TRUE(back->auto_start);
  EXPECT_EQ(back->attrs, d.attrs);
  for (const char* bad :
       {"", "[]", "{\"start\": \"auto\"}", "{\"mdev_type\": \"x\"}",
        "{\"mdev_type\": \"x\", \"start\": \"auto\", \"attrs\": {}}",
        "{\"mdev_type\": \"x\", \"start\": \"auto\", \"attrs\": [{\"a\": 1}]}",
        "{\"mdev_type\": \"x\", \"start\": \"auto\", \"attrs\": [{\"a\": \"1\", \"b\": \"2\"}]}"}) {
    auto r = parse_mdevctl_config(bad, kT4, kUuid);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST_F(Mdev, DefinitionsAreWrittenListedAndRemoved) {
  MdevDefinition d{kUuid, kT4, "nvidia-230", true, {}};
  ASSERT_TRUE(define_mdev(real_, d).ok());
  EXPECT_EQ(file(std::string("/etc/mdevctl.d/0000:01:00.0/") + kUuid), mdevctl_config_text(d));
  tree_.write("/etc/mdevctl.d/scripts.d/callouts/x", "#!/bin/sh\n");  // mdevctl's, not a parent
  tree_.write("/etc/mdevctl.d/0000:01:00.0/not-a-uuid", "{}");
  tree_.write("/etc/mdevctl.d/0000:01:00.0/00000000-0000-4000-8000-000000000009", "{broken");
  std::vector<std::string> warnings;
  auto defs = list_mdev_definitions(real_, &warnings);
  ASSERT_TRUE(defs.ok());
  ASSERT_EQ(defs->size(), 1u);
  EXPECT_EQ((*defs)[0].uuid, kUuid);
  EXPECT_EQ((*defs)[0].parent, kT4);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "/etc/mdevctl.d/0000:01:00.0/00000000-0000-4000-8000-000000000009: "
            "not a JSON object");
  auto removed = undefine_mdev(real_, kUuid);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(
      std::filesystem::exists(tree_.path(std::string("/etc/mdevctl.d/0000:01:00.0/") + kUuid)));
  EXPECT_FALSE(*undefine_mdev(real_, kUuid));
}

}  // namespace
}  // namespace hostpass
