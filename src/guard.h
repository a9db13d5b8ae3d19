// guard.h — the guards: what would hurt the host if a device went to a vfio driver, now (bind,
// apply, a DRA prepare) or at the next boot (persist's modprobe ids=, vfio-pci.ids=, a
// MachineConfig, OpenNebula's PCI_FILTER).
//
// A guard looks at one device and says why it must not move: the host uses it (host_use.h), the
// host's own view cannot be seen, it is an SR-IOV physical function whose VFs would vanish, it is
// a vGPU parent with mdev instances, the ledger has it assigned to a VM, or (mdev apply) a wanted
// type that matches nothing on this host, probably a typo, while the plan removes instances: the
// plan is then destructive for a reason the user did not mean. Each blocker names the
// device, its guard and the concrete reason, so a refusal lists every blocker at once.
//
// Overriding: two guards are never overridable (the root filesystem, and a host whose mounts and
// routes cannot be seen: then nothing is known to be safe). Every other guard yields to --force,
// the one convention of every mutating command: `--force` overrides every overridable guard,
// `--force=mounted,network-up` only the named ones (the names are guard_name()'s), and each
// override is reported as a note naming the device and the reason.
//
// The facts the guards need are read once per operation, by read_guard_context: the host-use scan
// (host_use.h), the live mdev instances (/sys/bus/mdev/devices, mdev.h) and mdevctl's
// definitions (/etc/mdevctl.d/<parent>/<uuid>), and the ledger's assignments
// (<state_dir>/ledger.db, ledger.h). device_blockers and mdev_blockers then judge one device from
// that context; the safety spine (safety_spine.h) and the bind engine (vfio_bind.h) are their
// callers, so every mutating path refuses for the same reasons in the same words.
//
// What it deliberately does not do: read anything itself except through those helpers, or decide
// readiness (IOMMU, modules: preflight.h), which a refusal lists after the guards.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "host_use.h"
#include "mdev.h"
#include "pci_address.h"
#include "pci_device.h"
#include "result.h"

