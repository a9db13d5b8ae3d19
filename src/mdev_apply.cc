// mdev_apply.cc — KubeVirt's mediated device configuration, on this node. See mdev_apply.h.
#include "mdev_apply.h"

#include <algorithm>
#include <set>

#include "iommu_group.h"
#include "node_name.h"
#include "vfio_group_users.h"

namespace hostpass {

std::vector<std::string> desired_mdev_types(const MediatedDevicesConfiguration& config,
                                            const std::map<std::string, std::string>& labels) {
  std::vector<std::string> out;
  auto add = [&](const std::string& t) {
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  };
  for (const NodeMediatedDeviceTypes& node : config.node_types) {
    bool selected = true;  // canSelectNode: every selector label present with the same value
    for (const auto& [key, value] : node.node_selector) {
      auto it = labels.find(key);
      if (it == labels.end() || it->second != value) selected = false;
    }
    if (selected)
      for (const std::string& t : node.types) add(t);
  }
  if (!out.empty()) return out;
  for (const std::string& t : config.types) add(t);
  return out;
}

std::vector<std::string> external_mdev_selectors(const Policy& policy) {
  std::vector<std::string> out;
  for (const PolicyMdevDevice& d : policy.mdev)
    if (d.external) out.push_back(d.name_selector);
  return out;
}

Result<std::map<std::string, std::string>> mdev_users_by_uuid(
    Host& host, const std::vector<MdevInstance>& instances) {
  std::map<std::string, std::string> out;
  if (instances.empty()) return out;
  auto users = vfio_group_users(host);
  if (!users.ok()) return users.error();
  for (const MdevInstance& m : instances) {
    auto group = mdev_iommu_group(host, m.uuid);
    if (!group) continue;
    auto it = users->find(*group);
    if (it == users->end() || it->second.empty()) continue;
    std::string who;
    for (const VfioGroupUser& u : it->second) who += (who.empty() ? "" : ", ") + u.describe();
    out[m.uuid] = "in use by " + who + " through /dev/vfio/" + std::to_string(*group);
  }
  return out;
}

MdevApplyInputs mdev_apply_inputs(Host& host, const Policy& policy,
                                  const std::map<std::string, std::string>& node_labels,
                                  const std::vector<MdevInstance>& instances, bool keep_undesired) {
  MdevApplyInputs inputs;
  inputs.desired = desired_mdev_types(policy.mdev_config, node_labels);
  inputs.external_selectors = external_mdev_selectors(policy);
  inputs.remove_undesired = !keep_undesired;
  auto users = mdev_users_by_uuid(host, instances);
  if (users.ok()) {
    inputs.in_use = std::move(*users);
  } else {
    // Without /proc nobody can tell whether a VM holds an instance: remove none of them.
    for (const MdevInstance& m : instances)
      inputs.in_use[m.uuid] = "cannot tell whether it is in use (" + users.error().message + ")";
  }
  return inputs;
}

Result<std::map<std::string, std::string>> mdev_node_labels(
    Host& host, const std::vector<std::string>& key_values) {
  std::map<std::string, std::string> labels;
  for (const std::string& l : key_values) {
    size_t eq = l.find('=');
    if (eq == std::string::npos || eq == 0)
      return invalid_input("invalid --node-label '" + l +
                           "': expected KEY=VALUE, as in nvidia.com/gpu.product=Tesla-T4");
    labels[l.substr(0, eq)] = l.substr(eq + 1);
  }
  if (!labels.contains("kubernetes.io/hostname"))
    if (auto name = this_node_name(host); name.ok()) labels["kubernetes.io/hostname"] = *name;
  return labels;
}

MdevApplyPlan plan_mdev_apply(const std::vector<MdevType>& types,
                              const std::vector<MdevInstance>& instances,
                              const std::vector<std::string>& desired) {
  MdevApplyInputs inputs;
  inputs.desired = desired;
  return plan_mdev_apply(types, instances, inputs);
}

MdevApplyPlan plan_mdev_apply(const std::vector<MdevType>& types,
                              const std::vector<MdevInstance>& instances,
                              const MdevApplyInputs& inputs) {
  const std::vector<std::string>& desired = inputs.desired;
  MdevApplyPlan plan;
  plan.desired = desired;

  // removeUndesiredMDEVs/shouldRemoveMDEV: an instance stays when its type's name (spaces as
  // '_') or id is a desired type, or an externally provided selector (spaces as '_').
  std::set<std::string> emptied;  // parents that had undesired instances removed
  std::set<std::string> configured;
  for (const MdevInstance& m : instances) {
    MdevType probe;
    probe.id = m.type_id;
    probe.name = m.type_name;
    bool keep = false;
    for (const std::string& want : desired) keep = keep || mdev_type_matches(probe, want);
    for (const std::string& sel : inputs.external_selectors)
      keep = keep || mdev_name_selector_matches(probe, sel);
    if (keep) {
      configured.insert(m.parent);
      continue;
    }
    auto busy = inputs.in_use.find(m.uuid);
    if (!inputs.remove_undesired) {
      plan.kept.push_back({m, "not desired; kept (--keep-undesired)"});
      configured.insert(m.parent);
    } else if (busy != inputs.in_use.end()) {
      plan.kept.push_back({m, "not desired but " + busy->second + "; stop that VM first"});
      configured.insert(m.parent);
    } else {
      plan.removes.push_back(m);
      emptied.insert(m.parent);
    }
  }
  plan.configured_parents.assign(configured.begin(), configured.end());

  // discoverConfigurableMDEVTypes: type id -> unconfigured parents supporting it (sorted, as
  // filepath.Glob returns them), in the order the CR first names the type.
  std::vector<std::string> ring;
  std::map<std::string, std::vector<const MdevType*>> parents_of;
  for (const std::string& want : desired) {
    bool matched = false;
    for (const MdevType& t : types) {
      if (!mdev_type_matches(t, want)) continue;
      matched = true;
      if (std::find(ring.begin(), ring.end(), t.id) == ring.end()) ring.push_back(t.id);
      if (configured.contains(t.parent)) continue;
      auto& list = parents_of[t.id];
      bool seen = std::any_of(list.begin(), list.end(),
                              [&](const MdevType* p) { return p->parent == t.parent; });
      if (!seen) list.push_back(&t);
    }
    if (!matched) {
      plan.unmatched.push_back(want);
      for (const MdevType& t : types) {
        if (!t.name.empty() && want == t.name && want != kubevirt_mdev_name(t.name)) {
          plan.notes.push_back("'" + want +
                               "' matches no type: KubeVirt compares type names with "
                               "spaces replaced by '_'; write '" +
                               kubevirt_mdev_name(t.name) + "' or the type id '" + t.id + "'");
          break;
        }
      }
    }
  }
  for (auto& [id, list] : parents_of)
    std::sort(list.begin(), list.end(),
              [](const MdevType* a, const MdevType* b) { return a->parent < b->parent; });

  // configureDesiredMDEVTypes: the types take turns; each turn takes the next parent of that
  // type nobody has configured yet and fills it with that type.
  std::set<std::string> unconfigured;
  for (const auto& [id, list] : parents_of)
    for (const MdevType* t : list) unconfigured.insert(t->parent);
  std::map<std::string, size_t> next;  // per type: index into parents_of
  bool progress = true;
  while (!unconfigured.empty() && progress) {
    progress = false;
    for (const std::string& id : ring) {
      auto& list = parents_of[id];
      size_t& i = next[id];
      while (i < list.size() && !unconfigured.contains(list[i]->parent)) ++i;
      if (i >= list.size()) continue;
      const MdevType* t = list[i++];
      unconfigured.erase(t->parent);
      progress = true;
      // A parent emptied by the removals offers what its instances gave back; that is read
      // again right before creating.
      bool freed = emptied.contains(t->parent);
      if (t->available_instances > 0 || freed)
        plan.creates.push_back({t->parent, t->id, t->name, t->available_instances, freed});
      else
        plan.notes.push_back(t->parent + " supports " + t->id + " but has no available instance");
      if (unconfigured.empty()) break;
    }
  }

  return plan;
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Levenshtein distance.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string describe_type(const MdevType& t) {
  return t.name.empty() ? t.id : "'" + t.name + "' (" + t.id + ")";
}

// available_instances of one type, as the kernel says it now (-1 when unreadable).
int available_now(Host& host, const std::string& parent, const std::string& type) {
  std::string path = join_path(
      join_path(join_path(join_path(kMdevBusClassDir, parent), "mdev_supported_types"), type),
      "available_instances");
  auto text = host.read_file(path, 64);
  if (!text.ok()) return -1;
  return parse_sysfs_count(*text).value_or(-1);
}

}  // namespace

std::vector<MdevType> nearest_mdev_types(const std::vector<MdevType>& types, std::string_view want,
                                         size_t limit) {
  std::string w = lower(want);
  std::vector<std::pair<size_t, const MdevType*>> scored;
  for (const MdevType& t : types) {
    if (std::any_of(scored.begin(), scored.end(),
                    [&](const auto& s) { return s.second->id == t.id; }))
      continue;
    size_t d = edit_distance(w, lower(t.id));
    if (!t.name.empty()) {
      d = std::min(d, edit_distance(w, lower(t.name)));
      d = std::min(d, edit_distance(w, lower(kubevirt_mdev_name(t.name))));
    }
    scored.emplace_back(d, &t);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<MdevType> out;
  for (const auto& [d, t] : scored) {
    if (out.size() >= limit) break;
    out.push_back(*t);
  }
  return out;
}

std::vector<Blocker> unmatched_type_blockers(const MdevApplyPlan& plan,
                                             const std::vector<MdevType>& types) {
  std::vector<Blocker> out;
  if (plan.removes.empty()) return out;
  std::vector<std::string> removed;
  removed.reserve(plan.removes.size());
  for (const MdevInstance& m : plan.removes)
    removed.push_back(m.uuid + " (" + m.type_id + " on " + m.parent + ")");
  for (const std::string& want : plan.unmatched) {
    std::vector<std::string> near;
    for (const MdevType& t : nearest_mdev_types(types, want)) near.push_back(describe_type(t));
    Blocker b;
    b.guard = Guard::UnmatchedType;
    b.subject = "mdev apply";
    b.reason = "the wanted type '" + want + "' matches no type on this host" +
               (near.empty() ? std::string(" (no parent offers any)")
                             : " (nearest offered: " + join(near, ", ") + ")") +
               ", and the plan would remove " + join(removed, ", ") + ": a probable typo in the CR";
    out.push_back(std::move(b));
  }
  return out;
}

MdevApplyResult apply_mdev_plan(Host& host, const MdevApplyPlan& plan,
                                const MdevApplyOptions& options) {
  MdevApplyResult result;
  std::set<std::string> failed_parents;
  for (const MdevInstance& m : plan.removes) {
    auto removed = remove_mdev(host, m.uuid);
    if (!removed.ok()) {
      result.errors.push_back("removing " + m.uuid + " (" + m.type_id + " on " + m.parent +
                              "): " + removed.error().message);
      failed_parents.insert(m.parent);
      continue;
    }
    if (auto u = undefine_mdev(host, m.uuid); !u.ok())
      result.errors.push_back("removed " + m.uuid +
                              " but not its mdevctl definition: " + u.error().message);
    result.removed.push_back(m);
  }
  for (const MdevApplyCreate& step : plan.creates) {
    if (failed_parents.contains(step.parent)) {
      result.errors.push_back(step.parent + ": not configured with " + step.type_id +
                              ": an undesired instance on it could not be removed");
      continue;
    }
    // createMdevTypes: as many as available_instances says now.
    int count = available_now(host, step.parent, step.type_id);
    if (count < 0) count = step.count;
    for (int i = 0; i < count; ++i) {
      auto made = create_mdev(host, MdevCreateRequest{step.parent, step.type_id, std::nullopt});
      if (!made.ok()) {
        result.errors.push_back(step.parent + ": instance " + std::to_string(i + 1) + " of " +
                                std::to_string(count) + " of " + step.type_id + ": " +
                                made.error().message);
        break;
      }
      if (options.persist) {
        Status s =
            define_mdev(host, MdevDefinition{made->uuid, made->parent, made->type_id, true, {}});
        if (!s.ok()) result.errors.push_back(s.error().message);
      }
      result.created.push_back(std::move(*made));
    }
  }
  return result;
}

}  // namespace hostpass
