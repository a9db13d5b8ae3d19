// owned_file.h — hostpass replaces only the files it wrote itself.
//
// Every configuration file hostpass installs (modprobe.d, modules-load.d, a systemd unit, a udev
// rule, the apply file) carries one marker line in the format's comment syntax,
// "# Written by hostpass ...". A file at the target path without it is the operator's: it is
// refused with a unified diff of what would change, and only bare --force replaces it, after
// keeping its content as a numbered backup beside it (<path>.hostpass.bak, then
// <path>.hostpass.bak.1, .2, ...: an earlier backup is never overwritten). The backup names end
// in neither .conf nor .rules, so modprobe.d(5), modules-load.d(5) and udev do not read them.
//
// Two kinds of files carry no marker, by design:
//   - driverctl's /etc/driverctl.d/pci-<address> holds the driver name and nothing else (driverctl
//     reads the whole file as the name), so it cannot carry a comment. Its content is its whole
//     meaning: the same driver is no change, another driver is the operator's choice and is
//     refused with the diff like any foreign file.
//   - /etc/default/grub is always the operator's: hostpass edits it in place (kernel_args.h) and
//     never owns it, so every --apply that changes it keeps a numbered backup first.
// A target whose content equals what hostpass would write, or equals it without the marker line,
// loses nothing and is replaced without a refusal.
//
// Writes go through Host::replace_file only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "host.h"
#include "openshift_config.h"
#include "result.h"

namespace hostpass {

inline constexpr std::string_view kOwnedMarker = "Written by hostpass";

// True when a comment line ('#' after optional blanks) contains kOwnedMarker.
bool carries_marker(std::string_view text);

// The first of <path>.hostpass.bak, <path>.hostpass.bak.1, <path>.hostpass.bak.2, ... that does
// not exist.
std::string next_backup_path(Host& host, std::string_view path);

// Writes `contents` to the next free backup path of `path`; returns that path.
Result<std::string> keep_backup(Host& host, std::string_view path, std::string_view contents);

struct OwnedWriteReport {
  std::vector<std::string> written;  // paths, in order
  std::vector<std::string> notes;    // "kept the previous /etc/x as /etc/x.hostpass.bak"
};

// Installs `files`. Before any write, every target is checked: absent, carrying the marker, or
// losing nothing (see above) is fine; any other existing file is refused (Refused: one paragraph
// per file with its diff), unless `force` — then its content is kept by keep_backup() first.
// Nothing is written when anything is refused.
Result<OwnedWriteReport> write_owned_files(Host& host, const std::vector<NodeFile>& files,
                                           bool force);

}  // namespace hostpass
