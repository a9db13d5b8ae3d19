// mdev_apply.h — create the mediated devices a KubeVirt CR's mediatedDevicesConfiguration asks
// for on this node, the way KubeVirt's virt-handler does, so a node configured by hostpass
// looks exactly like one configured by KubeVirt.
//
// KubeVirt's behaviour followed (pkg/virt-config ClusterConfig.GetDesiredMDEVTypes and
// pkg/virt-handler/device-manager/mediated_devices_types.go MDEVTypesManager):
//   - desired types: the union of nodeMediatedDeviceTypes[].mediatedDeviceTypes whose
//     nodeSelector matches every given node label (canSelectNode); if none matches, the
//     cluster-wide mediatedDeviceTypes.
//   - a desired entry matches a type by id ("nvidia-222") or by its `name` with spaces replaced
//     by '_' ("GRID_T4-1Q"); see mdev_type_matches().
//   - a parent that already has any mediated device is "already configured" and left alone;
//     that is what makes re-running idempotent.
//   - types take turns (a ring over the desired types); each turn gives the type the next
//     unconfigured parent that supports it, and creates available_instances instances of it
//     there (never more): one type per card.
//   - before creating, instances of types no longer wanted are removed
//     (MDEVTypesManager.updateMDEVTypesConfiguration → removeUndesiredMDEVs/shouldRemoveMDEV,
//     kubevirt/kubevirt main, after PR #9250): every instance in /sys/bus/mdev/devices whose
//     type — by its `name` with spaces as '_', or by its id (the mdev_type link's target) —
//     is neither a desired type nor an mdevNameSelector of a permittedHostDevices.mediatedDevices
//     entry with externalResourceProvider: true (DeviceController.getExternallyProvidedMdevs,
//     selector spaces as '_'). Whoever created the instance, and also when no type is desired
//     at all (kubevirt/kubevirt#9037 is a user surprised by exactly that). Then the parents are
//     looked at again, so a parent emptied by the removal is configured with the desired type in
//     the same pass.
// Where hostpass differs, on purpose:
//   - the ring follows the order of the CR's list (KubeVirt iterates a Go map, whose order is
//     random), so the outcome is deterministic;
//   - an instance in use — its VFIO group /dev/vfio/<N> held open by a process, as QEMU holds
//     it for a running VM — is not removed but reported with the process (KubeVirt writes
//     `remove` regardless: the kernel then asks the VM's QEMU to release the device, through
//     the VFIO request irq, and blocks the writer until it does — vfio_unregister_group_dev);
//     its parent stays configured;
//   - the mdevctl definitions of removed instances are removed too (hostpass writes them for
//     what it creates; KubeVirt writes none), so a reboot does not bring them back;
//   - MdevApplyInputs::remove_undesired = false (--keep-undesired) only reports them;
//   - a plan that removes instances while a wanted type matches no type here ("GRID T4-1B" for
//     the offered "GRID T4-1Q") is probably a typo destroying what the user meant to keep:
//     unmatched_type_blockers() gives the guard (guard.h: unmatched-type) that refuses it,
//     naming the nearest offered types, unless --force. A wanted type that matches nothing while
//     nothing is removed is normal (a cluster-wide list naming other cards' types) and passes.
// Not followed: KubeVirt's open PR #19099 (remove only types it created itself, remembered in
// /var/run/kubevirt/managed-mdev-types) is not merged; hostpass follows what virt-handler does.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "guard.h"
#include "host.h"
#include "kubevirt_policy.h"
#include "mdev.h"
#include "result.h"

