// state_lock.h — one mutating hostpass at a time per state directory.
//
// Every command that changes devices or the journal (bind, unbind, apply, recover, assign,
// release) takes an exclusive flock(2) on <state_dir>/lock before it recovers an interrupted
// operation or writes a journal, and holds it until it exits. Without it, two `hostpass bind`
// processes could interleave their driver_override/unbind/drivers_probe writes and overwrite
// each other's journal (state_dir/journal.json), and a `recover` could replay a journal another
// process is still acting on.
//
// Contract:
//   <state_dir>/lock   created (0644) when missing, never removed: flock(2) locks the open file,
//                      so a removed-and-recreated file would let two holders in. Its content is
//                      the holder's "<pid> <command>\n", written right after locking, for the
//                      message a waiter prints (flock has no F_GETLK to ask the kernel).
//   The kernel releases the lock when the holder exits, however it exits: a crashed hostpass
//   never leaves the lock held (its journal is what `recover` then replays).
// Waiting follows apt's frontend (it waits for /var/lib/dpkg/lock-frontend with "Waiting for
// cache lock: ... held by process N") rather than apt-get's default of failing at once: a
// second operator's command waits, bounded by a timeout (default 60 s), then fails (Io, exit 1)
// naming the holder; a timeout of 0 fails at once (for scripts that prefer to retry).
//
// What it deliberately does not do: lock read-only commands (list, check, verify, --dry-run
// plans), break a lock, or decide whether the pid in the file is still alive (the kernel's lock
// is the truth; the pid is only for the message).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "host.h"
#include "result.h"

namespace hostpass {

inline constexpr std::chrono::seconds kDefaultLockTimeout{60};

// <state_dir>/lock
std::string state_lock_path(const std::string& state_dir);

struct StateLockOptions {
  std::chrono::milliseconds timeout = kDefaultLockTimeout;
  // What this process is doing, recorded for the next waiter: "bind 0000:01:00.0".
  std::string command;
  // Called once, before waiting, with "waiting for hostpass (pid 1234: bind 0000:01:00.0) to
  // release /var/lib/hostpass/lock (up to 60 s)". Not called when the lock is free.
  std::function<void(const std::string&)> on_wait;
};

// Takes the state directory's lock (creating state_dir if needed). InvalidInput, before any
// write, when state_dir is not an absolute path without '.'/'..' (validate_state_dir, the
// journal's rule). Returns the held lock; an Io error naming the holder when it is still held after
// options.timeout; the Host's error when the lock file cannot be created or locked.
Result<std::unique_ptr<FileLock>> lock_state_dir(Host& host, const std::string& state_dir,
                                                 const StateLockOptions& options);

}  // namespace hostpass
