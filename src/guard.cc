// guard.cc — see guard.h.
#include "guard.h"

#include <array>

namespace hostpass {

namespace {

struct GuardInfo {
  Guard guard;
  const char* name;
  bool overridable;
};

constexpr std::array<GuardInfo, 11> kGuards{{
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

std::string refusal_line(const Blocker& b) {
  std::string line = "refusing " + b.address.to_string() + ": " + b.reason;
  if (guard_overridable(b.guard))
    line +=
        std::string(" (free it first, or --force=") + guard_name(b.guard) + " to take it anyway)";
  else
    line += "; --force does not override this";
  return line;
}

std::string forced_note(const Blocker& b) {
  return std::string("--force=") + guard_name(b.guard) + ": overriding for " +
         b.address.to_string() + ": " + b.reason;
}

}  // namespace hostpass
