#include "host.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "faulty_host.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

TEST(PathHelpers, ResolveLinkLikeTheKernelsRelativeTargets) {
  EXPECT_EQ(
      resolve_link("/sys/bus/pci/devices/0000:00:02.0", "../../../devices/pci0000:00/0000:00:02.0"),
      "/sys/devices/pci0000:00/0000:00:02.0");
  EXPECT_EQ(resolve_link("/sys/devices/pci0000:00/0000:00:02.0/driver",
                         "../../../bus/pci/drivers/virtio-pci"),
            "/sys/bus/pci/drivers/virtio-pci");
  EXPECT_EQ(resolve_link("/a/b", "/abs/c"), "/abs/c");
  EXPECT_EQ(normalize_path("/a//b/./c/../d/"), "/a/b/d");
  EXPECT_EQ(normalize_path("/../.."), "/");
  EXPECT_EQ(base_name("../../../bus/pci/drivers/vfio-pci"), "vfio-pci");
  EXPECT_EQ(dir_name("/sys/x"), "/sys");
  EXPECT_EQ(join_path("/sys/", "/x"), "/sys/x");
  EXPECT_EQ(trim("  0x10de\n"), "0x10de");
  EXPECT_EQ(split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(split("", ','), (std::vector<std::string>{""}));
  EXPECT_EQ(join(split("10de:1eb8,8086:5845", ','), ","), "10de:1eb8,8086:5845");
}

TEST(Text, PluralAgreesWithItsCount) {
  EXPECT_EQ(plural(0, "warning", "warnings"), "0 warnings");
  EXPECT_EQ(plural(1, "warning", "warnings"), "1 warning");
  EXPECT_EQ(plural(2, "irq index", "irq indexes"), "2 irq indexes");
}

TEST(SysfsValues, ParseStrictly) {
  EXPECT_EQ(parse_sysfs_hex("0x10de\n"), 0x10deu);
  EXPECT_EQ(parse_sysfs_hex("030200"), 0x030200u);
  EXPECT_FALSE(parse_sysfs_hex("0x").has_value());
  EXPECT_FALSE(parse_sysfs_hex("0x10de junk").has_value());
  EXPECT_FALSE(parse_sysfs_hex("").has_value());
  EXPECT_FALSE(parse_sysfs_hex("0x123456789").has_value());
  // 64-bit registers (an Intel IOMMU's ecap): all 16 digits, no more.
  EXPECT_EQ(parse_sysfs_hex64("19e2ff0505e\n"), 0x19e2ff0505eull);
  EXPECT_EQ(parse_sysfs_hex64("0xffffffffffffffff"), 0xffffffffffffffffull);
  EXPECT_FALSE(parse_sysfs_hex("19e2ff0505e").has_value());  // too wide for 32 bits
  for (const char* bad : {"", "0x", "1ffffffffffffffff", "19e2 ff", "-1", "g"})
    EXPECT_FALSE(parse_sysfs_hex64(bad).has_value()) << bad;
  EXPECT_EQ(parse_sysfs_int("-1\n"), -1);
  EXPECT_EQ(parse_sysfs_int(" 42 \n"), 42);
  EXPECT_EQ(parse_sysfs_int("2147483647"), 2147483647);
  for (const char* bad : {"1.5", "", "\n", "+3", "3x", "0x3", "- 1", "2147483648", "1 2"})
    EXPECT_FALSE(parse_sysfs_int(bad).has_value()) << bad;
}

// A count is a decimal that cannot be negative: pids, group numbers, available_instances.
TEST(SysfsValues, ACountIsNeverNegative) {
  EXPECT_EQ(parse_sysfs_count("3\n"), 3);
  EXPECT_EQ(parse_sysfs_count("0"), 0);
  EXPECT_EQ(parse_sysfs_count("007"), 7);
  for (const char* bad : {"-1", "-0", "", "vfio", "3\n4", "99999999999"})
    EXPECT_FALSE(parse_sysfs_count(bad).has_value()) << bad;
}

TEST(RealHost, ReadsAndWritesUnderItsRootOnly) {
  testing::ScratchDir dir;
  RealHost host(dir.path());
  ASSERT_TRUE(host.replace_file("/etc/hostpass/x.conf", "hello\n").ok());
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/etc/hostpass/x.conf"));
  auto r = host.read_file("/etc/hostpass/x.conf");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "hello\n");
  EXPECT_EQ(host.resolve("/sys"), dir.path() + "/sys");
  auto missing = host.read_file("/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
}

TEST(RealHost, WriteAttributeNeverCreatesAFile) {
  testing::ScratchDir dir;
  RealHost host(dir.path());
  Status s = host.write_attribute("/sys/bus/pci/drivers/vfio-pci/bind", "0000:01:00.0");
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/sys/bus/pci/drivers/vfio-pci/bind"));
}

TEST(RealHost, RefusesToRunCommandsUnderAFixtureRoot) {
  testing::ScratchDir dir;
  RealHost host(dir.path());
  auto r = host.run_command({"true"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Unsupported);
}

TEST(RealHost, RunsCommandsAtTheSystemRoot) {
  RealHost host("/");
  auto r = host.run_command({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(FaultyHost, FailsTheNthWriteAndRecordsEveryAttempt) {
  testing::ScratchDir dir;
  RealHost real(dir.path());
  FaultyHost host(real);
  host.fail_nth_write(2);
  EXPECT_TRUE(host.replace_file("/a", "1").ok());
  EXPECT_FALSE(host.replace_file("/b", "2").ok());
  EXPECT_TRUE(host.replace_file("/c", "3").ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/b"));
  ASSERT_EQ(host.write_count(), 3);
  EXPECT_TRUE(host.writes()[1].failed);
}

TEST(FaultyHost, FailsWritesMatchingAPath) {
  testing::ScratchDir dir;
  RealHost real(dir.path());
  FaultyHost host(real);
  host.fail_write_matching("/drivers/vfio-pci/bind");
  ASSERT_TRUE(real.replace_file("/sys/bus/pci/drivers/vfio-pci/bind", "").ok());
  Status s = host.write_attribute("/sys/bus/pci/drivers/vfio-pci/bind", "0000:01:00.0");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("0000:01:00.0"), std::string::npos);
}

TEST(FaultyHost, CrashFreezesEveryLaterWrite) {
  testing::ScratchDir dir;
  RealHost real(dir.path());
  FaultyHost host(real);
  host.crash_after_writes(1);
  EXPECT_TRUE(host.replace_file("/a", "1").ok());
  EXPECT_FALSE(host.replace_file("/b", "2").ok());
  EXPECT_FALSE(host.remove_file("/a").ok());
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/a"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/b"));
}

}  // namespace
}  // namespace hostpass
