// state_lock.cc — see state_lock.h.
#include "state_lock.h"

#include "vfio_bind.h"

namespace hostpass {

namespace {

// "hostpass (pid 1234: bind 0000:01:00.0)" from the lock file's "<pid> <command>\n", or
// "another hostpass" when the file says nothing usable (a holder between lock and record).
std::string describe_holder(Host& host, const std::string& path) {
  auto text = host.read_file(path, 4096);
  if (!text.ok()) return "another hostpass";
  std::string_view t = trim(*text);
  size_t sp = t.find(' ');
  std::string_view pid = t.substr(0, sp);
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string_view::npos)
    return "another hostpass";
  std::string out = "hostpass (pid " + std::string(pid);
  if (sp != std::string_view::npos && !trim(t.substr(sp)).empty())
    out += ": " + std::string(trim(t.substr(sp)));
  return out + ")";
}

std::string seconds_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

}  // namespace

std::string state_lock_path(const std::string& state_dir) {
  return join_path(state_dir, "lock");
}

Result<std::unique_ptr<FileLock>> lock_state_dir(Host& host, const std::string& state_dir,
                                                 const StateLockOptions& options) {
  if (Status s = validate_state_dir(state_dir); !s.ok()) return s.error();
  if (Status s = host.make_dirs(state_dir); !s.ok())
    return s.error().wrap("cannot create the state directory for its lock");
  const std::string path = state_lock_path(state_dir);
  auto lock = host.lock_exclusive(path, std::chrono::milliseconds(0));
  if (!lock.ok()) return lock.error();
  if (!*lock) {
    std::string holder = describe_holder(host, path);
    if (options.timeout.count() > 0) {
      if (options.on_wait)
        options.on_wait("waiting for " + holder + " to release " + path + " (up to " +
                        seconds_text(options.timeout) + ")");
      lock = host.lock_exclusive(path, options.timeout);
      if (!lock.ok()) return lock.error();
      if (!*lock) holder = describe_holder(host, path);  // it may have changed hands
    }
    if (!*lock)
      return io_error(
          holder + " holds " + path +
          (options.timeout.count() > 0
               ? " and did not release it within " + seconds_text(options.timeout)
               : std::string()) +
          ": another bind, unbind, apply, recover, assign or release is running; run again "
          "when it has finished (--lock-timeout SECONDS waits longer)");
  }
  if (Status s = (*lock)->record_holder(options.command); !s.ok()) return s.error();
  return std::move(*lock);
}

}  // namespace hostpass
