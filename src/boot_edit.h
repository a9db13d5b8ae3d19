// boot_edit.h — the edit of every file that holds this host's kernel command line, planned as
// one change and written as one: each file backed up first, and all of them put back when any
// write fails.
//
// The files, per target (boot_loader.h says which host has which):
//   Grub           /etc/default/grub (edit_grub_defaults, kernel_args.h); on a GRUB host with BLS
//                  also every /boot/loader/entries/*.conf `options` line, and /etc/kernel/cmdline
//                  when present (kernel-install's source for the next kernel's entry). An entry's
//                  options are an argument list (the BLS spec: `options` is "kernel parameters",
//                  space separated); the rest of the entry stays byte for byte.
//   KernelCmdline  /etc/kernel/cmdline alone. When it does not exist, kernel-install takes
//                  /usr/lib/kernel/cmdline, else /proc/cmdline without BOOT_IMAGE=, initrd= and
//                  systemd.machine_id= (which it adds itself): the new file starts from that.
// Refused before any write:
//   - an entry whose options use $kernelopts (RHEL 8: the value lives in /boot/grub2/grubenv,
//     which grub2-editenv owns): grubby edits it there;
// InvalidInput: an entry with more than one `options` line (grubby writes one), a "--" in an
// argument list (init's arguments follow it; the edit would move them).
//
// Writing: backups through keep_backup (owned_file.h: <path>.hostpass.bak, then .1, .2, ...; the
// entry backups end in .bak, which GRUB's blscfg and systemd-boot do not read as entries), then
// Host::replace_file of each changed file in the plan's order. When a write fails, every file
// already replaced gets its previous content back, files created are removed, and the backups
// made by this run are removed: the host is as it was, and the error names the file that failed.
//
// What it deliberately does not do: run grubby, grub2-mkconfig or kernel-install (it names the
// command: `then`), edit the entries systemd-boot keeps on the ESP (kernel-install rewrites them
// from /etc/kernel/cmdline), or edit /etc/default/grub.d/*.cfg (named in a note).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "boot_loader.h"
#include "host.h"
#include "kernel_args.h"
#include "result.h"

namespace hostpass {

enum class BootTarget { Grub, KernelCmdline };

struct BootFileEdit {
  std::string path;
  std::string before, after;
  bool existed = true;      // false: the file is created
  std::string backup_path;  // set when written and a previous content was kept
  bool changed() const { return before != after || !existed; }
};

struct BootEdit {
  BootLoaderInfo loader;
  std::vector<BootFileEdit> files;          // every file looked at, in the order they are written
  std::vector<std::string> added, removed;  // over all files, without duplicates
  std::vector<std::string> notes;
  std::string diff;  // the unified diffs of the changed files, in order
  // What makes the edit take effect before the reboot: grub-mkconfig/update-grub (plain GRUB),
  // the kernel-install step (/etc/kernel/cmdline); "" on GRUB with BLS (the entries are the
  // configuration GRUB reads).
  std::string then;
  // Without hostpass: what sets the same arguments on this host (set_args_advice).
  std::string alternative;
  bool written = false;
  bool changed() const;
};

// Pure: the entry text with its `options` line edited. Refused for $kernelopts, InvalidInput for
// two `options` lines or a "--". An entry without `options` gets one at the end.
Result<std::string> edit_bls_entry(std::string_view text, const KernelArgSpec& spec);

// Pure: a kernel-install command line file's text ("root=UUID=... ro quiet\n") edited: the
// arguments on one line, ending in a newline. Unchanged text when nothing needs to change.
Result<std::string> edit_kernel_cmdline_file(std::string_view text, const KernelArgSpec& spec);

// Reads the target's files and plans the edit. NotFound when /etc/default/grub is missing for
// Grub (the message names the --format that fits the host), or when KernelCmdline has no file
// and no command line to start from.
Result<BootEdit> plan_boot_edit(Host& host, const KernelArgSpec& spec, BootTarget target);

// Writes the changed files of `edit` (see the header comment). On success `written` and each
// file's backup_path are set. On failure nothing is left changed, as far as the restores
// succeed: a restore that fails too is named in the error.
Status write_boot_edit(Host& host, BootEdit& edit);

}  // namespace hostpass
