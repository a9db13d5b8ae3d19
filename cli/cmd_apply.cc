// cmd_apply.cc — `hostpass apply -f hostpass.yaml [--dry-run] [--force]` (apply_config.h) and
// `hostpass persist --format F [--write] [-f hostpass.yaml]` (persist.h).
//
// apply reads -f from the real filesystem, not under --root (user_file.h); then it is one call to
// the safety spine (spine_apply, src/safety_spine.h), which plans once under
// the state lock and hands the plan here to be printed (one line per device: current → wanted)
// before it judges, gates and converges exactly that plan; with --dry-run it prints the exact
// writes the engine would make, every step's in one numbered list (spine_cli.h's
// planned_writes_text, as bind --dry-run prints them), and makes none. --json prints the plan and
// the writes as one object instead (docs/apply.md).
// persist prints the files (stdout, so `> file` works; notes and warnings go to stderr); --write
// installs them under the root; --json prints them as `writes` (docs/persist.md). -f (the apply
// file) is read from the real filesystem, as every command's -f (user_file.h). A flag of one
// format given with another is refused (flag_scopes.h: --role with udev). Bad files and flags
// exit 2 before any write; so do the next-boot guard of the id-wide formats and an operator's
// file at a target path (persist.h), which
// --force[=NAME,...] (guard.h's ForceSet) overrides where it may.
#include <CLI/CLI.hpp>
#include <iostream>

#include "apply_config.h"
#include "cli.h"
#include "flag_scopes.h"
#include "json_output.h"
#include "kernel_args.h"
#include "persist.h"
#include "safety_spine.h"
#include "spine_cli.h"
#include "state_lock_cli.h"
#include "user_file.h"

