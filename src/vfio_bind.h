// vfio_bind.h — the bind engine: move PCI devices to vfio-pci (or another driver) and back,
// safely, with a journal, verification and rollback.
//
// Kernel contract (Documentation/ABI/testing/sysfs-bus-pci, drivers/pci/pci-driver.c):
//   1. echo DRIVER > /sys/bus/pci/devices/ADDR/driver_override   (only DRIVER may claim it)
//   2. echo ADDR   > /sys/bus/pci/devices/ADDR/driver/unbind      (when bound)
//   3. echo ADDR   > /sys/bus/pci/drivers_probe                   (not a bare write to bind)
//   4. verify: ADDR/driver -> .../drivers/DRIVER and /dev/vfio/<group> exists
// Unbind is the reverse: clear driver_override (write "\n"), unbind, drivers_probe, verify a
// non-vfio driver claimed it (or report that none exists).
//
// Rules: work per IOMMU group (every endpoint must end on a vfio driver or unbound, else refuse
// naming the siblings; whole_group binds them on purpose; bridges are left alone); refuse what the
// guards (guard.h: host use, SR-IOV, mdev parents, the ledger) block, for every device that would
// move, group siblings included — the root filesystem's controller even with force; journal before
// the first write (state_dir/journal.json), remove it on success; on any failure return every
// touched device to the driver and driver_override it had on entry. A device is never left
// without a driver unless it had none on entry.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "guard.h"
#include "host.h"
#include "pci_address.h"
#include "result.h"

namespace hostpass {

inline constexpr const char* kDefaultStateDir = "/var/lib/hostpass";

struct BindOptions {
  std::string driver = "vfio-pci";
  bool whole_group = false;  // --group: bind every endpoint of each device's IOMMU group
  ForceSet force;            // --force[=NAMES]: the guards to override (guard.h)
  bool dry_run = false;      // --dry-run: plan only, zero writes
  std::string state_dir = kDefaultStateDir;
  // What a refusal for a non-viable group tells the user to do with the endpoints that block it
  // (`siblings`, full addresses), phrased in the caller's own terms: bind "name them too, or use
  // --group", apply "name them too, in the apply file", assign "bind them first", one-deploy's
  // inventory "add them to pci_devices". The engine names no flag of its own; null: "name them
  // too".
  std::function<std::string(const std::vector<std::string>& siblings)> group_remedy;
  // The guards' facts, read once by the caller (the safety spine, safety_spine.h); null: the
  // engine reads them itself (read_guard_context with state_dir).
  const GuardContext* guards = nullptr;
};

// One mutation, in the order made. op: "write" (a sysfs attribute), "run" (a command; path is the
// command line), "replace" / "remove" (the journal). data is what is written ("" for the rest).
struct PlannedWrite {
  std::string path;
  std::string data;
  std::string op = "write";
};

struct DeviceChange {
  PciAddress address;
  std::optional<std::string> driver_before;    // none: was unbound
  std::optional<std::string> override_before;  // none: "(null)"
  std::optional<std::string> driver_after;
  bool changed = false;  // false: already in the wanted state (no-op)
  std::optional<int> iommu_group;
  std::optional<std::string> override_after;  // none: "(null)"
};

struct BindReport {
  std::vector<DeviceChange> devices;
  std::vector<PlannedWrite> writes;  // the ordered writes made (or, with dry_run, planned)
  std::vector<std::string> notes;    // what --force overrode, modules loaded, no-ops
};

// Binds `addresses` (and with whole_group their group siblings) to options.driver.
// REQUIRES: no journal in options.state_dir (run recover first; otherwise Refused).
// Loads the driver's module through host.run_command when /sys/bus/pci/drivers/<driver> is
// missing. Already-bound devices are no-ops (changed = false).
// Refused (exit 2) on host use, non-viable groups, bad input; Io/NotFound on failures, after
// rollback — the message then says what failed and what the rollback restored.
Result<BindReport> bind_devices(Host& host, const std::vector<PciAddress>& addresses,
                                const BindOptions& options);

// Returns `addresses` to their host drivers: clears driver_override, unbinds from the vfio
// driver (or pci-stub), drivers_probe, verifies no vfio driver holds it. A device on a host
// driver with no override is a no-op; an unbound one is reprobed. Ending with no driver (none
// matches) is success with a note. Refused when a process holds /dev/vfio/<group> open.
// Options used: dry_run, state_dir.
Result<BindReport> unbind_devices(Host& host, const std::vector<PciAddress>& addresses,
                                  const BindOptions& options);

struct RecoverReport {
  bool journal_found = false;
  std::string operation;  // what was interrupted: "bind" or "unbind"
  std::vector<DeviceChange> restored;
  std::vector<std::string> notes;
  std::vector<PlannedWrite> writes;  // the writes recover made
};

// What a journal says (see vfio_bind.cc for the format).
struct JournalEntry {
  PciAddress address;
  std::optional<std::string> driver;           // none: was unbound
  std::optional<std::string> driver_override;  // none: "(null)"
  std::optional<int> iommu_group;
};
struct JournalContents {
  std::string operation;  // "bind" or "unbind"
  std::string boot_id;    // "" when the journal does not say
  std::vector<JournalEntry> devices;
};

// Parses a journal strictly: every address canonical, every driver name valid, so that replaying
// it can only write under /sys/bus/pci. Io error (naming `path`) on anything else.
Result<JournalContents> parse_journal(const std::string& path, const std::string& text);

// state_dir + "/journal.json".
std::string journal_path(const std::string& state_dir);

// InvalidInput unless `dir` is an absolute path without "." or ".." components (a trailing
// slash is allowed): where the journal and the state lock (state_lock.h) may live.
Status validate_state_dir(const std::string& dir);

// Driver names as they appear under /sys/bus/pci/drivers: [A-Za-z0-9_.-], 1..64 characters.
Status validate_driver_name(const std::string& driver);

// Repairs an interrupted bind/unbind from state_dir's journal: every device it names is returned
// to its original driver and override; then the journal is removed. No journal: nothing to do.
Result<RecoverReport> recover(Host& host, const std::string& state_dir = kDefaultStateDir);

}  // namespace hostpass
