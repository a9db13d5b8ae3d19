// cli.h — the `hostpass` command line: global flags, the host it acts on, exit codes.
//
// What cli/ may contain: flag definitions (CLI11) and checks of how flags combine; reading the
// files the user names on the command line (user_file.h: a CR, a manifest, an inventory — the
// user's files, not the machine's under --root); for each command one library call that decides
// everything (for a mutation, its safety-spine entry, src/safety_spine.h), or a short sequence of
// library calls where the command is itself a sequence (kernel-args, persist); and printing the
// result as text or JSON (device_json.h). What a device is, which one is free, which match a
// filter, what a plan does, the node's name: all of that is libhostpass's (src/).
// A command file adds its subcommands in one function, add_<name>_commands(app, cli), called
// from cli.cc, which also turns an unknown command into "unknown command 'NAME'" (exit 2).
//
// Exit codes: 0 ok, 1 failed, 2 bad input or refused (ErrorKind::InvalidInput / Refused, and
// any flag-parsing error, an unknown command among them). Flag-parsing errors are printed as
// "hostpass: <CLI11's message>" and "Run with --help for more information." on stderr. Before
// any command runs, a --root other than "/" must be a directory with sys/ in it (exit 2
// otherwise, for every command).
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "host.h"
#include "result.h"

namespace CLI {
class App;
}

namespace hostpass {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitBadInput = 2;

using HostFactory = std::function<std::unique_ptr<Host>(const std::string& root)>;

struct Cli {
  std::string root = "/";  // --root DIR, or $HOSTPASS_ROOT
  bool json = false;       // --json
  HostFactory make_host;
  int exit_code = kExitOk;

  // The host for this run, rooted at `root`; created on first use, after flags are parsed.
  Host& host();

 private:
  std::unique_ptr<Host> host_;
};

// Parses argv and runs the command. Returns the process exit code.
int run_cli(int argc, const char* const* argv, HostFactory make_host);

// 2 for InvalidInput and Refused, 1 otherwise.
int exit_code_for(const Error& error);
// Prints "hostpass: <message>" to stderr and returns exit_code_for(error); under --json also
// the error object on stdout (json_output.h, docs/json.md). Every failure is reported here.
int report_error(const Error& error);
// The same with "hostpass: " before every line, for messages that list one problem a line
// (a policy's errors, a refusal naming each device).
int report_error_lines(const Error& error);

// The command groups. Each lives in cli/cmd_<name>.cc.
void add_list_commands(CLI::App& app, Cli& cli);        // list, show
void add_verify_commands(CLI::App& app, Cli& cli);      // verify
void add_check_commands(CLI::App& app, Cli& cli);       // check, kernel-args
void add_apply_commands(CLI::App& app, Cli& cli);       // apply, persist
void add_opennebula_commands(CLI::App& app, Cli& cli);  // opennebula probe|filter|inventory
void add_bind_commands(CLI::App& app, Cli& cli);        // bind, unbind, recover
void add_mdev_commands(CLI::App& app, Cli& cli);        // mdev types|list|create|remove|apply
void add_inventory_commands(CLI::App& app, Cli& cli);   // inventory
void add_plugin_commands(CLI::App& app, Cli& cli);      // plugin (the device-plugin daemon)
void add_ledger_commands(CLI::App& app, Cli& cli);      // assign, release, assignments
void add_render_commands(CLI::App& app, Cli& cli);      // render

}  // namespace hostpass
