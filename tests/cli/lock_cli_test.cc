// End-to-end: mutating commands serialize on <state_dir>/lock (state_lock.h). Real processes on
// a fixture root: this test process holds the lock the way a running `hostpass bind` does
// (flock(2) on the same file, its pid recorded), and hostpass_sim processes — the CLI over the
// simulated kernel — must refuse at once with --lock-timeout 0, or wait and then proceed when
// the holder lets go. No sleeps: the waiting process is observed through its stderr line.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "fixture_tree.h"
#include "host.h"
#include "pci_device.h"
#include "run_program.h"
#include "sim_kernel.h"
#include "test_dirs.h"
#include "tree_digest.h"

extern char** environ;

namespace fs = std::filesystem;

namespace hostpass::testing {
namespace {

// A child process whose stderr the test reads line by line (stdout goes to a file).
class Spawned {
 public:
  explicit Spawned(const std::vector<std::string>& argv, const std::string& out_file) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    posix_spawn_file_actions_t a;
    posix_spawn_file_actions_init(&a);
    posix_spawn_file_actions_adddup2(&a, out, 1);
    posix_spawn_file_actions_adddup2(&a, p[1], 2);
    std::vector<char*> args;
    for (const std::string& s : argv) args.push_back(const_cast<char*>(s.c_str()));
    args.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, args[0], &a, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&a);
    ::close(out);
    ::close(p[1]);
    err_fd_ = p[0];
    if (rc != 0) throw std::runtime_error("spawn " + argv[0]);
  }
  ~Spawned() {
    if (pid_ > 0) wait();
    if (err_fd_ >= 0) ::close(err_fd_);
  }
  // The next stderr line (without "\n"); "" at end of file.
  std::string read_line() {
    std::string line;
    char c;
    while (::read(err_fd_, &c, 1) == 1) {
      if (c == '\n') return line;
      line += c;
    }
    return line;
  }
  // Waits for the exit status; the rest of stderr goes to rest_of_err.
  int wait() {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(err_fd_, buf, sizeof buf)) > 0) rest_of_err.append(buf, n);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  pid_t pid() const { return pid_; }
  std::string rest_of_err;

 private:
  pid_t pid_ = -1;
  int err_fd_ = -1;
};

class LockCli : public ::testing::Test {
 protected:
  LockCli() : tree_(dir_.path() + "/root") {
    build_standard_host(tree_);
    real_ = std::make_unique<RealHost>(tree_.root());
    SimKernelHost record_native_table(*real_);
  }
  std::vector<std::string> sim_args(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_sim_bin(), "--root", tree_.root()});
    return args;
  }
  ProgramRun sim(std::vector<std::string> args) { return run_program(sim_args(std::move(args))); }
  std::string driver(const char* a) {
    return current_driver(*real_, *PciAddress::parse(a)).value_or("-");
  }
  // Holds the lock as a running `hostpass bind 0000:00:04.0` would.
  std::unique_ptr<FileLock> hold_lock() {
    auto l = real_->lock_exclusive(kStateLockFile, std::chrono::milliseconds(0));
    EXPECT_TRUE(l.ok() && *l);
    if (!l.ok() || !*l) return nullptr;
    EXPECT_TRUE((*l)->record_holder("bind 0000:00:04.0").ok());
    return std::move(*l);
  }
  std::string holder() {
    return "hostpass (pid " + std::to_string(::getpid()) + ": bind 0000:00:04.0)";
  }

  ScratchDir dir_;
  FixtureTree tree_;
  std::unique_ptr<RealHost> real_;
};

TEST_F(LockCli, BindRefusesAtOnceWhileAnotherHostpassHoldsTheLock) {
  auto lock = hold_lock();
  auto before = tree_digest(tree_.root());
  ProgramRun r = sim({"bind", "--lock-timeout", "0", "03:00.0"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "hostpass: " + holder() +
                       " holds /var/lib/hostpass/lock: another bind, unbind, apply, recover, "
                       "assign or release is running; run again when it has finished "
                       "(--lock-timeout SECONDS waits longer)\n");
  // Nothing changed: not the device, not the journal, not the holder's record.
  EXPECT_EQ(tree_digest(tree_.root()), before);
  EXPECT_EQ(driver("0000:03:00.0"), "-");
  ProgramRun j = sim({"--json", "bind", "--lock-timeout", "0", "03:00.0"});
  EXPECT_EQ(j.exit_code, 1);
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["error"]["kind"], "io");
}

