// boot_loader_test.cc — the boot loader told from the files a RHEL 9.3 BLS host, a Debian 12
// systemd-boot host and a plain Debian GRUB host carry, and the commands advised for each.
#include "boot_loader.h"

#include <gtest/gtest.h>

#include "boot_hosts.h"
#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

class BootLoaderOnHost : public ::testing::Test {
 protected:
  BootLoaderOnHost() : tree_(dir_.path() + "/root") {}
  testing::ScratchDir dir_;
  testing::FixtureTree tree_;
};

TEST_F(BootLoaderOnHost, Rhel93IsGrubWithBlsAndGetsGrubby) {
  testing::build_rhel93_bls_host(tree_);
  RealHost host(tree_.root());
  BootLoaderInfo info = detect_boot_loader(host);
  EXPECT_EQ(info.loader, BootLoader::GrubBls);
  EXPECT_EQ(info.bls_entries,
            (std::vector<std::string>{testing::rhel93_entry(true), testing::rhel93_entry(false)}));
  EXPECT_EQ(info.distro, (std::vector<std::string>{"rhel", "fedora"}));
  EXPECT_EQ(info.apply_advice(), "hostpass kernel-args --format grub --apply");
  EXPECT_EQ(set_args_advice(info, {"intel_iommu=on", "iommu=pt"}, {}),
            "grubby --update-kernel=ALL --args=\"intel_iommu=on iommu=pt\"");
  EXPECT_EQ(set_args_advice(info, {"iommu=pt"}, {"amd_iommu=off"}),
            "grubby --update-kernel=ALL --args=\"iommu=pt\" --remove-args=\"amd_iommu=off\"");
}

TEST_F(BootLoaderOnHost, Debian12SystemdBootIsToldByItsLoaderConf) {
  testing::build_debian12_systemd_boot_host(tree_);
  RealHost host(tree_.root());
  BootLoaderInfo info = detect_boot_loader(host);
  EXPECT_EQ(info.loader, BootLoader::SystemdBoot);
  EXPECT_EQ(info.loader_conf, "/boot/efi/loader/loader.conf");
  EXPECT_TRUE(info.kernel_cmdline);
  EXPECT_EQ(info.apply_advice(), "hostpass kernel-args --format kernel-cmdline --apply");
  EXPECT_EQ(set_args_advice(info, {"intel_iommu=on"}, {}),
            "edit /etc/kernel/cmdline, then run: update-initramfs -u -k all");
}

TEST_F(BootLoaderOnHost, KernelCmdlineWithoutGrubIsAUkiHost) {
  tree_.write("/etc/os-release", "ID=fedora\n");
  tree_.write("/etc/kernel/cmdline", "root=/dev/vda2 ro\n");
  RealHost host(tree_.root());
  BootLoaderInfo info = detect_boot_loader(host);
  EXPECT_EQ(info.loader, BootLoader::SystemdBoot);
  EXPECT_EQ(kernel_cmdline_regenerate_command(info.distro),
            "kernel-install add \"$(uname -r)\" \"/lib/modules/$(uname -r)/vmlinuz\"");
}

TEST_F(BootLoaderOnHost, PlainGrubAndNothing) {
  RealHost host(tree_.root());
  EXPECT_EQ(detect_boot_loader(host).loader, BootLoader::Unknown);
  EXPECT_EQ(detect_boot_loader(host).apply_advice(), "hostpass kernel-args --format grub --apply");
  tree_.write("/etc/os-release", "ID=debian\n");
  tree_.write("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"\"\n");
  // A Debian host with /etc/kernel/cmdline next to GRUB (left by an experiment) is still GRUB.
  tree_.write("/etc/kernel/cmdline", "root=/dev/sda1 ro\n");
  BootLoaderInfo info = detect_boot_loader(host);
  EXPECT_EQ(info.loader, BootLoader::Grub);
  EXPECT_EQ(set_args_advice(info, {"iommu=pt"}, {}),
            "edit GRUB_CMDLINE_LINUX in /etc/default/grub, then run: update-grub");
}

TEST(BootLoaderCommands, FollowTheDistribution) {
  EXPECT_EQ(grub_mkconfig_command({"debian"}), "update-grub");
  EXPECT_EQ(grub_mkconfig_command({"ubuntu", "debian"}), "update-grub");
  EXPECT_EQ(grub_mkconfig_command({"rocky", "rhel", "centos", "fedora"}),
            "grub2-mkconfig -o /boot/grub2/grub.cfg");
  EXPECT_EQ(grub_mkconfig_command({"arch"}), "grub-mkconfig -o /boot/grub/grub.cfg");
  EXPECT_EQ(grub_mkconfig_command({}), "grub-mkconfig -o /boot/grub/grub.cfg");
  EXPECT_EQ(kernel_cmdline_regenerate_command({"ubuntu", "debian"}), "update-initramfs -u -k all");
  EXPECT_EQ(kernel_cmdline_regenerate_command({"arch"}), "mkinitcpio -P");
  EXPECT_EQ(kernel_cmdline_regenerate_command({"opensuse-tumbleweed", "suse", "opensuse"}),
            "dracut --regenerate-all --force");
}

}  // namespace
}  // namespace hostpass