namespace hostpass {

namespace {

struct ApplyFlags {
  std::string file, state_dir = kDefaultStateDir;
  bool dry_run = false;
  std::vector<std::string> force;
  double lock_timeout = kDefaultLockTimeout.count();
};

int run_apply(Cli& cli, const ApplyFlags& f) {
  Host& host = cli.host();
  // The apply file is the user's (user_file.h): read from the real filesystem, not under --root.
  auto text = read_user_file(f.file, 1 << 20);
  if (!text.ok()) return report_error(text.error());
  auto config = parse_apply_config(*text, f.file);
  if (!config.ok()) return report_error(config.error());
  auto o = spine_options(f.state_dir, f.dry_run, f.force, f.lock_timeout,
                         command_text("apply -f", {f.file}));
  if (!o.ok()) return report_error(o.error());
  // The plan is printed as the spine made it, before anything changes; it is what runs. Under
  // --json it is kept and printed with the outcome (docs/apply.md).
  bool printed_nothing_to_do = false;
  nlohmann::json devices = nlohmann::json::array();
  std::vector<std::string> notes;
  auto print_plan = [&](const ApplyPlan& plan) {
    if (!cli.json) std::cout << "plan (" << f.file << "):\n";
    for (const ApplyItem& i : plan.items) {
      std::string now = i.current.value_or("no driver");
      devices.push_back(
          {{"address", i.address.to_string()},
           {"driver_before", i.current ? nlohmann::json(*i.current) : nlohmann::json(nullptr)},
           {"driver_after", i.driver},
           {"changed", i.change}});
      if (cli.json) continue;
      std::cout << "  " << i.address.to_string() << "  "
                << (i.change                  ? now + " -> " + i.driver
                    : i.driver == kHostDriver ? now + " (no change)"
                                              : i.driver + " (no change)")
                << "\n";
    }
    if (plan.items.empty() && !cli.json) std::cout << "  (no device)\n";
    for (const std::string& n : plan.notes) std::cerr << "hostpass: note: " << n << "\n";
    notes.insert(notes.end(), plan.notes.begin(), plan.notes.end());
    if (!plan.changes()) {
      if (!cli.json) std::cout << "nothing to do: every device is on its wanted driver\n";
      printed_nothing_to_do = true;
    }
  };
  SpineOpening opening;
  auto r = spine_apply(host, *o, *config, print_plan, opening);
  print_opening(opening);
  if (!r.ok()) return report_error(r.error());
  if (printed_nothing_to_do && !cli.json) return kExitOk;
  std::vector<PlannedWrite> writes;  // every step's, in order: one numbered list, as bind prints
  for (const BindReport& step : r->steps) {
    writes.insert(writes.end(), step.writes.begin(), step.writes.end());
    for (const std::string& n : step.notes) std::cerr << "hostpass: note: " << n << "\n";
    notes.insert(notes.end(), step.notes.begin(), step.notes.end());
  }
  if (cli.json) {
    print_json({{"file", f.file},
                {"dry_run", f.dry_run},
                {"devices", devices},
                {"writes", writes_json(writes)},
                {"notes", notes}});
    return kExitOk;
  }
  if (f.dry_run) {
    std::cout << planned_writes_text(writes);
    return kExitOk;
  }
  int changed = 0;
  for (const ApplyItem& i : r->plan.items) changed += i.change ? 1 : 0;
  std::cout << "applied: " + std::to_string(changed) + " device(s) changed\n";
  return kExitOk;
}

struct PersistFlags {
  std::string format, file, role = "worker", hostpass_bin = "/usr/local/bin/hostpass", vfio_ids;
  bool write = false, world_writable = false;
  std::string state_dir = kDefaultStateDir;
  double lock_timeout = kDefaultLockTimeout.count();
  std::vector<std::string> force;  // --force[=NAME,...] (guard.h: ForceSet)
};

int run_persist(Cli& cli, const CLI::App& command, const PersistFlags& f) {
  auto format = parse_persist_format(f.format);
  if (!format.ok()) return report_error(format.error());
  if (Status s = check_flag_scopes(command,
                                   {{"--role", {"butane", "machineconfig"}},
                                    {"--udev-world-writable", {"udev"}},
                                    {"--hostpass-bin", {"systemd"}}},
                                   f.format, "--format " + f.format, "--format ");
      !s.ok())
    return report_error(s.error());
  if (Status s = validate_role(f.role); !s.ok()) return report_error(s.error());
  bool print_only = *format == PersistFormat::Butane || *format == PersistFormat::MachineConfig ||
                    *format == PersistFormat::Cmdline;
  if (f.write && print_only)
    return report_error(invalid_input("--format " + f.format +
                                      " is printed, not installed: redirect it to a file"));
  if (f.hostpass_bin.empty() || f.hostpass_bin[0] != '/' ||
      f.hostpass_bin.find_first_of(" \t\n\"'") != std::string::npos)
    return report_error(invalid_input("--hostpass-bin must be an absolute path without blanks"));
  auto force = ForceSet::parse(f.force);
  if (!force.ok()) return report_error(force.error());
  PersistOptions o;
  if (!f.vfio_ids.empty()) {
    auto ids = parse_vfio_ids(f.vfio_ids);
    if (!ids.ok()) return report_error(ids.error());
    if (!f.file.empty())
      return report_error(invalid_input("--vfio-ids and -f both name the devices: give one"));
    o.vfio_ids = std::move(*ids);
  }
  Host& host = cli.host();
  // --write is a mutation: the spine's steps 1-3 (lock, recover, ledger repair) come first.
  std::unique_ptr<Spine> spine;
  if (f.write) {
    auto sp = open_session(host, f.state_dir, f.lock_timeout, "persist --write");
    if (!sp.ok()) return report_error(sp.error());
    spine = std::move(*sp);
  }
  o.force = *force;
  o.format = *format;
  o.role = f.role;
  o.udev_world_writable = f.world_writable;
  o.hostpass_bin = f.hostpass_bin;
  std::vector<PersistDevice> devices;
  if (!f.file.empty()) {
    auto text = read_user_file(f.file, 1 << 20);  // the user's file (user_file.h), not --root's
    if (!text.ok()) return report_error(text.error());
    auto config = parse_apply_config(*text, f.file);
    if (!config.ok()) return report_error(config.error());
    auto plan = plan_apply(host, *config);
    if (!plan.ok()) return report_error(plan.error());
    auto d = devices_from_plan(host, *plan);
    if (!d.ok()) return report_error(d.error());
    devices = std::move(*d);
    o.apply_text = *text;
  } else if (*format != PersistFormat::Udev && o.vfio_ids.empty()) {
    auto d = devices_on_vfio_drivers(host);  // variants too, each on its own driver
    if (!d.ok()) return report_error(d.error());
    devices = std::move(*d);
  }
  auto out = render_persist(host, devices, o);
  if (!out.ok()) return report_error(out.error());
  for (const std::string& w : out->warnings) std::cerr << "hostpass: warning: " << w << "\n";
  // JSON (docs/persist.md): the printed text, or the files as the writes it would make or made.
  nlohmann::json j = {
      {"format", f.format}, {"text", nullptr},     {"writes", nlohmann::json::array()},
      {"written", false},   {"notes", out->notes}, {"warnings", out->warnings}};
  std::vector<PlannedWrite> writes;
  for (const NodeFile& file : out->files) writes.push_back({file.path, file.contents, "write"});
  j["writes"] = writes_json(writes);
  if (out->print_only()) {
    if (cli.json)
      j["text"] = out->text;
    else
      std::cout << out->text;
  } else if (f.write) {
    auto written = write_persist(host, *out, o.force);
    if (!written.ok()) return report_error(written.error());
    if (!cli.json)
      for (const std::string& path : written->written) std::cout << "wrote " << path << "\n";
    for (const std::string& n : written->notes) std::cerr << "hostpass: note: " << n << "\n";
    j["written"] = true;
    for (const std::string& n : written->notes) j["notes"].push_back(n);
  } else {
    if (!cli.json)
      for (const NodeFile& file : out->files)
        std::cout << "==> " << file.path << " <==\n" << file.contents;
    std::cerr << "hostpass: not written: add --write to install these files\n";
  }
  for (const std::string& n : out->notes) std::cerr << "hostpass: note: " << n << "\n";
  if (cli.json) print_json(j);
  return kExitOk;
}

}  // namespace

void add_apply_commands(CLI::App& app, Cli& cli) {
  auto af = std::make_shared<ApplyFlags>();
  CLI::App* apply = app.add_subcommand(
      "apply", "converge devices to the drivers declared in a hostpass.yaml (see docs/apply.md)");
  apply->add_option("-f,--file", af->file, "the hostpass.yaml to apply")->required();
  apply->add_flag("--dry-run", af->dry_run, "print the plan and the exact writes; change nothing");
  add_force_flag(apply, af->force);
  apply->add_option("--state-dir", af->state_dir, "journal directory (/var/lib/hostpass)");
  add_lock_timeout_option(apply, af->lock_timeout);
  apply->callback([&cli, af] { cli.exit_code = run_apply(cli, *af); });

  auto pf = std::make_shared<PersistFlags>();
  CLI::App* persist = app.add_subcommand(
      "persist",
      "make the vfio-pci bindings survive a reboot: modprobe.d, driverctl, a systemd "
      "unit, OpenShift Butane/MachineConfig, a udev rule, or kernel arguments");
  persist
      ->add_option("--format", pf->format,
                   "modprobe, driverctl, systemd, butane, machineconfig, udev or cmdline")
      ->required();
  persist->add_flag("--write", pf->write, "install the files under the root instead of printing");
  persist->add_option("-f,--file", pf->file,
                      "take the devices from this apply file instead of those on vfio-pci now");
  persist->add_option("--role", pf->role, "machine config pool for butane/machineconfig (worker)");
  persist->add_flag("--udev-world-writable", pf->world_writable,
                    "udev: MODE=0666 instead of 0660 (any local user; not recommended)");
  persist->add_option("--vfio-ids", pf->vfio_ids,
                      "butane/machineconfig: render these vendor:device ids (10de:1eb8,...) "
                      "without reading any node");
  add_force_flag(persist, pf->force);
  persist->add_option("--hostpass-bin", pf->hostpass_bin,
                      "systemd: the hostpass path in ExecStart (/usr/local/bin/hostpass)");
  persist->add_option("--state-dir", pf->state_dir, "journal directory, for --write's lock");
  add_lock_timeout_option(persist, pf->lock_timeout);
  persist->callback([&cli, pf, persist] { cli.exit_code = run_persist(cli, *persist, *pf); });
}

}  // namespace hostpass
