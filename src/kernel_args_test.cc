// kernel_args_test.cc — real-world /etc/default/grub shapes → the exact file after the edit, and
// a second edit changes nothing.
#include "kernel_args.h"

#include <gtest/gtest.h>

#include "boot_edit.h"
#include "faulty_host.h"
#include "fixture_tree.h"
#include "test_dirs.h"
#include "twin_devices_host.h"

namespace hostpass {
namespace {

KernelArgSpec intel(std::vector<std::string> ids = {}) {
  return *kernel_arg_spec(CpuVendor::Intel, ids);
}

struct GrubCase {
  const char* name;
  const char* before;
  const char* after;
  KernelArgSpec spec;
};

const char* kDebianHead =
    "# If you change this file, run 'update-grub' afterwards to update\n"
    "# /boot/grub/grub.cfg.\n"
    "GRUB_DEFAULT=0\n"
    "GRUB_TIMEOUT=5\n"
    "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n";

std::vector<GrubCase> cases() {
  std::string deb = kDebianHead;
  static std::vector<std::string> keep;  // storage for composed strings
  auto s = [&](std::string x) {
    keep.push_back(std::move(x));
    return keep.back().c_str();
  };
  keep.reserve(64);
  return {
      {"DebianDoubleQuotes",
       s(deb + "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"console=ttyS0\"\n"),
       s(deb + "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
               "GRUB_CMDLINE_LINUX=\"console=ttyS0 intel_iommu=on iommu=pt\"\n"),
       intel()},
      {"SingleQuotes", "GRUB_CMDLINE_LINUX='rd.lvm.lv=rhel/root crashkernel=auto'\n",
       "GRUB_CMDLINE_LINUX='rd.lvm.lv=rhel/root crashkernel=auto intel_iommu=on iommu=pt'\n",
       intel()},
      {"EmptyValue", "GRUB_CMDLINE_LINUX=\"\"\nGRUB_TIMEOUT=5\n",
       "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\nGRUB_TIMEOUT=5\n", intel()},
      {"AbsentVariable", s(deb), s(deb + "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\n"),
       intel()},
      {"AbsentVariableNoFinalNewline", "GRUB_TIMEOUT=5",
       "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\n", intel()},
      {"EmptyFile", "", "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\n", intel()},
      {"IntelIommuOffReplacedInPlace", "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=off splash\"\n",
       "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on splash iommu=pt\"\n", intel()},
      {"IommuPtAlreadyThere", "GRUB_CMDLINE_LINUX=\"iommu=pt\"\n",
       "GRUB_CMDLINE_LINUX=\"iommu=pt intel_iommu=on\"\n", intel()},
      {"EverythingAlreadyThere", "GRUB_CMDLINE_LINUX=\"intel_iommu=on,sm_on iommu=pt\"\n",
       "GRUB_CMDLINE_LINUX=\"intel_iommu=on,sm_on iommu=pt\"\n", intel()},
      {"IommuOffReplaced", "GRUB_CMDLINE_LINUX=\"iommu=off\"\n",
       "GRUB_CMDLINE_LINUX=\"iommu=pt intel_iommu=on\"\n", intel()},
      {"DuplicatesCollapse",
       "GRUB_CMDLINE_LINUX=\"intel_iommu=on quiet intel_iommu=on iommu=pt\"\n",
       "GRUB_CMDLINE_LINUX=\"intel_iommu=on quiet iommu=pt\"\n", intel()},
      {"ContinuationLines",
       "GRUB_CMDLINE_LINUX=\"crashkernel=auto \\\nrd.lvm.lv=rhel/root \\\nrhgb quiet\"\n"
       "GRUB_DISABLE_RECOVERY=\"true\"\n",
       "GRUB_CMDLINE_LINUX=\"crashkernel=auto \\\nrd.lvm.lv=rhel/root \\\nrhgb quiet "
       "intel_iommu=on "
       "iommu=pt\"\nGRUB_DISABLE_RECOVERY=\"true\"\n",
       intel()},
      {"ContinuationLineHoldsTheConflict", "GRUB_CMDLINE_LINUX=\"quiet \\\n  intel_iommu=off\"\n",
       "GRUB_CMDLINE_LINUX=\"quiet \\\n  intel_iommu=on iommu=pt\"\n", intel()},
      {"CommentsAreLeftAlone",
       "#GRUB_CMDLINE_LINUX=\"intel_iommu=off\"\n"
       "# GRUB_CMDLINE_LINUX is where hostpass adds arguments\n"
       "GRUB_CMDLINE_LINUX=\"quiet\" # keep this comment\n",
       "#GRUB_CMDLINE_LINUX=\"intel_iommu=off\"\n"
       "# GRUB_CMDLINE_LINUX is where hostpass adds arguments\n"
       "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on iommu=pt\" # keep this comment\n",
       intel()},
      {"ConflictInDefaultIsRemoved",
       "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=off splash\"\nGRUB_CMDLINE_LINUX=\"\"\n",
       "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nGRUB_CMDLINE_LINUX=\"intel_iommu=on "
       "iommu=pt\"\n",
       intel()},
      {"SatisfiedInDefaultIsNotDuplicated",
       "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet iommu=pt\"\nGRUB_CMDLINE_LINUX=\"\"\n",
       "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet iommu=pt\"\nGRUB_CMDLINE_LINUX=\"intel_iommu=on\"\n",
       intel()},
      {"Unquoted", "GRUB_CMDLINE_LINUX=quiet\n",
       "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on iommu=pt\"\n", intel()},
      {"UnquotedEmpty", "GRUB_CMDLINE_LINUX=\n", "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\n",
       intel()},
      {"LastAssignmentGetsTheAdditions",
       "GRUB_CMDLINE_LINUX=\"quiet\"\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX splash\"\n",
       "GRUB_CMDLINE_LINUX=\"quiet\"\n"
       "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX splash intel_iommu=on iommu=pt\"\n",
       intel()},
      {"VfioIdsMerged", "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt vfio-pci.ids=8086:5845\"\n",
       "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt vfio-pci.ids=8086:5845,10de:1eb8\"\n",
       intel({"10de:1eb8"})},
      {"AmdIommuOffRemoved", "GRUB_CMDLINE_LINUX=\"amd_iommu=off\"\n",
       "GRUB_CMDLINE_LINUX=\"iommu=pt\"\n", *kernel_arg_spec(CpuVendor::Amd, {})},
      {"AmdIommuOffInTheMiddle", "GRUB_CMDLINE_LINUX='quiet amd_iommu=off splash'\n",
       "GRUB_CMDLINE_LINUX='quiet splash iommu=pt'\n", *kernel_arg_spec(CpuVendor::Amd, {})},
      {"ExportedAndIndented", "  export GRUB_CMDLINE_LINUX=\"ro\"\n",
       "  export GRUB_CMDLINE_LINUX=\"ro intel_iommu=on iommu=pt\"\n", intel()},
  };
}

TEST(GrubEdit, RealWorldLinesGiveTheExpectedFileAndASecondEditChangesNothing) {
  for (const GrubCase& c : cases()) {
    SCOPED_TRACE(c.name);
    auto e = edit_grub_defaults(c.before, c.spec);
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_EQ(e->after, c.after);
    EXPECT_EQ(e->changed(), std::string(c.before) != c.after);
    auto again = edit_grub_defaults(e->after, c.spec);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->changed()) << again->after;
    EXPECT_TRUE(again->added.empty());
    EXPECT_TRUE(again->removed.empty());
  }
}

TEST(GrubEdit, ReportsWhatWasAddedAndRemoved) {
  auto e = edit_grub_defaults("GRUB_CMDLINE_LINUX=\"intel_iommu=off\"\n", intel());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->added, (std::vector<std::string>{"intel_iommu=on", "iommu=pt"}));
  EXPECT_EQ(e->removed, (std::vector<std::string>{"intel_iommu=off"}));
}

