// host_use.cc — see host_use.h for the contract.
#include "host_use.h"

#include <cstdio>
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

// Control bytes (\r, ESC, and the \n a decoded mount point may hold) shown as \ooo, so that a
// reason built from a kernel-supplied name is one printable line. Other bytes, invalid UTF-8
// included, are kept: JSON output replaces what is not UTF-8 (cli/device_json.h).
std::string printable(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\%03o", c);
      out += b;
    } else {
      out += ch;
    }
  }
  return out;
}

// A field of mountinfo, mounts or swaps, decoded as the kernel encodes it: show_mountinfo and
// swap_show escape exactly " \t\n\\" as \ooo (mangle, seq_path_root: seq_escape with
// ESCAPE_OCTAL) and copy every other byte raw, invalid UTF-8 included. Then printable().
std::string decode_field(std::string_view s) {
  std::string out;
  auto octal = [&s](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '7'; };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return printable(out);
}

// One line of a mount table.
struct MountEntry {
  std::string majmin;  // "254:0"; empty from /proc/self/mounts, which has none
  std::string point;   // decoded: "/srv/my data"
  std::string fstype;  // "ext4", "overlay", "fuse.fuse-overlayfs"
  std::string source;  // decoded: "/dev/vda1"
};

// /proc/<pid>/mountinfo (Documentation/filesystems/proc.rst, 3.5):
//   id parent maj:min root mountpoint options [optional fields...] - fstype source superoptions
std::vector<MountEntry> parse_mountinfo(std::string_view text) {
  std::vector<MountEntry> out;
  for (std::string_view line : lines_of(text)) {
    auto f = split_ws(line);
    size_t dash = 0;
    for (size_t i = 6; i < f.size() && dash == 0; ++i)
      if (f[i] == "-") dash = i;
    if (f.size() < 7 || dash == 0 || dash + 2 >= f.size()) continue;
    out.push_back(MountEntry{std::string(f[2]), decode_field(f[4]), decode_field(f[dash + 1]),
                             decode_field(f[dash + 2])});
  }
  return out;
}

// /proc/<pid>/mounts: source mountpoint fstype options dump pass.
std::vector<MountEntry> parse_mounts(std::string_view text) {
  std::vector<MountEntry> out;
  for (std::string_view line : lines_of(text)) {
    auto f = split_ws(line);
    if (f.size() < 3) continue;
    out.push_back(MountEntry{"", decode_field(f[1]), decode_field(f[2]), decode_field(f[0])});
  }
  return out;
}

// A union filesystem on "/" says nothing about the block device below it.
bool is_overlay(std::string_view fstype) {
  return fstype == "overlay" || fstype == "aufs" || fstype == "fuse.fuse-overlayfs";
}

