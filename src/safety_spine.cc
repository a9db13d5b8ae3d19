// safety_spine.cc — see safety_spine.h. The steps are numbered as there; each entry point below
// reads top to bottom in that order.
#include "safety_spine.h"

#include <algorithm>

#include "passthrough_summary.h"
#include "pci_device.h"
#include "preflight.h"
#include "vfio_rules.h"
#include "vm_unit.h"

namespace hostpass {

namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

Error not_recovered(const Error& e) {
  return e.kind == ErrorKind::InvalidInput
             ? e
             : e.wrap(
                   "an interrupted operation could not be recovered, so nothing new was "
                   "started");
}

}  // namespace

// ---- steps 1–3 ----

Result<std::unique_ptr<Spine>> Spine::open(Host& host, const SpineOptions& options,
                                           SpineOpening& opening) {
  if (Status s = validate_state_dir(options.state_dir); !s.ok()) return s.error();
  std::unique_ptr<Spine> spine(new Spine(host, options));
  if (options.dry_run) return spine;  // a dry run only reads: no lock, nothing recovered

  // 1. One mutating hostpass at a time, before anything reads the journal or the drivers.
  StateLockOptions lo;
  lo.timeout = options.lock_timeout;
  lo.command = options.command;
  lo.on_wait = options.on_wait;
  auto lock = lock_state_dir(host, options.state_dir, lo);
  if (!lock.ok()) return lock.error();
  spine->lock_ = std::move(*lock);

  // 2. An interrupted bind/unbind: every device back to its entry state.
  auto r = recover(host, options.state_dir);
  if (!r.ok()) return not_recovered(r.error());
  if (r->journal_found) opening.recovered = std::move(*r);

  // 3. An interrupted assign/release (it finds no journal left to replay).
  auto l = repair_ledger(host, options.state_dir);
  if (!l.ok()) return not_recovered(l.error());
  if (l->intent_found) opening.repaired = std::move(*l);
  return spine;
}

// ---- steps 5 and 6 ----

Result<const GuardContext*> Spine::context() {
  if (!context_) {
    auto c = read_guard_context(host_, options_.state_dir);
    if (!c.ok()) return c.error();
    context_ = std::move(*c);
  }
  return &*context_;
}

Result<std::vector<DeviceVerdict>> Spine::judge(const std::vector<PciAddress>& addresses,
                                                GuardOp op, const std::string& target_driver) {
  auto c = context();
  if (!c.ok()) return c.error();
  std::vector<DeviceVerdict> out;
  for (const PciAddress& a : addresses) {
    if (std::any_of(out.begin(), out.end(), [&](const DeviceVerdict& v) { return v.address == a; }))
      continue;
    auto d = read_pci_device(host_, a, Detail::Full);
    if (!d.ok()) return d.error();
    out.push_back(DeviceVerdict{
        a, op, apply_force(device_blockers(host_, **c, *d, op, target_driver), options_.force)});
  }
  return out;
}

Status Spine::gate(const std::vector<DeviceVerdict>& verdicts, bool needs_vfio) {
  std::vector<Blocker> standing;
  for (const DeviceVerdict& v : verdicts)
    standing.insert(standing.end(), v.verdict.refused.begin(), v.verdict.refused.end());
  std::vector<std::string> lines = refusal_lines(standing);
  Status ready = needs_vfio ? preflight_gate(host_) : ok_status();
  if (lines.empty()) return ready;
  if (!ready.ok()) lines.push_back("and the host is not ready: " + ready.error().message);
  return refused(join_lines(lines));
}

Status Spine::refuse(const std::vector<Blocker>& blockers, std::vector<std::string>& notes) const {
  GuardVerdict v = apply_force(blockers, options_.force);
  std::vector<std::string> lines = refusal_lines(v.refused);
  if (!lines.empty()) return refused(join_lines(lines));
  for (const Blocker& b : v.forced) notes.push_back(forced_note(b));
  return ok_status();
}

namespace {

// The --force notes of verdicts the engine does not report itself (it reports its binds').
void add_forced_notes(const std::vector<DeviceVerdict>& verdicts, std::vector<std::string>& notes) {
  for (const DeviceVerdict& v : verdicts)
    if (v.op != GuardOp::Bind)
      for (const Blocker& b : v.verdict.forced) notes.push_back(forced_note(b));
}

}  // namespace

// ---- bind, unbind, recover ----

Result<BindReport> spine_bind(Host& host, const SpineOptions& options,
                              const SpineBindRequest& request, SpineOpening& opening) {
  if (Status s = validate_driver_name(request.driver); !s.ok()) return s.error();
  auto spine = Spine::open(host, options, opening);  // 1–3
  if (!spine.ok()) return spine.error();
  Spine& sp = **spine;
  // 4–5. The plan is the named devices; the engine adds the siblings --group takes.
  auto verdicts = sp.judge(request.addresses, GuardOp::Bind, request.driver);
  if (!verdicts.ok()) return verdicts.error();
  // 6. Binding to vfio needs an active IOMMU and the VFIO modules.
  if (Status s = sp.gate(*verdicts, is_vfio_driver(request.driver)); !s.ok()) return s.error();
  // 7. Journal, writes, verify, rollback.
  BindOptions b;
  b.driver = request.driver;
  b.whole_group = request.whole_group;
  b.group_remedy = request.group_remedy;
  b.force = options.force;
  b.dry_run = options.dry_run;
  b.state_dir = options.state_dir;
  b.guards = *sp.context();
  return bind_devices(host, request.addresses, b);
}

