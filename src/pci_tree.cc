// pci_tree.cc — see pci_tree.h.
#include "pci_tree.h"

#include <map>
#include <optional>

namespace hostpass {

namespace {

// "pci0000:00" → "0000:00"; "" when `name` is not a root bus directory.
std::string root_bus_name(const std::string& name) {
  if (name.size() < 4 || name.compare(0, 3, "pci") != 0 || name.find(':') == std::string::npos)
    return "";
  return name.substr(3);
}

}  // namespace

std::vector<PciTreeRoot> build_pci_tree(Host& host, const std::vector<PciDevice>& devices,
                                        std::vector<std::string>* warnings) {
  std::map<PciAddress, size_t> index;
  for (size_t i = 0; i < devices.size(); ++i) index[devices[i].address] = i;
  std::vector<std::optional<size_t>> parent(devices.size());
  std::vector<std::string> root(devices.size(), "unknown");
  for (size_t i = 0; i < devices.size(); ++i) {
    std::string link = join_path(kPciDevicesDir, devices[i].address.to_string());
    auto target = host.read_link(link);
    if (!target.ok()) {
      if (warnings) warnings->push_back("tree: " + target.error().message);
      continue;
    }
    // "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0" → its path components.
    std::vector<std::string> parts = split(resolve_link(link, *target), '/');
    for (const std::string& p : parts)
      if (std::string r = root_bus_name(p); !r.empty()) {
        root[i] = r;
        break;
      }
    // The nearest listed function above it (a filter may have left out the bridge between).
    for (size_t k = parts.size() - 1; k-- > 0;) {
      if (!root_bus_name(parts[k]).empty()) break;
      auto pa = PciAddress::parse_full(parts[k]);
      if (pa.ok() && index.contains(*pa)) {
        parent[i] = index[*pa];
        break;
      }
    }
  }
  // Build bottom-up: children lists by parent, then attach recursively.
  std::vector<std::vector<size_t>> kids(devices.size());
  std::map<std::string, std::vector<size_t>> on_root;
  for (size_t i = 0; i < devices.size(); ++i) {
    if (parent[i])
      kids[*parent[i]].push_back(i);
    else
      on_root[root[i]].push_back(i);
  }
  auto make = [&](auto& self, size_t i, int depth) -> PciTreeNode {
    PciTreeNode n{i, {}};
    if (depth > 64) return n;  // a sysfs chain is never this deep; a loop in a broken tree
    for (size_t k : kids[i]) n.children.push_back(self(self, k, depth + 1));
    return n;
  };
  std::vector<PciTreeRoot> out;
  for (auto& [name, members] : on_root) {
    PciTreeRoot r{name, {}};
    for (size_t i : members) r.children.push_back(make(make, i, 0));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace hostpass
