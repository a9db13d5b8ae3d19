// safety_spine.h — the one path every mutating hostpass operation takes, in this order:
//
//   1. state lock      <state_dir>/lock (state_lock.h): one mutating hostpass at a time
//   2. recover         an interrupted bind/unbind's journal is replayed (vfio_bind.h recover)
//   3. ledger repair   an interrupted assign/release is finished (ledger.h repair_ledger)
//   4. plan            what would move: the named devices, an apply file's plan (made once: the
//                      plan a caller prints is the plan executed), an mdev plan
//   5. guards          every device that would move is judged by guard.h (host use, host unseen,
//                      SR-IOV, vGPU parents, the ledger); a verdict per device, --force applied
//   6. preflight gate  IOMMU and VFIO modules (preflight.h) for operations that bind to vfio;
//                      a refusal lists every blocker first, then readiness, and exits 2
//   7. journal → writes → verify → rollback: the bind engine (vfio_bind.cc), which guards again
//                      what only it discovers (the group siblings --group takes)
//
// Users: bind, unbind, recover, apply, assign, release, mdev create/remove/apply, and the entry of
// persist --write and kernel-args --apply (steps 1–3 through Spine::open, then their own writes).
// A future node agent or DRA driver opens a Spine, judges its devices, refuses the ones whose
// verdict stands and converges the rest; `apply` stays all-or-nothing on top of the verdicts.
//
// Dry runs take no lock and recover nothing (they only read; the engine notes a journal it
// finds), but they plan, judge and gate exactly as the real run does, so `--dry-run` shows the
// same refusal.
//
// What it deliberately does not do: parse flags or print (the CLI's), decide what a guard means
// (guard.h), or perform sysfs writes itself (the bind engine, mdev.h, ledger.h).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apply_config.h"
#include "guard.h"
#include "host.h"
#include "ledger.h"
#include "mdev.h"
#include "mdev_apply.h"
#include "pci_address.h"
#include "result.h"
#include "state_lock.h"
#include "vfio_bind.h"

namespace hostpass {

struct SpineOptions {
  std::string state_dir = kDefaultStateDir;
  bool dry_run = false;
  ForceSet force;
  std::chrono::milliseconds lock_timeout = kDefaultLockTimeout;
  std::string command;  // for the lock file and a waiter's message: "bind 0000:01:00.0"
  std::function<void(const std::string&)> on_wait;  // "waiting for hostpass (pid ...) ..."
};

// What opening found and finished before the operation's own work (steps 2 and 3).
struct SpineOpening {
  std::optional<RecoverReport> recovered;  // set when an interrupted bind/unbind was replayed
  std::optional<LedgerRepairReport>
      repaired;  // set when an interrupted assign/release was finished
};

// The guards' verdict on one device.
struct DeviceVerdict {
  PciAddress address;
  GuardOp op = GuardOp::Bind;
  GuardVerdict verdict;
};

class Spine {
 public:
  // Steps 1–3 (none of them for a dry run). InvalidInput for a bad state_dir, before any write;
  // the lock's error when it stays held; a recover/repair failure wrapped in "an interrupted
  // operation could not be recovered, so nothing new was started". `opening` is filled as far as
  // it got, also on failure.
  static Result<std::unique_ptr<Spine>> open(Host& host, const SpineOptions& options,
                                             SpineOpening& opening);

  Host& host() { return host_; }
  const SpineOptions& options() const { return options_; }

  // Step 5's facts, read on first use (guard.h read_guard_context, with the ledger).
  Result<const GuardContext*> context();
  // Step 5: the verdict for each device (each read with Detail::Full; NotFound when absent).
  Result<std::vector<DeviceVerdict>> judge(const std::vector<PciAddress>& addresses, GuardOp op,
                                           const std::string& target_driver = "vfio-pci");
  // Step 6: ok when no verdict stands and (needs_vfio) the host is ready. Refused listing every
  // standing blocker in order, then the readiness failure; the gate's own error when only
  // readiness fails.
  Status gate(const std::vector<DeviceVerdict>& verdicts, bool needs_vfio);
  // Refused listing `blockers` after --force, or ok; `notes` gets a note per override.
  Status refuse(const std::vector<Blocker>& blockers, std::vector<std::string>& notes) const;

