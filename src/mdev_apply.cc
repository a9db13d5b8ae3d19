// mdev_apply.cc — KubeVirt's mediated device configuration, on this node. See mdev_apply.h.
#include "mdev_apply.h"

#include <algorithm>
#include <set>

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

MdevApplyPlan plan_mdev_apply(const std::vector<MdevType>& types,
                              const std::vector<MdevInstance>& instances,
                              const std::vector<std::string>& desired) {
  MdevApplyPlan plan;
  plan.desired = desired;
  std::set<std::string> configured;
  for (const MdevInstance& m : instances) configured.insert(m.parent);
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
      if (configured.count(t.parent)) continue;
      auto& list = parents_of[t.id];
      bool seen = std::any_of(list.begin(), list.end(),
                              [&](const MdevType* p) { return p->parent == t.parent; });
      if (!seen) list.push_back(&t);
    }
    if (!matched) {
      plan.unmatched.push_back(want);
      for (const MdevType& t : types) {
        if (!t.name.empty() && want == t.name && want != kubevirt_mdev_name(t.name)) {
          plan.notes.push_back("'" + want + "' matches no type: KubeVirt compares type names with "
                               "spaces replaced by '_'; write '" + kubevirt_mdev_name(t.name) +
                               "' or the type id '" + t.id + "'");
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
      while (i < list.size() && !unconfigured.count(list[i]->parent)) ++i;
      if (i >= list.size()) continue;
      const MdevType* t = list[i++];
      unconfigured.erase(t->parent);
      progress = true;
      if (t->available_instances > 0)
        plan.creates.push_back({t->parent, t->id, t->name, t->available_instances});
      else
        plan.notes.push_back(t->parent + " supports " + t->id + " but has no available instance");
      if (unconfigured.empty()) break;
    }
  }

  for (const MdevInstance& m : instances) {
    bool wanted = false;
    for (const std::string& want : desired) {
      MdevType probe;
      probe.id = m.type_id;
      probe.name = m.type_name;
      if (mdev_type_matches(probe, want)) wanted = true;
    }
    if (!wanted) plan.undesired.push_back(m);
  }
  return plan;
}

MdevApplyResult apply_mdev_plan(Host& host, const MdevApplyPlan& plan,
                                const MdevApplyOptions& options) {
  MdevApplyResult result;
  for (const MdevApplyCreate& step : plan.creates) {
    for (int i = 0; i < step.count; ++i) {
      auto made = create_mdev(host, MdevCreateRequest{step.parent, step.type_id, std::nullopt});
      if (!made.ok()) {
        result.errors.push_back(step.parent + ": instance " + std::to_string(i + 1) + " of " +
                                std::to_string(step.count) + " of " + step.type_id + ": " +
                                made.error().message);
        break;
      }
      if (options.persist) {
        Status s = define_mdev(host, MdevDefinition{made->uuid, made->parent, made->type_id, true, {}});
        if (!s.ok()) result.errors.push_back(s.error().message);
      }
      result.created.push_back(std::move(*made));
    }
  }
  return result;
}

}  // namespace hostpass
