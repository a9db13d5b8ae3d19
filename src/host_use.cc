// host_use.cc — see host_use.h for the contract.
#include "host_use.h"

#include <set>
#include <sstream>

namespace hostpass {

namespace {

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t nl = text.find('\n', i);
    if (nl == std::string_view::npos) nl = text.size();
    out.push_back(text.substr(i, nl - i));
    i = nl + 1;
  }
  return out;
}

// /proc/self/mountinfo escapes space, tab, newline and backslash as \040 etc.
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto octal = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '7'; };
    if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
      out += static_cast<char>(v);
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

class Scanner {
 public:
  explicit Scanner(Host& host) : host_(host) {}

  HostUseMap run() {
    scan_mounts();
    scan_swaps();
    scan_network();
    return std::move(map_);
  }

 private:
  void add(const PciAddress& a, HostUse::Kind kind, const std::string& detail) {
    auto& uses = map_.by_device[a];
    for (const HostUse& u : uses)
      if (u.kind == kind && u.detail == detail) return;
    uses.push_back(HostUse{kind, detail});
  }

  // The /sys/devices path of block device `name` ("vda1", "dm-0"), or empty.
  std::string block_path(const std::string& name) {
    std::string link = "/sys/class/block/" + name;
    auto target = host_.read_link(link);
    if (!target.ok()) return "";
    return resolve_link(link, *target);
  }

  // Every PCI function below block device `name`, following dm/md slaves. `depth` stops cycles.
  void pci_below_block(const std::string& name, std::set<PciAddress>& out, int depth = 0) {
    if (depth > 8) return;
    std::string path = block_path(name);
    if (path.empty()) return;
    if (auto a = deepest_pci_address(path)) {
      out.insert(*a);
      return;
    }
    // A partition's slaves live on the whole disk; dm/md list theirs in slaves/.
    if (auto slaves = host_.list_dir(path + "/slaves"); slaves.ok() && !slaves->empty()) {
      for (const std::string& s : *slaves) pci_below_block(s, out, depth + 1);
      return;
    }
    if (auto slaves = host_.list_dir(dir_name(path) + "/slaves"); slaves.ok()) {
      for (const std::string& s : *slaves) pci_below_block(s, out, depth + 1);
    }
    // NVMe multipath: /sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1; the controllers
    // are links nvme0, nvme1 ... in the subsystem directory.
    std::string subsys = path.find("/nvme-subsystem/") != std::string::npos ? dir_name(path) : "";
    if (subsys.empty()) return;
    if (auto entries = host_.list_dir(subsys); entries.ok()) {
      for (const std::string& e : *entries) {
        if (e.rfind("nvme", 0) != 0 || e.find('n', 4) != std::string::npos) continue;
        auto t = host_.read_link(subsys + "/" + e);
        if (!t.ok()) continue;
        if (auto a = deepest_pci_address(resolve_link(subsys + "/" + e, *t))) out.insert(*a);
      }
    }
  }

  // "/dev/vda1" → "vda1"; "/dev/mapper/root" → "dm-0" through the /dev link.
  std::string block_name_of(std::string_view dev) {
    if (dev.rfind("/dev/", 0) != 0) return "";
    std::string path(dev);
    if (auto t = host_.read_link(path); t.ok()) return base_name(resolve_link(path, *t));
    return base_name(path);
  }

  void mounted(const std::string& block, const std::string& source,
               const std::string& mountpoint) {
    std::set<PciAddress> pcis;
    pci_below_block(block, pcis);
    for (const PciAddress& a : pcis) {
      if (mountpoint == "/")
        add(a, HostUse::Kind::RootFilesystem, "root filesystem (" + source + " on /)");
      else
        add(a, HostUse::Kind::Mounted, "mounted (" + source + " on " + mountpoint + ")");
    }
  }

  void scan_mounts() {
    if (auto info = host_.read_file("/proc/self/mountinfo"); info.ok()) {
      for (std::string_view line : lines_of(*info)) {
        auto f = split_ws(line);
        // id parent maj:min root mountpoint options [optional...] - fstype source superoptions
        size_t dash = 0;
        for (size_t i = 6; i < f.size(); ++i)
          if (f[i] == "-") dash = i;
        if (f.size() < 7 || dash == 0 || dash + 2 >= f.size()) continue;
        std::string mountpoint = unescape_octal(f[4]);
        std::string source = unescape_octal(f[dash + 2]);
        std::string block;
        std::string_view majmin = f[2];
        if (majmin.rfind("0:", 0) != 0) {
          std::string link = "/sys/dev/block/" + std::string(majmin);
          if (auto t = host_.read_link(link); t.ok()) block = base_name(resolve_link(link, *t));
        }
        if (block.empty()) block = block_name_of(source);  // btrfs and friends report major 0
        if (!block.empty()) mounted(block, source, mountpoint);
      }
      return;
    }
    auto mounts = host_.read_file("/proc/self/mounts");
    if (!mounts.ok()) {
      map_.warnings.push_back("cannot tell mounted devices: " + mounts.error().message);
      return;
    }
    for (std::string_view line : lines_of(*mounts)) {
      auto f = split_ws(line);
      if (f.size() < 2) continue;
      std::string source = unescape_octal(f[0]);
      std::string block = block_name_of(source);
      if (!block.empty()) mounted(block, source, unescape_octal(f[1]));
    }
  }