 private:
  Spine(Host& host, SpineOptions options) : host_(host), options_(std::move(options)) {}

  Host& host_;
  SpineOptions options_;
  std::unique_ptr<FileLock> lock_;
  std::optional<GuardContext> context_;
};

// ---- the entry points: each opens a Spine, then runs steps 4–7 for its operation ----

struct SpineBindRequest {
  std::vector<PciAddress> addresses;
  std::string driver = "vfio-pci";
  bool whole_group = false;  // --group
  // How a non-viable group's refusal says to include its other endpoints (BindOptions).
  std::function<std::string(const std::vector<std::string>& siblings)> group_remedy = {};
};

// bind: guards on the named devices, the gate (for vfio drivers), then bind_devices.
Result<BindReport> spine_bind(Host& host, const SpineOptions& options,
                              const SpineBindRequest& request, SpineOpening& opening);
// unbind: guards (GuardOp::Unbind) on the named devices, then unbind_devices.
Result<BindReport> spine_unbind(Host& host, const SpineOptions& options,
                                const std::vector<PciAddress>& addresses, SpineOpening& opening);
// recover: steps 1–3 alone; the report merges the ledger's repair into the journal's.
Result<RecoverReport> spine_recover(Host& host, const SpineOptions& options);

// apply: plans once (plan_apply under the lock), hands the plan to `on_plan` (what the caller
// prints), judges every device the plan changes (binds and `driver: host` releases), gates, then
// runs exactly that plan (apply_plan). All or nothing: one standing verdict refuses the run.
Result<ApplyReport> spine_apply(Host& host, const SpineOptions& options, const ApplyConfig& config,
                                const std::function<void(const ApplyPlan&)>& on_plan,
                                SpineOpening& opening);

// assign / release through the ledger (ledger.h). A PCI address is judged before the ledger is
// opened (host use first, with the readiness after it); resource units are judged by the engine.
Result<AssignReport> spine_assign(Host& host, const SpineOptions& options, AssignRequest request,
                                  const Inventory* inventory, SpineOpening& opening);
Result<ReleaseReport> spine_release(Host& host, const SpineOptions& options, ReleaseRequest request,
                                    SpineOpening& opening);

// mdev create: the instance, and its mdevctl definition when `persist`.
Result<MdevInstance> spine_mdev_create(Host& host, const SpineOptions& options,
                                       const MdevCreateRequest& request, bool persist,
                                       SpineOpening& opening);
struct MdevRemoveReport {
  bool was_active = false;
  bool undefined = false;
  std::vector<std::string> notes;  // --force overrides
};
// mdev remove: refused while the ledger has the instance assigned (--force=assigned overrides).
Result<MdevRemoveReport> spine_mdev_remove(Host& host, const SpineOptions& options,
                                           const std::string& uuid, bool keep_definition,
                                           SpineOpening& opening);

struct MdevApplyRequest {
  const Policy* policy = nullptr;  // the CR
  std::map<std::string, std::string> node_labels;
  bool keep_undesired = false;
  bool persist = true;  // mdevctl definitions for what is created
};
struct MdevApplyRun {
  std::vector<std::string> warnings;  // unreadable sysfs entries
  MdevApplyPlan plan;
  MdevApplyResult result;          // empty for a dry run
  std::vector<std::string> notes;  // --force overrides
};
// mdev apply: the plan (mdev_apply.h) made under the lock; refused when a removal would take an
// instance the ledger has assigned to a VM, or when it removes instances while a wanted type
// matches no type here (unmatched_type_blockers: a probable typo), unless --force.
Result<MdevApplyRun> spine_mdev_apply(Host& host, const SpineOptions& options,
                                      const MdevApplyRequest& request, SpineOpening& opening);

}  // namespace hostpass
