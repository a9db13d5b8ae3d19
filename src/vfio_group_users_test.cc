// Tests for vfio_group_users.cc: the /proc/<pid>/fd scan on fixture roots shaped like procfs
// (fd entries are symlinks to the opened path, comm a one-line file).
#include "vfio_group_users.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::ScratchDir;

class VfioGroupUsers : public ::testing::Test {
 protected:
  VfioGroupUsers() : tree_(dir_.path() + "/root"), host_(tree_.root()) {
    tree_.mkdir("/proc/self");
    tree_.write("/proc/cmdline", "ro\n");
  }
  ScratchDir dir_;
  FixtureTree tree_;
  RealHost host_;
};

TEST_F(VfioGroupUsers, GroupsHeldOpenAreMappedToTheirProcessesByPid) {
  tree_.write("/proc/4242/comm", "qemu-system-x86\n");
  tree_.symlink("/dev/vfio/vfio", "/proc/4242/fd/20");  // the container: not a group
  tree_.symlink("/dev/vfio/12", "/proc/4242/fd/21");
  tree_.symlink("/dev/vfio/13", "/proc/4242/fd/22");
  tree_.symlink("/dev/vfio/12", "/proc/4242/fd/23");             // twice: one user
  tree_.symlink("/dev/vfio/devices/vfio0", "/proc/4242/fd/24");  // iommufd cdev: not a group
  tree_.write("/proc/77/comm", "sleep\n");
  tree_.symlink("/dev/vfio/12", "/proc/77/fd/7");
  tree_.symlink("/dev/null", "/proc/78/fd/0");
  tree_.mkdir("/proc/79");  // no fd directory (another user's process): skipped
  auto users = vfio_group_users(host_);
  ASSERT_TRUE(users.ok()) << users.error().message;
  ASSERT_EQ(users->size(), 2u);
  ASSERT_EQ(users->at(12).size(), 2u);
  EXPECT_EQ(users->at(12)[0].describe(), "77 (sleep)");
  EXPECT_EQ(users->at(12)[1].describe(), "4242 (qemu-system-x86)");
  ASSERT_EQ(users->at(13).size(), 1u);
  EXPECT_EQ(users->at(13)[0].pid, 4242);
}

TEST_F(VfioGroupUsers, NobodyHoldingAGroupIsAnEmptyMap) {
  tree_.symlink("/dev/null", "/proc/1/fd/0");
  auto users = vfio_group_users(host_);
  ASSERT_TRUE(users.ok());
  EXPECT_TRUE(users->empty());
}

TEST_F(VfioGroupUsers, AProcessWithoutCommIsStillNamedByPid) {
  tree_.symlink("/dev/vfio/3", "/proc/500/fd/9");
  auto users = vfio_group_users(host_);
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(users->at(3)[0].describe(), "500");
}

TEST(VfioGroupUsersNoProc, AnUnreadableProcIsAnError) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  std::filesystem::remove_all(tree.path("/proc"));  // a root without procfs mounted
  RealHost host(tree.root());
  auto users = vfio_group_users(host);
  ASSERT_FALSE(users.ok());
  EXPECT_EQ(users.error().message.rfind("cannot list processes: ", 0), 0u) << users.error().message;
}

}  // namespace
}  // namespace hostpass
