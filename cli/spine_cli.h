// spine_cli.h — the CLI edge of the safety spine (src/safety_spine.h), shared by every mutating
// command: the one --force flag, the SpineOptions a command's flags make, and the lines that say
// what the spine recovered before the command's own work, and the one printer of a dry run's
// planned writes (bind, unbind and apply --dry-run print the same numbered list).
//
// --force is a CLI11 flag with an optional value, never an option: bare `--force` means every
// overridable guard, `--force=mounted,sriov-vfs` only those (ForceSet::parse, guard.h), and it
// never takes the next argument, so `bind --force 0000:01:00.0` binds 0000:01:00.0.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli.h"
#include "safety_spine.h"
#include "vfio_bind.h"

namespace hostpass {

// Adds --force[=NAMES] to a mutating subcommand; the values land in `values`.
void add_force_flag(CLI::App* command, std::vector<std::string>& values);

// The spine's options from a command's flags. InvalidInput for a bad --force value. The lock's
// waiting line goes to stderr.
Result<SpineOptions> spine_options(const std::string& state_dir, bool dry_run,
                                   const std::vector<std::string>& force, double lock_timeout,
                                   const std::string& command);

// Opens the spine's session (steps 1-3: lock, recover, ledger repair) for a command that then
// makes its own writes (persist --write, kernel-args --apply), printing what it recovered.
Result<std::unique_ptr<Spine>> open_session(Host& host, const std::string& state_dir,
                                            double lock_timeout, const std::string& command);

// "hostpass: recovered an interrupted bind first:" and its notes, on stderr (nothing when the
// spine found nothing to finish).
void print_opening(const SpineOpening& opening);

// A dry run's writes, in order, as one numbered list under "dry run: these writes would be made,
// in order (nothing was changed):" ("dry run: nothing to write" when there are none):
//    1. journal /var/lib/hostpass/journal.json  (each device's entry driver and driver_override)
//    2. write   /sys/bus/pci/devices/0000:00:04.0/driver_override  "vfio-pci"
//    3. run     modprobe vfio-pci
// Written data is quoted and escaped (shown_data), so a newline shows as \n, never as a line break.
std::string planned_writes_text(const std::vector<PlannedWrite>& writes);

// `data` as a C string literal's contents: \n, \t, \r, \\, \" and \xNN for other control bytes.
std::string shown_data(std::string_view data);

}  // namespace hostpass
