// this_node_name on fixture roots: the kernel's name first, /etc/hostname when /proc has none,
// lower-cased as the kubelet does, and NotFound naming both files when neither names the node.
#include "node_name.h"

#include <gtest/gtest.h>

#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

// The name, or "error: <message>" so that a failure prints what went wrong.
std::string name_or_error(Host& host) {
  auto n = this_node_name(host);
  return n.ok() ? *n : "error: " + n.error().message;
}

class NodeNameTest : public ::testing::Test {
 protected:
  NodeNameTest() : tree_(dir_.path() + "/root"), host_(tree_.root()) {}
  testing::ScratchDir dir_;
  testing::FixtureTree tree_;
  RealHost host_;
};

TEST_F(NodeNameTest, TheKernelsHostnameWinsOverEtcHostname) {
  tree_.write("/proc/sys/kernel/hostname", "worker-3\n");
  tree_.write("/etc/hostname", "stale-name\n");
  EXPECT_EQ(name_or_error(host_), "worker-3");
}

TEST_F(NodeNameTest, IsLowerCasedAndTrimmedAsTheKubeletDoes) {
  tree_.write("/proc/sys/kernel/hostname", "  Worker-3.Example.COM \n");
  EXPECT_EQ(name_or_error(host_), "worker-3.example.com");
}

TEST_F(NodeNameTest, EtcHostnameWhenProcHasNoNameSkippingComments) {
  tree_.write("/etc/hostname", "# set by the installer\n\nnode07\n");
  EXPECT_EQ(name_or_error(host_), "node07");
  tree_.write("/proc/sys/kernel/hostname", "\n");  // empty: still /etc/hostname
  EXPECT_EQ(name_or_error(host_), "node07");
}

TEST_F(NodeNameTest, NeitherFileIsNotFoundNamingBoth) {
  auto n = this_node_name(host_);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().kind, ErrorKind::NotFound);
  EXPECT_NE(n.error().message.find("/proc/sys/kernel/hostname"), std::string::npos)
      << n.error().message;
  EXPECT_NE(n.error().message.find("/etc/hostname"), std::string::npos) << n.error().message;
}

}  // namespace
}  // namespace hostpass
