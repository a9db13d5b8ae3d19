// vfio_bind.cc — the bind engine: moves PCI functions to vfio-pci (or another driver) and back,
// per IOMMU group, refusing what the host needs, journaling before the first write, verifying
// the result, and rolling every touched device back to its entry state on any failure.
//
// Kernel contract (Documentation/ABI/testing/sysfs-bus-pci; drivers/pci/pci-driver.c
// pci_match_device; drivers/base/bus.c bind_store/unbind_store/drivers_probe_store):
//   ADDR/driver_override  "NAME": from now on only NAME may claim ADDR; "\n" clears it. It never
//                         binds or unbinds by itself.
//   drivers/D/unbind      "ADDR": releases ADDR from D; ENODEV if ADDR is not bound to D. We write
//                         to the driver we saw bound (not ADDR/driver/unbind): if the device moved
//                         in between, the kernel refuses instead of unbinding something else.
//   drivers_probe         "ADDR": lets the matching driver (with an override: only that one)
//                         claim ADDR. Succeeds even when nothing claims it, hence verification.
// The sequence is the one libvirt uses (src/util/virpci.c, virPCIDeviceBindWithDriverOverride:
// write driver_override, virPCIDeviceUnbind, then "drivers_probe"; virPCIDeviceUnbindFromStub
// writes "\n" to driver_override and rebinds the same way) and driverctl (set_override: modprobe
// when /sys/module/<drv> is missing, unbind, driver_override, drivers_probe, then only checks that
// *some* driver link exists — a failed bind leaves the device without a driver). hostpass adds
// what both leave out: the IOMMU group rule, host-use refusals, verification of the exact driver
// and of /dev/vfio/<group>, rollback, and a journal that `recover` replays after a crash.
//
// Group rule (vfio_rules.h, viability): a VM gets a whole IOMMU group, so every other member must
// be unbound or on a driver that leaves the group's DMA to VFIO (driver_managed_dma: the vfio
// drivers, pci-stub, pcieport). Bridges (a bridge header) are never bound — vfio-pci's probe
// refuses them — so --group leaves them alone, and one on any other driver (shpchp) blocks.
//
// Journal (state_dir/journal.json, written with replace_file, so atomically): written before the
// first write, naming the operation and each device's entry driver and driver_override; removed
// when the operation is complete. Removing it is the commit point: if that fails, the operation
// rolls back. `recover` returns every device it names to its entry state, then removes it.
//
// Restoring a device to an entry state (driver D, override O) works from any intermediate state:
// override := D (so only D can claim it), unbind from whatever holds it, drivers_probe, check D
// holds it, override := O. When D is none the device is unbound and not reprobed. This needs no
// knowledge of which driver's id table would match: it reproduces bindings made by new_id or by
// hand as well.
//
// Deliberately not done here: persistence across reboots (modprobe.d, driverctl files: persist),
// declarative apply (policy), locking against a concurrent hostpass (one operator at a time), and
// waiting for drivers that probe asynchronously.
#include "vfio_bind.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "guard.h"
#include "host_use.h"
#include "iommu_group.h"
#include "pci_device.h"
#include "vfio_group_users.h"
#include "vfio_rules.h"

namespace hostpass {

namespace {

constexpr const char* kDriversProbe = "/sys/bus/pci/drivers_probe";

struct DeviceState {
  std::optional<std::string> driver;
  std::optional<std::string> override_;  // none: "(null)" (vfio_rules.h parse_driver_override)
  bool operator==(const DeviceState&) const = default;
};

std::string describe(const std::optional<std::string>& driver) {
  return driver ? *driver : std::string("no driver");
}

std::string override_path(const PciAddress& a) {
  return pci_device_dir(a) + "/driver_override";
}
std::string driver_file(const std::string& driver, const char* file) {
  return join_path(join_path(kPciDriversDir, driver), file);
}

DeviceState read_state(Host& host, const PciAddress& a) {
  DeviceState s;
  s.driver = current_driver(host, a);
  s.override_ = read_driver_override(host, a);
  return s;
}

// A VFIO driver registers the group's /dev/vfio/<group> node; pci-stub and host drivers do not.
bool vfio_group_node_needed(const std::string& driver) {
  return is_vfio_driver(driver);
}

// Makes (or with dry_run, only records) every mutation, in order.
class Writer {
 public:
  Writer(Host& host, bool dry_run) : host_(host), dry_run_(dry_run) {}