TEST(GrubEdit, UnterminatedQuoteIsInvalidInput) {
  auto e = edit_grub_defaults("GRUB_CMDLINE_LINUX=\"quiet\n", intel());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::InvalidInput);
}

// Found by fuzz/grub_defaults_fuzz: the shell reads a"b c" as the one word 'ab c', the scan read
// 'a"b'; double-quoting it for the edit gave a file a second edit read differently again.
TEST(GrubEdit, AValueMixingQuotedAndUnquotedPartsIsInvalidInputAndTheFileKept) {
  for (const char* text :
       {"GRUB_CMDLINE_LINUX=quiet\"splash x\"\n", "GRUB_CMDLINE_LINUX=\"quiet\"splash\n",
        "GRUB_CMDLINE_LINUX='quiet'#x\n", "GRUB_CMDLINE_LINUX_DEFAULT=a\\ b\n"}) {
    auto e = edit_grub_defaults(text, intel());
    ASSERT_FALSE(e.ok()) << text;
    EXPECT_EQ(e.error().kind, ErrorKind::InvalidInput);
    EXPECT_NE(e.error().message.find("mixes quoted and unquoted parts"), std::string::npos)
        << e.error().message;
  }
  // Other variables may mix them: only the two edited ones must be one word.
  EXPECT_TRUE(
      edit_grub_defaults("GRUB_DISTRIBUTOR=a\"b\"\nGRUB_CMDLINE_LINUX=\"\"\n", intel()).ok());
}