Result<BindReport> spine_unbind(Host& host, const SpineOptions& options,
                                const std::vector<PciAddress>& addresses, SpineOpening& opening) {
  auto spine = Spine::open(host, options, opening);  // 1–3
  if (!spine.ok()) return spine.error();
  Spine& sp = **spine;
  auto verdicts = sp.judge(addresses, GuardOp::Unbind);  // 4–5
  if (!verdicts.ok()) return verdicts.error();
  if (Status s = sp.gate(*verdicts, false); !s.ok()) return s.error();  // 6: no readiness needed
  BindOptions b;
  b.dry_run = options.dry_run;
  b.state_dir = options.state_dir;
  auto r = unbind_devices(host, addresses, b);  // 7
  if (r.ok()) add_forced_notes(*verdicts, r->notes);
  return r;
}

Result<RecoverReport> spine_recover(Host& host, const SpineOptions& options) {
  SpineOpening opening;
  auto spine = Spine::open(host, options, opening);
  if (!spine.ok()) {
    // `recover` is the command that recovers: its own failure is not "could not recover first".
    return spine.error();
  }
  RecoverReport r = opening.recovered.value_or(RecoverReport{});
  if (opening.repaired) {
    for (const std::string& n : opening.repaired->notes) r.notes.push_back(n);
    r.journal_found = true;
    if (r.operation.empty()) r.operation = opening.repaired->operation;
  }
  return r;
}

// ---- apply ----

Result<ApplyReport> spine_apply(Host& host, const SpineOptions& options, const ApplyConfig& config,
                                const std::function<void(const ApplyPlan&)>& on_plan,
                                SpineOpening& opening) {
  auto spine = Spine::open(host, options, opening);  // 1–3
  if (!spine.ok()) return spine.error();
  Spine& sp = **spine;
  auto context = sp.context();
  if (!context.ok()) return context.error();
  // 4. The plan, once: what on_plan shows is what runs.
  auto plan = plan_apply(host, config, *context);
  if (!plan.ok()) return plan.error();
  if (on_plan) on_plan(*plan);
  if (!plan->changes()) return ApplyReport{*plan, {}};
  // 5. Every device the plan changes, each judged for where it goes.
  std::vector<DeviceVerdict> verdicts;
  bool binds_to_vfio = false;
  for (const ApplyItem& i : plan->items) {
    if (!i.change) continue;
    bool release = i.driver == kHostDriver;
    binds_to_vfio = binds_to_vfio || (!release && is_vfio_driver(i.driver));
    auto v = sp.judge({i.address}, release ? GuardOp::Unbind : GuardOp::Bind, i.driver);
    if (!v.ok()) return v.error();
    verdicts.push_back(v->front());
  }
  // 6. All or nothing: one standing verdict refuses the whole file.
  if (Status s = sp.gate(verdicts, binds_to_vfio); !s.ok()) return s.error();
  // 7.
  ApplyOptions o;
  o.dry_run = options.dry_run;
  o.force = options.force;
  o.state_dir = options.state_dir;
  o.guards = *context;
  auto r = apply_plan(host, *plan, o);
  if (r.ok() && !r->steps.empty()) add_forced_notes(verdicts, r->steps.front().notes);
  return r;
}

// ---- assign, release ----

Result<AssignReport> spine_assign(Host& host, const SpineOptions& options, AssignRequest request,
                                  const Inventory* inventory, SpineOpening& opening) {
  auto spine = Spine::open(host, options, opening);  // 1–3
  if (!spine.ok()) return spine.error();
  Spine& sp = **spine;
  auto context = sp.context();
  if (!context.ok()) return context.error();
  std::vector<DeviceVerdict> verdicts;
  if (classify_unit_name(request.device) == NameKind::PciAddress) {
    auto a = PciAddress::parse_full(request.device);
    if (!a.ok()) return a.error();
    auto v = sp.judge({*a}, GuardOp::Bind, request.bind.driver);  // 5
    if (!v.ok()) return v.error();
    verdicts = std::move(*v);
    // 6: readiness is the engine's to find if it binds (a device already on vfio needs none).
    if (Status s = sp.gate(verdicts, !verdicts.front().verdict.refused.empty()); !s.ok())
      return s.error();
  } else {
    std::vector<std::string> notes;
    if (Status s = sp.refuse(unseen_blockers(**context, "assign " + request.device), notes);
        !s.ok())
      return s.error();
  }
  request.bind.force = options.force;
  request.bind.state_dir = options.state_dir;
  request.bind.guards = *context;
  return assign_device(host, request, inventory);  // 7, the engine guarding what it binds
}

