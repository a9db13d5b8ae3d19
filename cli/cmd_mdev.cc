// cmd_mdev.cc — `hostpass mdev types|list|create|remove|apply`: mediated devices (vGPU).
//
// types   every type of every parent, in mdevctl types' layout (or --json)
// list    active instances and mdevctl definitions, one line each (or --json)
// create  one instance: --parent ADDR --type TYPE [--uuid U]; prints its UUID (as mdevctl
//         start does); writes the mdevctl definition (start: auto) unless --transient
// remove  one instance by UUID, and its mdevctl definition unless --keep-definition
// apply   the instances a KubeVirt/HyperConverged CR's mediatedDevicesConfiguration asks for on
//         this node, after removing instances of types no longer wanted and not in use
//         (mdev_apply.h); --dry-run prints the plan only, --keep-undesired removes nothing
// create, remove and apply are mutations: each is one call to the safety spine
// (src/safety_spine.h: the state lock, recover, the guards), which takes --force, --state-dir and
// --lock-timeout like every mutating command.
// --parent takes a PCI address, short or full, resolved on the host (pci_address_resolve.h: a
// device without mdev_supported_types is exit 2), or another bus's parent in /sys/class/mdev_bus.
// Output formats and JSON schemas: docs/mdev.md. Library calls only: mdev.h, safety_spine.h.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "device_json.h"
#include "json_output.h"
#include "kubevirt_policy.h"
#include "mdev.h"
#include "mdev_apply.h"
#include "pci_address_resolve.h"
#include "safety_spine.h"
#include "spine_cli.h"
#include "state_lock_cli.h"
#include "user_file.h"