// The interface names of a /proc/<pid>/net/dev table: two header lines, then "  eth0: 1234 ...".
// Names never contain ':' or whitespace (dev_valid_name).
std::vector<std::string> netdev_names(std::string_view text) {
  std::vector<std::string> out;
  auto lines = lines_of(text);
  for (size_t i = 2; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = trim(lines[i].substr(0, colon));
    if (!name.empty()) out.emplace_back(name);
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
    std::vector<std::string> unseen;
    if (!mounts_unseen_.empty())
      unseen.push_back("the host's mounts cannot be seen from here: " + join(mounts_unseen_, "; ") +
                       "; run hostpass on the host, or in the pod with hostPID: true and the "
                       "host's /proc mounted");
    if (!network_unseen_.empty())
      unseen.push_back(
          "the host's network interfaces cannot be seen from here: " + join(network_unseen_, "; ") +
          "; run the pod with hostNetwork: true, or with the host's /sys at --root");
    if (!unseen.empty()) map_.unseen = join(unseen, "; and ");
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

  void mounted(const std::string& block, const std::string& source, const std::string& mountpoint) {
    std::set<PciAddress> pcis;
    pci_below_block(block, pcis);
    for (const PciAddress& a : pcis) {
      if (mountpoint == "/")
        add(a, HostUse::Kind::RootFilesystem, "root filesystem (" + source + " on /)");
      else
        add(a, HostUse::Kind::Mounted, "mounted (" + source + " on " + mountpoint + ")");
    }
  }

  // The host's mount table: /proc/1's when readable, else this process's (see host_use.h).
  // Empty when none can be read; then mounts_unseen_ says why.
  std::vector<MountEntry> mount_table(std::string& table) {
    table = "/proc/1/mountinfo";
    auto init = host_.read_file(table);
    if (init.ok()) return parse_mountinfo(*init);
    auto self_ns = host_.read_link("/proc/self/ns/mnt");
    auto init_ns = host_.read_link("/proc/1/ns/mnt");
    if (self_ns.ok() && init_ns.ok() && *self_ns != *init_ns)
      mounts_unseen_.push_back(
          "this process is in another mount namespace (" + *self_ns + ") than the host's init (" +
          *init_ns + ") and cannot read /proc/1/mountinfo (" + init.error().message + ")");
    table = "/proc/self/mountinfo";
    if (auto info = host_.read_file(table); info.ok()) return parse_mountinfo(*info);
    table = "/proc/self/mounts";
    auto mounts = host_.read_file(table);
    if (mounts.ok()) return parse_mounts(*mounts);
    map_.warnings.push_back("cannot tell mounted devices: " + mounts.error().message);
    mounts_unseen_.push_back(
        "no mount table can be read (/proc/1/mountinfo, /proc/self/mountinfo, /proc/self/mounts), "
        "so nothing says which device holds the root filesystem");
    table.clear();
    return {};
  }

  void scan_mounts() {
    std::string table;
    std::vector<MountEntry> entries = mount_table(table);
    if (table.empty()) return;
    for (const MountEntry& e : entries) {
      std::string block;
      if (!e.majmin.empty() && e.majmin.rfind("0:", 0) != 0) {
        std::string link = "/sys/dev/block/" + e.majmin;
        if (auto t = host_.read_link(link); t.ok()) block = base_name(resolve_link(link, *t));
      }
      if (block.empty()) block = block_name_of(e.source);  // btrfs and friends report major 0
      if (!block.empty()) mounted(block, e.source, e.point);
    }
    // The "/" this table shows is its last "/" entry: the top of a stack of mounts on "/".
    const MountEntry* root = nullptr;
    for (const MountEntry& e : entries)
      if (e.point == "/") root = &e;
    if (!root) {
      mounts_unseen_.push_back(table + " has no entry for \"/\": this process runs in a chroot, " +
                               "whose mount table leaves out the host's root mount");
    } else if (is_overlay(root->fstype)) {
      mounts_unseen_.push_back(
          "\"/\" is " + root->fstype + " in " + table +
          ", a container's root (in a pod without hostPID, /proc/1 is the container's own init) "
          "or a live system's, which does not say which device holds the host's root filesystem");
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
      std::string source = decode_field(f[0]);
      std::set<PciAddress> pcis;
      pci_below_block(block_name_of(source), pcis);
      for (const PciAddress& a : pcis) add(a, HostUse::Kind::Swap, "swap (" + source + ")");
    }
  }

  // Interfaces carrying a default route, from <net>/route and <net>/ipv6_route.
  std::set<std::string> default_route_interfaces(const std::string& net) {
    std::set<std::string> out;
    if (auto route = host_.read_file(net + "/route"); route.ok()) {
      auto lines = lines_of(*route);
      for (size_t i = 1; i < lines.size(); ++i) {
        auto f = split_ws(lines[i]);
        // Iface Destination Gateway Flags RefCnt Use Metric Mask ...
        if (f.size() >= 8 && f[1] == "00000000" && f[7] == "00000000") out.emplace(f[0]);
      }
    } else {
      map_.warnings.push_back("cannot tell the default route: " + route.error().message);
    }
    if (auto route6 = host_.read_file(net + "/ipv6_route"); route6.ok()) {
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
      network_unseen_.push_back("/sys/class/net cannot be listed (" + names.error().message + ")");
      return;
    }
    // The host's network namespace is PID 1's: /proc/net is this process's own (host_use.h).
    std::string net = host_.read_file("/proc/1/net/route", 64).ok() ? "/proc/1/net" : "/proc/net";
    std::set<std::string> defaults = default_route_interfaces(net);
    // Every interface of that namespace is in <net>/dev; one missing from /sys/class/net means
    // this sysfs belongs to another namespace (a pod without hostNetwork).
    if (auto dev = host_.read_file(net + "/dev"); dev.ok()) {
      std::set<std::string> here(names->begin(), names->end());
      std::vector<std::string> missing;
      for (const std::string& n : netdev_names(*dev))
        if (!here.contains(n)) missing.push_back(printable(n));
      if (!missing.empty())
        network_unseen_.push_back("/sys/class/net lacks " + join(missing, ", ") + " of " + net +
                                  "/dev: it lists another network namespace's interfaces (a pod "
                                  "without hostNetwork)");
    }
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
        add(*pci, HostUse::Kind::NetworkUp, "network interface " + printable(name) + " is up");
    }
    // The default route may sit on a bridge or bond: follow it down to the NICs.
    for (const std::string& iface : defaults) {
      std::set<PciAddress> pcis;
      pci_below_interface(iface, pcis);
      for (const PciAddress& a : pcis)
        add(a, HostUse::Kind::DefaultRoute, "default route via " + printable(iface));
    }
  }

  Host& host_;
  HostUseMap map_;
  std::vector<std::string> mounts_unseen_;   // why the host's mounts cannot be seen
  std::vector<std::string> network_unseen_;  // why its interfaces cannot be seen
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

HostUseMap detect_host_use(Host& host) {
  return Scanner(host).run();
}

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
