// memory_host.h — a read-only Host held in memory, for the fuzz targets whose parser is reached
// through Host (mount tables, modules.alias/dep): a target builds a tiny tree around the fuzzed
// bytes in microseconds, with no file written anywhere.
//
// Files and symlinks are given by absolute path; directories are implied by them (and by
// add_dir). Symlink targets are resolved lexically, component by component, as the kernel's
// relative sysfs links are (host.h resolve_link), so "/sys/class/block/vda/../slaves" works.
// Every write refuses (Unsupported): a parser under fuzz must never try one, and a target that
// reaches a write would show up as an error value, never as a change anywhere.
// What it deliberately does not do: permissions, device nodes, commands, locks.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "host.h"
#include "result.h"

namespace hostpass {

class MemoryHost : public Host {
 public:
  void add_file(const std::string& path, std::string data) { files_[path] = std::move(data); }
  void add_link(const std::string& path, std::string target) { links_[path] = std::move(target); }
  void add_dir(const std::string& path) { dirs_.insert(path); }

  Result<std::string> read_file(std::string_view path, size_t max_bytes = 1 << 20) override {
    auto it = files_.find(follow(path));
    if (it == files_.end()) return not_found(std::string(path) + ": no such file");
    return it->second.substr(0, max_bytes);
  }
  Result<std::string> read_link(std::string_view path) override {
    std::string p = follow(dir_name(path));
    p = join_path(p, base_name(path));
    auto it = links_.find(p);
    if (it == links_.end()) return not_found(std::string(path) + ": not a symlink");
    return it->second;
  }
  Result<std::vector<std::string>> list_dir(std::string_view path) override {
    std::string dir = follow(path);
    if (!is_directory(dir)) return not_found(std::string(path) + ": no such directory");
    std::set<std::string> names;
    std::string prefix = dir == "/" ? "/" : dir + "/";
    auto collect = [&](const std::string& p) {
      if (p.size() <= prefix.size() || p.compare(0, prefix.size(), prefix) != 0) return;
      std::string rest = p.substr(prefix.size());
      names.insert(rest.substr(0, rest.find('/')));
    };
    for (const auto& [p, _] : files_) collect(p);
    for (const auto& [p, _] : links_) collect(p);
    for (const std::string& p : dirs_) collect(p);
    return std::vector<std::string>(names.begin(), names.end());
  }
  bool exists(std::string_view path) override {
    std::string p = follow(path);
    return files_.count(p) != 0 || is_directory(p);
  }
  bool is_dir(std::string_view path) override { return is_directory(follow(path)); }

  Status write_attribute(std::string_view path, std::string_view) override { return refuse(path); }
  Status replace_file(std::string_view path, std::string_view) override { return refuse(path); }
  Status remove_file(std::string_view path) override { return refuse(path); }
  Status make_dirs(std::string_view path) override { return refuse(path); }
  Result<CommandOutput> run_command(const std::vector<std::string>&) override {
    return unsupported("a memory host runs no commands");
  }
  std::chrono::system_clock::time_point now() override { return {}; }
  std::string resolve(std::string_view path) const override { return std::string(path); }

 private:
  static Error refuse(std::string_view path) {
    return unsupported("a memory host is read-only: " + std::string(path));
  }

  bool is_directory(const std::string& p) const {
    if (p == "/" || dirs_.count(p)) return true;
    std::string prefix = p + "/";
    auto starts = [&](const std::string& k) { return k.compare(0, prefix.size(), prefix) == 0; };
    auto f = files_.lower_bound(prefix);
    auto l = links_.lower_bound(prefix);
    auto d = dirs_.lower_bound(prefix);
    return (f != files_.end() && starts(f->first)) || (l != links_.end() && starts(l->first)) ||
           (d != dirs_.end() && starts(*d));
  }

  // The path with every symlinked component replaced by its target; bounded, so a link cycle
  // ends as a path that does not exist.
  std::string follow(std::string_view path) const {
    std::string p = normalize_path(path);
    for (int hops = 0; hops < 32; ++hops) {
      bool changed = false;
      for (size_t end = 1; end <= p.size(); ++end) {
        if (end != p.size() && p[end] != '/') continue;
        auto it = links_.find(p.substr(0, end));
        if (it == links_.end()) continue;
        p = normalize_path(resolve_link(it->first, it->second) + p.substr(end));
        changed = true;
        break;
      }
      if (!changed) return p;
    }
    return p;
  }

  std::map<std::string, std::string> files_;
  std::map<std::string, std::string> links_;
  std::set<std::string> dirs_;
};

}  // namespace hostpass
