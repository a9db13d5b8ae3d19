// group_explain.cc — see group_explain.h.
#include "group_explain.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "iommu_group.h"
#include "pci_device.h"

namespace hostpass {

namespace {

// include/uapi/linux/pci_regs.h
constexpr uint8_t kCapPcie = 0x10;       // PCI_CAP_ID_EXP
constexpr uint16_t kExtCapAcs = 0x000D;  // PCI_EXT_CAP_ID_ACS
constexpr uint16_t kAcsSv = 0x01, kAcsRr = 0x04, kAcsCr = 0x08, kAcsUf = 0x10;
constexpr uint16_t kReqAcsFlags = kAcsSv | kAcsRr | kAcsCr | kAcsUf;  // iommu.c REQ_ACS_FLAGS
// PCI_EXP_TYPE_*
constexpr int kEndpoint = 0, kLegacyEndpoint = 1, kRootPort = 4, kUpstream = 5, kDownstream = 6,
              kPcieToPci = 7, kPciToPcie = 8, kRcEndpoint = 9, kRcEventCollector = 10;

uint16_t le16(std::string_view c, size_t off) {
  return static_cast<uint16_t>(static_cast<uint8_t>(c[off]) |
                               (static_cast<uint8_t>(c[off + 1]) << 8));
}
uint32_t le32(std::string_view c, size_t off) {
  return le16(c, off) | (static_cast<uint32_t>(le16(c, off + 2)) << 16);
}

enum class Tri { No, Yes, Unknown };

struct Node {
  PciAddress address;
  std::optional<size_t> parent;  // index of the bridge above it; none: on a root bus
  std::optional<int> group;
  AcsFacts facts;
};

std::string kind_of(const AcsFacts& f) {
  if (f.pcie == AcsFacts::Pcie::Yes) {
    switch (f.port_type) {
      case kRootPort:
        return "root port";
      case kUpstream:
        return "switch upstream port";
      case kDownstream:
        return "switch downstream port";
      case kPcieToPci:
        return "PCIe-to-PCI bridge";
      case kPciToPcie:
        return "PCI-to-PCIe bridge";
      default:
        break;
    }
  }
  if (f.bridge) return f.pcie == AcsFacts::Pcie::No ? "PCI bridge" : "bridge";
  return "device";
}

// pci_acs_flags_enabled(pdev, REQ_ACS_FLAGS).
Tri flags_enabled(const AcsFacts& f) {
  if (!f.extended_read) return Tri::Unknown;
  if (!f.has_acs) return Tri::No;
  return missing_acs_bits(f) == 0 ? Tri::Yes : Tri::No;
}

// pci_acs_enabled(pdev, REQ_ACS_FLAGS) without the device-specific quirks.
Tri acs_enabled(const AcsFacts& f) {
  if (f.pcie == AcsFacts::Pcie::Unknown) return Tri::Unknown;
  if (f.pcie == AcsFacts::Pcie::No) return Tri::No;  // conventional PCI never has ACS
  switch (f.port_type) {
    case kPcieToPci:
    case kPciToPcie:
    case kRcEventCollector:
      return Tri::No;
    case kRootPort:
    case kDownstream:
      return flags_enabled(f);
    case kEndpoint:
    case kUpstream:
    case kLegacyEndpoint:
    case kRcEndpoint:
      return f.multifunction ? flags_enabled(f) : Tri::Yes;
    default:
      return Tri::Yes;
  }
}

std::string bit_names(uint16_t bits) {
  std::vector<std::string> names;
  if (bits & kAcsSv) names.emplace_back("Source Validation");
  if (bits & kAcsRr) names.emplace_back("Request Redirect");
  if (bits & kAcsCr) names.emplace_back("Completion Redirect");
  if (bits & kAcsUf) names.emplace_back("Upstream Forwarding");
  return join(names, ", ");
}

std::string address_list(const std::vector<PciAddress>& as) {
  std::vector<std::string> s;
  s.reserve(as.size());
  for (const PciAddress& a : as) s.push_back(a.to_string());
  return join(s, ", ");
}

// Why `f` fails pci_acs_enabled, for a sentence: "has no ACS capability", ...
std::string acs_failure(const AcsFacts& f) {
  if (f.pcie == AcsFacts::Pcie::No) return "is conventional PCI, which never has ACS";
  if (f.port_type == kPcieToPci || f.port_type == kPciToPcie) return "never has ACS";
  if (!f.has_acs) return "has no ACS capability";
  return "has ACS, but its control leaves " + bit_names(missing_acs_bits(f)) +
         " off (the kernel requires Source Validation, Request Redirect, Completion Redirect "
         "and Upstream Forwarding)";
}

struct UnionFind {
  std::vector<size_t> up;
  explicit UnionFind(size_t n) : up(n) { std::iota(up.begin(), up.end(), 0); }
  size_t find(size_t i) {
    while (up[i] != i) i = up[i] = up[up[i]];
    return i;
  }
  void join(size_t a, size_t b) { up[find(a)] = find(b); }
};

// One decision of the replay: `device` joins `partner` because of `reason`; or, when `unknown`
// is set, whether it does cannot be told.
struct Edge {
  size_t device, partner;
  std::optional<GroupReason::Kind> kind;
  size_t responsible = 0;
  std::string unknown;  // why the decision cannot be made
};

struct Topology {
  std::vector<Node> nodes;
  std::map<PciAddress, size_t> index;
};

Result<Topology> read_topology(Host& host) {
  auto names = host.list_dir(kPciDevicesDir);
  if (!names.ok()) return names.error();
  struct Raw {
    PciAddress address;
    std::string path;
  };
  std::vector<Raw> raws;
  for (const std::string& n : *names) {
    auto a = PciAddress::parse_full(n);
    if (!a.ok()) continue;
    std::string link = join_path(kPciDevicesDir, n);
    auto target = host.read_link(link);
    raws.push_back({*a, target.ok() ? resolve_link(link, *target) : ""});
  }
  // Parents before children: a parent's path is a prefix of its children's.
  std::sort(raws.begin(), raws.end(),
            [](const Raw& x, const Raw& y) { return x.path.size() < y.path.size(); });
  Topology t;
  for (const Raw& r : raws) {
    Node node;
    node.address = r.address;
    if (!r.path.empty()) {
      auto p = PciAddress::parse_full(base_name(dir_name(r.path)));
      if (p.ok()) {
        auto it = t.index.find(*p);
        if (it != t.index.end()) node.parent = it->second;
      }
    }
    std::string dir = pci_device_dir(r.address);
    if (auto g = host.read_link(join_path(dir, "iommu_group")); g.ok())
      node.group = parse_sysfs_count(base_name(*g));
    auto config = host.read_file(join_path(dir, "config"), 4096);
    if (config.ok()) {
      node.facts = parse_acs_facts(*config, r.address);
    } else {
      node.facts.unreadable =
          r.address.to_string() + ": config space cannot be read (" + config.error().message + ")";
    }
    // SR-IOV virtual functions are never multifunction (pci_iov_add_virtfn).
    if (host.exists(join_path(dir, "physfn"))) node.facts.multifunction = false;
    t.index[r.address] = t.nodes.size();
    t.nodes.push_back(std::move(node));
  }
  return t;
}

// The replay of pci_device_group() for every device: the decisions it takes.
std::vector<Edge> replay(const Topology& t) {
  std::vector<Edge> edges;
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    const Node& d = t.nodes[i];
    // 1. DMA aliases: the nearest PCIe-to-PCI or conventional bridge above.
    bool decided = false;
    for (auto a = d.parent; a; a = t.nodes[*a].parent) {
      const AcsFacts& f = t.nodes[*a].facts;
      if (f.pcie == AcsFacts::Pcie::Unknown) {
        edges.push_back({i, *a, std::nullopt, *a, f.unreadable});
        decided = true;
        break;
      }
      if (f.pcie == AcsFacts::Pcie::No ||
          (f.port_type == kPcieToPci || f.port_type == kPciToPcie)) {
        edges.push_back({i, *a, GroupReason::Kind::BridgeAlias, *a, ""});
        decided = true;
        break;
      }
    }
    if (decided) continue;
    // 2. The walk: pci_acs_path_enabled(bridge above, NULL, REQ_ACS_FLAGS).
    if (d.parent) {
      std::optional<size_t> failing;
      std::string unknown;
      for (auto b = d.parent; b; b = t.nodes[*b].parent) {
        Tri r = acs_enabled(t.nodes[*b].facts);
        if (r == Tri::No) {
          failing = *b;
          break;
        }
        if (r == Tri::Unknown && unknown.empty()) unknown = t.nodes[*b].facts.unreadable;
      }
      if (failing) {
        const AcsFacts& f = t.nodes[*failing].facts;
        GroupReason::Kind k = (f.pcie == AcsFacts::Pcie::Yes && f.has_acs)
                                  ? GroupReason::Kind::AcsDisabled
                                  : GroupReason::Kind::NoAcs;
        edges.push_back({i, *d.parent, k, *failing, ""});
        continue;
      }
      if (!unknown.empty()) {
        edges.push_back({i, *d.parent, std::nullopt, *d.parent, unknown});
        continue;
      }
    }
    // 3. Functions of one multifunction device that all fail pci_acs_enabled.
    if (!d.facts.multifunction) continue;
    Tri self = acs_enabled(d.facts);
    if (self == Tri::Yes) continue;
    auto same_slot = [&](const Node& o) {
      return o.address.domain == d.address.domain && o.address.bus == d.address.bus &&
             o.address.device == d.address.device;
    };
    size_t first = i;  // the slot's lowest function stands for the device in the reason
    for (size_t j = 0; j < t.nodes.size(); ++j)
      if (same_slot(t.nodes[j]) && t.nodes[j].address < t.nodes[first].address) first = j;
    for (size_t j = 0; j < t.nodes.size(); ++j) {
      const Node& o = t.nodes[j];
      if (j == i || !same_slot(o)) continue;
      Tri other = acs_enabled(o.facts);
      if (other == Tri::Yes) continue;
      if (self == Tri::Unknown || other == Tri::Unknown) {
        edges.push_back({i, j, std::nullopt, j,
                         self == Tri::Unknown ? d.facts.unreadable : o.facts.unreadable});
      } else {
        edges.push_back({i, j, GroupReason::Kind::Multifunction, first, ""});
      }
    }
  }
  return edges;
}

std::string cmdline_override(Host& host) {
  auto cmdline = host.read_file("/proc/cmdline", 1 << 16);
  if (!cmdline.ok() || cmdline->find("pcie_acs_override=") == std::string::npos) return "";
  return "This kernel runs with pcie_acs_override= on its command line, so its groups may be "
         "split without isolation: hostpass does not trust them.";
}

GroupExplanation explain(const Topology& t, const std::vector<Edge>& edges, int number,
                         const std::vector<PciAddress>& members, const std::string& override_text) {
  GroupExplanation e;
  e.group = number;
  e.members = members;
  if (members.size() <= 1) {
    e.summary = (members.empty() ? std::string("no device") : members[0].to_string()) +
                " is alone in group " + std::to_string(number) + ".";
    return e;
  }
  UnionFind uf(t.nodes.size());
  for (const Edge& x : edges)
    if (x.kind) uf.join(x.device, x.partner);
  std::set<size_t> in_group;
  for (const PciAddress& a : members)
    if (auto it = t.index.find(a); it != t.index.end()) in_group.insert(it->second);
  // The members and everything the replay puts with them.
  std::set<size_t> scope = in_group;
  for (size_t i = 0; i < t.nodes.size(); ++i)
    for (size_t m : in_group)
      if (uf.find(i) == uf.find(m)) scope.insert(i);

  // Short config space anywhere on the members' paths leaves the replay unsure, even where the
  // decisions above did not need it (a port read short may have a type it does not show).
  std::set<std::string> unreadable;
  for (size_t i : scope)
    for (std::optional<size_t> a = i; a; a = t.nodes[*a].parent)
      if (!t.nodes[*a].facts.unreadable.empty()) unreadable.insert(t.nodes[*a].facts.unreadable);
  std::map<std::pair<int, size_t>, GroupReason> reasons;  // (kind, responsible) → reason
  for (const Edge& x : edges) {
    if (!scope.contains(x.device) && !scope.contains(x.partner)) continue;
    if (!x.kind) {
      unreadable.insert(x.unknown);
      continue;
    }
    auto key = std::make_pair(static_cast<int>(*x.kind), x.responsible);
    GroupReason& r = reasons[key];
    r.kind = *x.kind;
    r.device = t.nodes[x.responsible].address;
    for (size_t who : {x.device, x.partner})
      if (std::find(r.affected.begin(), r.affected.end(), t.nodes[who].address) == r.affected.end())
        r.affected.push_back(t.nodes[who].address);
  }
  bool acs_reason = false;
  for (auto& [key, r] : reasons) {
    std::sort(r.affected.begin(), r.affected.end());
    const AcsFacts& f = t.nodes[t.index.at(r.device)].facts;
    std::string who = kind_of(f) + " " + r.device.to_string();
    switch (r.kind) {
      case GroupReason::Kind::NoAcs:
      case GroupReason::Kind::AcsDisabled:
        acs_reason = true;
        r.text = who + " " + acs_failure(f);
        break;
      case GroupReason::Kind::Multifunction:
        r.text = address_list(r.affected) +
                 " are functions of one multifunction device without ACS (they can reach each "
                 "other peer-to-peer)";
        break;
      case GroupReason::Kind::BridgeAlias:
        r.text = who +
                 " aliases every device behind it (their requests reach the IOMMU with the "
                 "bridge's requester ID)";
        break;
    }
    e.reasons.push_back(r);
  }
  e.unreadable.assign(unreadable.begin(), unreadable.end());

  std::string s = "group " + std::to_string(number) + " is shared";
  if (!e.reasons.empty()) {
    std::vector<std::string> texts;
    for (const GroupReason& r : e.reasons) texts.push_back(r.text);
    s += " because " + join(texts, "; and ");
    if (acs_reason) s += "; a slot behind a port with ACS would isolate it";
    s += ".";
  } else {
    s += ".";
  }
  if (!e.complete()) {
    s += " This explanation cannot be complete: " + join(e.unreadable, "; ") + ".";
  } else if (t.index.contains(members[0])) {  // else its link is gone: nothing to compare
    std::vector<PciAddress> predicted;
    size_t first = t.index.at(members[0]);
    for (size_t i = 0; i < t.nodes.size(); ++i)
      if (uf.find(i) == uf.find(first)) predicted.push_back(t.nodes[i].address);
    std::sort(predicted.begin(), predicted.end());
    std::vector<PciAddress> sorted = members;
    std::sort(sorted.begin(), sorted.end());
    if (predicted != sorted) {
      e.quirk = "config space alone predicts the group " + address_list(predicted) +
                ", but the kernel's group is " + address_list(sorted) +
                ": the kernel applies an ACS or DMA-alias quirk here (drivers/pci/quirks.c), "
                "which hostpass does not replay.";
      s += " " + *e.quirk;
    }
    e.predicted = std::move(predicted);
  }
  if (!override_text.empty()) s += " " + override_text;
  e.summary = s;
  return e;
}

}  // namespace

