// kernel_cmdline_test.cc — the kernel's splitting of /proc/cmdline, the name=value lists in it,
// and the GRUB_CMDLINE_LINUX* assignments found with their byte ranges. (Editing them is
// kernel_args_test.cc's.)
#include "kernel_cmdline.h"

#include <gtest/gtest.h>

#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using Args = std::vector<std::string>;

TEST(SplitCmdline, QuotesGroupAndDoubleDashEnds) {
  EXPECT_EQ(split_cmdline("a  b=\"x y\" c -- init args"),
            (std::vector<std::string>{"a", "b=\"x y\"", "c"}));
  EXPECT_TRUE(split_cmdline("").empty());
}

TEST(KernelCmdline, TheLastValueOfANameCounts) {
  Args args =
      split_cmdline("BOOT_IMAGE=/vmlinuz intel_iommu=off quiet intel_iommu=on,sm_on iommu=");
  EXPECT_EQ(cmdline_value(args, "intel_iommu"), std::optional<std::string>("on,sm_on"));
  EXPECT_EQ(cmdline_value(args, "iommu"), std::optional<std::string>(""));  // the last, empty
  EXPECT_EQ(cmdline_value(args, "quiet"), std::nullopt);  // a flag, not name=value
  EXPECT_EQ(cmdline_value(args, "intel"), std::nullopt);  // a prefix is not the name
  EXPECT_TRUE(value_has("on,sm_on", "sm_on"));
  EXPECT_FALSE(value_has("on,sm_on", "sm"));
  EXPECT_FALSE(value_has("", "on"));
  EXPECT_EQ(arg_name("vfio-pci.ids=10de:1eb8,8086:5845"), "vfio-pci.ids");
  EXPECT_EQ(arg_values("vfio-pci.ids=10de:1eb8,8086:5845"), (Args{"10de:1eb8", "8086:5845"}));
  EXPECT_EQ(arg_name("quiet"), "quiet");
  EXPECT_TRUE(arg_values("quiet").empty());
}

TEST(KernelCmdline, ProcCmdlineIsReadWithoutItsNewline) {
  testing::ScratchDir dir;
  testing::FixtureTree tree(dir.path() + "/root");
  RealHost host(tree.root());
  tree.write("/proc/cmdline", "BOOT_IMAGE=/vmlinuz ro intel_iommu=on\n");
  auto c = read_proc_cmdline(host);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c, "BOOT_IMAGE=/vmlinuz ro intel_iommu=on");
}

TEST(ShellAssignments, EachStatementAtALineStartWithItsValueRange) {
  std::string text =
      "# GRUB_CMDLINE_LINUX=\"commented\"\n"
      "GRUB_TIMEOUT=5\n"
      "  export GRUB_CMDLINE_LINUX_DEFAULT='quiet splash'\n"
      "GRUB_CMDLINE_LINUX=\"ro \\\n  intel_iommu=on\" # trailing comment\n";
  auto a = scan_shell_assignments(text);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[0].name, "GRUB_TIMEOUT");
  EXPECT_EQ((*a)[0].quote, 0);
  EXPECT_EQ(text.substr((*a)[0].value_begin, (*a)[0].value_end - (*a)[0].value_begin), "5");
  EXPECT_EQ((*a)[1].name, "GRUB_CMDLINE_LINUX_DEFAULT");
  EXPECT_EQ((*a)[1].quote, '\'');
  const ShellAssignment& linux = (*a)[2];
  EXPECT_EQ(linux.quote, '"');
  std::vector<ArgSpan> args = assignment_args(text, linux);
  ASSERT_EQ(args.size(), 2u);  // backslash-newline separates like a blank
  EXPECT_EQ(args[0].text, "ro");
  EXPECT_EQ(args[1].text, "intel_iommu=on");
  EXPECT_EQ(text.substr(args[1].begin, args[1].end - args[1].begin), "intel_iommu=on");
  EXPECT_EQ(text[linux.stmt_end - 1], '"');
}

TEST(ShellAssignments, AnUnterminatedQuoteIsInvalidInput) {
  auto a = scan_shell_assignments("GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"quiet\n");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(a.error().message, "unterminated \" quote in GRUB_CMDLINE_LINUX (starting at byte 15)");
}

}  // namespace
}  // namespace hostpass