  Status write(const std::string& path, const std::string& data) {
    log_.push_back(PlannedWrite{path, data, "write"});
    return dry_run_ ? ok_status() : host_.write_attribute(path, data);
  }
  Status replace(const std::string& path, const std::string& data) {
    log_.push_back(PlannedWrite{path, "", "replace"});
    return dry_run_ ? ok_status() : host_.replace_file(path, data);
  }
  Status remove(const std::string& path) {
    log_.push_back(PlannedWrite{path, "", "remove"});
    return dry_run_ ? ok_status() : host_.remove_file(path);
  }
  Status run(const std::vector<std::string>& argv) {
    std::string line;
    for (const std::string& a : argv) line += (line.empty() ? "" : " ") + a;
    log_.push_back(PlannedWrite{line, "", "run"});
    if (dry_run_) return ok_status();
    auto r = host_.run_command(argv);
    if (!r.ok()) return r.error();
    if (r->exit_code != 0) {
      std::string err(trim(r->err));
      return io_error("'" + line + "' exited with status " + std::to_string(r->exit_code) +
                      (err.empty() ? "" : ": " + err));
    }
    return ok_status();
  }

  Host& host() { return host_; }
  bool dry_run() const { return dry_run_; }
  std::vector<PlannedWrite>& log() { return log_; }