AcsFacts parse_acs_facts(std::string_view c, const PciAddress& address) {
  AcsFacts f;
  std::string who = address.to_string();
  if (c.size() < 64) {
    f.unreadable = who + ": config space reads " + std::to_string(c.size()) +
                   " bytes, not even the 64-byte header";
    return f;
  }
  f.bridge = (c[0x0e] & 0x7f) == 1 || (c[0x0e] & 0x7f) == 2;
  f.multifunction = (c[0x0e] & 0x80) != 0 || address.function > 0;
  bool has_caps = (le16(c, 0x06) & 0x10) != 0;
  if (!has_caps) {
    f.pcie = AcsFacts::Pcie::No;
    return f;
  }
  // The capability list (PCI 3.0 6.7): pointers are dword aligned, at least 0x40; at most 48 hops.
  size_t pos = static_cast<uint8_t>(c[0x34]) & 0xfc;
  bool found = false;
  for (int hops = 0; hops < 48 && pos >= 0x40; ++hops) {
    if (pos + 4 > c.size()) {
      f.unreadable = who + ": config space reads " + std::to_string(c.size()) +
                     " bytes, short of its capability list (reading it needs root on a real "
                     "host)";
      return f;
    }
    if (static_cast<uint8_t>(c[pos]) == kCapPcie) {
      f.port_type = (le16(c, pos + 2) >> 4) & 0xf;
      found = true;
      break;
    }
    pos = static_cast<uint8_t>(c[pos + 1]) & 0xfc;
  }
  if (!found) {
    f.pcie = AcsFacts::Pcie::No;
    return f;
  }
  f.pcie = AcsFacts::Pcie::Yes;
  if (c.size() < 4096) {
    f.unreadable = who + ": config space reads " + std::to_string(c.size()) +
                   " bytes, so its ACS capability (extended space, 0x100 and up) cannot be "
                   "read (it needs root on a real host)";
    return f;
  }
  f.extended_read = true;
  // Extended capabilities (PCIe r6.0 7.6.3): ID 15:0, version 19:16, next 31:20; 0 ends.
  size_t ext = 0x100;
  for (int hops = 0; hops < 960 && ext >= 0x100 && ext + 8 <= c.size(); ++hops) {
    uint32_t header = le32(c, ext);
    if (header == 0 || header == 0xffffffff) break;
    if ((header & 0xffff) == kExtCapAcs) {
      f.has_acs = true;
      f.acs_capability = le16(c, ext + 4);
      f.acs_control = le16(c, ext + 6);
      break;
    }
    ext = (header >> 20) & 0xffc;
  }
  return f;
}

