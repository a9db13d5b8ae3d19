// vfio_group_users.cc — /proc/<pid>/fd scan for open VFIO groups. See vfio_group_users.h.
#include "vfio_group_users.h"

#include <algorithm>
#include <optional>

#include "mdev.h"
#include "pci_device.h"

namespace hostpass {

std::string VfioGroupUser::describe() const {
  return std::to_string(pid) + (comm.empty() ? "" : " (" + comm + ")");
}

Result<std::map<int, std::vector<VfioGroupUser>>> vfio_group_users(Host& host) {
  std::map<int, std::vector<VfioGroupUser>> out;
  auto pids = host.list_dir("/proc");
  if (!pids.ok()) return pids.error().wrap("cannot list processes");
  std::vector<int> sorted;
  for (const std::string& p : *pids)
    if (auto pid = parse_sysfs_count(p)) sorted.push_back(*pid);  // skips self, sys, ...
  std::sort(sorted.begin(), sorted.end());
  constexpr std::string_view kPrefix = "/dev/vfio/";
  for (int pid : sorted) {
    std::string dir = "/proc/" + std::to_string(pid);
    auto fds = host.list_dir(dir + "/fd");
    if (!fds.ok()) continue;  // gone, or not ours to inspect
    std::vector<int> groups;
    for (const std::string& fd : *fds) {
      auto target = host.read_link(dir + "/fd/" + fd);
      if (!target.ok() || target->rfind(kPrefix, 0) != 0) continue;
      std::string_view rest = std::string_view(*target).substr(kPrefix.size());
      auto number = parse_sysfs_count(rest);
      if (!number) continue;  // /dev/vfio/vfio, devices/...
      int g = *number;
      if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
    if (groups.empty()) continue;
    std::string comm;
    if (auto c = host.read_file(dir + "/comm", 64); c.ok()) comm = std::string(trim(*c));
    for (int g : groups) out[g].push_back(VfioGroupUser{pid, comm});
  }
  return out;
}

}  // namespace hostpass
