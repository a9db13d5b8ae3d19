// faulty_host.cc — see faulty_host.h.
#include "faulty_host.h"

namespace hostpass {

void FaultyHost::fail_nth_write(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_nth_ = n;
}

void FaultyHost::fail_write_matching(std::string needle) {
  fail_write_matching(std::move(needle), "Input/output error (injected)");
}

void FaultyHost::fail_write_matching(std::string needle, std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_matching_.emplace_back(std::move(needle), std::move(message));
}

void FaultyHost::crash_after_writes(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_after_ = n;
}

void FaultyHost::fail_lock(std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_lock_ = std::move(message);
}

void FaultyHost::lock_held_elsewhere() {
  std::lock_guard<std::mutex> lock(mu_);
  lock_busy_ = true;
}

Result<std::unique_ptr<FileLock>> FaultyHost::lock_exclusive(std::string_view path,
                                                             std::chrono::milliseconds wait) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_lock_) return io_error("cannot lock " + std::string(path) + ": " + *fail_lock_);
    if (lock_busy_) return std::unique_ptr<FileLock>();
  }
  return inner_.lock_exclusive(path, wait);
}

int FaultyHost::write_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(log_.size());
}

std::vector<HostWrite> FaultyHost::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

int FaultyHost::read_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reads_;
}

Status FaultyHost::admit(const char* op, std::string_view path, std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  log_.push_back(HostWrite{op, std::string(path), std::string(data), false});
  HostWrite& w = log_.back();
  if (crash_after_ == 0) {
    w.failed = true;
    return io_error(std::string(op) + " " + std::string(path) + ": host crashed (injected)");
  }
  if (fail_nth_ > 0 && --fail_nth_ == 0) {
    w.failed = true;
    return io_error(std::string(op) + " " + std::string(path) + ": Input/output error (injected)");
  }
  if (w.op == "write" || w.op == "replace") {
    for (const auto& [needle, message] : fail_matching_) {
      if (path.find(needle) != std::string_view::npos) {
        w.failed = true;
        return io_error("write of '" + std::string(trim(data)) + "' failed on " +
                        std::string(path) + ": " + message);
      }
    }
  }
  if (crash_after_ > 0) --crash_after_;
  return ok_status();
}

Result<std::string> FaultyHost::read_file(std::string_view path, size_t max_bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++reads_;
  }
  return inner_.read_file(path, max_bytes);
}

Result<std::unique_ptr<DeviceHandle>> FaultyHost::open_device(std::string_view path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++reads_;
  }
  return inner_.open_device(path);
}

Result<std::string> FaultyHost::read_link(std::string_view path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++reads_;
  }
  return inner_.read_link(path);
}

Result<std::vector<std::string>> FaultyHost::list_dir(std::string_view path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++reads_;
  }
  return inner_.list_dir(path);
}

Status FaultyHost::write_attribute(std::string_view path, std::string_view data) {
  if (Status s = admit("write", path, data); !s.ok()) return s;
  return inner_.write_attribute(path, data);
}

Status FaultyHost::replace_file(std::string_view path, std::string_view data) {
  if (Status s = admit("replace", path, data); !s.ok()) return s;
  return inner_.replace_file(path, data);
}

Status FaultyHost::remove_file(std::string_view path) {
  if (Status s = admit("remove", path, ""); !s.ok()) return s;
  return inner_.remove_file(path);
}

Status FaultyHost::make_dirs(std::string_view path) {
  if (Status s = admit("mkdir", path, ""); !s.ok()) return s;
  return inner_.make_dirs(path);
}

Result<CommandOutput> FaultyHost::run_command(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& a : argv) line += (line.empty() ? "" : " ") + a;
  if (Status s = admit("run", line, ""); !s.ok()) return s.error();
  return inner_.run_command(argv);
}

}  // namespace hostpass