// Found by fuzz/grub_defaults_fuzz: '#' starts a comment only at the start of a word, so in
// GRUB_CMDLINE_LINUX=#x the value is "#x", not empty with a comment after it.
TEST(GrubEdit, AHashInsideAnUnquotedValueIsPartOfIt) {
  auto e = edit_grub_defaults("GRUB_CMDLINE_LINUX=#x\n", intel());
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->after, "GRUB_CMDLINE_LINUX=\"#x intel_iommu=on iommu=pt\"\n");
  auto again = edit_grub_defaults(e->after, intel());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed());
}

// Found by fuzz/grub_defaults_fuzz: a file without GRUB_CMDLINE_LINUX whose last line ends in a
// backslash. The appended assignment became the continuation of that line, so a second edit saw
// no GRUB_CMDLINE_LINUX and appended it again.
TEST(GrubEdit, AnAssignmentAppendedAfterATrailingBackslashStandsOnItsOwnLine) {
  for (const char* text : {"Y=a\\", "Y=a\\\n", "# ends in \\\n"}) {
    auto e = edit_grub_defaults(text, intel());
    ASSERT_TRUE(e.ok()) << text << ": " << e.error().message;
    EXPECT_NE(e->after.find("\n\nGRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\n"),
              std::string::npos)
        << e->after;
    auto again = edit_grub_defaults(e->after, intel());
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_FALSE(again->changed()) << again->after;
  }
}

// Found by fuzz/grub_defaults_fuzz: the two removals at the start of a value both took the
// blank between them, and the second cut the value's closing quote.
TEST(GrubEdit, TwoRemovedArgumentsOpeningAValueKeepItsQuotes) {
  auto e = edit_grub_defaults(
      "GRUB_CMDLINE_LINUX_DEFAULT=\"intel_iommu=off iommu=off\"\nGRUB_CMDLINE_LINUX=\"quiet\"\n",
      intel());
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(
      e->after,
      "GRUB_CMDLINE_LINUX_DEFAULT=\"\"\nGRUB_CMDLINE_LINUX=\"quiet intel_iommu=on iommu=pt\"\n");
  auto again = edit_grub_defaults(e->after, intel());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->changed());
}

