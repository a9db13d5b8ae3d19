// cli.cc — global flags and dispatch. See cli.h.
#include "cli.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#include "json_output.h"
#include "user_file.h"

namespace hostpass {

Host& Cli::host() {
  if (!host_) host_ = make_host(root);
  return *host_;
}

int exit_code_for(const Error& error) {
  return (error.kind == ErrorKind::InvalidInput || error.kind == ErrorKind::Refused) ? kExitBadInput
                                                                                     : kExitFailed;
}

int report_error(const Error& error) {
  return report_error_with(error, nullptr);
}

int report_error_lines(const Error& error) {
  print_error_json(error);
  std::istringstream lines(error.message);
  std::string line;
  while (std::getline(lines, line)) std::cerr << "hostpass: " << line << "\n";
  return exit_code_for(error);
}

namespace {

// The command the user typed that does not exist: the first word left over after the deepest
// command given, when that command is a group of subcommands ("frobnicate" for `hostpass
// frobnicate --help`, "mdev frobnicate"). CLI11 keeps such a word as an extra and would show
// the group's help for --help (exit 0), or complain about extras without naming a command.
std::optional<std::string> unknown_command(const CLI::App& app) {
  const CLI::App* at = &app;
  std::string path;
  for (;;) {
    std::vector<CLI::App*> given = at->get_subcommands();
    if (given.empty()) break;
    at = given.front();
    path += at->get_name() + " ";
  }
  // A command that is not a group (option groups are nameless subcommands) has its own extras.
  if (at->get_subcommands([](const CLI::App* s) { return !s->get_name().empty(); }).empty())
    return std::nullopt;
  // The word may be kept by the group or handed up to its parent: look at every level.
  for (const std::string& word : app.remaining(true))
    if (!word.empty() && word.front() != '-') return path + word;
  return std::nullopt;
}

constexpr const char* kRunWithHelp = "Run with --help for more information.\n";

int report_unknown_command(const std::string& command) {
  if (json_output()) print_json(error_json("invalid-input", "unknown command '" + command + "'"));
  std::cerr << "hostpass: unknown command '" << command << "'\n" << kRunWithHelp;
  return kExitBadInput;
}

// A flag-parsing error in hostpass's voice: "hostpass: --vm is required", then where to look.
int report_parse_error(const CLI::ParseError& e) {
  std::string what = e.what();
  while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
  std::cerr << "hostpass: " << what << "\n" << kRunWithHelp;
  return kExitBadInput;
}

// Thrown by the check of --root, which runs once flags are parsed and before any command.
struct BadRoot {
  std::string message;
};

// --root must be a directory with sys/ in it: a tree shaped like a host. Without this check a
// mistyped root reads as a host with no devices ("no PCI devices to read", "/sys/class/iommu:
// empty"). The machine's own "/" is not checked: commands that read no node (persist --vfio-ids,
// kernel-args --format butane) run in containers without /sys.
std::optional<std::string> root_problem(const std::string& root) {
  if (root.empty() || root == "/") return std::nullopt;
  RealHost files("/");
  std::string dir = user_file_path(root);
  if (!files.is_dir(dir)) return "--root " + root + ": no such directory";
  if (!files.is_dir(join_path(dir, "sys")))
    return "--root " + root + " has no sys/: not a host root";
  return std::nullopt;
}

}  // namespace

int run_cli(int argc, const char* const* argv, HostFactory make_host) {
  Cli cli;
  cli.make_host = std::move(make_host);
  // Known before parsing, so that a flag-parsing error is printed as JSON too (json_output.h).
  set_json_output(argv_asks_json(argc, argv));
  if (const char* env = std::getenv("HOSTPASS_ROOT"); env && *env) cli.root = env;

  CLI::App app{"hostpass: safe host-device passthrough (PCI, mediated devices, USB) to VMs"};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", "hostpass 0.1.0");
  app.add_option("--root", cli.root,
                 "act on the tree under DIR instead of / (DIR/sys, DIR/proc, DIR/etc, DIR/dev)")
      ->envname("HOSTPASS_ROOT")
      ->type_name("DIR");
  app.add_flag("--json", cli.json, "print machine-readable JSON (read commands)");

  add_list_commands(app, cli);
  add_verify_commands(app, cli);
  add_check_commands(app, cli);
  add_apply_commands(app, cli);
  add_opennebula_commands(app, cli);
  add_bind_commands(app, cli);
  add_mdev_commands(app, cli);
  add_inventory_commands(app, cli);
  add_plugin_commands(app, cli);
  add_ledger_commands(app, cli);
  add_render_commands(app, cli);

  // Runs after every flag is parsed, before any command's callback.
  app.parse_complete_callback([&cli] {
    if (auto problem = root_problem(cli.root)) throw BadRoot{*problem};
  });

  try {
    app.parse(argc, argv);
  } catch (const BadRoot& e) {
    if (json_output()) print_json(error_json("invalid-input", e.message));
    std::cerr << "hostpass: " << e.message << "\n";
    return kExitBadInput;
  } catch (const CLI::ParseError& e) {
    // Help and version for a command that does not exist are an error too, not the main help.
    if (auto unknown = unknown_command(app)) return report_unknown_command(*unknown);
    if (dynamic_cast<const CLI::CallForHelp*>(&e) || dynamic_cast<const CLI::CallForAllHelp*>(&e) ||
        dynamic_cast<const CLI::CallForVersion*>(&e))
      return app.exit(e);
    if (json_output()) print_json(error_json("invalid-input", e.what()));
    return report_parse_error(e);
  }
  return cli.exit_code;
}

}  // namespace hostpass
