// sim_mdev.cc — see sim_mdev.h.
#include "sim_mdev.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "fixture_tree.h"
#include "mdev.h"

namespace fs = std::filesystem;

namespace hostpass::testing {

namespace {

Error errno_like(std::string_view path, std::string_view data, const char* what) {
  return io_error("write of '" + std::string(trim(data)) + "' failed on " + std::string(path) +
                  ": " + what);
}

}  // namespace

std::string SimMdevHost::root() const {
  std::string r = inner_.resolve("/");
  r.pop_back();  // "<root>/" -> "<root>"
  return r;
}

std::string SimMdevHost::canonical(const std::string& path) const {
  std::string root = this->root();
  std::error_code ec;
  std::string real = fs::canonical(inner_.resolve(path), ec).string();
  if (ec) return {};
  return real.substr(root.size());
}

int SimMdevHost::read_count(const std::string& path) const {
  std::ifstream in(inner_.resolve(path));
  int n = 0;
  in >> n;
  return n;
}

void SimMdevHost::write_count(const std::string& path, int n) {
  std::ofstream(inner_.resolve(path), std::ios::trunc) << n << "\n";
}

Result<std::string> SimMdevHost::read_file(std::string_view path, size_t max_bytes) {
  if (path == "/proc/sys/kernel/random/uuid") {
    std::lock_guard<std::mutex> lock(mu_);
    char buf[64];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012x\n", next_uuid_++);
    return std::string(buf);
  }
  return inner_.read_file(path, max_bytes);
}

Status SimMdevHost::write_attribute(std::string_view path, std::string_view data) {
  std::string p(path);
  const std::string marker = "/mdev_supported_types/";
  size_t at = p.find(marker);
  if (at != std::string::npos && p.size() > 7 && p.compare(p.size() - 7, 7, "/create") == 0) {
    std::string type = p.substr(at + marker.size(), p.size() - 7 - at - marker.size());
    if (type.find('/') == std::string::npos && inner_.exists(p)) {
      std::string parent_dev = canonical(p.substr(0, at));
      if (!parent_dev.empty()) {
        std::lock_guard<std::mutex> lock(mu_);
        return create(parent_dev, type, data, path);
      }
    }
  }
  const std::string bus = std::string(kMdevDevicesDir) + "/";
  if (p.rfind(bus, 0) == 0 && p.size() > 7 && p.compare(p.size() - 7, 7, "/remove") == 0) {
    std::string uuid = p.substr(bus.size(), p.size() - 7 - bus.size());
    if (uuid.find('/') == std::string::npos && inner_.exists(p)) {
      std::lock_guard<std::mutex> lock(mu_);
      return remove(uuid, data, path);
    }
  }
  return inner_.write_attribute(path, data);
}

Status SimMdevHost::create(const std::string& parent_dev, const std::string& type,
                           std::string_view data, std::string_view path) {
  // create_store: count must be UUID_STRING_LEN or UUID_STRING_LEN + 1 (a newline).
  std::string_view text = data;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  auto uuid = parse_mdev_uuid(text);
  if (!uuid.ok()) return errno_like(path, data, "Invalid argument");
  if (inner_.exists(std::string(kMdevDevicesDir) + "/" + *uuid))
    return errno_like(path, data, "File exists");
  std::string types = parent_dev + "/mdev_supported_types";
  std::string avail = types + "/" + type + "/available_instances";
  int n = read_count(avail);
  if (n <= 0) return errno_like(path, data, "Too many users");
  FixtureTree::write_mdev_instance(root(), parent_dev, type, *uuid);
  write_count(avail, n - 1);
  if (one_type_per_parent_) {
    for (const auto& e : fs::directory_iterator(inner_.resolve(types))) {
      std::string other = e.path().filename().string();
      if (other == type) continue;
      std::string other_avail = types + "/" + other + "/available_instances";
      if (!saved_available_.count(other_avail)) saved_available_[other_avail] = read_count(other_avail);
      write_count(other_avail, 0);
    }
  }
  ++creates_;
  return ok_status();
}

Status SimMdevHost::remove(const std::string& uuid, std::string_view data, std::string_view path) {
  std::string_view text = trim(data);
  unsigned long v = 0;
  try {
    size_t used = 0;
    v = std::stoul(std::string(text), &used, 0);
    if (used != text.size()) return errno_like(path, data, "Invalid argument");
  } catch (...) {
    return errno_like(path, data, "Invalid argument");
  }
  if (v == 0) return ok_status();
  std::string dev = canonical(std::string(kMdevDevicesDir) + "/" + uuid);
  std::string type_dir = canonical(std::string(kMdevDevicesDir) + "/" + uuid + "/mdev_type");
  if (dev.empty() || type_dir.empty()) return errno_like(path, data, "No such device");
  std::string parent_dev = dev.substr(0, dev.rfind('/'));
  std::string type = type_dir.substr(type_dir.rfind('/') + 1);
  FixtureTree::erase_mdev_instance(root(), parent_dev, type, uuid);
  std::string avail = parent_dev + "/mdev_supported_types/" + type + "/available_instances";
  write_count(avail, read_count(avail) + 1);
  if (one_type_per_parent_) {
    bool any_left = false;
    for (const auto& e : fs::directory_iterator(inner_.resolve(parent_dev + "/mdev_supported_types"))) {
      std::error_code ec;
      if (!fs::is_empty(e.path() / "devices", ec)) any_left = true;
    }
    if (!any_left) {
      for (auto it = saved_available_.begin(); it != saved_available_.end();) {
        if (it->first.rfind(parent_dev + "/", 0) == 0) {
          write_count(it->first, it->second);
          it = saved_available_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  ++removes_;
  return ok_status();
}

}  // namespace hostpass::testing