// Found by fuzz/grub_defaults_fuzz: inside double quotes "x\ y" is the word 'x\' and 'y'.
// Removing y with the blank before it left x\ against the closing quote, which it then escaped:
// the value ran on to the next line's quote and a second edit read another file.
TEST(GrubEdit, ARemovalAfterAWordEndingInABackslashKeepsTheClosingQuote) {
  for (const char* removed : {"intel_iommu=off", "intel_iommu=off iommu=off"}) {
    SCOPED_TRACE(removed);
    std::string text = std::string("GRUB_CMDLINE_LINUX_DEFAULT=\"x\\ ") + removed +
                       "\"\nGRUB_CMDLINE_LINUX=\"quiet\"\n";
    auto e = edit_grub_defaults(text, intel());
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_EQ(e->after,
              "GRUB_CMDLINE_LINUX_DEFAULT=\"x\\ \"\n"
              "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on iommu=pt\"\n");
    auto again = edit_grub_defaults(e->after, intel());
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_FALSE(again->changed()) << again->after;
  }
}

TEST(KernelArgs, SpecPerVendor) {
  EXPECT_EQ(intel().wanted, (std::vector<std::string>{"intel_iommu=on", "iommu=pt"}));
  auto amd = *kernel_arg_spec(CpuVendor::Amd, {"10de:1eb8", "8086:5845"});
  EXPECT_EQ(amd.wanted, (std::vector<std::string>{"iommu=pt", "vfio-pci.ids=10de:1eb8,8086:5845"}));
  EXPECT_EQ(amd.forbidden, (std::vector<std::string>{"amd_iommu=off"}));
  auto other = kernel_arg_spec(CpuVendor::Other, {});
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("--cpu"), std::string::npos);
}

TEST(KernelArgs, ParseVfioIds) {
  EXPECT_EQ(*parse_vfio_ids("10DE:1EB8,8086:5845,10de:1eb8"),
            (std::vector<std::string>{"10de:1eb8", "8086:5845"}));
  for (const char* bad : {"", "10de", "10de:1eb", "10de:1eb8,", "10de:1eb8:1", "zzzz:1eb8",
                          "10de-1eb8", " 10de:1eb8"}) {
    auto r = parse_vfio_ids(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput) << bad;
    }
  }
}

TEST(KernelArgs, EditArgsOfTheRunningCommandLine) {
  ArgsEdit e = edit_args(split_cmdline("BOOT_IMAGE=/vmlinuz ro intel_iommu=off quiet"), intel());
  EXPECT_EQ(e.result, (std::vector<std::string>{"BOOT_IMAGE=/vmlinuz", "ro", "intel_iommu=on",
                                                "quiet", "iommu=pt"}));
  EXPECT_EQ(e.removed, (std::vector<std::string>{"intel_iommu=off"}));
  EXPECT_FALSE(edit_args(e.result, intel()).changed());
}

TEST(KernelArgs, UnifiedDiffShowsOnlyTheChangedLines) {
  EXPECT_EQ(unified_diff("/etc/default/grub", "a\nb\nc\n", "a\nB\nc\n"),
            "--- /etc/default/grub\n+++ /etc/default/grub\n@@ -2,1 +2,1 @@\n-b\n+B\n");
  EXPECT_EQ(unified_diff("/x", "a\n", "a\n"), "");
}

class GrubOnHost : public ::testing::Test {
 protected:
  GrubOnHost() : tree_(dir_.path() + "/root") {}
  testing::ScratchDir dir_;
  testing::FixtureTree tree_;
};

