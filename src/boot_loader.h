// boot_loader.h — which boot loader this host's kernel command line lives in, and the command
// that makes an edit of it take effect, so that kernel-args, check and persist advise what fits.
//
// Three shapes are told apart, from files only (read through Host, nothing is run):
//   systemd-boot / UKI  a loader.conf on the ESP (/boot/efi/loader/, /efi/loader/ or
//                       /boot/loader/), or /etc/kernel/cmdline without /etc/default/grub.
//                       kernel-install(8) reads /etc/kernel/cmdline (else /usr/lib/kernel/cmdline,
//                       else /proc/cmdline) when it writes an entry or builds a UKI; the entries
//                       themselves are regenerated, never edited.
//   GRUB with BLS       /etc/default/grub and /boot/loader/entries/*.conf (RHEL/Fedora 8+,
//                       GRUB_ENABLE_BLSCFG=true): each entry carries its own `options` line, and
//                       grub2-mkconfig no longer rewrites them unless given --update-bls-cmdline
//                       (RHEL 9, Fedora); grubby --update-kernel=ALL --args= is the tool.
//   plain GRUB          /etc/default/grub alone (Debian, Ubuntu): grub-mkconfig puts
//                       GRUB_CMDLINE_LINUX in grub.cfg, so update-grub (or grub2-mkconfig) runs.
// The distribution (ID and ID_LIKE of /etc/os-release, else /usr/lib/os-release) picks the
// regenerate command: update-grub / grub2-mkconfig / grub-mkconfig for GRUB;
// update-initramfs -u -k all (Debian, Ubuntu: its hooks call kernel-install), mkinitcpio -P (Arch),
// dracut --regenerate-all --force (SUSE) or kernel-install add (Fedora, RHEL, others) for
// /etc/kernel/cmdline.
//
// What it deliberately does not do: edit anything (kernel_args.h, boot_edit.h) or look at EFI
// variables (which loader the firmware will start is not visible from files alone).
#pragma once

#include <string>
#include <vector>

#include "host.h"

namespace hostpass {

inline constexpr const char* kKernelCmdlineFile = "/etc/kernel/cmdline";
inline constexpr const char* kBlsEntriesDir = "/boot/loader/entries";

enum class BootLoader { Grub, GrubBls, SystemdBoot, Unknown };

// "grub", "grub-bls", "systemd-boot", "unknown".
const char* boot_loader_name(BootLoader loader);

struct BootLoaderInfo {
  BootLoader loader = BootLoader::Unknown;
  std::vector<std::string> distro;       // os-release ID, then ID_LIKE's words
  bool grub_defaults = false;            // /etc/default/grub exists
  bool kernel_cmdline = false;           // /etc/kernel/cmdline exists
  std::vector<std::string> bls_entries;  // /boot/loader/entries/*.conf, sorted, full paths
  std::string loader_conf;               // the systemd-boot loader.conf found, if any
  std::string evidence;                  // "/boot/loader/entries: 2 entries", for messages
  // The --format of `hostpass kernel-args` that edits this host's command line:
  // "kernel-cmdline" on systemd-boot/UKI, else "grub" (GRUB with or without BLS, and GRUB as the
  // most common loader when nothing is recognised: that command then says what it did not find).
  std::string apply_format() const;
  // "hostpass kernel-args --format <apply_format()> --apply".
  std::string apply_advice() const;
};

// Reads the files above. Never fails: what cannot be read counts as absent.
BootLoaderInfo detect_boot_loader(Host& host);

// os-release's ID followed by ID_LIKE's words ({"rocky", "rhel", "centos", "fedora"}); empty
// when neither file can be read.
std::vector<std::string> distro_ids(Host& host);

// The command that regenerates grub.cfg for `distro`: update-grub (Debian, Ubuntu),
// grub2-mkconfig -o /boot/grub2/grub.cfg (RHEL, Fedora, CentOS, Rocky, Alma, SUSE),
// grub-mkconfig -o /boot/grub/grub.cfg (Arch and unknown).
std::string grub_mkconfig_command(const std::vector<std::string>& distro);

// The command that rebuilds the boot entries (or UKIs) from /etc/kernel/cmdline for `distro`.
std::string kernel_cmdline_regenerate_command(const std::vector<std::string>& distro);

// What sets `add` and takes out `remove` on this host without hostpass writing anything:
// grubby --update-kernel=ALL --args="..." [--remove-args="..."] on GRUB with BLS; for the others
// the file to edit and the command to run after it.
std::string set_args_advice(const BootLoaderInfo& info, const std::vector<std::string>& add,
                            const std::vector<std::string>& remove);

}  // namespace hostpass
