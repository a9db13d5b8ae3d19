// run_program.h — runs a built binary (hostpass, hostpass_sim, lspci) and captures what it
// printed and its exit code, for end-to-end tests.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace hostpass::testing {

struct ProgramRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] (a path, or a name looked up in PATH) with `extra_env` added to the environment.
// stdout and stderr go to temporary files, so large outputs never block.
ProgramRun run_program(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& extra_env = {});

// The built `hostpass` binary and the simulated-kernel variant (CMake passes their paths).
std::string hostpass_bin();
std::string hostpass_sim_bin();

}  // namespace hostpass::testing