namespace hostpass {

// The types this node should carry, as KubeVirt computes them, without duplicates, in order.
std::vector<std::string> desired_mdev_types(const MediatedDevicesConfiguration& config,
                                            const std::map<std::string, std::string>& node_labels);

struct MdevApplyCreate {
  std::string parent;
  std::string type_id;
  std::string type_name;
  int count = 0;  // the type's available_instances on this parent when planned
  // The parent's undesired instances are removed first: `count` is what it offered before
  // that; the step creates what available_instances says once they are gone.
  bool after_removal = false;
};

// An instance of a type no longer wanted that stays, and why.
struct MdevKept {
  MdevInstance instance;
  std::string reason;  // "in use by 4242 (qemu-system-x86) through /dev/vfio/12"
};

struct MdevApplyPlan {
  std::vector<std::string> desired;
  std::vector<MdevInstance> removes;            // undesired instances to remove, first
  std::vector<MdevKept> kept;                   // undesired instances that stay (in use)
  std::vector<MdevApplyCreate> creates;         // in the order they will run, after removal
  std::vector<std::string> configured_parents;  // still have instances: left alone
  std::vector<std::string> unmatched;           // desired entries no type here matches
  std::vector<std::string> notes;               // hints (e.g. a name written with spaces)
};

// What plan_mdev_apply needs besides sysfs's types and instances.
struct MdevApplyInputs {
  std::vector<std::string> desired;  // desired_mdev_types()
  // mdevNameSelectors of externalResourceProvider: true mediatedDevices entries: their
  // instances are never removed.
  std::vector<std::string> external_selectors;
  // UUID → why it must not be removed now (in use); see mdev_users_by_uuid().
  std::map<std::string, std::string> in_use;
  bool remove_undesired = true;  // false: report undesired instances as kept, remove nothing
};

// The externally provided selectors of a policy (permittedHostDevices.mediatedDevices entries
// with externalResourceProvider: true).
std::vector<std::string> external_mdev_selectors(const Policy& policy);

// UUID → "in use by PID (comm) through /dev/vfio/N" for every instance whose VFIO group a
// process holds open (vfio_group_users.h). Errors when /proc cannot be read.
Result<std::map<std::string, std::string>> mdev_users_by_uuid(
    Host& host, const std::vector<MdevInstance>& instances);

// What plan_mdev_apply is given on this node: desired_mdev_types() for `node_labels`, the
// policy's external selectors, remove_undesired = !keep_undesired, and in_use from
// mdev_users_by_uuid(). THE safety rule: when /proc cannot be read nobody can tell whether a VM
// holds an instance, so every instance is in in_use ("cannot tell whether it is in use (why)")
// and none is removed.
MdevApplyInputs mdev_apply_inputs(Host& host, const Policy& policy,
                                  const std::map<std::string, std::string>& node_labels,
                                  const std::vector<MdevInstance>& instances, bool keep_undesired);

// This node's labels for nodeMediatedDeviceTypes' nodeSelector: each "KEY=VALUE" given (the user
// knows labels hostpass cannot see), plus kubernetes.io/hostname = this_node_name()
// (node_name.h) unless given: the one label the kubelet puts on every node. InvalidInput for an
// entry that is not KEY=VALUE; a node whose name cannot be read gets no hostname label.
Result<std::map<std::string, std::string>> mdev_node_labels(
    Host& host, const std::vector<std::string>& key_values);

// Pure: decides what to remove and what to create from what sysfs shows now. Parents are
// "configured" when an instance stays on them after the removals.
MdevApplyPlan plan_mdev_apply(const std::vector<MdevType>& types,
                              const std::vector<MdevInstance>& instances,
                              const MdevApplyInputs& inputs);
// The same with only desired types (nothing external, nothing in use).
MdevApplyPlan plan_mdev_apply(const std::vector<MdevType>& types,
                              const std::vector<MdevInstance>& instances,
                              const std::vector<std::string>& desired);

// Up to `limit` offered types (one per type id) nearest to `want` by edit distance, ignoring case,
// to the type's id, its name or its name with spaces as '_': the names a typo was likely meant as.
std::vector<MdevType> nearest_mdev_types(const std::vector<MdevType>& types, std::string_view want,
                                         size_t limit = 3);

// One UnmatchedType blocker per entry of plan.unmatched when plan.removes is not empty, naming the
// nearest offered types and the instances the plan would remove. None otherwise.
std::vector<Blocker> unmatched_type_blockers(const MdevApplyPlan& plan,
                                             const std::vector<MdevType>& types);

struct MdevApplyOptions {
  bool persist = true;  // write mdevctl definitions (start: auto) for created instances
};

struct MdevApplyResult {
  std::vector<MdevInstance> removed;
  std::vector<MdevInstance> created;
  std::vector<std::string> errors;  // one per failed step; later steps still run
};

// Removes the plan's undesired instances (remove_mdev, and their mdevctl definitions), then
// creates the plan's instances (create_mdev) and their mdevctl definitions when asked. Each
// create step creates as many as the type's available_instances reads right before the step
// (KubeVirt's createMdevTypes: removals may have freed more than the plan saw), never more.
// A parent whose removal failed gets nothing created (it still has instances). A failure stops
// that parent's step and is recorded; other parents still get theirs.
MdevApplyResult apply_mdev_plan(Host& host, const MdevApplyPlan& plan,
                                const MdevApplyOptions& options);

}  // namespace hostpass