  void scan_swaps() {
    auto swaps = host_.read_file("/proc/swaps");
    if (!swaps.ok()) {
      map_.warnings.push_back("cannot tell swap devices: " + swaps.error().message);
      return;
    }
    auto lines = lines_of(*swaps);
    for (size_t i = 1; i < lines.size(); ++i) {  // first line is the header
      auto f = split_ws(lines[i]);
      if (f.size() < 2 || f[1] != "partition") continue;
      std::string source = unescape_octal(f[0]);
      std::set<PciAddress> pcis;
      pci_below_block(block_name_of(source), pcis);
      for (const PciAddress& a : pcis) add(a, HostUse::Kind::Swap, "swap (" + source + ")");
    }
  }

  // Interfaces carrying a default route, from /proc/net/route and /proc/net/ipv6_route.
  std::set<std::string> default_route_interfaces() {
    std::set<std::string> out;
    if (auto route = host_.read_file("/proc/net/route"); route.ok()) {
      auto lines = lines_of(*route);
      for (size_t i = 1; i < lines.size(); ++i) {
        auto f = split_ws(lines[i]);
        // Iface Destination Gateway Flags RefCnt Use Metric Mask ...
        if (f.size() >= 8 && f[1] == "00000000" && f[7] == "00000000") out.emplace(f[0]);
      }
    }
    if (auto route6 = host_.read_file("/proc/net/ipv6_route"); route6.ok()) {
      for (std::string_view line : lines_of(*route6)) {
        auto f = split_ws(line);
        // dest prefixlen src srcprefixlen nexthop metric refcnt use flags iface
        if (f.size() >= 10 && f[1] == "00" && f[0] == std::string(32, '0') && f[9] != "lo")
          out.emplace(f[9]);
      }
    }
    return out;
  }

  // PCI functions below interface `name`, following lower_* links of bridges, bonds and VLANs.
  void pci_below_interface(const std::string& name, std::set<PciAddress>& out, int depth = 0) {
    if (depth > 8) return;
    std::string link = "/sys/class/net/" + name;
    auto t = host_.read_link(link);
    if (!t.ok()) return;
    std::string path = resolve_link(link, *t);
    if (auto a = deepest_pci_address(path)) {
      out.insert(*a);
      return;
    }
    if (auto entries = host_.list_dir(path); entries.ok()) {
      for (const std::string& e : *entries)
        if (e.rfind("lower_", 0) == 0) pci_below_interface(e.substr(6), out, depth + 1);
    }
  }

  void scan_network() {
    auto names = host_.list_dir("/sys/class/net");
    if (!names.ok()) {
      map_.warnings.push_back("cannot tell network interfaces: " + names.error().message);
      return;
    }
    std::set<std::string> defaults = default_route_interfaces();
    // An interface that is up counts against the function it sits on directly; bridges and
    // bonds above it are covered by the NIC's own flags and by the default-route walk below.
    for (const std::string& name : *names) {
      std::string link = "/sys/class/net/" + name;
      auto t = host_.read_link(link);
      if (!t.ok()) continue;
      auto pci = deepest_pci_address(resolve_link(link, *t));
      if (!pci) continue;
      auto flags = host_.read_file(link + "/flags", 32);
      auto v = flags.ok() ? parse_sysfs_hex(*flags) : std::nullopt;
      if (v && (*v & 0x1))  // IFF_UP
        add(*pci, HostUse::Kind::NetworkUp, "network interface " + name + " is up");
    }
    // The default route may sit on a bridge or bond: follow it down to the NICs.
    for (const std::string& iface : defaults) {
      std::set<PciAddress> pcis;
      pci_below_interface(iface, pcis);
      for (const PciAddress& a : pcis)
        add(a, HostUse::Kind::DefaultRoute, "default route via " + iface);
    }
  }

  Host& host_;
  HostUseMap map_;
};

}  // namespace

std::optional<PciAddress> deepest_pci_address(std::string_view path) {
  std::optional<PciAddress> found;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part.size() >= 12 && part.size() <= 16 && part.find(':') != std::string_view::npos) {
      if (auto a = PciAddress::parse_full(part); a.ok()) found = *a;
    }
    i = j + 1;
  }
  return found;
}

HostUseMap detect_host_use(Host& host) { return Scanner(host).run(); }

void attach_host_use(Host& host, const HostUseMap& map, PciDevice& d) {
  if (auto it = map.by_device.find(d.address); it != map.by_device.end()) d.in_use = it->second;
  bool display = d.class_code && (*d.class_code >> 16) == 0x03;
  if (display) {
    if (auto v = host.read_file(pci_device_dir(d.address) + "/boot_vga", 16); v.ok()) {
      d.boot_vga = trim(*v) == "1";
    }
  }
  if (d.boot_vga) d.in_use.push_back(HostUse{HostUse::Kind::BootVga, "boot display (boot_vga=1)"});
}

void attach_host_use(Host& host, const HostUseMap& map, std::vector<PciDevice>& devices) {
  for (PciDevice& d : devices) attach_host_use(host, map, d);
}

}  // namespace hostpass
