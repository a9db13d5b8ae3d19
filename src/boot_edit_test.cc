// boot_edit_test.cc — the edit of GRUB defaults, BLS entries and /etc/kernel/cmdline as one
// change on the shapes real hosts carry: exact files after it, a second run that changes nothing,
// the $kernelopts refusal, and the rollback of every file when one write fails.
#include "boot_edit.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "boot_hosts.h"
#include "faulty_host.h"
#include "fixture_tree.h"
#include "test_dirs.h"
#include "tree_digest.h"

namespace hostpass {
namespace {

KernelArgSpec intel() {
  return *kernel_arg_spec(CpuVendor::Intel, {});
}

TEST(BlsEntry, OptionsGainTheArgumentsAndTheRestStaysByteForByte) {
  const std::string entry =
      "title Red Hat Enterprise Linux (5.14.0) 9.3 (Plow)\nversion 5.14.0\n"
      "options root=/dev/mapper/rhel-root ro intel_iommu=off rhgb quiet $tuned_params\n"
      "grub_class rhel\n";
  auto e = edit_bls_entry(entry, intel());
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(*e,
            "title Red Hat Enterprise Linux (5.14.0) 9.3 (Plow)\nversion 5.14.0\n"
            "options root=/dev/mapper/rhel-root ro intel_iommu=on rhgb quiet $tuned_params "
            "iommu=pt\ngrub_class rhel\n");
  auto again = edit_bls_entry(*e, intel());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *e);
}

TEST(BlsEntry, KerneloptsIsRefusedNamingGrubby) {
  auto e = edit_bls_entry("title x\noptions $kernelopts $tuned_params\n", intel());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::Refused);
  EXPECT_NE(e.error().message.find("$kernelopts"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("grubby --update-kernel=ALL --args=\"intel_iommu=on iommu=pt\""),
            std::string::npos)
      << e.error().message;
}

TEST(BlsEntry, TwoOptionsLinesOrADoubleDashAreInvalidInput) {
  auto two = edit_bls_entry("options ro\noptions quiet\n", intel());
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().kind, ErrorKind::InvalidInput);
  auto dash = edit_bls_entry("options ro -- single\n", intel());
  ASSERT_FALSE(dash.ok());
  EXPECT_EQ(dash.error().kind, ErrorKind::InvalidInput);
}

TEST(KernelCmdlineFile, EditedOnOneLine) {
  auto e = edit_kernel_cmdline_file("root=UUID=x ro quiet\n", intel());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, "root=UUID=x ro quiet intel_iommu=on iommu=pt\n");
  EXPECT_EQ(*edit_kernel_cmdline_file(*e, intel()), *e);
}

class BootEditOnHost : public ::testing::Test {
 protected:
  BootEditOnHost() : tree_(dir_.path() + "/root") {}
  testing::ScratchDir dir_;
  testing::FixtureTree tree_;
};

TEST_F(BootEditOnHost, RhelBlsApplyEditsGrubDefaultsAndEveryEntryThenNothingToDo) {
  testing::build_rhel93_bls_host(tree_);
  RealHost host(tree_.root());
  const std::string entry_before = *host.read_file(testing::rhel93_entry(false));
  auto edit = plan_boot_edit(host, intel(), BootTarget::Grub);
  ASSERT_TRUE(edit.ok()) << edit.error().message;
  ASSERT_EQ(edit->files.size(), 3u);
  EXPECT_EQ(edit->files[0].path, kGrubDefaults);
  EXPECT_EQ(edit->then, "");
  EXPECT_EQ(edit->alternative, "grubby --update-kernel=ALL --args=\"intel_iommu=on iommu=pt\"");
  ASSERT_TRUE(write_boot_edit(host, *edit).ok());
  EXPECT_EQ(*host.read_file(testing::rhel93_entry(false) + ".hostpass.bak"), entry_before);
  std::string entry = *host.read_file(testing::rhel93_entry(false));
  EXPECT_NE(entry.find("options root=/dev/mapper/rhel-root ro "
                       "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M resume=/dev/mapper/rhel-swap "
                       "rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap rhgb quiet $tuned_params "
                       "intel_iommu=on iommu=pt\n"),
            std::string::npos)
      << entry;
  EXPECT_NE(host.read_file(testing::rhel93_entry(true))->find("quiet intel_iommu=on iommu=pt\n"),
            std::string::npos);
  EXPECT_NE(host.read_file(kGrubDefaults)->find("rhgb quiet intel_iommu=on iommu=pt\"\n"),
            std::string::npos);
  auto again = plan_boot_edit(host, intel(), BootTarget::Grub);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed());
}

