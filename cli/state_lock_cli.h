// state_lock_cli.h — the CLI edge of state_lock.h, shared by every mutating command (bind,
// unbind, recover, apply, assign, release): the --lock-timeout flag, and taking the lock with
// the waiting message on stderr ("hostpass: waiting for hostpass (pid 1234: bind ...) to
// release /var/lib/hostpass/lock (up to 60 s)").
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli.h"
#include "state_lock.h"

namespace hostpass {

// Adds --lock-timeout SECONDS (default 60; 0: do not wait) to a mutating subcommand.
void add_lock_timeout_option(CLI::App* command, double& seconds);

// Takes <state_dir>/lock for `command` ("bind 0000:01:00.0"), waiting up to `seconds`. Prints the
// waiting line to stderr when another hostpass holds it. The error is the caller's to report.
Result<std::unique_ptr<FileLock>> take_state_lock(Cli& cli, const std::string& state_dir,
                                                  double seconds, const std::string& command);

// "bind 0000:01:00.0 0000:02:00.0" from a subcommand name and its arguments.
std::string command_text(const std::string& name, const std::vector<std::string>& args);

}  // namespace hostpass