 private:
  Host& host_;
  bool dry_run_;
  std::vector<PlannedWrite> log_;
};

// Returns `a` to `entry` (see the header comment). Never dry-run.
Status restore_device(Writer& w, const PciAddress& a, const DeviceState& entry) {
  Host& host = w.host();
  std::string addr = a.to_string();
  DeviceState cur = read_state(host, a);
  if (cur == entry) return ok_status();
  if (cur.driver != entry.driver) {
    // Only the entry driver may claim it (or, when it had none, keep its entry override so that
    // nothing new claims it).
    std::string want_override = entry.driver ? *entry.driver : entry.override_.value_or("\n");
    if (cur.override_ != (entry.driver ? entry.driver : entry.override_)) {
      if (Status s = w.write(override_path(a), want_override); !s.ok()) return s;
    }
    if (cur.driver) {
      if (Status s = w.write(driver_file(*cur.driver, "unbind"), addr); !s.ok()) return s;
    }
    if (entry.driver) {
      if (!host.is_dir(join_path(kPciDriversDir, *entry.driver)))
        return not_found("its driver " + *entry.driver + " is no longer loaded (" +
                         join_path(kPciDriversDir, *entry.driver) + " is missing)");
      if (Status s = w.write(kDriversProbe, addr); !s.ok()) return s;
      auto now = current_driver(host, a);
      if (now != entry.driver)
        return io_error(*entry.driver + " did not claim it after drivers_probe (it is on " +
                        describe(now) + ")");
    }
  }
  cur = read_state(host, a);
  if (cur.override_ != entry.override_) {
    if (Status s = w.write(override_path(a), entry.override_.value_or("\n")); !s.ok()) return s;
  }
  cur = read_state(host, a);
  if (cur != entry)
    return io_error("it ended on " + describe(cur.driver) + " with driver_override " +
                    cur.override_.value_or("(null)"));
  return ok_status();
}

// ---- the journal ----

struct JournalDevice {
  PciAddress address;
  DeviceState entry;
  std::optional<int> iommu_group;
};

std::string timestamp(Host& host) {
  std::time_t t = std::chrono::system_clock::to_time_t(host.now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The kernel's id for this boot (/proc/sys/kernel/random/boot_id), or "" when unreadable.
std::string boot_id(Host& host) {
  auto v = host.read_file("/proc/sys/kernel/random/boot_id", 64);
  return v.ok() ? std::string(trim(*v)) : std::string();
}

std::string journal_json(Host& host, const std::string& operation, const std::string& driver,
                         const std::vector<JournalDevice>& devices) {
  nlohmann::json j;
  j["version"] = 1;
  j["operation"] = operation;
  j["driver"] = driver;
  j["started"] = timestamp(host);
  j["boot_id"] = boot_id(host);
  j["devices"] = nlohmann::json::array();
  for (const JournalDevice& d : devices) {
    nlohmann::json e;
    e["address"] = d.address.to_string();
    e["driver"] = d.entry.driver ? nlohmann::json(*d.entry.driver) : nlohmann::json(nullptr);
    e["driver_override"] =
        d.entry.override_ ? nlohmann::json(*d.entry.override_) : nlohmann::json(nullptr);
    e["iommu_group"] = d.iommu_group ? nlohmann::json(*d.iommu_group) : nlohmann::json(nullptr);
    j["devices"].push_back(e);
  }
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

struct Journal {
  std::string operation;
  std::string boot_id;
  std::vector<JournalDevice> devices;
};

Result<Journal> read_journal(const std::string& path, const std::string& text) {
  auto bad = [&](const std::string& why) {
    return io_error("the journal " + path + " is unreadable (" + why +
                    "): restore its devices by hand (hostpass show ADDR), then remove it");
  };
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object() || j.value("version", 0) != 1 || !j.contains("devices") ||
        !j["devices"].is_array())
      return bad("not a version 1 hostpass journal");
    Journal out;
    out.operation = j.value("operation", "");
    if (j.contains("boot_id") && j["boot_id"].is_string()) out.boot_id = j["boot_id"];
    for (const auto& e : j["devices"]) {
      if (!e.is_object() || !e.contains("address") || !e["address"].is_string())
        return bad("a device without an address");
      auto a = PciAddress::parse_full(e["address"].get<std::string>());
      if (!a.ok()) return bad(a.error().message);
      JournalDevice d;
      d.address = *a;
      auto str = [&](const char* key) -> Result<std::optional<std::string>> {
        if (!e.contains(key) || e[key].is_null()) return std::optional<std::string>();
        if (!e[key].is_string()) return invalid_input(std::string(key) + " is not a string");
        std::string v = e[key].get<std::string>();
        if (!validate_driver_name(v).ok()) return invalid_input("bad driver name '" + v + "'");
        return std::optional<std::string>(v);
      };
      auto drv = str("driver");
      if (!drv.ok()) return bad(drv.error().message);
      auto ovr = str("driver_override");
      if (!ovr.ok()) return bad(ovr.error().message);
      d.entry.driver = *drv;
      d.entry.override_ = *ovr;
      if (e.contains("iommu_group") && e["iommu_group"].is_number_integer())
        d.iommu_group = e["iommu_group"].get<int>();
      out.devices.push_back(d);
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
}

// Restores every journal device (reverse order), collecting what happened. Returns the failures.
std::vector<std::string> restore_all(Writer& w, const std::vector<JournalDevice>& devices,
                                     std::vector<std::string>& restored_lines) {
  std::vector<std::string> failures;
  // Reverse iterators, not std::views::reverse (modernize-loop-convert's advice): clang 14
  // cannot compile GCC 12's <ranges>, so the view would break clang-tidy itself.
  // NOLINTNEXTLINE(modernize-loop-convert)
  for (auto it = devices.rbegin(); it != devices.rend(); ++it) {
    const JournalDevice& d = *it;
    Status s = restore_device(w, d.address, d.entry);
    std::string what = d.address.to_string() + " on " + describe(d.entry.driver) +
                       " (driver_override " + d.entry.override_.value_or("(null)") + ")";
    if (s.ok()) {
      restored_lines.push_back(what);
    } else {
      failures.push_back("could not return " + what + ": " + s.error().message);
    }
  }
  return failures;
}

// Rolls back after `failure`: every journal device back to its entry state, the journal removed
// when that worked. Returns the error to report (the failure's kind, both stories in the message).
Error roll_back(Writer& w, const std::string& journal, const std::vector<JournalDevice>& touched,
                const Error& failure) {
  std::vector<std::string> restored;
  std::vector<std::string> failures = restore_all(w, touched, restored);
  std::string m = failure.message;
  if (failures.empty()) {
    Status removed = w.remove(journal);
    m += "\nrolled back: " + (restored.empty() ? std::string("nothing had changed")
                                               : "every device is back: " + join(restored, ", "));
    if (!removed.ok())
      m += "\nthe journal " + journal + " could not be removed (" + removed.error().message +
           "); `hostpass recover` will find every device already restored";
  } else {
    m += "\nROLLBACK INCOMPLETE: " + join(failures, "; ") + "\nthe journal " + journal +
         " is kept: run `hostpass recover` to finish the rollback";
  }
  return Error{failure.kind, m};
}

struct Target {
  PciDevice device;
  bool requested = false;  // named on the command line (else: a group sibling, --group)
};

Status check_journal_absent(Host& host, const std::string& state_dir, bool dry_run,
                            std::vector<std::string>& notes) {
  std::string j = journal_path(state_dir);
  if (!host.exists(j)) return ok_status();
  if (dry_run) {
    notes.push_back("an interrupted operation left " + j + "; the real run recovers it first");
    return ok_status();
  }
  return refused("an interrupted hostpass operation left " + j + ": run `hostpass recover` first");
}

}  // namespace

Status validate_state_dir(const std::string& dir) {
  if (dir.empty() || dir.front() != '/' || dir.find('\0') != std::string::npos ||
      normalize_path(dir) != dir.substr(0, dir.size() - (dir.size() > 1 && dir.back() == '/')))
    return invalid_input("invalid state directory '" + dir +
                         "': expected an absolute path without '.' or '..' components");
  return ok_status();
}

namespace {

// Loads the target driver's module when its directory is missing (libvirt's virPCIProbeDriver,
// driverctl's `modprobe -q`). Not journaled: loading a module is not undone.
Status ensure_driver(Writer& w, const std::string& driver, std::vector<std::string>& notes) {
  std::string dir = join_path(kPciDriversDir, driver);
  if (w.host().is_dir(dir)) return ok_status();
  Status s = w.run({"modprobe", driver});
  if (!s.ok())
    return Error{s.error().kind == ErrorKind::Unsupported ? ErrorKind::Unsupported : ErrorKind::Io,
                 "cannot load the " + driver + " module: " + s.error().message +
                     " (is it built for this kernel? `modinfo " + driver + "`)"};
  if (!w.dry_run() && !w.host().is_dir(dir))
    return io_error("modprobe " + driver + " succeeded but " + dir + " does not exist: is '" +
                    driver + "' a PCI driver?");
  notes.push_back((w.dry_run() ? "would load module " : "loaded module ") + driver);
  return ok_status();
}

// Processes holding /dev/vfio/<group> open ("1234 (qemu-system-x86)"), from /proc/<pid>/fd
// (vfio_group_users). Unbinding a device whose group a VM holds blocks in the kernel until the
// VM lets go (vfio_unregister_group_dev waits, relaying device requests to the user), so it is
// refused.
std::vector<std::string> group_holders(Host& host, int group) {
  std::vector<std::string> out;
  auto users = vfio_group_users(host);
  if (!users.ok()) return out;
  if (auto it = users->find(group); it != users->end())
    for (const VfioGroupUser& u : it->second) out.push_back(u.describe());
  return out;
}

}  // namespace

Result<JournalContents> parse_journal(const std::string& path, const std::string& text) {
  auto j = read_journal(path, text);
  if (!j.ok()) return j.error();
  JournalContents out;
  out.operation = j->operation;
  out.boot_id = j->boot_id;
  for (const JournalDevice& d : j->devices)
    out.devices.push_back(
        JournalEntry{d.address, d.entry.driver, d.entry.override_, d.iommu_group});
  return out;
}

std::string journal_path(const std::string& state_dir) {
  return join_path(state_dir, "journal.json");
}

Status validate_driver_name(const std::string& driver) {
  bool ok = !driver.empty() && driver.size() <= 64 && driver != "." && driver != "..";
  for (char c : driver)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      ok = false;
  if (!ok)
    return invalid_input("invalid driver name '" + driver +
                         "': expected a name from /sys/bus/pci/drivers, as in vfio-pci");
  return ok_status();
}

Result<BindReport> bind_devices(Host& host, const std::vector<PciAddress>& addresses,
                                const BindOptions& options) {
  if (Status s = validate_driver_name(options.driver); !s.ok()) return s.error();
  if (Status s = validate_state_dir(options.state_dir); !s.ok()) return s.error();
  if (addresses.empty()) return invalid_input("no device to bind: name at least one address");
  BindReport report;
  if (Status s = check_journal_absent(host, options.state_dir, options.dry_run, report.notes);
      !s.ok())
    return s.error();

  // 1. Read what was asked for; refuse what can never be bound.
  std::map<PciAddress, Target> targets;
  std::vector<std::string> refusals;
  for (const PciAddress& a : addresses) {
    if (targets.contains(a)) continue;
    auto d = read_pci_device(host, a, Detail::Full);
    if (!d.ok()) return d.error();
    if (d->is_bridge()) {
      refusals.push_back("refusing " + a.to_string() +
                         ": it is a PCI bridge; bridges stay with the host (bind the endpoints "
                         "behind it instead)");
      continue;
    }
    if (!d->iommu_group) {
      refusals.push_back("refusing " + a.to_string() +
                         ": it has no IOMMU group (the IOMMU is off, or the device is not behind "
                         "it); run `hostpass check` to see how to enable the IOMMU");
      continue;
    }
    targets[a] = Target{std::move(*d), true};
  }

  // 2. The group rule (vfio_rules.h): endpoints come along (--group) or must already keep the
  //    group viable; bridges stay where they are and must keep it viable there.
  std::set<int> groups;
  for (const auto& [a, t] : targets) groups.insert(*t.device.iommu_group);
  for (int g : groups) {
    auto group = read_iommu_group(host, g);
    if (!group.ok()) return group.error();
    std::vector<GroupMember> members;
    std::set<PciAddress> moving;
    for (const PciAddress& m : group->members) {
      if (auto it = targets.find(m); it != targets.end()) {
        members.push_back(group_member(it->second.device));
        moving.insert(m);
        continue;
      }
      auto sib = read_pci_device(host, m, options.whole_group ? Detail::Full : Detail::Basic);
      if (!sib.ok()) return sib.error();
      members.push_back(group_member(*sib));
      if (sib->is_bridge()) {
        if (keeps_group_viable(sib->driver))
          report.notes.push_back("left bridge " + m.to_string() + " of IOMMU group " +
                                 std::to_string(g) + " alone");
      } else if (options.whole_group) {
        moving.insert(m);
        targets[m] = Target{std::move(*sib), false};
      }
    }
    std::vector<std::string> endpoints, bridges, siblings;
    for (const GroupMember& b : viability_blockers(members, moving)) {
      if (b.bridge) {
        bridges.push_back(describe_blocker(b) + "; " + bridge_blocker_remedy(b) +
                          ": hostpass never moves a bridge");
      } else {
        endpoints.push_back(describe_blocker(b));
        siblings.push_back(b.address.to_string());
      }
    }
    if (endpoints.empty() && bridges.empty()) continue;
    std::vector<std::string> mine;
    for (const auto& [a, t] : targets)
      if (t.device.iommu_group == g) mine.push_back(a.to_string());
    std::string why;
    if (!endpoints.empty())
      why = join(endpoints, ", ") +
            " (a VM gets the whole group, so every endpoint must be on vfio-pci or unbound); " +
            (options.group_remedy ? options.group_remedy(siblings) : "name them too");
    if (!bridges.empty()) why += (why.empty() ? "" : "; ") + join(bridges, "; ");
    refusals.push_back("refusing " + join(mine, ", ") + ": IOMMU group " + std::to_string(g) +
                       " is not viable: " + why);
  }

  // 3. The guards (guard.h), for the device and every sibling that would move with it.
  GuardContext own;
  const GuardContext* guards = options.guards;
  if (!guards) {
    auto c = read_guard_context(host, options.state_dir);
    if (!c.ok()) return c.error();
    own = std::move(*c);
    guards = &own;
  }
  std::vector<Blocker> standing;
  for (auto& [a, t] : targets) {
    std::vector<Blocker> blockers =
        device_blockers(host, *guards, t.device, GuardOp::Bind, options.driver);
    if (!t.requested)
      for (Blocker& b : blockers)
        b.subject = a.to_string() + " (in IOMMU group " + std::to_string(*t.device.iommu_group) +
                    ", taken by --group)";
    GuardVerdict v = apply_force(blockers, options.force);
    standing.insert(standing.end(), v.refused.begin(), v.refused.end());
    for (const Blocker& b : v.forced) report.notes.push_back(forced_note(b));
  }
  for (std::string& line : refusal_lines(standing)) refusals.push_back(std::move(line));
  if (!refusals.empty()) return refused(join(refusals, "\n"));

  // 4. The plan.
  std::vector<JournalDevice> changes;
  for (auto& [a, t] : targets) {
    DeviceChange c;
    c.address = a;
    c.driver_before = t.device.driver;
    c.override_before = t.device.driver_override;
    c.iommu_group = t.device.iommu_group;
    if (t.device.driver == options.driver) {
      c.driver_after = c.driver_before;
      c.override_after = c.override_before;
      report.notes.push_back(a.to_string() + " is already on " + options.driver);
    } else {
      c.changed = true;
      changes.push_back(JournalDevice{a, DeviceState{t.device.driver, t.device.driver_override},
                                      t.device.iommu_group});
    }
    report.devices.push_back(c);
  }
  if (changes.empty()) return report;

  Writer w(host, options.dry_run);
  if (Status s = ensure_driver(w, options.driver, report.notes); !s.ok()) {
    report.writes = w.log();
    return s.error();
  }
  std::string journal = journal_path(options.state_dir);
  if (Status s = w.replace(journal, journal_json(host, "bind", options.driver, changes)); !s.ok())
    return s.error().wrap("cannot write the journal, nothing was changed");

  // 5. The kernel sequence, device by device, verified.
  auto fail = [&](const Error& e) -> Result<BindReport> {
    return roll_back(w, journal, changes, e);
  };
  for (const JournalDevice& c : changes) {
    std::string addr = c.address.to_string();
    if (Status s = w.write(override_path(c.address), options.driver); !s.ok())
      return fail(s.error().wrap("binding " + addr + " to " + options.driver));
    if (c.entry.driver) {
      if (Status s = w.write(driver_file(*c.entry.driver, "unbind"), addr); !s.ok())
        return fail(s.error().wrap("unbinding " + addr + " from " + *c.entry.driver));
    }
    if (Status s = w.write(kDriversProbe, addr); !s.ok())
      return fail(s.error().wrap("probing " + addr + " for " + options.driver));
    if (w.dry_run()) continue;
    auto now = current_driver(host, c.address);
    if (now != options.driver)
      return fail(io_error("binding " + addr + " to " + options.driver +
                           " failed: after "
                           "drivers_probe it is on " +
                           describe(now) + " (the driver refused it; see `dmesg`)"));
    if (vfio_group_node_needed(options.driver) && c.iommu_group) {
      std::string node = "/dev/vfio/" + std::to_string(*c.iommu_group);
      if (!host.exists(node))
        return fail(io_error("binding " + addr + " to " + options.driver + ": " + node +
                             " did not appear"));
    }
  }
  if (Status s = w.remove(journal); !s.ok())
    return fail(s.error().wrap("cannot remove the journal, so the bind is not committed"));

  for (DeviceChange& c : report.devices) {
    if (!c.changed) continue;
    if (options.dry_run) {
      c.driver_after = options.driver;
      c.override_after = options.driver;
    } else {
      DeviceState s = read_state(host, c.address);
      c.driver_after = s.driver;
      c.override_after = s.override_;
    }
  }
  report.writes = w.log();
  return report;
}

Result<BindReport> unbind_devices(Host& host, const std::vector<PciAddress>& addresses,
                                  const BindOptions& options) {
  if (Status s = validate_state_dir(options.state_dir); !s.ok()) return s.error();
  if (addresses.empty()) return invalid_input("no device to unbind: name at least one address");
  BindReport report;
  if (Status s = check_journal_absent(host, options.state_dir, options.dry_run, report.notes);
      !s.ok())
    return s.error();

  std::set<PciAddress> seen;
  std::vector<JournalDevice> changes;
  std::vector<std::string> refusals;
  for (const PciAddress& a : addresses) {
    if (!seen.insert(a).second) continue;
    auto d = read_pci_device(host, a, Detail::Full);
    if (!d.ok()) return d.error();
    DeviceChange c;
    c.address = a;
    c.driver_before = d->driver;
    c.override_before = d->driver_override;
    c.iommu_group = d->iommu_group;
    bool on_stub = d->driver && is_stub_driver(*d->driver);
    // On a host driver with no override: nothing to do. Unbound (say, left so by a failed
    // driverctl set-override): clear any override and reprobe, so the host driver gets it back.
    if (d->driver && !on_stub && !d->driver_override) {
      c.driver_after = c.driver_before;
      report.notes.push_back(a.to_string() + " is not on a vfio driver (" + describe(d->driver) +
                             "): nothing to do");
    } else {
      c.changed = true;
      changes.push_back(
          JournalDevice{a, DeviceState{d->driver, d->driver_override}, d->iommu_group});
      // (group_holders says why.) And while a VM owns the group's DMA, the host driver's probe
      // fails anyway: pci_dma_configure → iommu_device_use_default_domain returns -EBUSY.
      if (on_stub && d->iommu_group) {
        auto holders = group_holders(host, *d->iommu_group);
        if (!holders.empty())
          refusals.push_back("refusing " + a.to_string() + ": /dev/vfio/" +
                             std::to_string(*d->iommu_group) + " is open by process " +
                             join(holders, ", ") +
                             " (a VM is using it; unbinding would hang until it lets go): stop "
                             "the VM or detach the device first");
      }
    }
    report.devices.push_back(c);
  }
  if (!refusals.empty()) return refused(join(refusals, "\n"));
  if (changes.empty()) return report;

  Writer w(host, options.dry_run);
  std::string journal = journal_path(options.state_dir);
  if (Status s = w.replace(journal, journal_json(host, "unbind", "", changes)); !s.ok())
    return s.error().wrap("cannot write the journal, nothing was changed");
  auto fail = [&](const Error& e) -> Result<BindReport> {
    return roll_back(w, journal, changes, e);
  };
  for (const JournalDevice& c : changes) {
    std::string addr = c.address.to_string();
    // virPCIDeviceUnbindFromStub: clear the override with "\n", unbind, drivers_probe.
    if (Status s = w.write(override_path(c.address), "\n"); !s.ok())
      return fail(s.error().wrap("clearing driver_override of " + addr));
    bool on_stub = c.entry.driver && is_stub_driver(*c.entry.driver);
    if (c.entry.driver && !on_stub) continue;  // on a host driver: clearing the override was all
    if (on_stub) {
      if (Status s = w.write(driver_file(*c.entry.driver, "unbind"), addr); !s.ok())
        return fail(s.error().wrap("unbinding " + addr + " from " + *c.entry.driver));
    }
    if (Status s = w.write(kDriversProbe, addr); !s.ok())
      return fail(s.error().wrap("probing " + addr + " for its host driver"));
    if (w.dry_run()) continue;
    auto now = current_driver(host, c.address);
    if (now && is_stub_driver(*now))
      return fail(io_error("returning " + addr +
                           " to the host failed: after drivers_probe it "
                           "is still on " +
                           *now));
  }
  if (Status s = w.remove(journal); !s.ok())
    return fail(s.error().wrap("cannot remove the journal, so the unbind is not committed"));

  for (DeviceChange& c : report.devices) {
    if (!c.changed || options.dry_run) continue;
    DeviceState s = read_state(host, c.address);
    c.driver_after = s.driver;
    c.override_after = s.override_;
    if (!s.driver)
      report.notes.push_back(c.address.to_string() +
                             " has no driver now: no loaded host driver matches it (load its "
                             "module, then `echo " +
                             c.address.to_string() + " > /sys/bus/pci/drivers_probe`)");
  }
  report.writes = w.log();
  return report;
}

Result<RecoverReport> recover(Host& host, const std::string& state_dir) {
  if (Status s = validate_state_dir(state_dir); !s.ok()) return s.error();
  RecoverReport report;
  std::string path = journal_path(state_dir);
  auto text = host.read_file(path);
  if (!text.ok()) {
    if (text.error().kind == ErrorKind::NotFound) return report;
    return text.error().wrap("cannot read the journal");
  }
  report.journal_found = true;
  auto journal = read_journal(path, *text);
  if (!journal.ok()) return journal.error();
  report.operation = journal->operation;
  Writer w(host, false);
  // A journal from an earlier boot describes bindings that no longer exist: the kernel probed
  // every device afresh at boot (and any persisted vfio-pci binding was applied then). Replaying
  // it would undo the boot's configuration, so it is only discarded.
  std::string now_boot = boot_id(host);
  if (!journal->boot_id.empty() && !now_boot.empty() && journal->boot_id != now_boot) {
    if (Status s = w.remove(path); !s.ok())
      return s.error().wrap("cannot remove the stale journal " + path);
    report.writes = w.log();
    report.notes.push_back("discarded " + path + ": it is from an earlier boot (boot_id " +
                           journal->boot_id + "), whose device bindings the reboot replaced");
    return report;
  }
  std::vector<std::string> restored;
  std::vector<std::string> failures = restore_all(w, journal->devices, restored);
  // Reverse iterators, not std::views::reverse (modernize-loop-convert's advice): clang 14
  // cannot compile GCC 12's <ranges>, so the view would break clang-tidy itself.
  // NOLINTNEXTLINE(modernize-loop-convert)
  for (auto it = journal->devices.rbegin(); it != journal->devices.rend(); ++it) {
    const JournalDevice& d = *it;
    DeviceChange c;
    c.address = d.address;
    c.driver_before = d.entry.driver;
    c.override_before = d.entry.override_;
    c.iommu_group = d.iommu_group;
    DeviceState now = read_state(host, d.address);
    c.driver_after = now.driver;
    c.override_after = now.override_;
    c.changed = true;
    report.restored.push_back(c);
  }
  report.writes = w.log();
  if (!failures.empty()) {
    report.writes = w.log();
    return io_error("recovering the interrupted " + journal->operation + " from " + path +
                    " failed: " + join(failures, "; ") +
                    "\nthe journal is kept; fix the cause "
                    "and run `hostpass recover` again");
  }
  if (Status s = w.remove(path); !s.ok())
    return s.error().wrap("every device is restored, but the journal could not be removed");
  report.writes = w.log();
  for (const std::string& r : restored) report.notes.push_back("restored " + r);
  return report;
}

}  // namespace hostpass
