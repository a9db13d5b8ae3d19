// state_lock_cli.cc — see state_lock_cli.h.
#include "state_lock_cli.h"

namespace hostpass {

void add_lock_timeout_option(CLI::App* command, double& seconds) {
  command
      ->add_option("--lock-timeout", seconds,
                   "seconds to wait for another running hostpass bind/unbind/apply/recover/"
                   "assign/release on this state directory (default 60; 0: fail at once)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.0, 86400.0));
}

std::string command_text(const std::string& name, const std::vector<std::string>& args) {
  std::string out = name;
  for (const std::string& a : args) out += " " + a;
  return out;
}

}  // namespace hostpass