TEST_F(BootEditOnHost, KernelCmdlineNextToBlsEntriesIsEditedToo) {
  testing::build_rhel93_bls_host(tree_);
  tree_.write("/etc/kernel/cmdline", "root=/dev/mapper/rhel-root ro rhgb quiet\n");
  RealHost host(tree_.root());
  auto edit = plan_boot_edit(host, intel(), BootTarget::Grub);
  ASSERT_TRUE(edit.ok()) << edit.error().message;
  ASSERT_EQ(edit->files.size(), 4u);
  ASSERT_TRUE(write_boot_edit(host, *edit).ok());
  EXPECT_EQ(*host.read_file("/etc/kernel/cmdline"),
            "root=/dev/mapper/rhel-root ro rhgb quiet intel_iommu=on iommu=pt\n");
}

TEST_F(BootEditOnHost, AFailedEntryWriteRollsBackEveryFileAndItsBackups) {
  testing::build_rhel93_bls_host(tree_);
  const auto digest = testing::tree_digest(tree_.root());
  RealHost real(tree_.root());
  FaultyHost host(real);
  // The second entry in write order: the rescue entry, then the kernel's own.
  host.fail_write_matching(std::string(testing::kRhelKernel) + ".conf");
  auto edit = plan_boot_edit(host, intel(), BootTarget::Grub);
  ASSERT_TRUE(edit.ok()) << edit.error().message;
  Status s = write_boot_edit(host, *edit);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(testing::rhel93_entry(false)), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("every file written before it has its previous content"),
            std::string::npos)
      << s.error().message;
  EXPECT_FALSE(edit->written);
  EXPECT_EQ(testing::tree_digest(tree_.root()), digest);
}

TEST_F(BootEditOnHost, Rhel8KerneloptsIsRefusedBeforeAnyWrite) {
  testing::build_rhel8_kernelopts_host(tree_);
  RealHost real(tree_.root());
  FaultyHost host(real);
  auto edit = plan_boot_edit(host, intel(), BootTarget::Grub);
  ASSERT_FALSE(edit.ok());
  EXPECT_EQ(edit.error().kind, ErrorKind::Refused);
  EXPECT_NE(edit.error().message.find("/boot/loader/entries/"), std::string::npos);
  EXPECT_EQ(host.write_count(), 0);
}

TEST_F(BootEditOnHost, DebianSystemdBootEditsKernelCmdlineAndNamesUpdateInitramfs) {
  testing::build_debian12_systemd_boot_host(tree_);
  RealHost host(tree_.root());
  auto grub = plan_boot_edit(host, intel(), BootTarget::Grub);
  ASSERT_FALSE(grub.ok());
  EXPECT_NE(grub.error().message.find("use --format kernel-cmdline"), std::string::npos)
      << grub.error().message;
  auto edit = plan_boot_edit(host, intel(), BootTarget::KernelCmdline);
  ASSERT_TRUE(edit.ok()) << edit.error().message;
  EXPECT_EQ(edit->then, "update-initramfs -u -k all");
  ASSERT_TRUE(write_boot_edit(host, *edit).ok());
  EXPECT_EQ(*host.read_file("/etc/kernel/cmdline"),
            "root=UUID=3c1f6b6e-8f4e-4d0a-9b57-2a9d1f0c7e15 ro quiet intel_iommu=on iommu=pt\n");
  EXPECT_EQ(edit->files[0].backup_path, "/etc/kernel/cmdline.hostpass.bak");
}

TEST_F(BootEditOnHost, AbsentKernelCmdlineStartsFromProcCmdlineWithoutInstallerArguments) {
  testing::build_debian12_systemd_boot_host(tree_);
  std::filesystem::remove(tree_.path("/etc/kernel/cmdline"));
  RealHost host(tree_.root());
  auto edit = plan_boot_edit(host, intel(), BootTarget::KernelCmdline);
  ASSERT_TRUE(edit.ok()) << edit.error().message;
  ASSERT_EQ(edit->notes.size(), 1u);
  ASSERT_TRUE(write_boot_edit(host, *edit).ok());
  EXPECT_EQ(*host.read_file("/etc/kernel/cmdline"),
            "root=UUID=3c1f6b6e-8f4e-4d0a-9b57-2a9d1f0c7e15 ro quiet intel_iommu=on iommu=pt\n");
  EXPECT_TRUE(edit->files[0].backup_path.empty());
}

}  // namespace
}  // namespace hostpass
