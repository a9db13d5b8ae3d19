// guard.cc — see guard.h.
#include "guard.h"

#include <algorithm>
#include <array>
#include <map>

#include "ledger.h"

namespace hostpass {

namespace {

struct GuardInfo {
  Guard guard;
  const char* name;
  bool overridable;
};

constexpr std::array<GuardInfo, 12> kGuards{{
    {Guard::RootFilesystem, "root-filesystem", false},
    {Guard::HostUnseen, "host-unseen", false},
    {Guard::Mounted, "mounted", true},
    {Guard::Swap, "swap", true},
    {Guard::NetworkUp, "network-up", true},
    {Guard::DefaultRoute, "default-route", true},
    {Guard::BootVga, "boot-vga", true},
    {Guard::SriovVfs, "sriov-vfs", true},
    {Guard::MdevLive, "mdev-live", true},
    {Guard::MdevDefined, "mdev-defined", true},
    {Guard::LedgerAssigned, "assigned", true},
    {Guard::UnmatchedType, "unmatched-type", true},
}};

const GuardInfo& info(Guard g) {
  for (const GuardInfo& i : kGuards)
    if (i.guard == g) return i;
  return kGuards[0];  // unreachable: every enumerator is in the table
}

std::string overridable_names() {
  std::string out;
  for (const GuardInfo& i : kGuards) {
    if (!i.overridable) continue;
    if (!out.empty()) out += ", ";
    out += i.name;
  }
  return out;
}

}  // namespace

const char* guard_name(Guard guard) {
  return info(guard).name;
}
bool guard_overridable(Guard guard) {
  return info(guard).overridable;
}

Result<Guard> parse_guard_name(std::string_view name) {
  for (const GuardInfo& i : kGuards)
    if (name == i.name) return i.guard;
  return invalid_input("unknown --force name '" + std::string(name) + "': expected all or one of " +
                       overridable_names());
}

Guard guard_of(HostUse::Kind kind) {
  switch (kind) {
    case HostUse::Kind::RootFilesystem:
      return Guard::RootFilesystem;
    case HostUse::Kind::Mounted:
      return Guard::Mounted;
    case HostUse::Kind::Swap:
      return Guard::Swap;
    case HostUse::Kind::NetworkUp:
      return Guard::NetworkUp;
    case HostUse::Kind::DefaultRoute:
      return Guard::DefaultRoute;
    case HostUse::Kind::BootVga:
      return Guard::BootVga;
  }
  return Guard::Mounted;
}

Result<ForceSet> ForceSet::parse(const std::vector<std::string>& values) {
  ForceSet f;
  for (const std::string& v : values) {
    if (v.empty() || v == "all") {
      f.all = true;
      continue;
    }
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      std::string_view name(v.data() + start,
                            (comma == std::string::npos ? v.size() : comma) - start);
      auto g = parse_guard_name(name);
      if (!g.ok()) return g.error();
      if (!guard_overridable(*g))
        return invalid_input("--force=" + std::string(name) +
                             ": that guard is never overridden (expected all or one of " +
                             overridable_names() + ")");
      f.guards.insert(*g);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return f;
}

std::vector<Blocker> host_use_blockers(const HostUseMap& uses, const PciDevice& device) {
  std::vector<Blocker> out;
  if (uses.unseen) out.push_back(Blocker{device.address, Guard::HostUnseen, *uses.unseen});
  for (const HostUse& u : device.in_use) {
    std::string reason = u.kind == HostUse::Kind::RootFilesystem ? "it holds the " + u.detail
                                                                 : "the host uses it: " + u.detail;
    out.push_back(Blocker{device.address, guard_of(u.kind), reason});
  }
  return out;
}

GuardVerdict apply_force(const std::vector<Blocker>& blockers, const ForceSet& force) {
  GuardVerdict v;
  for (const Blocker& b : blockers) (force.overrides(b.guard) ? v.forced : v.refused).push_back(b);
  return v;
}

Result<GuardContext> read_guard_context(Host& host, const std::string& state_dir) {
  GuardContext c;
  c.uses = detect_host_use(host);
  auto live = list_mdev_instances(host, &c.warnings);
  if (live.ok()) {
    c.mdevs = std::move(*live);
  } else {
    c.warnings.push_back(live.error().message);
  }
  auto defined = list_mdev_definitions(host, &c.warnings);
  if (defined.ok()) {
    c.mdev_definitions = std::move(*defined);
  } else {
    c.warnings.push_back(defined.error().message);
  }
  if (!state_dir.empty()) {
    auto rows = list_assignments(host, state_dir);
    if (!rows.ok())
      return rows.error().wrap("cannot read the ledger to tell which devices VMs own");
    for (const Assignment& a : *rows) c.assignments.push_back(GuardAssignment{a.device, a.vm});
  }
  return c;
}

namespace {

// The ledger's owners of `device` or of any of `uuids`: "mdev 4b20... is assigned to VM 'vm1'".
void ledger_blockers(const GuardContext& c, const PciAddress& address, const std::string& device,
                     const std::vector<std::string>& uuids, const std::string& subject,
                     std::vector<Blocker>& out) {
  for (const GuardAssignment& a : c.assignments) {
    bool mine = a.device == device;
    bool of_mdev = std::find(uuids.begin(), uuids.end(), a.device) != uuids.end();
    if (!mine && !of_mdev) continue;
    std::string what = mine ? std::string("it is") : "its mdev " + a.device + " is";
    out.push_back(Blocker{address, Guard::LedgerAssigned,
                          what + " assigned to VM '" + a.vm +
                              "' in the ledger (release it first: " + "hostpass release " +
                              a.device + ")",
                          subject});
  }
}

}  // namespace

std::vector<Blocker> unseen_blockers(const GuardContext& context, const std::string& subject) {
  std::vector<Blocker> out;
  if (context.uses.unseen)
    out.push_back(Blocker{PciAddress{}, Guard::HostUnseen, *context.uses.unseen, subject});
  return out;
}

std::vector<Blocker> device_blockers(Host& host, const GuardContext& c, PciDevice& device,
                                     GuardOp op, const std::string& target_driver) {
  attach_host_use(host, c.uses, device);
  std::vector<Blocker> out;
  const std::string addr = device.address.to_string();
  if (op == GuardOp::Bind) {
    out = host_use_blockers(c.uses, device);
    if (device.driver == target_driver) {  // nothing moves: only "cannot see the host" stands
      std::erase_if(out, [](const Blocker& b) { return b.guard != Guard::HostUnseen; });
      return out;
    }
    if (device.sriov_numvfs.value_or(0) > 0 && device.driver)
      out.push_back(
          Blocker{device.address, Guard::SriovVfs,
                  "it is an SR-IOV physical function with " +
                      plural(*device.sriov_numvfs, "virtual function", "virtual functions") +
                      " enabled, which unbinding " + *device.driver +
                      " destroys (write 0 to sriov_numvfs first)"});
  } else if (c.uses.unseen) {
    out.push_back(Blocker{device.address, Guard::HostUnseen, *c.uses.unseen});
  }
  if (op != GuardOp::Bind && op != GuardOp::Unbind) return out;
  std::vector<std::string> live, defined, uuids;
  for (const MdevInstance& m : c.mdevs)
    if (m.parent == addr) {
      live.push_back(m.uuid);
      uuids.push_back(m.uuid);
    }
  for (const MdevDefinition& d : c.mdev_definitions)
    if (d.parent == addr) {
      defined.push_back(d.uuid);
      if (std::find(uuids.begin(), uuids.end(), d.uuid) == uuids.end()) uuids.push_back(d.uuid);
    }
  if (!live.empty())
    out.push_back(Blocker{device.address, Guard::MdevLive,
                          "it is a vGPU/mdev parent with " +
                              plural(live.size(), "live mediated device", "live mediated devices") +
                              " (" + join(live, ", ") +
                              "), which moving it destroys (hostpass mdev " +
                              "remove them first)"});
  if (!defined.empty())
    out.push_back(Blocker{device.address, Guard::MdevDefined,
                          "mdevctl defines " +
                              plural(defined.size(), "mediated device", "mediated devices") +
                              " on it (" + join(defined, ", ") + " in " + kMdevctlConfigDir + "/" +
                              addr + "), which would not start (hostpass mdev remove them first)"});
  ledger_blockers(c, device.address, addr, uuids, "", out);
  return out;
}

std::vector<Blocker> mdev_blockers(const GuardContext& c, const std::string& uuid,
                                   const std::string& parent, GuardOp op) {
  auto pci = PciAddress::parse_full(parent);
  PciAddress address = pci.ok() ? *pci : PciAddress{};
  std::string subject = "mdev " + uuid + (parent.empty() ? "" : " on " + parent);
  std::vector<Blocker> out = unseen_blockers(c, subject);
  for (Blocker& b : out) b.address = address;
  if (op == GuardOp::MdevRemove) ledger_blockers(c, address, uuid, {}, subject, out);
  return out;
}

std::string refusal_line(const Blocker& b) {
  std::string line = "refusing " + b.who() + ": " + b.reason;
  if (b.guard == Guard::UnmatchedType)
    line += " (correct the type, or --force=unmatched-type to run the plan anyway)";
  else if (guard_overridable(b.guard))
    line +=
        std::string(" (free it first, or --force=") + guard_name(b.guard) + " to take it anyway)";
  else
    line += "; --force does not override this";
  return line;
}

std::vector<std::string> refusal_lines(const std::vector<Blocker>& refused) {
  auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  // Who stands whatever --force says (a never-overridable blocker), and why.
  std::map<std::string, std::vector<std::string>> stuck;
  for (const Blocker& b : refused)
    if (!guard_overridable(b.guard)) {
      std::vector<std::string>& why = stuck[b.who()];
      if (!has(why, guard_name(b.guard))) why.emplace_back(guard_name(b.guard));
    }
  std::vector<std::string> lines, forceable;
  for (const Blocker& b : refused) {
    auto it = stuck.find(b.who());
    if (!guard_overridable(b.guard) || it == stuck.end()) {
      lines.push_back(refusal_line(b));
      if (guard_overridable(b.guard) && !has(forceable, b.who())) forceable.push_back(b.who());
      continue;
    }
    lines.push_back("refusing " + b.who() + ": " + b.reason + " (--force=" + guard_name(b.guard) +
                    " would override this, but not its " + join(it->second, ", ") +
                    " blocker: this device cannot be taken)");
  }
  if (!stuck.empty() && !forceable.empty()) {
    std::vector<std::string> never;
    never.reserve(stuck.size());
    for (const auto& [who, why] : stuck) never.push_back(who + " (" + join(why, ", ") + ")");
    lines.push_back("--force can override what blocks " + join(forceable, ", ") +
                    ", never what blocks " + join(never, ", ") + ": leave " +
                    (stuck.size() == 1 ? "that device" : "those devices") + " out");
  }
  return lines;
}

std::string forced_note(const Blocker& b) {
  return std::string("--force=") + guard_name(b.guard) + ": overriding for " + b.who() + ": " +
         b.reason;
}

}  // namespace hostpass