uint16_t missing_acs_bits(const AcsFacts& f) {
  // pci_acs_flags_enabled: "Features missing from the capability field can therefore be assumed
  // as hard-wired enabled."
  uint16_t required = kReqAcsFlags & f.acs_capability;
  return static_cast<uint16_t>(required & ~f.acs_control);
}

const char* group_reason_kind_name(GroupReason::Kind kind) {
  switch (kind) {
    case GroupReason::Kind::NoAcs:
      return "no-acs";
    case GroupReason::Kind::AcsDisabled:
      return "acs-disabled";
    case GroupReason::Kind::Multifunction:
      return "multifunction";
    case GroupReason::Kind::BridgeAlias:
      return "bridge-alias";
  }
  return "unknown";
}

std::string acs_override_note() {
  return "The ACS-override patch (pcie_acs_override=, out of tree) makes the kernel pretend "
         "ports have ACS: the group splits, but the devices can still reach each other "
         "peer-to-peer, so hostpass will not call that isolation.";
}

Result<GroupExplanation> explain_group(Host& host, int number) {
  auto group = read_iommu_group(host, number);
  if (!group.ok()) return group.error();
  auto t = read_topology(host);
  if (!t.ok()) return t.error();
  return explain(*t, replay(*t), number, group->members, cmdline_override(host));
}

Result<std::vector<GroupExplanation>> explain_shared_groups(Host& host) {
  auto t = read_topology(host);
  if (!t.ok()) return t.error();
  std::map<int, std::vector<PciAddress>> groups;
  for (const Node& n : t->nodes)
    if (n.group) groups[*n.group].push_back(n.address);
  std::vector<Edge> edges = replay(*t);
  std::string override_text = cmdline_override(host);
  std::vector<GroupExplanation> out;
  for (auto& [number, members] : groups) {
    if (members.size() < 2) continue;
    std::sort(members.begin(), members.end());
    out.push_back(explain(*t, edges, number, members, override_text));
  }
  return out;
}

}  // namespace hostpass
