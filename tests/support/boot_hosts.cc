// boot_hosts.cc — see boot_hosts.h. The contents follow a RHEL 9.3 install (anaconda, LVM) and a
// Debian 12 install switched to systemd-boot (apt install systemd-boot).
#include "boot_hosts.h"

namespace hostpass::testing {

namespace {

const char* kRhelOptions =
    "root=/dev/mapper/rhel-root ro crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M "
    "resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap rhgb quiet";

std::string rhel_entry_text(const std::string& title, const std::string& version,
                            const std::string& linux, const std::string& initrd,
                            const std::string& options) {
  return "title " + title + "\nversion " + version + "\nlinux " + linux + "\ninitrd " + initrd +
         "\noptions " + options +
         "\ngrub_users $grub_users\ngrub_arg --unrestricted\ngrub_class rhel\n";
}

void write_rhel_common(FixtureTree& tree, const std::string& version_id,
                       const std::string& pretty) {
  tree.write("/etc/os-release", "NAME=\"Red Hat Enterprise Linux\"\nVERSION=\"" + pretty +
                                    "\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"" +
                                    version_id + "\"\nPLATFORM_ID=\"platform:el" +
                                    version_id.substr(0, 1) +
                                    "\"\nPRETTY_NAME=\"Red Hat Enterprise Linux " + pretty +
                                    "\"\nANSI_COLOR=\"0;31\"\n");
  tree.write("/etc/default/grub",
             "GRUB_TIMEOUT=5\n"
             "GRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
             "GRUB_DEFAULT=saved\n"
             "GRUB_DISABLE_SUBMENU=true\n"
             "GRUB_TERMINAL_OUTPUT=\"console\"\n"
             "GRUB_CMDLINE_LINUX=\"crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M "
             "resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap rhgb quiet\"\n"
             "GRUB_DISABLE_RECOVERY=\"true\"\n"
             "GRUB_ENABLE_BLSCFG=true\n");
  tree.set_cmdline(std::string("BOOT_IMAGE=(hd0,msdos1)/vmlinuz-") + kRhelKernel + " " +
                   kRhelOptions);
}

}  // namespace

std::string rhel93_entry(bool rescue) {
  return std::string("/boot/loader/entries/") + kRhelMachineId + "-" +
         (rescue ? std::string("0-rescue-") + kRhelMachineId : std::string(kRhelKernel)) + ".conf";
}

void build_rhel93_bls_host(FixtureTree& tree) {
  write_rhel_common(tree, "9.3", "9.3 (Plow)");
  const std::string k = kRhelKernel;
  tree.write(rhel93_entry(false),
             rhel_entry_text("Red Hat Enterprise Linux (" + k + ") 9.3 (Plow)", k, "/vmlinuz-" + k,
                             "/initramfs-" + k + ".img $tuned_initrd",
                             std::string(kRhelOptions) + " $tuned_params"));
  tree.write(
      rhel93_entry(true),
      rhel_entry_text(
          std::string("Red Hat Enterprise Linux (0-rescue-") + kRhelMachineId + ") 9.3 (Plow)",
          std::string("0-rescue-") + kRhelMachineId,
          std::string("/vmlinuz-0-rescue-") + kRhelMachineId,
          std::string("/initramfs-0-rescue-") + kRhelMachineId + ".img", kRhelOptions));
}

void build_rhel8_kernelopts_host(FixtureTree& tree) {
  write_rhel_common(tree, "8.9", "8.9 (Ootpa)");
  const std::string k = "4.18.0-513.5.1.el8_9.x86_64";
  tree.write(
      std::string("/boot/loader/entries/") + kRhelMachineId + "-" + k + ".conf",
      rhel_entry_text("Red Hat Enterprise Linux (" + k + ") 8.9 (Ootpa)", k, "/vmlinuz-" + k,
                      "/initramfs-" + k + ".img $tuned_initrd", "$kernelopts $tuned_params"));
  tree.write("/boot/grub2/grubenv", std::string("# GRUB Environment Block\nkernelopts=") +
                                        kRhelOptions + "\nsaved_entry=" + kRhelMachineId + "-" + k +
                                        "\n");
}

void build_debian12_systemd_boot_host(FixtureTree& tree) {
  tree.write("/etc/os-release",
             "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
             "VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n"
             "HOME_URL=\"https://www.debian.org/\"\n");
  const std::string root = "root=UUID=3c1f6b6e-8f4e-4d0a-9b57-2a9d1f0c7e15 ro quiet";
  tree.write("/etc/kernel/cmdline", root + "\n");
  tree.write("/boot/efi/loader/loader.conf", "timeout 3\n#console-mode keep\n");
  tree.write("/boot/efi/loader/entries/4d1e0b7c2f5a4c3e9b8a7d6c5b4a3f2e-6.1.0-13-amd64.conf",
             "title      Debian GNU/Linux 12 (bookworm)\nversion    6.1.0-13-amd64\n"
             "machine-id 4d1e0b7c2f5a4c3e9b8a7d6c5b4a3f2e\nsort-key   debian\n"
             "options    " +
                 root +
                 " systemd.machine_id=4d1e0b7c2f5a4c3e9b8a7d6c5b4a3f2e\n"
                 "linux      /4d1e0b7c2f5a4c3e9b8a7d6c5b4a3f2e/6.1.0-13-amd64/linux\n"
                 "initrd     /4d1e0b7c2f5a4c3e9b8a7d6c5b4a3f2e/6.1.0-13-amd64/initrd.img-6.1.0-13-"
                 "amd64\n");
  tree.set_cmdline(root + " systemd.machine_id=4d1e0b7c2f5a4c3e9b8a7d6c5b4a3f2e");
}

}  // namespace hostpass::testing
