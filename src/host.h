// host.h — the one door to the operating system.
//
// Every OS access of libhostpass goes through Host: reading sysfs/procfs attributes, following
// their links, listing directories, writing kernel attributes and configuration files, running
// a command (modprobe), the clock, an exclusive lock file. Paths are always absolute and always
// mean "under the root": RealHost("/") is the machine, RealHost("/tmp/fixture") a kernel-shaped
// tree where /sys/bus/pci/devices is /tmp/fixture/sys/bus/pci/devices. FaultyHost (faulty_host.h)
// wraps any Host and fails or freezes writes on demand for reliability tests.
//
// What Host deliberately does not do: interpret anything. It never parses a sysfs value, never
// retries, never follows a link on its own behalf; modules do that on plain strings.
//
// Two kinds of writes, because the kernel and the filesystem behave differently:
//   write_attribute  opens an existing file and writes once (sysfs: driver_override, bind,
//                    unbind, drivers_probe, mdev create). It never creates the file: a missing
//                    attribute is an error, exactly as on sysfs.
//   replace_file     creates or atomically replaces a regular file (config under /etc, the
//                    journal under /var/lib/hostpass), creating parent directories.
//
// Device nodes: the VFIO API is ioctls on open file descriptors (/dev/vfio/vfio, /dev/vfio/<group>,
// and the device fd a group hands out), so Host can open a character device and hand back a
// DeviceHandle whose only operation is ioctl. RealHost is still the only code that calls open()
// and ioctl(); hosts without device nodes (fixtures, simulators) inherit a default that refuses.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace hostpass {

struct CommandOutput {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// The outcome of one ioctl(2): the kernel's non-negative return value, or the errno it set.
// Callers interpret errno themselves because the API gives it meaning (EPERM on
// VFIO_GROUP_SET_CONTAINER means "group not viable", EBUSY on a group open means "in use").
struct IoctlResult {
  int value = 0;  // the ioctl's return value when ok()
  int error = 0;  // errno when !ok()
  bool ok() const { return error == 0; }
};

// An open character device, closed when the handle is destroyed.
class DeviceHandle {
 public:
  virtual ~DeviceHandle() = default;
  // ioctl(fd, request, arg). `arg` points to the request's argument struct (or int).
  virtual IoctlResult ioctl(unsigned long request, void* arg) = 0;
  // For ioctls that return a new file descriptor (VFIO_GROUP_GET_DEVICE_FD): issues the ioctl and
  // adopts the returned descriptor as a handle. Io error (with errno's text) on failure.
  virtual Result<std::unique_ptr<DeviceHandle>> ioctl_open(unsigned long request, void* arg) = 0;
  // The descriptor number, for ioctls whose argument is another descriptor
  // (VFIO_GROUP_SET_CONTAINER takes a pointer to the container's fd).
  virtual int fd() const = 0;
};

// An exclusive flock(2) lock on a file, held until the handle is destroyed (or the process
// exits: the kernel drops flock locks with the last descriptor of the open file description).
class FileLock {
 public:
  virtual ~FileLock() = default;
  // Replaces the locked file's content with "<pid of this process> <what>\n", through the locked
  // descriptor (ftruncate + pwrite): never a new file, whose inode would not carry the lock.
  virtual Status record_holder(std::string_view what) = 0;
};

class Host {
 public:
  virtual ~Host() = default;

  // Reads at most max_bytes of the file at `path`. NotFound if it does not exist.
  virtual Result<std::string> read_file(std::string_view path, size_t max_bytes = 1 << 20) = 0;
  // The raw target of the symlink at `path` (kernel links are relative: "../../../bus/...").
  virtual Result<std::string> read_link(std::string_view path) = 0;
  // Entry names of a directory, without "." and "..", in no particular order.
  virtual Result<std::vector<std::string>> list_dir(std::string_view path) = 0;
  // True when something (file, directory, link target) exists at `path`.
  virtual bool exists(std::string_view path) = 0;
  // True when `path` is a directory (following links).
  virtual bool is_dir(std::string_view path) = 0;

  // Writes `data` to an existing attribute file in one write(2). See the header comment.
  virtual Status write_attribute(std::string_view path, std::string_view data) = 0;
  // Creates or atomically replaces a regular file (mode 0644), creating parent directories.
  virtual Status replace_file(std::string_view path, std::string_view data) = 0;
  // Removes a file; removing a file that does not exist is not an error.
  virtual Status remove_file(std::string_view path) = 0;
  // Creates a directory and its parents (mode 0755); existing directories are fine.
  virtual Status make_dirs(std::string_view path) = 0;

  // Runs argv[0] (looked up in PATH) with the given arguments and waits for it.
  virtual Result<CommandOutput> run_command(const std::vector<std::string>& argv) = 0;

  virtual std::chrono::system_clock::time_point now() = 0;

