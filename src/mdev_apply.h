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
// Where hostpass differs, on purpose: the ring follows the order of the CR's list (KubeVirt
// iterates a Go map, whose order is random), so the outcome is deterministic; and instances of
// types no longer desired are reported, not removed (KubeVirt's removeUndesiredMDEVs would
// remove them; hostpass leaves removal to `hostpass mdev remove`, which a VM owner can see).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "host.h"
#include "mdev.h"
#include "policy.h"
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
};

struct MdevApplyPlan {
  std::vector<std::string> desired;
  std::vector<MdevApplyCreate> creates;         // in the order they will run
  std::vector<std::string> configured_parents;  // already had instances: left alone
  std::vector<std::string> unmatched;           // desired entries no type here matches
  std::vector<MdevInstance> undesired;          // existing instances of types not desired
  std::vector<std::string> notes;               // hints (e.g. a name written with spaces)
};

// Pure: decides what to create from what sysfs shows now.
MdevApplyPlan plan_mdev_apply(const std::vector<MdevType>& types,
                              const std::vector<MdevInstance>& instances,
                              const std::vector<std::string>& desired);

struct MdevApplyOptions {
  bool persist = true;  // write mdevctl definitions (start: auto) for created instances
};

struct MdevApplyResult {
  std::vector<MdevInstance> created;
  std::vector<std::string> errors;  // one per failed step; later steps still run
};

// Creates the plan's instances (create_mdev), and their mdevctl definitions when asked.
// A failure stops that parent's step and is recorded; other parents still get theirs.
MdevApplyResult apply_mdev_plan(Host& host, const MdevApplyPlan& plan,
                                const MdevApplyOptions& options);

}  // namespace hostpass
