// cli.cc — global flags and dispatch. See cli.h.
#include "cli.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <sstream>

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
  std::cerr << "hostpass: " << error.message << "\n";
  return exit_code_for(error);
}

int report_error_lines(const Error& error) {
  std::istringstream lines(error.message);
  std::string line;
  while (std::getline(lines, line)) std::cerr << "hostpass: " << line << "\n";
  return exit_code_for(error);
}

int run_cli(int argc, const char* const* argv, HostFactory make_host) {
  Cli cli;
  cli.make_host = std::move(make_host);
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitBadInput;
  }
  return cli.exit_code;
}

}  // namespace hostpass
