// kernel_cmdline.h — the kernel command line, read the way the kernel reads it, and the
// GRUB_CMDLINE_LINUX* assignments of /etc/default/grub, read the way the shell reads them.
//
// /proc/cmdline holds the arguments the running kernel booted with, on one line. The kernel's
// rule: whitespace separates arguments, double quotes group (and stay in the argument), "--"
// ends the kernel's part (what follows belongs to init). An argument is name or name=value;
// every value hostpass reads (intel_iommu=, amd_iommu=, iommu=, intremap=, vfio-pci.ids=) is a
// comma list, and a repeated name is applied in order, so where two disagree the last wins:
// hostpass reads the last.
//
// /etc/default/grub is a shell fragment sourced by grub-mkconfig: NAME=VALUE statements at the
// start of a line (optionally indented, optionally after `export `), VALUE quoted "...", '...'
// or not at all; inside the value blanks and backslash-newline separate arguments. Each
// argument is found with its byte range, so that an editor (kernel_args.h) can change it in
// place and keep every other byte.
//
// What it deliberately does not do: decide which arguments passthrough needs (kernel_args.h),
// judge them (preflight.h), or expand shell variables ($GRUB_CMDLINE_LINUX stays one argument).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host.h"
#include "result.h"

namespace hostpass {

inline constexpr const char* kProcCmdline = "/proc/cmdline";

// The running kernel's command line, /proc/cmdline without its trailing newline.
Result<std::string> read_proc_cmdline(Host& host);

// Splits a kernel command line into arguments (the kernel's rule: whitespace separates, double
// quotes group). Stops at "--" (what follows belongs to init).
std::vector<std::string> split_cmdline(std::string_view cmdline);

// "intel_iommu=on,sm_on" → "intel_iommu"; "quiet" → "quiet".
std::string arg_name(std::string_view arg);
// "intel_iommu=on,sm_on" → {"on", "sm_on"}; "quiet" → {}.
std::vector<std::string> arg_values(std::string_view arg);

// The value of the last "name=value" argument (the kernel applies them in order), or none. A bare
// "name" (no '=') does not count; "name=" gives "".
std::optional<std::string> cmdline_value(const std::vector<std::string>& args,
                                         std::string_view name);

// Whether a comma list value ("on,sm_on") holds `option`.
bool value_has(std::string_view value, std::string_view option);

// One NAME=VALUE statement of a shell fragment.
struct ShellAssignment {
  std::string name;
  char quote = 0;                         // '"', '\'' or 0
  size_t value_begin = 0, value_end = 0;  // inside the quotes
  size_t stmt_end = 0;                    // after the closing quote
};

// Every NAME=VALUE statement at the start of a line, in file order. Comments and other
// statements are skipped. InvalidInput for an unterminated quote (the shell refuses the file too).
Result<std::vector<ShellAssignment>> scan_shell_assignments(std::string_view text);

// One argument inside an assignment's value and where it stands in the text.
struct ArgSpan {
  std::string text;
  size_t begin = 0, end = 0;  // byte range in the text
};

// The arguments of `assignment`'s value in `text`: blanks and backslash-newline separate them.
std::vector<ArgSpan> assignment_args(std::string_view text, const ShellAssignment& assignment);

}  // namespace hostpass
