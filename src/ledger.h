// ledger.h — which VM owns which device on this host: a crash-safe, concurrency-safe ledger of
// assignments, and the assign/release operations that keep it and the kernel in agreement.
//
// Storage: one SQLite database, <state_dir>/ledger.db (state_dir defaults to /var/lib/hostpass
// under --root; the path reaches SQLite through Host::resolve, the one place SQLite touches the
// filesystem). WAL journal, synchronous=FULL, busy timeout 30 s, schema version in PRAGMA
// user_version (kLedgerSchemaVersion). A file that is not a SQLite database, a database without
// hostpass's table, or one with a newer user_version is refused with a message naming it, and
// never written. One transaction per change (an assign, a release, a repair).
//
//   CREATE TABLE assignments (
//     device TEXT PRIMARY KEY,  -- "0000:65:00.0", an mdev UUID, "usb-1-2": one row per member
//     kind TEXT NOT NULL,       -- "pci" | "mdev" | "usb"
//     unit TEXT NOT NULL,       -- the unit the member belongs to (members go and come together)
//     vm TEXT NOT NULL,
//     resource TEXT,            -- the resourceName it was assigned through, or NULL
//     original_driver TEXT,     -- PCI: the driver on entry (NULL: unbound)
//     original_override TEXT,   -- PCI: driver_override on entry (NULL: "(null)")
//     numa_node INTEGER,
//     assigned_at TEXT NOT NULL -- RFC 3339, UTC
//   );
// The PRIMARY KEY is what makes a second owner impossible, even for a buggy caller.
//
// Concurrency: every change runs inside BEGIN IMMEDIATE, which takes SQLite's write lock before
// reading, so two hostpass processes never pick the same free unit; the lock is held across the
// bind engine's work (the engine itself does not lock, vfio_bind.h), and the bind engine's
// recover() runs only under it, so it never mistakes another process's bind in progress for an
// interrupted one.
//
// Crash safety: the kernel (sysfs) and the database cannot share a transaction, so an intent file
// (<state_dir>/ledger-intent.json, written atomically) records what a change is about to do
// before the first sysfs write and is removed after the commit. repair_ledger() — run by
// `hostpass recover` and first by every ledger command, under the lock — finishes the job:
// an assign that did not commit is rolled back (its devices return to their host drivers), a
// release that did not commit is rolled forward (devices returned, rows deleted). Afterwards no
// device is bound for a VM without a record, and no record names a PCI device that is not on a
// vfio driver or an mdev that no longer exists (such records are dropped, with a note).
//
// What it deliberately does not do: start or stop VMs, or check that a VM named in the ledger
// exists (the ledger is the single host's allocation table; libvirt/QEMU/OpenNebula own VMs).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host.h"
#include "kubevirt_inventory.h"
#include "result.h"
#include "vfio_bind.h"
#include "vm_unit.h"