namespace hostpass {

enum class Guard {
  RootFilesystem,  // a block device below it holds "/": never overridable
  HostUnseen,      // the host's mounts/routes are not visible from here: never overridable
  Mounted,
  Swap,
  NetworkUp,
  DefaultRoute,
  BootVga,
  SriovVfs,        // an SR-IOV PF with VFs enabled: unbinding its driver destroys them
  MdevLive,        // a vGPU/mdev parent with live mdev instances
  MdevDefined,     // a parent with mdevctl-defined (persistent) instances
  LedgerAssigned,  // the ledger has it (or one of its mdevs) assigned to a VM
  UnmatchedType,   // mdev apply would remove instances while a wanted type matches nothing here
};

// "root-filesystem", "host-unseen", "mounted", "swap", "network-up", "default-route",
// "boot-vga", "sriov-vfs", "mdev-live", "mdev-defined", "assigned", "unmatched-type".
const char* guard_name(Guard guard);
// The guard of a name above; InvalidInput listing the names otherwise.
Result<Guard> parse_guard_name(std::string_view name);
bool guard_overridable(Guard guard);
// The guard of a host-use reason (HostUse::Kind maps one to one).
Guard guard_of(HostUse::Kind kind);

struct Blocker {
  PciAddress address;
  Guard guard;
  std::string reason;  // "it holds the root filesystem (/dev/nvme0n1p2 on /)"
  // What the refusal names instead of the bare address, when that says more: "0000:01:00.1 (in
  // IOMMU group 6, taken by --group)", "mdev 4b20d080-... on 0000:01:00.0". Empty: the address.
  std::string subject = {};
  std::string who() const { return subject.empty() ? address.to_string() : subject; }
};

// What --force overrides.
struct ForceSet {
  bool all = false;        // bare --force
  std::set<Guard> guards;  // --force=NAME[,NAME...]
  bool overrides(Guard guard) const {
    return guard_overridable(guard) && (all || guards.contains(guard));
  }
  bool empty() const { return !all && guards.empty(); }
  // From the flag's values: none → nothing forced; "" or "all" → all; else comma-separated
  // guard names. InvalidInput on an unknown name, or a name that is never overridable.
  static Result<ForceSet> parse(const std::vector<std::string>& values);
};

// The blockers of one device from the host-use scan: each of device.in_use's reasons (so
// REQUIRES: attach_host_use(host, uses, device) was called, which also adds the boot display),
// and HostUnseen when `uses.unseen` is set.
std::vector<Blocker> host_use_blockers(const HostUseMap& uses, const PciDevice& device);

// What a mutation would do to a device: the guards that matter differ.
//   Bind        move it to a driver (bind, apply, assign): every guard below.
//   Unbind      give it back to the host (unbind, apply's `driver: host`): only what it would
//               take from a VM or a vGPU: mdev-live, mdev-defined, assigned (host use does not
//               apply: the host gets the device back).
//   MdevRemove  remove an mdev instance (mdev remove, mdev apply's removals): assigned.
//   MdevCreate  create an instance on a parent: nothing device-specific (the parent stays on its
//               host driver), only host-unseen.
// Every operation is refused when the host's own view cannot be seen (HostUnseen).
enum class GuardOp { Bind, Unbind, MdevCreate, MdevRemove };

// One ledger row, as the guards need it (ledger.h owns the full record).
struct GuardAssignment {
  std::string device;  // "0000:65:00.0" or an mdev UUID
  std::string vm;
};

// Everything the guards judge from, read once.
struct GuardContext {
  HostUseMap uses;
  std::vector<MdevInstance> mdevs;               // live (/sys/bus/mdev/devices)
  std::vector<MdevDefinition> mdev_definitions;  // mdevctl's (/etc/mdevctl.d)
  std::vector<GuardAssignment> assignments;      // the ledger's rows
  std::vector<std::string> warnings;             // what could not be read, skipped
};

// Reads the context: detect_host_use, list_mdev_instances, list_mdev_definitions and, when
// `state_dir` is not empty, list_assignments(state_dir). A ledger that cannot be read fails (the
// guards would not know who owns what); an absent one has no rows. Unreadable mdev entries are
// warnings.
Result<GuardContext> read_guard_context(Host& host, const std::string& state_dir);

// The blockers of doing `op` to `device` (read with Detail::Full; this attaches host use to it).
// `target_driver` is where a Bind moves it: a device already there moves nowhere and has only
// the HostUnseen blocker. Order: host unseen, host use (root filesystem first, as the scan
// lists them), SR-IOV, live mdevs, defined mdevs, the ledger.
std::vector<Blocker> device_blockers(Host& host, const GuardContext& context, PciDevice& device,
                                     GuardOp op, const std::string& target_driver = "vfio-pci");
// The blockers of doing `op` (MdevRemove or MdevCreate) to the mdev `uuid` on `parent` (a PCI
// address or another bus id; when it is not a PCI address the blockers carry 0000:00:00.0 and
// name the parent in `subject`).
std::vector<Blocker> mdev_blockers(const GuardContext& context, const std::string& uuid,
                                   const std::string& parent, GuardOp op);
// HostUnseen alone, for operations without a device (subject: what is being done).
std::vector<Blocker> unseen_blockers(const GuardContext& context, const std::string& subject);

// Splits blockers into those --force overrides and those that stand.
struct GuardVerdict {
  std::vector<Blocker> refused;  // stand: the device must not move
  std::vector<Blocker> forced;   // overridden by --force: say so
  bool ok() const { return refused.empty(); }
};
GuardVerdict apply_force(const std::vector<Blocker>& blockers, const ForceSet& force);

// One line per blocker, in order: "refusing 0000:04:00.0: it holds the root filesystem
// (/dev/nvme0n1p2 on /); --force does not override this" / "... (free it first, or
// --force=mounted to take it anyway)". The caller joins them with "\n".
std::string refusal_line(const Blocker& b);
// The lines of a refusal of `refused` (the blockers --force left standing), so that no line
// offers --force where it cannot help: refusal_line for each, except that an overridable blocker
// of a device that also has a never-overridable one says --force would not take that device;
// and when some devices could be forced and others never, a last line says which are which.
std::vector<std::string> refusal_lines(const std::vector<Blocker>& refused);
// "--force=mounted: overriding for 0000:05:00.0: a mounted filesystem (/dev/nvme1n1p1 on /data)"
std::string forced_note(const Blocker& b);

}  // namespace hostpass