  // Opens the character device at `path` read-write. NotFound when nothing is there;
  // Unsupported when something is there but it is not a character device (a fixture's plain
  // file). The default refuses: only a host backed by real device nodes can open them.
  virtual Result<std::unique_ptr<DeviceHandle>> open_device(std::string_view path);

  // Takes an exclusive flock(2) (LOCK_EX) on the file at `path`, creating it (mode 0644) when
  // missing; its directory must exist. While another open file description holds the lock, tries
  // again until `wait` has passed (zero: a single try). Returns the held lock, or nullptr (ok, no
  // lock) when it is still held elsewhere at the end of the wait; an error when the file cannot
  // be opened or locked. The default refuses (Unsupported): only a host on real files can lock.
  virtual Result<std::unique_ptr<FileLock>> lock_exclusive(std::string_view path,
                                                           std::chrono::milliseconds wait);

  // The real filesystem path behind `path`, for the few callers that must hand a path to
  // something outside Host (SQLite, inotify, a gRPC socket, an ioctl on /dev/vfio).
  virtual std::string resolve(std::string_view path) const = 0;
};

// The machine, or a tree that stands in for it.
class RealHost : public Host {
 public:
  // `root` is "/" in production. Any other root is a fixture or a test tree: run_command then
  // refuses, so that a test never loads a module into the real kernel.
  explicit RealHost(const std::string& root);

  Result<std::string> read_file(std::string_view path, size_t max_bytes = 1 << 20) override;
  Result<std::string> read_link(std::string_view path) override;
  Result<std::vector<std::string>> list_dir(std::string_view path) override;
  bool exists(std::string_view path) override;
  bool is_dir(std::string_view path) override;
  Status write_attribute(std::string_view path, std::string_view data) override;
  Status replace_file(std::string_view path, std::string_view data) override;
  Status remove_file(std::string_view path) override;
  Status make_dirs(std::string_view path) override;
  Result<CommandOutput> run_command(const std::vector<std::string>& argv) override;
  std::chrono::system_clock::time_point now() override;
  Result<std::unique_ptr<DeviceHandle>> open_device(std::string_view path) override;
  Result<std::unique_ptr<FileLock>> lock_exclusive(std::string_view path,
                                                   std::chrono::milliseconds wait) override;
  std::string resolve(std::string_view path) const override;

  const std::string& root() const { return root_; }
  bool is_system_root() const { return root_.empty(); }

 private:
  std::string root_;  // without a trailing slash; empty for "/"
};

// ---- path helpers (pure, no I/O) ----

// "a" + "b" → "a/b", never doubling the slash.
std::string join_path(std::string_view dir, std::string_view name);
// The directory part: "/sys/bus/pci/devices/x" → "/sys/bus/pci/devices".
std::string dir_name(std::string_view path);
// The last component: "../../../bus/pci/drivers/vfio-pci" → "vfio-pci".
std::string base_name(std::string_view path);
// Lexically resolves a link target found at `link_path` to an absolute path:
// ("/sys/bus/pci/devices/0000:00:02.0", "../../../devices/pci0000:00/0000:00:02.0")
//   → "/sys/devices/pci0000:00/0000:00:02.0".
std::string resolve_link(std::string_view link_path, std::string_view target);
// Removes ".", "..", and doubled slashes lexically. "/a/b/../c" → "/a/c".
std::string normalize_path(std::string_view path);
// Trims ASCII whitespace (sysfs values end in "\n").
std::string_view trim(std::string_view s);
// The parts with `sep` between them: ({"a", "b"}, ", ") → "a, b"; {} → "".
std::string join(const std::vector<std::string>& parts, std::string_view sep);
// A count with its noun in the right number: (1, "warning", "warnings") → "1 warning", (0, ...)
// → "0 warnings". Every count hostpass prints goes through it.
std::string plural(size_t n, std::string_view one, std::string_view many);
// The pieces between each `sep`, empty ones kept: ("a,,b", ',') → {"a", "", "b"}; "" → {""}.
std::vector<std::string> split(std::string_view s, char sep);

// ---- sysfs numbers (pure, no I/O) ----
// The one parser of each kind of number the kernel prints; trimmed first (attributes end in
// "\n"), then all of the rest must be the number: "3x", "", "+3" and "1.5" are none.

// A hex attribute ("0x10de\n", "10de"): an optional 0x, 1 to 8 hex digits.
std::optional<uint32_t> parse_sysfs_hex(std::string_view text);
// A 64-bit hex register ("19e2ff0505e\n", an Intel IOMMU's ecap or cap): an optional 0x, 1 to
// 16 hex digits.
std::optional<uint64_t> parse_sysfs_hex64(std::string_view text);
// A decimal attribute ("-1\n", "3\n"): an optional '-', digits, within int.
std::optional<int> parse_sysfs_int(std::string_view text);
// A count, an index or an id that is never negative: available_instances, an IOMMU group's
// number, a pid's /proc entry, a USB bus or port number. parse_sysfs_int without the '-'.
std::optional<int> parse_sysfs_count(std::string_view text);

}  // namespace hostpass
