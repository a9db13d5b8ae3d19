// run_program.cc — see run_program.h.
#include "run_program.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace hostpass::testing {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

ProgramRun run_program(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& extra_env) {
  char out_tmpl[] = "/tmp/hostpass-run-out-XXXXXX";
  char err_tmpl[] = "/tmp/hostpass-run-err-XXXXXX";
  int out_fd = ::mkstemp(out_tmpl);
  int err_fd = ::mkstemp(err_tmpl);
  if (out_fd < 0 || err_fd < 0) throw std::runtime_error("mkstemp failed");
  int null_fd = ::open("/dev/null", O_RDONLY);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, null_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    std::string key = kv.substr(0, kv.find('='));
    if (extra_env.count(key) || key == "HOSTPASS_ROOT") continue;
    env_strings.push_back(kv);
  }
  for (const auto& [k, v] : extra_env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid;
  int rc = ::posix_spawnp(&pid, argv[0].c_str(), &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(null_fd);
  ::close(out_fd);
  ::close(err_fd);
  ProgramRun run;
  if (rc == 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
    }
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else {
    run.err = "cannot run " + argv[0] + ": " + std::strerror(rc);
  }
  run.out = slurp(out_tmpl);
  run.err += slurp(err_tmpl);
  ::unlink(out_tmpl);
  ::unlink(err_tmpl);
  return run;
}

std::string hostpass_bin() {
#ifdef HOSTPASS_BIN
  return HOSTPASS_BIN;
#else
  const char* p = std::getenv("HOSTPASS_BIN");
  return p ? p : "hostpass";
#endif
}

std::string hostpass_sim_bin() {
#ifdef HOSTPASS_SIM_BIN
  return HOSTPASS_SIM_BIN;
#else
  const char* p = std::getenv("HOSTPASS_SIM_BIN");
  return p ? p : "hostpass_sim";
#endif
}

}  // namespace hostpass::testing
