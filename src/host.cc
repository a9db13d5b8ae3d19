// host.cc — RealHost: the POSIX implementation of Host, rooted at a directory, plus the pure path
// helpers every module uses to walk sysfs links.
//
// This is the only file of libhostpass that calls open/read/write/readlink/opendir/fork/ioctl/
// flock.
#include "host.h"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <thread>

// environ: <unistd.h> declares it (g++ defines _GNU_SOURCE).

namespace hostpass {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::NotFound:
      return "not-found";
    case ErrorKind::InvalidInput:
      return "invalid-input";
    case ErrorKind::Refused:
      return "refused";
    case ErrorKind::Io:
      return "io";
    case ErrorKind::Unsupported:
      return "unsupported";
  }
  return "unknown";
}

namespace {

Error errno_error(const std::string& what, std::string_view path, int err) {
  std::string m = what + " " + std::string(path) + ": " + std::strerror(err);
  if (err == ENOENT) return not_found(m);
  return io_error(m);
}

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// A character device opened by RealHost::open_device.
class RealDeviceHandle : public DeviceHandle {
 public:
  RealDeviceHandle(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  IoctlResult ioctl(unsigned long request, void* arg) override {
    int r;
    do {
      r = ::ioctl(fd_.get(), request, arg);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return IoctlResult{0, errno};
    return IoctlResult{r, 0};
  }

  Result<std::unique_ptr<DeviceHandle>> ioctl_open(unsigned long request, void* arg) override {
    IoctlResult r = ioctl(request, arg);
    if (!r.ok()) return errno_error("ioctl on", path_, r.error);
    // The kernel hands out VFIO device fds with O_CLOEXEC (vfio_device_open_file).
    return std::unique_ptr<DeviceHandle>(
        new RealDeviceHandle(r.value, path_ + " (fd " + std::to_string(r.value) + ")"));
  }

  int fd() const override { return fd_.get(); }

 private:
  Fd fd_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<DeviceHandle>> Host::open_device(std::string_view path) {
  return unsupported("cannot open device " + std::string(path) + ": this host has no device nodes");
}

Result<std::unique_ptr<FileLock>> Host::lock_exclusive(std::string_view path,
                                                       std::chrono::milliseconds) {
  return unsupported("cannot lock " + std::string(path) + ": this host has no lock files");
}

namespace {

// The descriptor holding a flock(2) lock; closing it releases the lock.
class RealFileLock : public FileLock {
 public:
  RealFileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  Status record_holder(std::string_view what) override {
    std::string text = std::to_string(::getpid()) + " " + std::string(what) + "\n";
    if (::ftruncate(fd_.get(), 0) != 0) return errno_error("cannot truncate", path_, errno);
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n =
          ::pwrite(fd_.get(), text.data() + done, text.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return errno_error("cannot write", path_, n < 0 ? errno : EIO);
      done += static_cast<size_t>(n);
    }
    return ok_status();
  }

 private:
  Fd fd_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<FileLock>> RealHost::lock_exclusive(std::string_view path,
                                                           std::chrono::milliseconds wait) {
  std::string real = resolve(path);
  Fd fd(::open(real.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (fd.get() < 0) return errno_error("cannot open lock file", path, errno);
  // flock(2) blocks without a timeout, so the wait polls LOCK_NB: a lock held elsewhere is
  // released at most one poll interval before this process notices.
  constexpr auto kPoll = std::chrono::milliseconds(50);
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0)
      return std::unique_ptr<FileLock>(new RealFileLock(fd.release(), std::string(path)));
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return errno_error("cannot lock", path, errno);
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::unique_ptr<FileLock>();
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(kPoll, deadline - now));
  }
}

RealHost::RealHost(const std::string& root) : root_(normalize_path(root.empty() ? "/" : root)) {
  if (root_ == "/") root_.clear();
}

std::string RealHost::resolve(std::string_view path) const {
  if (root_.empty()) return std::string(path);
  return root_ + std::string(path);
}

Result<std::string> RealHost::read_file(std::string_view path, size_t max_bytes) {
  std::string real = resolve(path);
  Fd fd(::open(real.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno_error("cannot open", path, errno);
  // One read(2) usually does it: sysfs attributes are at most a page and return whole on the
  // first read, and a regular file returns less than asked only at its end. So a short read
  // ends the loop without the extra read(2) that would only say EOF.
  std::string out;
  size_t want = std::min<size_t>(max_bytes, size_t{64} * 1024);
  out.resize(want);
  size_t len = 0;
  while (len < max_bytes) {
    if (len == out.size()) out.resize(std::min(max_bytes, out.size() * 2));
    size_t ask = out.size() - len;
    ssize_t n = ::read(fd.get(), out.data() + len, ask);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot read", path, errno);
    }
    len += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < ask) break;
  }
  out.resize(len);
  return out;
}

Result<std::string> RealHost::read_link(std::string_view path) {
  std::string real = resolve(path);
  char buf[4096];
  ssize_t n = ::readlink(real.c_str(), buf, sizeof buf);
  if (n < 0) return errno_error("cannot read link", path, errno);
  if (static_cast<size_t>(n) == sizeof buf) return io_error("link target too long: " + real);
  return std::string(buf, static_cast<size_t>(n));
}

Result<std::vector<std::string>> RealHost::list_dir(std::string_view path) {
  std::string real = resolve(path);
  DIR* dir = ::opendir(real.c_str());
  if (!dir) return errno_error("cannot list", path, errno);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  return names;
}

bool RealHost::exists(std::string_view path) {
  struct stat st;
  return ::stat(resolve(path).c_str(), &st) == 0;
}

bool RealHost::is_dir(std::string_view path) {
  struct stat st;
  return ::stat(resolve(path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status RealHost::write_attribute(std::string_view path, std::string_view data) {
  std::string real = resolve(path);
  Fd fd(::open(real.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno_error("cannot open for writing", path, errno);
  ssize_t n;
  do {
    n = ::write(fd.get(), data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno_error("write of '" + std::string(trim(data)) + "' failed on", path, errno);
  if (static_cast<size_t>(n) != data.size()) return io_error("short write to " + std::string(path));
  return ok_status();
}

Status RealHost::replace_file(std::string_view path, std::string_view data) {
  if (Status s = make_dirs(dir_name(path)); !s.ok()) return s;
  std::string real = resolve(path);
  std::string tmp = real + ".tmp." + std::to_string(::getpid());
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) return errno_error("cannot create", tmp, errno);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return errno_error("cannot write", tmp, err);
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return errno_error("cannot sync", tmp, err);
    }
  }
  if (::rename(tmp.c_str(), real.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return errno_error("cannot rename into place", path, err);
  }
  return ok_status();
}

Status RealHost::remove_file(std::string_view path) {
  if (::unlink(resolve(path).c_str()) != 0 && errno != ENOENT)
    return errno_error("cannot remove", path, errno);
  return ok_status();
}

Status RealHost::make_dirs(std::string_view path) {
  std::string p = normalize_path(path);
  if (p == "/" || p.empty()) return ok_status();
  std::string cur;
  size_t pos = 1;
  while (pos <= p.size()) {
    size_t next = p.find('/', pos);
    if (next == std::string::npos) next = p.size();
    cur = p.substr(0, next);
    std::string real = resolve(cur);
    if (::mkdir(real.c_str(), 0755) != 0 && errno != EEXIST)
      return errno_error("cannot create directory", cur, errno);
    pos = next + 1;
  }
  return ok_status();
}

Result<CommandOutput> RealHost::run_command(const std::vector<std::string>& argv) {
  if (argv.empty()) return invalid_input("run_command: empty command");
  if (!root_.empty())
    return unsupported("not running '" + argv[0] + "' under --root " + root_ +
                       ": commands act on the real machine, not on the tree");
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return errno_error("pipe for", argv[0], errno);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return errno_error("pipe for", argv[0], errno);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = ::posix_spawnp(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return errno_error("cannot run", argv[0], rc);
  }
  CommandOutput result;
  // Reads stdout to its end, then stderr. The commands run here (modprobe) print a few lines;
  // this would block only if a child wrote more than a pipe buffer (64 KiB) to stderr first.
  auto drain = [](int fd, std::string& into) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) into.append(buf, static_cast<size_t>(n));
    ::close(fd);
  };
  drain(out_pipe[0], result.out);
  drain(err_pipe[0], result.err);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::chrono::system_clock::time_point RealHost::now() {
  return std::chrono::system_clock::now();
}

Result<std::unique_ptr<DeviceHandle>> RealHost::open_device(std::string_view path) {
  std::string real = resolve(path);
  struct stat st;
  if (::stat(real.c_str(), &st) != 0) return errno_error("cannot open", path, errno);
  // Checked before open(): opening a FIFO or a file with side effects is not ours to do.
  if (!S_ISCHR(st.st_mode))
    return unsupported(std::string(path) + " is not a character device" +
                       (root_.empty() ? "" : " (under --root " + root_ + ")"));
  Fd fd(::open(real.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) return errno_error("cannot open", path, errno);
  return std::unique_ptr<DeviceHandle>(new RealDeviceHandle(fd.release(), std::string(path)));
}

// ---- path helpers ----

std::string join_path(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  out += name;
  return out;
}

std::string dir_name(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string base_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> parts;
  bool absolute = !path.empty() && path.front() == '/';
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view part = path.substr(pos, next - pos);
    if (part.empty() || part == ".") {
      // skip
    } else if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.push_back(part);
      }
    } else {
      parts.push_back(part);
    }
    pos = next + 1;
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  if (out.empty()) out = absolute ? "/" : ".";
  return out;
}

std::string resolve_link(std::string_view link_path, std::string_view target) {
  if (!target.empty() && target.front() == '/') return normalize_path(target);
  return normalize_path(join_path(dir_name(link_path), target));
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t next = s.find(sep, pos);
    if (next == std::string_view::npos) next = s.size();
    out.emplace_back(s.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

std::string plural(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\0'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

namespace {

// An optional 0x, then 1 to max_digits hex digits and nothing else (after trimming).
template <typename T>
std::optional<T> parse_hex_attribute(std::string_view text, size_t max_digits) {
  text = trim(text);
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
    text.remove_prefix(2);
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  T v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<uint32_t> parse_sysfs_hex(std::string_view text) {
  return parse_hex_attribute<uint32_t>(text, 8);
}

std::optional<uint64_t> parse_sysfs_hex64(std::string_view text) {
  return parse_hex_attribute<uint64_t>(text, 16);
}

std::optional<int> parse_sysfs_int(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 10);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<int> parse_sysfs_count(std::string_view text) {
  auto v = parse_sysfs_int(text);
  if (!v || *v < 0 || trim(text)[0] == '-') return std::nullopt;  // "-0" is not a count either
  return v;
}

}  // namespace hostpass