namespace hostpass {

inline constexpr int kLedgerSchemaVersion = 1;

std::string ledger_path(const std::string& state_dir);         // <state_dir>/ledger.db
std::string ledger_intent_path(const std::string& state_dir);  // <state_dir>/ledger-intent.json

struct Assignment {
  std::string device;
  UnitKind kind = UnitKind::Pci;
  std::string unit;
  std::string vm;
  std::string resource;  // empty: assigned by device name
  std::optional<std::string> original_driver;
  std::optional<std::string> original_override;
  std::optional<int> numa_node;
  std::string assigned_at;
};

// Every assignment, sorted by VM then device. A ledger that does not exist yet is empty (and is
// not created).
Result<std::vector<Assignment>> list_assignments(Host& host, const std::string& state_dir);

// The units the ledger gives to `vm`, in the ledger's order, each rebuilt from its member rows
// with its facts read from this host (read_unit per member), its id and resource as recorded.
// NotFound when the VM has no assignment; a member this host no longer has fails, naming it.
Result<std::vector<AssignableUnit>> assigned_units(Host& host, const std::string& state_dir,
                                                   const std::string& vm);

// A VM name: 1..128 characters of [A-Za-z0-9._:@-], not starting with '-' (libvirt, QEMU,
// KubeVirt and OpenNebula names all fit).
Status validate_vm_name(std::string_view vm);

// The ledger ids of a unit's members, one row each: PCI addresses, the mdev UUID, "usb-<port>"
// per USB device.
std::vector<std::string> member_ids(const AssignableUnit& unit);

// THE free-unit rule, shared by assign, render and anything else that picks a unit: a unit is
// free when no ledger row names any of its members, whatever unit that row was recorded under
// (a function assigned alone by its address holds the multi-function unit it belongs to).
// Returns the row holding one of `unit`'s members, or nullptr when the unit is free.
const Assignment* unit_holder(const AssignableUnit& unit, const std::vector<Assignment>& rows);

struct FreeUnitQuery {
  std::optional<int> numa_node;  // only units on this NUMA node
  // When not empty: a unit of the resource this VM already holds (recorded under that unit's id)
  // is returned with `already`, before any free one; assigning is then a no-op.
  std::string vm;
};

struct FreeUnit {
  AssignableUnit unit;  // its facts read from this host (read_inventory_unit)
  bool already = false;
};

// The first healthy unit of `resource`, in inventory (policy) order, that unit_holder() finds
// free in `rows` (and on query.numa_node when given). Units whose facts cannot be read from this
// host are skipped. Refused when there is none, saying why: "no free unit of R [on NUMA node N]
// (H healthy units, T assigned[, E free on other NUMA nodes (0, 1)])".
Result<FreeUnit> first_free_unit(Host& host, const ResourceInventory& resource,
                                 const std::vector<Assignment>& rows, const FreeUnitQuery& query);

struct AssignRequest {
  std::string device;  // PCI address, mdev UUID, usb-<port>[+...], or a resource name
  std::string vm;
  std::optional<int> numa_node;  // resource names: only units on this NUMA node
  BindOptions bind;              // driver, force, state_dir (whole_group/dry_run are not used)
  // Test hook: called at each step ("locked", "intent", "bound", "committed"); returning true
  // stops there as a crash would (no rollback, no commit, intent left in place).
  std::function<bool(std::string_view step)> crash_at;
};

struct AssignReport {
  std::vector<Assignment> assigned;
  bool already = false;  // the unit was already this VM's: nothing changed
  std::optional<BindReport> bind;
  std::vector<std::string> notes;  // what repair did first, NUMA choices
};

// Assigns a unit to a VM. For a resource name, `inventory` (built from the CR) supplies the
// units; first_free_unit() picks one (on numa_node when given). PCI members not yet
// on a vfio driver are bound through the bind engine with all its guards. Refused when any
// member already belongs to another VM. InvalidInput when request.bind.driver is not a VFIO
// driver (vfio_rules.h): a device on pci-stub is held from the host but no VM can open it.
Result<AssignReport> assign_device(Host& host, const AssignRequest& request,
                                   const Inventory* inventory);

struct ReleaseRequest {
  std::string device;  // any member or unit id; or empty with `vm`
  std::string vm;      // every unit of this VM
  std::string state_dir = kDefaultStateDir;
  std::function<bool(std::string_view step)> crash_at;  // "locked", "intent", "returned"
};

struct ReleaseReport {
  std::vector<Assignment> released;
  std::optional<BindReport> unbind;
  std::vector<std::string> notes;
};

// Returns every member of the named units to the driver it had on entry (devices that were
// held from the host before the assignment, on a vfio driver or pci-stub, stay off it) and
// deletes their records. NotFound when nothing matches.
// The request's names alone (a device or --vm, well-formed): InvalidInput before anything is
// opened, so that a bad name leaves no state directory or lock behind.
Status validate_release_request(const ReleaseRequest& request);
Result<ReleaseReport> release_devices(Host& host, const ReleaseRequest& request);

struct LedgerRepairReport {
  bool intent_found = false;
  std::string operation;  // "assign" (rolled back) or "release" (rolled forward)
  std::vector<std::string> notes;
  std::optional<BindReport> unbind;
};

// The ledger-repair hook: `hostpass recover` calls it after the bind engine's recover(); every
// ledger command calls it first (under the ledger's lock). A state dir without a ledger is
// nothing to repair (and nothing is created).
Result<LedgerRepairReport> repair_ledger(Host& host, const std::string& state_dir);

}  // namespace hostpass