namespace hostpass {

namespace {

void print_warnings(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) std::cerr << "hostpass: warning: " << w << "\n";
}

nlohmann::json or_null(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}

nlohmann::json type_to_json(const MdevType& t) {
  return {{"parent", t.parent},
          {"id", t.id},
          {"name", or_null(t.name)},
          {"description", or_null(t.description)},
          {"device_api", or_null(t.device_api)},
          {"available_instances", t.available_instances}};
}

int run_types(Cli& cli, const std::string& parent_text) {
  std::string parent;
  if (!parent_text.empty()) {
    auto p = resolve_mdev_parent(cli.host(), parent_text);
    if (!p.ok()) return report_error(p.error());
    parent = *p;
  }
  std::vector<std::string> warnings;
  auto types = list_mdev_types(cli.host(), &warnings);
  if (!types.ok()) return report_error(types.error());
  print_warnings(warnings);
  std::string out;
  nlohmann::json array = nlohmann::json::array();
  std::string last_parent;
  for (const MdevType& t : *types) {
    if (!parent.empty() && t.parent != parent) continue;
    if (cli.json) {
      array.push_back(type_to_json(t));
      continue;
    }
    // mdevctl types (tests/types/default/full.text): parent, then per type its id and fields.
    if (t.parent != last_parent) out += t.parent + "\n";
    last_parent = t.parent;
    out += "  " + t.id + "\n";
    out += "    Available instances: " + std::to_string(t.available_instances) + "\n";
    out += "    Device API: " + t.device_api + "\n";
    if (!t.name.empty()) out += "    Name: " + t.name + "\n";
    if (!t.description.empty()) out += "    Description: " + t.description + "\n";
  }
  if (cli.json) out = array.dump(2, ' ', false, kInvalidUtf8) + "\n";
  if (!cli.json && out.empty() && parent.empty())
    std::cerr << "hostpass: no mediated device types on this host (no parent in "
              << kMdevBusClassDir << ")\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

int run_list(Cli& cli) {
  Host& host = cli.host();
  std::vector<std::string> warnings;
  auto instances = list_mdev_instances(host, &warnings);
  if (!instances.ok()) return report_error(instances.error());
  auto defs = list_mdev_definitions(host, &warnings);
  if (!defs.ok()) return report_error(defs.error());
  print_warnings(warnings);

  struct Row {
    std::string uuid, parent, type_id, type_name;
    bool active = false;
    const MdevDefinition* def = nullptr;
  };
  std::map<std::pair<std::string, std::string>, Row> rows;  // (parent, uuid)
  for (const MdevInstance& m : *instances)
    rows[{m.parent, m.uuid}] = Row{m.uuid, m.parent, m.type_id, m.type_name, true, nullptr};
  for (const MdevDefinition& d : *defs) {
    Row& r = rows[{d.parent, d.uuid}];
    if (!r.active) {
      r.uuid = d.uuid;
      r.parent = d.parent;
      r.type_id = d.type_id;
    }
    r.def = &d;
  }
  std::string out;
  nlohmann::json array = nlohmann::json::array();
  for (const auto& [key, r] : rows) {
    nlohmann::json def = nullptr;
    if (r.def)
      def = {{"start", r.def->auto_start ? "auto" : "manual"},
             {"mdev_type", r.def->type_id},
             {"path", mdevctl_config_path(*r.def)}};
    if (cli.json) {
      array.push_back({{"uuid", r.uuid},
                       {"parent", r.parent},
                       {"type", r.type_id},
                       {"type_name", or_null(r.type_name)},
                       {"active", r.active},
                       {"definition", def}});
      continue;
    }
    // mdevctl list's columns (uuid parent type), then the name and the state.
    std::string line = r.uuid + " " + r.parent + " " + r.type_id;
    if (!r.type_name.empty()) line += " (" + r.type_name + ")";
    line += r.active ? "  active" : "  not active";
    if (r.def) {
      line += std::string(", defined (start: ") + (r.def->auto_start ? "auto" : "manual") + ")";
      if (r.active && r.def->type_id != r.type_id) line += " but defined as " + r.def->type_id;
    }
    out += line + "\n";
  }
  if (cli.json) out = array.dump(2, ' ', false, kInvalidUtf8) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

// What every mutating mdev command shares: the spine's flags.
struct SpineFlags {
  std::vector<std::string> force;
  std::string state_dir = kDefaultStateDir;
  double lock_timeout = kDefaultLockTimeout.count();
};

void add_spine_flags(CLI::App* command, SpineFlags& f) {
  add_force_flag(command, f.force);
  command->add_option("--state-dir", f.state_dir, "journal and ledger directory (under --root)")
      ->type_name("DIR");
  add_lock_timeout_option(command, f.lock_timeout);
}

struct CreateArgs {
  std::string parent, type, uuid;
  bool transient = false;
  SpineFlags spine;
};

int run_create(Cli& cli, const CreateArgs& a) {
  MdevCreateRequest req{a.parent, a.type, std::nullopt};
  if (!a.uuid.empty()) {
    auto u = parse_mdev_uuid(a.uuid);
    if (!u.ok()) return report_error(u.error());
    req.uuid = *u;
  }
  auto parent = resolve_mdev_parent(cli.host(), a.parent);
  if (!parent.ok()) return report_error(parent.error());
  req.parent = *parent;
  auto o = spine_options(a.spine.state_dir, false, a.spine.force, a.spine.lock_timeout,
                         "mdev create --parent " + *parent + " --type " + a.type);
  if (!o.ok()) return report_error(o.error());
  SpineOpening opening;
  auto made = spine_mdev_create(cli.host(), *o, req, !a.transient, opening);
  print_opening(opening);
  if (!made.ok()) return report_error(made.error());
  if (cli.json) {
    std::cout << nlohmann::json{{"uuid", made->uuid},
                                {"parent", made->parent},
                                {"type", made->type_id},
                                {"type_name", or_null(made->type_name)},
                                {"persistent", !a.transient}}
                     .dump(2, ' ', false, kInvalidUtf8)
              << "\n";
  } else {
    std::cout << made->uuid << "\n";
  }
  return kExitOk;
}

int run_remove(Cli& cli, const std::string& uuid_text, bool keep_definition, const SpineFlags& f) {
  auto uuid = parse_mdev_uuid(uuid_text);
  if (!uuid.ok()) return report_error(uuid.error());
  auto o = spine_options(f.state_dir, false, f.force, f.lock_timeout, "mdev remove " + *uuid);
  if (!o.ok()) return report_error(o.error());
  SpineOpening opening;
  auto r = spine_mdev_remove(cli.host(), *o, *uuid, keep_definition, opening);
  print_opening(opening);
  if (!r.ok()) return report_error(r.error());
  for (const std::string& n : r->notes) std::cerr << "hostpass: note: " << n << "\n";
  bool active = r->was_active, undefined = r->undefined;
  if (cli.json) {
    print_json({{"uuid", *uuid},
                {"was_active", active},
                {"definition_removed", undefined},
                {"notes", r->notes}});
    return kExitOk;
  }
  std::cout << "removed " << *uuid
            << (active ? (undefined ? " and its mdevctl definition" : "")
                       : "'s mdevctl definition (it was not active)")
            << "\n";
  return kExitOk;
}

struct ApplyArgs {
  std::string file;
  std::vector<std::string> labels;  // KEY=VALUE
  bool dry_run = false;
  bool transient = false;
  bool keep_undesired = false;
  SpineFlags spine;
};

int run_apply(Cli& cli, const ApplyArgs& a) {
  Host& host = cli.host();
  auto labels = mdev_node_labels(host, a.labels);
  if (!labels.ok()) return report_error(labels.error());
  // The CR is the user's file: read from the real filesystem as typed (user_file.h).
  auto policy = load_user_policy(a.file);
  if (!policy.ok()) return report_error_lines(policy.error());
  auto o = spine_options(a.spine.state_dir, a.dry_run, a.spine.force, a.spine.lock_timeout,
                         "mdev apply -f " + a.file);
  if (!o.ok()) return report_error(o.error());
  SpineOpening opening;
  auto run = spine_mdev_apply(
      host, *o, MdevApplyRequest{&*policy, *labels, a.keep_undesired, !a.transient}, opening);
  print_opening(opening);
  if (!run.ok()) return report_error(run.error());
  print_warnings(run->warnings);
  for (const std::string& n : run->notes) std::cerr << "hostpass: note: " << n << "\n";
  const MdevApplyPlan& plan = run->plan;
  const MdevApplyResult& result = run->result;
  const std::vector<std::string>& desired = plan.desired;
  if (cli.json) {
    nlohmann::json creates = nlohmann::json::array(), removes = nlohmann::json::array(),
                   kept = nlohmann::json::array(), created = nlohmann::json::array(),
                   removed = nlohmann::json::array();
    for (const MdevApplyCreate& c : plan.creates)
      creates.push_back({{"parent", c.parent},
                         {"type", c.type_id},
                         {"type_name", or_null(c.type_name)},
                         {"count", c.count},
                         {"after_removal", c.after_removal}});
    auto instance = [](const MdevInstance& m) {
      return nlohmann::json{{"uuid", m.uuid}, {"parent", m.parent}, {"type", m.type_id}};
    };
    for (const MdevInstance& m : plan.removes) removes.push_back(instance(m));
    for (const MdevKept& k : plan.kept) {
      nlohmann::json j = instance(k.instance);
      j["reason"] = k.reason;
      kept.push_back(j);
    }
    for (const MdevInstance& m : result.created) created.push_back(instance(m));
    for (const MdevInstance& m : result.removed) removed.push_back(instance(m));
    std::cout << nlohmann::json{{"dry_run", a.dry_run},
                                {"desired", plan.desired},
                                {"configured_parents", plan.configured_parents},
                                {"creates", creates},
                                {"unmatched", plan.unmatched},
                                {"removes", removes},
                                {"kept", kept},
                                {"notes", plan.notes},
                                {"removed", removed},
                                {"created", created},
                                {"errors", result.errors}}
                     .dump(2, ' ', false, kInvalidUtf8)
              << "\n";
  } else {
    std::string out;
    if (desired.empty()) {
      out += "no mediated device types requested for this node (" + a.file +
             " has no mediatedDevicesConfiguration that applies)\n";
    } else {
      std::string list;
      for (const std::string& d : desired) list += (list.empty() ? "" : ", ") + d;
      out += "desired types: " + list + "\n";
    }
    for (const MdevInstance& m : plan.removes)
      out += (a.dry_run ? "would remove " : "remove ") + m.uuid + " " + m.parent + " " + m.type_id +
             (m.type_name.empty() ? "" : " (" + m.type_name + ")") + ": type not desired\n";
    for (const MdevKept& k : plan.kept)
      out += "kept: " + k.instance.uuid + " " + k.instance.parent + " " + k.instance.type_id +
             ": " + k.reason + "\n";
    for (const std::string& p : plan.configured_parents)
      out += p + ": already has mediated devices: left as it is\n";
    for (const MdevApplyCreate& c : plan.creates) {
      std::string what = " x " + c.type_id + (c.type_name.empty() ? "" : " (" + c.type_name + ")");
      if (c.after_removal)
        out += c.parent + ": " + (a.dry_run ? "would create " : "create ") + c.type_id +
               (c.type_name.empty() ? "" : " (" + c.type_name + ")") +
               ", as many as it offers once its undesired instances are removed\n";
      else
        out += c.parent + ": " + (a.dry_run ? "would create " : "create ") +
               std::to_string(c.count) + what + "\n";
    }
    for (const std::string& u : plan.unmatched)
      out += "not on this node: " + u + " (no type id or name matches)\n";
    for (const std::string& n : plan.notes) out += "note: " + n + "\n";
    if (!a.dry_run && !plan.removes.empty())
      out += "removed " + std::to_string(result.removed.size()) + " mediated device" +
             (result.removed.size() == 1 ? "" : "s") + "\n";
    if (!a.dry_run)
      out += "created " + std::to_string(result.created.size()) + " mediated device" +
             (result.created.size() == 1 ? "" : "s") +
             (result.created.empty() || a.transient ? "" : " (mdevctl definitions written)") + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  for (const std::string& e : result.errors) std::cerr << "hostpass: " << e << "\n";
  return result.errors.empty() ? kExitOk : kExitFailed;
}

}  // namespace

void add_mdev_commands(CLI::App& app, Cli& cli) {
  CLI::App* mdev = app.add_subcommand("mdev",
                                      "mediated devices (vGPU): types, instances, "
                                      "KubeVirt's mediatedDevicesConfiguration");
  mdev->require_subcommand(1);

  auto parent = std::make_shared<std::string>();
  CLI::App* types = mdev->add_subcommand("types", "mediated device types of every parent");
  types->add_option("--parent", *parent, "only this parent (0000:01:00.0 or 01:00.0)");
  types->callback([&cli, parent] { cli.exit_code = run_types(cli, *parent); });

  CLI::App* list = mdev->add_subcommand("list", "mediated devices: active and mdevctl-defined");
  list->callback([&cli] { cli.exit_code = run_list(cli); });

  auto create_args = std::make_shared<CreateArgs>();
  CLI::App* create = mdev->add_subcommand("create", "create one mediated device");
  create->add_option("--parent", create_args->parent, "parent device, e.g. 0000:01:00.0 or 01:00.0")
      ->required();
  create->add_option("--type", create_args->type, "type id (nvidia-222) or name (GRID T4-1Q)")
      ->required();
  create->add_option("--uuid", create_args->uuid, "UUID to use (default: a random one)");
  create->add_flag("--transient", create_args->transient,
                   "do not write the mdevctl definition (gone after a reboot)");
  add_spine_flags(create, create_args->spine);
  create->callback([&cli, create_args] { cli.exit_code = run_create(cli, *create_args); });

  auto uuid = std::make_shared<std::string>();
  auto keep = std::make_shared<bool>(false);
  CLI::App* remove = mdev->add_subcommand("remove", "remove one mediated device");
  remove->add_option("uuid", *uuid, "the device's UUID")->required();
  remove->add_flag("--keep-definition", *keep, "leave its mdevctl definition in place");
  auto remove_flags = std::make_shared<SpineFlags>();
  add_spine_flags(remove, *remove_flags);
  remove->callback([&cli, uuid, keep, remove_flags] {
    cli.exit_code = run_remove(cli, *uuid, *keep, *remove_flags);
  });

  auto apply_args = std::make_shared<ApplyArgs>();
  CLI::App* apply = mdev->add_subcommand(
      "apply",
      "create the mediated devices a KubeVirt/HyperConverged CR's "
      "mediatedDevicesConfiguration asks for on this node, as virt-handler does");
  apply->add_option("-f,--file", apply_args->file, "the KubeVirt or HyperConverged CR (YAML)")
      ->required();
  apply->add_option("--node-label", apply_args->labels,
                    "a label of this node, KEY=VALUE, for nodeMediatedDeviceTypes (repeatable)");
  apply->add_flag("--dry-run", apply_args->dry_run, "print the plan, change nothing");
  apply->add_flag("--transient", apply_args->transient, "do not write mdevctl definitions");
  apply->add_flag("--keep-undesired", apply_args->keep_undesired,
                  "report instances of types no longer desired instead of removing them");
  add_spine_flags(apply, apply_args->spine);
  apply->callback([&cli, apply_args] { cli.exit_code = run_apply(cli, *apply_args); });
}

}  // namespace hostpass
