// run_cli_captured.h — runs the hostpass CLI (run_cli, cli/cli.h) in this process over a host the
// test chooses (a simulated mdev core, say), capturing stdout and stderr as run_program.h does
// for the built binary. For the CLI tests whose commands need a simulated kernel the binary does
// not have. Header-only: the CLI lives in hostpass_cli, which only the CLI tests link.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli.h"
#include "run_program.h"

namespace hostpass::testing {

// `args` without the program name: {"--root", DIR, "mdev", "create", ...}.
inline ProgramRun run_cli_captured(const std::vector<std::string>& args, HostFactory make_host) {
  std::vector<const char*> argv{"hostpass"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  ProgramRun r;
  r.exit_code = run_cli(static_cast<int>(argv.size()), argv.data(), std::move(make_host));
  std::fflush(stdout);
  r.out = ::testing::internal::GetCapturedStdout();
  r.err = ::testing::internal::GetCapturedStderr();
  return r;
}

}  // namespace hostpass::testing
