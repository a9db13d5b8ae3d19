// state_lock_test.cc — the state directory's lock: taken when free, refused with the holder's
// pid when held (flock(2) conflicts between two open file descriptions, so two locks taken in
// this one process stand for two processes), released with its handle, and a Host that cannot
// lock makes the command fail before it does anything.
#include "state_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "faulty_host.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

constexpr const char* kStateDir = "/var/lib/hostpass";

class StateLock : public ::testing::Test {
 protected:
  StateLock() : root_(dir_.path() + "/root"), host_(root_) { fs::create_directories(root_); }
  std::string lock_file_content() {
    std::ifstream f(root_ + "/var/lib/hostpass/lock");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  StateLockOptions options(const std::string& command, int timeout_ms) {
    StateLockOptions o;
    o.command = command;
    o.timeout = std::chrono::milliseconds(timeout_ms);
    o.on_wait = [this](const std::string& m) { waits_.push_back(m); };
    return o;
  }
  ScratchDir dir_;
  std::string root_;
  RealHost host_;
  std::vector<std::string> waits_;
};

TEST_F(StateLock, AFreeLockIsTakenAndNamesItsHolder) {
  auto lock = lock_state_dir(host_, kStateDir, options("bind 0000:01:00.0", 0));
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  ASSERT_TRUE(*lock != nullptr);
  EXPECT_EQ(lock_file_content(), std::to_string(::getpid()) + " bind 0000:01:00.0\n");
  EXPECT_TRUE(waits_.empty());
  EXPECT_EQ(state_lock_path(kStateDir), "/var/lib/hostpass/lock");
}

TEST_F(StateLock, AHeldLockIsRefusedAtOnceWithTheHoldersPid) {
  auto first = lock_state_dir(host_, kStateDir, options("bind 0000:01:00.0", 0));
  ASSERT_TRUE(first.ok() && *first);
  auto second = lock_state_dir(host_, kStateDir, options("unbind 0000:02:00.0", 0));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, ErrorKind::Io);
  EXPECT_EQ(second.error().message,
            "hostpass (pid " + std::to_string(::getpid()) +
                ": bind 0000:01:00.0) holds /var/lib/hostpass/lock: another bind, unbind, apply, "
                "recover, assign or release is running; run again when it has finished "
                "(--lock-timeout SECONDS waits longer)");
  EXPECT_TRUE(waits_.empty()) << "a zero timeout does not wait";
  // The refused process did not overwrite the holder's record.
  EXPECT_EQ(lock_file_content(), std::to_string(::getpid()) + " bind 0000:01:00.0\n");
}

TEST_F(StateLock, AWaitThatExpiresSaysItWaitedAndForWhom) {
  auto first = lock_state_dir(host_, kStateDir, options("apply -f /etc/hostpass/hostpass.yaml", 0));
  ASSERT_TRUE(first.ok() && *first);
  auto second = lock_state_dir(host_, kStateDir, options("recover", 20));
  ASSERT_FALSE(second.ok());
  std::string holder =
      "hostpass (pid " + std::to_string(::getpid()) + ": apply -f /etc/hostpass/hostpass.yaml)";
  EXPECT_EQ(waits_, std::vector<std::string>{"waiting for " + holder +
                                             " to release /var/lib/hostpass/lock (up to 20 ms)"});
  EXPECT_EQ(second.error().message.rfind(holder + " holds /var/lib/hostpass/lock and did not "
                                                  "release it within 20 ms: ",
                                         0),
            0u)
      << second.error().message;
}

TEST_F(StateLock, ReleasingTheHandleLetsTheNextCommandIn) {
  {
    auto first = lock_state_dir(host_, kStateDir, options("bind 0000:01:00.0", 0));
    ASSERT_TRUE(first.ok() && *first);
  }
  auto second = lock_state_dir(host_, kStateDir, options("unbind 0000:01:00.0", 0));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(lock_file_content(), std::to_string(::getpid()) + " unbind 0000:01:00.0\n");
  EXPECT_TRUE(waits_.empty());
}

TEST_F(StateLock, AFailingLockFailsTheCommandWithTheHostsError) {
  FaultyHost faulty(host_);
  faulty.fail_lock("Permission denied");
  auto lock = lock_state_dir(faulty, kStateDir, options("bind 0000:01:00.0", 1000));
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.error().kind, ErrorKind::Io);
  EXPECT_EQ(lock.error().message, "cannot lock /var/lib/hostpass/lock: Permission denied");
  EXPECT_TRUE(waits_.empty());
  EXPECT_FALSE(fs::exists(root_ + "/var/lib/hostpass/lock"));
}

TEST_F(StateLock, AHolderThatRecordedNothingIsAnotherHostpass) {
  FaultyHost faulty(host_);
  faulty.lock_held_elsewhere();
  auto lock = lock_state_dir(faulty, kStateDir, options("bind 0000:01:00.0", 0));
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.error().message.rfind("another hostpass holds /var/lib/hostpass/lock: ", 0), 0u)
      << lock.error().message;
  EXPECT_EQ(faulty.write_count(), 1);  // make_dirs of the state directory, nothing else
}

TEST_F(StateLock, AStateDirectoryThatCannotBeCreatedIsTheError) {
  FaultyHost faulty(host_);
  faulty.fail_nth_write(1);
  auto lock = lock_state_dir(faulty, kStateDir, options("bind 0000:01:00.0", 0));
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.error().message,
            "cannot create the state directory for its lock: mkdir /var/lib/hostpass: "
            "Input/output error (injected)");
}

TEST_F(StateLock, AnInvalidStateDirectoryIsRefusedBeforeAnyWrite) {
  FaultyHost faulty(host_);
  for (const char* dir : {"/var/../etc", "relative", ""}) {
    auto lock = lock_state_dir(faulty, dir, options("bind 0000:01:00.0", 0));
    ASSERT_FALSE(lock.ok()) << dir;
    EXPECT_EQ(lock.error().kind, ErrorKind::InvalidInput) << dir;
  }
  EXPECT_EQ(faulty.write_count(), 0);
  EXPECT_FALSE(fs::exists(root_ + "/etc/lock"));
}

TEST(HostLock, AHostWithoutLockFilesRefuses) {
  class NoLockHost : public ForwardingHost {
   public:
    using ForwardingHost::ForwardingHost;
    Result<std::unique_ptr<FileLock>> lock_exclusive(std::string_view path,
                                                     std::chrono::milliseconds wait) override {
      return Host::lock_exclusive(path, wait);
    }
  };
  ScratchDir dir;
  RealHost real(dir.path());
  NoLockHost host(real);
  auto lock = host.lock_exclusive("/lock", std::chrono::milliseconds(0));
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.error().kind, ErrorKind::Unsupported);
}

}  // namespace
}  // namespace hostpass
