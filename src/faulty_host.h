// faulty_host.h — a Host wrapper that counts, records, fails and freezes writes.
//
// Reliability tests wrap the host under test: fail the Nth mutating call, fail every write whose
// path contains a string, or "crash" after N writes (every later mutation fails and changes
// nothing, as if the process had died there; a fresh host over the same tree then plays the
// restarted process). Reads always pass through. Mutating calls are write_attribute,
// replace_file, remove_file, make_dirs and run_command; the log records each one attempted, in
// order, so a test can assert "zero writes" or the exact sequence a --dry-run promised.
// It can also fail the state lock (lock_exclusive) or answer that another process holds it.
//
// Thread-safe: discovery reads from several threads.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "forwarding_host.h"

namespace hostpass {

struct HostWrite {
  std::string op;    // "write", "replace", "remove", "mkdir", "run"
  std::string path;  // for "run": the command line joined by spaces
  std::string data;
  bool failed = false;
};

class FaultyHost : public ForwardingHost {
 public:
  explicit FaultyHost(Host& inner) : ForwardingHost(inner) {}

  // The nth mutating call (1-based, counted from now on) fails with an Io error.
  void fail_nth_write(int n);
  // Every write_attribute/replace_file whose path contains `needle` fails with an Io error.
  void fail_write_matching(std::string needle);
  // After `n` more successful mutations, every mutation fails and changes nothing.
  void crash_after_writes(int n);
  // Every write_attribute to a path containing `needle` fails with this errno-style message,
  // e.g. ("/drivers/vfio-pci/bind", "No such device").
  void fail_write_matching(std::string needle, std::string message);

  // lock_exclusive fails with an Io error carrying `message` (e.g. "Permission denied").
  void fail_lock(std::string message);
  // lock_exclusive answers "held by another process" (nullptr) without waiting.
  void lock_held_elsewhere();

  int write_count() const;  // mutating calls attempted, failed ones included
  std::vector<HostWrite> writes() const;
  int read_count() const;

  // Counted reads (exists, is_dir, now and resolve pass through uncounted: ForwardingHost).
  Result<std::string> read_file(std::string_view path, size_t max_bytes = 1 << 20) override;
  Result<std::string> read_link(std::string_view path) override;
  Result<std::vector<std::string>> list_dir(std::string_view path) override;
  // Mutations: admitted, failed or frozen as configured, and logged.
  Status write_attribute(std::string_view path, std::string_view data) override;
  Status replace_file(std::string_view path, std::string_view data) override;
  Status remove_file(std::string_view path) override;
  Status make_dirs(std::string_view path) override;
  Result<CommandOutput> run_command(const std::vector<std::string>& argv) override;
  // Passed through, counted as a read: opening a VFIO node changes no persistent state.
  Result<std::unique_ptr<DeviceHandle>> open_device(std::string_view path) override;
  // Not a logged mutation (it changes no device state); fails or answers "busy" on demand.
  Result<std::unique_ptr<FileLock>> lock_exclusive(std::string_view path,
                                                   std::chrono::milliseconds wait) override;

 private:
  // Decides, under the lock, whether this mutation goes through; records it.
  Status admit(const char* op, std::string_view path, std::string_view data);

  mutable std::mutex mu_;
  std::vector<HostWrite> log_;
  int fail_nth_ = 0;  // 0: off; counts down
  std::vector<std::pair<std::string, std::string>> fail_matching_;
  int crash_after_ = -1;  // -1: off; counts down to 0, then frozen
  int reads_ = 0;
  std::optional<std::string> fail_lock_;
  bool lock_busy_ = false;
};

}  // namespace hostpass
