// state_lock_cli.h — the CLI edge of state_lock.h, shared by every mutating command (bind,
// unbind, recover, apply, assign, release, mdev create/remove/apply, persist --write,
// kernel-args --apply): the --lock-timeout flag and the command text the lock records. The lock
// itself is taken by the safety spine (safety_spine.h; its waiting line: spine_cli.h).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli.h"
#include "state_lock.h"

namespace hostpass {

// Adds --lock-timeout SECONDS (default 60; 0: do not wait) to a mutating subcommand.
void add_lock_timeout_option(CLI::App* command, double& seconds);

// "bind 0000:01:00.0 0000:02:00.0" from a subcommand name and its arguments.
std::string command_text(const std::string& name, const std::vector<std::string>& args);

}  // namespace hostpass
