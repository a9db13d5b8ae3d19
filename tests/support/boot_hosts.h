// boot_hosts.h — the boot configuration of two real host shapes, written onto a fixture tree
// (usually after build_standard_host), shaped as the installers leave the files:
//   RHEL 9.3, GRUB with BLS: /etc/os-release (ID="rhel", ID_LIKE="fedora"), /etc/default/grub with
//     GRUB_ENABLE_BLSCFG=true, two entries in /boot/loader/entries (<machine-id>-<kernel>.conf and
//     the rescue entry <machine-id>-0-rescue-<id>.conf) whose `options` lines carry the arguments
//     and $tuned_params, /proc/cmdline as that kernel booted; no /etc/kernel/cmdline.
//   Debian 12, systemd-boot: /etc/os-release (ID=debian), the ESP at /boot/efi with
//     loader/loader.conf and one loader entry, /etc/kernel/cmdline, no /etc/default/grub.
// Only the files hostpass reads; the kernels and initramfs images are not written.
#pragma once

#include <string>

#include "fixture_tree.h"

namespace hostpass::testing {

inline constexpr const char* kRhelMachineId = "7f5c0e9b3a2d4d61a0a8e3c1b2d4f6a8";
inline constexpr const char* kRhelKernel = "5.14.0-362.8.1.el9_3.x86_64";
// The entry paths build_rhel93_bls_host writes, sorted as a directory listing sorts them.
std::string rhel93_entry(bool rescue);

void build_rhel93_bls_host(FixtureTree& tree);
// The same host on RHEL 8: its entries say `options $kernelopts` (the value is in grubenv).
void build_rhel8_kernelopts_host(FixtureTree& tree);
void build_debian12_systemd_boot_host(FixtureTree& tree);

}  // namespace hostpass::testing
