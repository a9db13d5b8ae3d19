// owned_file_test.cc — an operator's file is refused with a diff; --force keeps numbered backups.
#include "owned_file.h"

#include <gtest/gtest.h>

#include "faulty_host.h"
#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

class OwnedFile : public ::testing::Test {
 protected:
  OwnedFile() : tree_(dir_.path() + "/root"), host_(tree_.root()) {}
  testing::ScratchDir dir_;
  testing::FixtureTree tree_;
  RealHost host_;
};

const NodeFile kOurs{"/etc/modprobe.d/vfio.conf",
                     "# Written by hostpass persist: x\noptions vfio-pci ids=8086:5845\n", 0644};

TEST_F(OwnedFile, MarkerIsACommentLine) {
  EXPECT_TRUE(carries_marker("# Written by hostpass persist\nx\n"));
  EXPECT_TRUE(carries_marker("a\n  # Written by hostpass\n"));
  EXPECT_FALSE(carries_marker("options x # Written by hostpass\n"));
  EXPECT_FALSE(carries_marker("# written by hand\n"));
}

TEST_F(OwnedFile, AnOperatorsFileIsRefusedWithADiffAndNothingIsWritten) {
  tree_.write("/etc/modprobe.d/vfio.conf", "options vfio-pci ids=10de:1eb8 disable_vga=1\n");
  FaultyHost host(host_);
  auto r = write_owned_files(host, {kOurs}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Refused);
  EXPECT_NE(r.error().message.find("refusing to replace /etc/modprobe.d/vfio.conf"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("\n-options vfio-pci ids=10de:1eb8 disable_vga=1\n"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("\n+options vfio-pci ids=8086:5845\n"), std::string::npos);
  EXPECT_EQ(host.write_count(), 0);
}

TEST_F(OwnedFile, ForceKeepsNumberedBackupsAndNeverOverwritesOne) {
  tree_.write("/etc/modprobe.d/vfio.conf", "first by hand\n");
  auto one = write_owned_files(host_, {kOurs}, true);
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(*host_.read_file("/etc/modprobe.d/vfio.conf"), kOurs.contents);
  EXPECT_EQ(*host_.read_file("/etc/modprobe.d/vfio.conf.hostpass.bak"), "first by hand\n");
  ASSERT_EQ(one->notes.size(), 1u);
  EXPECT_NE(one->notes[0].find("/etc/modprobe.d/vfio.conf.hostpass.bak"), std::string::npos);
  tree_.write("/etc/modprobe.d/vfio.conf", "second by hand\n");
  ASSERT_TRUE(write_owned_files(host_, {kOurs}, true).ok());
  EXPECT_EQ(*host_.read_file("/etc/modprobe.d/vfio.conf.hostpass.bak"), "first by hand\n");
  EXPECT_EQ(*host_.read_file("/etc/modprobe.d/vfio.conf.hostpass.bak.1"), "second by hand\n");
}

TEST_F(OwnedFile, OursOrLosingNothingIsReplacedWithoutARefusal) {
  tree_.write("/etc/modprobe.d/vfio.conf", "# Written by hostpass persist: old\nold\n");
  ASSERT_TRUE(write_owned_files(host_, {kOurs}, false).ok());
  EXPECT_EQ(*host_.read_file("/etc/modprobe.d/vfio.conf"), kOurs.contents);
  // The same content without the marker line (an apply file given as its own target).
  tree_.write("/etc/modprobe.d/vfio.conf", "options vfio-pci ids=8086:5845\n");
  ASSERT_TRUE(write_owned_files(host_, {kOurs}, false).ok());
  // driverctl's one-line file: the same driver is no change, another is the operator's.
  NodeFile dc{"/etc/driverctl.d/pci-0000:05:00.0", "vfio-pci\n", 0644};
  tree_.write(dc.path, "vfio-pci\n");
  EXPECT_TRUE(write_owned_files(host_, {dc}, false).ok());
  tree_.write(dc.path, "nvme\n");
  EXPECT_FALSE(write_owned_files(host_, {dc}, false).ok());
  EXPECT_FALSE(host_.exists("/etc/modprobe.d/vfio.conf.hostpass.bak"));
}

}  // namespace
}  // namespace hostpass