Result<ReleaseReport> spine_release(Host& host, const SpineOptions& options, ReleaseRequest request,
                                    SpineOpening& opening) {
  if (Status s = validate_release_request(request); !s.ok()) return s.error();  // before the lock
  auto spine = Spine::open(host, options, opening);                             // 1–3
  if (!spine.ok()) return spine.error();
  Spine& sp = **spine;
  auto context = sp.context();
  if (!context.ok()) return context.error();
  // 5. Releasing gives devices back to the host: only a host that cannot be seen stands.
  std::vector<std::string> notes;
  std::string what =
      request.device.empty() ? "release --vm " + request.vm : "release " + request.device;
  if (Status s = sp.refuse(unseen_blockers(**context, what), notes); !s.ok()) return s.error();
  request.state_dir = options.state_dir;
  return release_devices(host, request);  // 7
}

// ---- mdev ----

Result<MdevInstance> spine_mdev_create(Host& host, const SpineOptions& options,
                                       const MdevCreateRequest& request, bool persist,
                                       SpineOpening& opening) {
  auto spine = Spine::open(host, options, opening);  // 1–3
  if (!spine.ok()) return spine.error();
  Spine& sp = **spine;
  auto context = sp.context();
  if (!context.ok()) return context.error();
  std::vector<std::string> notes;
  if (Status s = sp.refuse(mdev_blockers(**context, request.uuid.value_or("(new)"), request.parent,
                                         GuardOp::MdevCreate),
                           notes);
      !s.ok())
    return s.error();
  auto made = create_mdev(host, request);
  if (!made.ok()) return made.error();
  if (persist) {
    Status s = define_mdev(host, MdevDefinition{made->uuid, made->parent, made->type_id, true, {}});
    if (!s.ok()) return s.error().wrap("created " + made->uuid + " but");
  }
  return made;
}

namespace {

// The parent of `uuid`: the live instance's, else its mdevctl definition's ("" when neither).
std::string mdev_parent(const GuardContext& c, const std::string& uuid) {
  for (const MdevInstance& m : c.mdevs)
    if (m.uuid == uuid) return m.parent;
  for (const MdevDefinition& d : c.mdev_definitions)
    if (d.uuid == uuid) return d.parent;
  return "";
}

}  // namespace

Result<MdevRemoveReport> spine_mdev_remove(Host& host, const SpineOptions& options,
                                           const std::string& uuid, bool keep_definition,
                                           SpineOpening& opening) {
  auto spine = Spine::open(host, options, opening);  // 1–3
  if (!spine.ok()) return spine.error();
  Spine& sp = **spine;
  auto context = sp.context();
  if (!context.ok()) return context.error();
  std::vector<std::string> notes;
  if (Status s = sp.refuse(
          mdev_blockers(**context, uuid, mdev_parent(**context, uuid), GuardOp::MdevRemove), notes);
      !s.ok())
    return s.error();
  MdevRemoveReport r;
  r.notes = notes;
  r.was_active = host.exists(join_path(kMdevDevicesDir, uuid));
  if (r.was_active) {
    auto removed = remove_mdev(host, uuid);
    if (!removed.ok()) return removed.error();
  }
  if (!keep_definition) {
    auto u = undefine_mdev(host, uuid);
    if (!u.ok()) return u.error().wrap("removing the mdevctl definition");
    r.undefined = *u;
  }
  if (!r.was_active && !r.undefined)
    return not_found("no mediated device " + uuid +
                     " (neither active nor defined; see `hostpass mdev list`)");
  return r;
}

Result<MdevApplyRun> spine_mdev_apply(Host& host, const SpineOptions& options,
                                      const MdevApplyRequest& request, SpineOpening& opening) {
  auto spine = Spine::open(host, options, opening);  // 1–3
  if (!spine.ok()) return spine.error();
  Spine& sp = **spine;
  auto context = sp.context();
  if (!context.ok()) return context.error();
  MdevApplyRun run;
  // 4. The plan, from what sysfs shows under the lock.
  auto types = list_mdev_types(host, &run.warnings);
  if (!types.ok()) return types.error();
  auto instances = list_mdev_instances(host, &run.warnings);
  if (!instances.ok()) return instances.error();
  MdevApplyInputs inputs = mdev_apply_inputs(host, *request.policy, request.node_labels, *instances,
                                             request.keep_undesired);
  run.plan = plan_mdev_apply(*types, *instances, inputs);
  // 5–6. A host that cannot be seen, and removals of instances the ledger gives to a VM.
  std::vector<Blocker> blockers = unseen_blockers(**context, "mdev apply");
  for (const MdevInstance& m : run.plan.removes)
    for (Blocker& b : mdev_blockers(**context, m.uuid, m.parent, GuardOp::MdevRemove))
      if (b.guard != Guard::HostUnseen) blockers.push_back(std::move(b));
  // A wanted type that matches nothing while the plan removes instances: a probable typo.
  for (Blocker& b : unmatched_type_blockers(run.plan, *types)) blockers.push_back(std::move(b));
  if (Status s = sp.refuse(blockers, run.notes); !s.ok()) return s.error();
  // 7.
  if (!options.dry_run)
    run.result = apply_mdev_plan(host, run.plan, MdevApplyOptions{request.persist});
  return run;
}

}  // namespace hostpass