TEST_F(LockCli, EveryMutatingCommandHonoursTheLockAndDryRunsDoNotWait) {
  tree_.write("/etc/hostpass/hostpass.yaml",
              "version: 1\ndevices:\n  - address: \"0000:03:00.0\"\n");
  auto lock = hold_lock();
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"unbind", "--lock-timeout", "0", "04:00.0"},
           {"recover", "--lock-timeout", "0"},
           {"apply", "--lock-timeout", "0", "-f", tree_.path("/etc/hostpass/hostpass.yaml")},
           {"assign", "--lock-timeout", "0", "0000:03:00.0", "--vm", "vm1"},
           {"release", "--lock-timeout", "0", "0000:04:00.0"}}) {
    ProgramRun r = sim(args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.out << r.err;
    EXPECT_NE(r.err.find(holder() + " holds /var/lib/hostpass/lock"), std::string::npos)
        << args[0] << ": " << r.err;
  }
  EXPECT_EQ(driver("0000:03:00.0"), "-");
  EXPECT_EQ(driver("0000:04:00.0"), "vfio-pci");
  ProgramRun dry = sim({"bind", "--dry-run", "--lock-timeout", "0", "03:00.0"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("dry run:"), std::string::npos) << dry.out;
  ProgramRun bad = sim({"bind", "--lock-timeout", "-1", "03:00.0"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

TEST_F(LockCli, BindWaitsForTheHolderThenBinds) {
  auto lock = hold_lock();
  Spawned child(sim_args({"bind", "03:00.0"}), dir_.path() + "/child.out");
  // The child says it waits, naming this process as the holder, and has touched nothing.
  EXPECT_EQ(child.read_line(), "hostpass: waiting for " + holder() +
                                   " to release /var/lib/hostpass/lock (up to 60 s)");
  EXPECT_EQ(driver("0000:03:00.0"), "-");
  EXPECT_FALSE(fs::exists(tree_.path("/var/lib/hostpass/journal.json")));
  lock.reset();  // the holder finishes
  EXPECT_EQ(child.wait(), 0) << child.rest_of_err;
  std::ifstream out(dir_.path() + "/child.out");
  std::stringstream ss;
  ss << out.rdbuf();
  EXPECT_EQ(ss.str(), "0000:03:00.0  (no driver) -> vfio-pci\n");
  EXPECT_EQ(driver("0000:03:00.0"), "vfio-pci");
  EXPECT_FALSE(fs::exists(tree_.path("/var/lib/hostpass/journal.json")));
}

TEST_F(LockCli, TwoBindsStartedTogetherBothEndBoundAndConsistent) {
  {
    // Both start while the lock is held, so both are certain to contend for it.
    auto lock = hold_lock();
    Spawned a(sim_args({"bind", "03:00.0"}), dir_.path() + "/a.out");
    Spawned b(sim_args({"bind", "00:04.0"}), dir_.path() + "/b.out");
    EXPECT_NE(a.read_line().find("hostpass: waiting for " + holder()), std::string::npos);
    EXPECT_NE(b.read_line().find("hostpass: waiting for " + holder()), std::string::npos);
    lock.reset();
    EXPECT_EQ(a.wait(), 0) << a.rest_of_err;
    EXPECT_EQ(b.wait(), 0) << b.rest_of_err;
  }
  EXPECT_EQ(driver("0000:03:00.0"), "vfio-pci");
  EXPECT_EQ(driver("0000:00:04.0"), "vfio-pci");
  EXPECT_TRUE(fs::exists(tree_.path("/dev/vfio/7")));
  EXPECT_TRUE(fs::exists(tree_.path("/dev/vfio/4")));
  EXPECT_FALSE(fs::exists(tree_.path("/var/lib/hostpass/journal.json")));
  // Whoever went second left its record; nobody holds the lock any more.
  auto again = real_->lock_exclusive(kStateLockFile, std::chrono::milliseconds(0));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again != nullptr);
  // And both unbind again, one after the other, to where they started.
  again->reset();
  ProgramRun u = sim({"unbind", "03:00.0", "00:04.0"});
  EXPECT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(driver("0000:00:04.0"), "e1000e");
}

}  // namespace
}  // namespace hostpass::testing
