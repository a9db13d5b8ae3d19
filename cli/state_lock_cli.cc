// state_lock_cli.cc — see state_lock_cli.h.
#include "state_lock_cli.h"

#include <cmath>
#include <iostream>

namespace hostpass {

void add_lock_timeout_option(CLI::App* command, double& seconds) {
  command
      ->add_option("--lock-timeout", seconds,
                   "seconds to wait for another running hostpass bind/unbind/apply/recover/"
                   "assign/release on this state directory (default 60; 0: fail at once)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.0, 86400.0));
}

Result<std::unique_ptr<FileLock>> take_state_lock(Cli& cli, const std::string& state_dir,
                                                  double seconds, const std::string& command) {
  StateLockOptions o;
  o.timeout = std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000)));
  o.command = command;
  o.on_wait = [](const std::string& message) { std::cerr << "hostpass: " << message << std::endl; };
  return lock_state_dir(cli.host(), state_dir, o);
}

std::string command_text(const std::string& name, const std::vector<std::string>& args) {
  std::string out = name;
  for (const std::string& a : args) out += " " + a;
  return out;
}

}  // namespace hostpass