TEST_F(GrubOnHost, ApplyKeepsABackupAndASecondApplyWritesNothing) {
  const std::string before = std::string(kDebianHead) + "GRUB_CMDLINE_LINUX=\"quiet\"\n";
  tree_.write("/etc/default/grub", before);
  tree_.write("/etc/default/grub.d/50-cloudimg-settings.cfg",
              "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1\"\n");
  RealHost real(tree_.root());
  FaultyHost host(real);
  auto dry = plan_boot_edit(host, intel(), BootTarget::Grub);
  ASSERT_TRUE(dry.ok());
  EXPECT_FALSE(dry->written);
  EXPECT_EQ(host.write_count(), 0);
  ASSERT_EQ(dry->notes.size(), 1u);
  auto r = plan_boot_edit(host, intel(), BootTarget::Grub);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(write_boot_edit(host, *r).ok());
  EXPECT_TRUE(r->written);
  EXPECT_EQ(host.write_count(), 2);
  EXPECT_EQ(*real.read_file(kGrubBackup), before);
  EXPECT_EQ(*real.read_file(kGrubDefaults),
            std::string(kDebianHead) + "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on iommu=pt\"\n");
  auto again = plan_boot_edit(host, intel(), BootTarget::Grub);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed());
  ASSERT_TRUE(write_boot_edit(host, *again).ok());
  EXPECT_FALSE(again->written);
  EXPECT_EQ(host.write_count(), 2);
}

TEST_F(GrubOnHost, ASecondChangingApplyKeepsTheFirstBackup) {
  const std::string original = std::string(kDebianHead) + "GRUB_CMDLINE_LINUX=\"quiet\"\n";
  tree_.write("/etc/default/grub", original);
  RealHost host(tree_.root());
  auto one = plan_boot_edit(host, intel(), BootTarget::Grub);
  ASSERT_TRUE(one.ok()) << one.error().message;
  ASSERT_TRUE(write_boot_edit(host, *one).ok());
  EXPECT_EQ(one->files.at(0).backup_path, kGrubBackup);
  const std::string middle = *host.read_file(kGrubDefaults);
  auto spec = kernel_arg_spec(CpuVendor::Intel, {"10de:1eb8"});
  ASSERT_TRUE(spec.ok());
  auto two = plan_boot_edit(host, *spec, BootTarget::Grub);
  ASSERT_TRUE(two.ok()) << two.error().message;
  ASSERT_TRUE(write_boot_edit(host, *two).ok());
  EXPECT_EQ(two->files.at(0).backup_path, std::string(kGrubBackup) + ".1");
  EXPECT_EQ(*host.read_file(kGrubBackup), original);
  EXPECT_EQ(*host.read_file(std::string(kGrubBackup) + ".1"), middle);
}

TEST(CmdlineIds, TheRootDisksTwinIsRefusedAndOtherTwinsWarned) {
  testing::ScratchDir dir;
  testing::FixtureTree tree(dir.path() + "/root");
  testing::build_twin_devices_host(tree);
  RealHost host(tree.root());
  auto r = guard_cmdline_ids(host, {"8086:5845"}, ForceSet{true, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Refused);
  EXPECT_EQ(r.error().message.rfind("vfio-pci.ids=8086:5845 also matches devices the host uses", 0),
            0u)
      << r.error().message;
  EXPECT_NE(r.error().message.find("refusing 0000:04:00.0: it holds the root filesystem"),
            std::string::npos);
  auto gpus = guard_cmdline_ids(host, {"10de:1eb8"}, ForceSet{});
  ASSERT_TRUE(gpus.ok()) << gpus.error().message;
  ASSERT_EQ(gpus->warnings.size(), 2u);
  EXPECT_EQ(gpus->warnings[0].rfind(
                "vfio-pci.ids=10de:1eb8 gives 0000:01:00.0 (now on nvidia) to vfio-pci at boot", 0),
            0u)
      << gpus->warnings[0];
}

TEST_F(GrubOnHost, MissingGrubDefaultsIsNotFound) {
  RealHost host(tree_.root());
  auto r = plan_boot_edit(host, intel(), BootTarget::Grub);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::NotFound);
}

}  // namespace
}  // namespace hostpass
