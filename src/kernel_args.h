// kernel_args.h — what the kernel command line must gain (and lose) for VFIO passthrough, and
// the idempotent edit of /etc/default/grub that makes it so.
//
// Arguments (Documentation/admin-guide/kernel-parameters.txt):
//   Intel: intel_iommu=on (VT-d is off by default unless CONFIG_INTEL_IOMMU_DEFAULT_ON);
//          intel_iommu=off is replaced.
//   AMD:   AMD-Vi is on by default; amd_iommu=off is removed. Nothing is added for it (the
//          kernel has no amd_iommu=on; OpenShift's documentation shows one, which the kernel
//          ignores).
//   Both:  iommu=pt (host-owned devices bypass translation); iommu=off/nopt/soft are replaced.
//          vfio-pci.ids=VVVV:DDDD[,...] when early binding is asked for (merged with ids there).
// Each argument is name=value where value is a comma list; an existing argument with the same
// name "satisfies" a wanted one when its list holds every wanted value and no conflicting one.
//
// /etc/default/grub is a shell fragment sourced by grub-mkconfig (10_linux): GRUB_CMDLINE_LINUX
// goes on every entry, then GRUB_CMDLINE_LINUX_DEFAULT on normal entries, so a later conflicting
// argument in _DEFAULT would win: conflicts are removed from both. The last assignment of a
// variable is the one the shell keeps; additions go there. Quoting ("...", '...', none),
// comments, other variables and backslash-newline continuation lines are kept byte for byte;
// only the edited arguments change. An unquoted value that gains a space is double-quoted.
//
// What it deliberately does not do: read or write the files (boot_edit.h plans and writes the
// edit of /etc/default/grub, the BLS entries and /etc/kernel/cmdline as one change), run
// update-grub/grub2-mkconfig/grubby (boot_loader.h names the command), or edit
// /etc/default/grub.d/*.cfg.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guard.h"
#include "host.h"
#include "kernel_cmdline.h"
#include "next_boot_guard.h"
#include "preflight.h"
#include "result.h"

namespace hostpass {

inline constexpr const char* kGrubDefaults = "/etc/default/grub";
// The first backup; later --apply runs keep theirs as kGrubBackup.1, .2, ... (owned_file.h), so
// the original file is never overwritten.
inline constexpr const char* kGrubBackup = "/etc/default/grub.hostpass.bak";

struct KernelArgSpec {
  std::vector<std::string> wanted;     // "intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:1eb8"
  std::vector<std::string> forbidden;  // exact arguments to remove: "amd_iommu=off"
};

// Validates "10de:1eb8,8086:5845" (4 hex digits each side). Returns them lowercase, deduplicated,
// in input order. InvalidInput names the bad entry.
Result<std::vector<std::string>> parse_vfio_ids(std::string_view csv);

// The next-boot guard (next_boot_guard.h) of `vfio-pci.ids=`: every device of this host with one
// of the ids goes to vfio-pci at boot. Refused naming each host-used one (the root filesystem even
// with --force); warnings name the devices on a host driver the ids also take.
Result<NextBootCheck> guard_cmdline_ids(Host& host, const std::vector<std::string>& ids,
                                        const ForceSet& force);

// The spec for a CPU vendor. InvalidInput for Other/Unknown (the caller asks for --cpu).
Result<KernelArgSpec> kernel_arg_spec(CpuVendor vendor, const std::vector<std::string>& vfio_ids,
                                      bool iommu_pt = true);

struct ArgsEdit {
  std::vector<std::string> result;   // the argument list after the edit
  std::vector<std::string> added;    // arguments that were not there (or replaced values)
  std::vector<std::string> removed;  // arguments taken out (conflicts, duplicates)
  bool changed() const { return !added.empty() || !removed.empty(); }
};

// Applies `spec` to an argument list (e.g. /proc/cmdline's): keeps every other argument in
// place, replaces conflicting values where they stand, appends what is missing, never
// duplicates.
ArgsEdit edit_args(const std::vector<std::string>& args, const KernelArgSpec& spec);

struct GrubEdit {
  std::string before, after;
  std::vector<std::string> added, removed;
  bool changed() const { return before != after; }
};

// Pure: edits the text of /etc/default/grub. Never fails on odd content; an unterminated quote
// is InvalidInput (the shell would refuse the file too).
Result<GrubEdit> edit_grub_defaults(std::string_view text, const KernelArgSpec& spec);

// A unified diff (no context) between two texts, labelled with `path`. Empty when equal.
std::string unified_diff(const std::string& path, std::string_view before, std::string_view after);

}  // namespace hostpass
