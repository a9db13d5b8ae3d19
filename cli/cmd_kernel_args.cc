// cmd_kernel_args.cc — `hostpass kernel-args`: the kernel arguments this host needs for VFIO
// passthrough, in the format of the tool that sets them (kernel_args.h, boot_loader.h,
// boot_edit.h, openshift_config.h).
//
//   --format cmdline        the arguments alone (default); stderr says what the running kernel's
//                           /proc/cmdline lacks or has in conflict, and the command that sets
//                           them on the boot loader it sees (boot_loader.h: grubby on GRUB+BLS)
//   --format grub [--apply] the diff to /etc/default/grub and, on GRUB with BLS, to every
//                           /boot/loader/entries/*.conf options line and /etc/kernel/cmdline;
//                           --apply writes them (backups, all rolled back when one write fails:
//                           boot_edit.h) and prints what to run next
//   --format kernel-cmdline [--apply]  the same for /etc/kernel/cmdline (systemd-boot, UKIs) and
//                           the distribution's kernel-install step
//   --format machineconfig  an OpenShift MachineConfig for `oc create -f` (--role, default worker)
//   --format butane         the Butane source of the same
// --vfio-ids with cmdline, grub or kernel-cmdline passes the next-boot guard on this host
// (kernel_args.h: guard_cmdline_ids; exit 2 naming each host-used device the ids catch,
// --force[=NAME,...] as guard.h's ForceSet); with machineconfig or butane it is rendered unchecked,
// with a note. Bad flags and ids exit 2 before any read, and so does a flag of one format given
// with another (flag_scopes.h: --role with cmdline, --apply with machineconfig). --json prints
// the same facts as one object (docs/kernel-args.md): the arguments, the text, the edit it would
// make or made.
#include <CLI/CLI.hpp>
#include <iostream>

#include "boot_edit.h"
#include "boot_loader.h"
#include "cli.h"
#include "flag_scopes.h"
#include "json_output.h"
#include "kernel_args.h"
#include "openshift_config.h"
#include "safety_spine.h"
#include "spine_cli.h"
#include "state_lock_cli.h"

namespace hostpass {

namespace {

struct KernelArgsFlags {
  std::string vfio_ids, format = "cmdline", role = "worker", cpu;
  bool apply = false, no_pt = false;
  std::string state_dir = kDefaultStateDir;
  double lock_timeout = kDefaultLockTimeout.count();
  std::vector<std::string> force;  // --force[=NAME,...] (guard.h: ForceSet)
};

int run_kernel_args(Cli& cli, const CLI::App& command, const KernelArgsFlags& f) {
  if (f.format != "cmdline" && f.format != "grub" && f.format != "kernel-cmdline" &&
      f.format != "machineconfig" && f.format != "butane")
    return report_error(
        invalid_input("invalid --format '" + f.format +
                      "': expected cmdline, grub, kernel-cmdline, machineconfig or butane"));
  // --force passes the next-boot guard, which only the formats for this host run.
  if (Status s = check_flag_scopes(command,
                                   {{"--apply", {"grub", "kernel-cmdline"}},
                                    {"--state-dir", {"grub", "kernel-cmdline"}},
                                    {"--lock-timeout", {"grub", "kernel-cmdline"}},
                                    {"--role", {"machineconfig", "butane"}},
                                    {"--force", {"cmdline", "grub", "kernel-cmdline"}}},
                                   f.format, "--format " + f.format, "--format ");
      !s.ok())
    return report_error(s.error());
  std::vector<std::string> ids;
  if (!f.vfio_ids.empty()) {
    auto parsed = parse_vfio_ids(f.vfio_ids);
    if (!parsed.ok()) return report_error(parsed.error());
    ids = std::move(*parsed);
  }
  if (Status s = validate_role(f.role); !s.ok()) return report_error(s.error());
  auto force = ForceSet::parse(f.force);
  if (!force.ok()) return report_error(force.error());
  CpuVendor vendor = CpuVendor::Unknown;
  if (f.cpu == "intel")
    vendor = CpuVendor::Intel;
  else if (f.cpu == "amd")
    vendor = CpuVendor::Amd;
  else if (!f.cpu.empty())
    return report_error(invalid_input("invalid --cpu '" + f.cpu + "': expected intel or amd"));

  Host& host = cli.host();
  if (vendor == CpuVendor::Unknown) vendor = read_iommu_vendor(host);
  auto spec = kernel_arg_spec(vendor, ids, !f.no_pt);
  if (!spec.ok()) return report_error(spec.error());
  bool openshift = f.format == "machineconfig" || f.format == "butane";
  std::vector<std::string> warnings;  // the next-boot guard's
  if (!ids.empty() && openshift) {
    std::cerr << "hostpass: note: the ids were not checked against any node: every device with "
                 "these ids on every node of the '"
              << f.role << "' pool goes to vfio-pci at boot\n";
  } else if (!ids.empty()) {
    auto check = guard_cmdline_ids(host, ids, *force);
    if (!check.ok()) return report_error(check.error());
    warnings = check->warnings;
    for (const std::string& w : check->warnings) std::cerr << "hostpass: warning: " << w << "\n";
    for (const std::string& n : check->notes) std::cerr << "hostpass: note: " << n << "\n";
  }

  // JSON (docs/kernel-args.md): what the text prints, and the edit it would make or made.
  nlohmann::json j = {{"format", f.format},
                      {"arguments", spec->wanted},
                      {"forbidden", spec->forbidden},
                      {"text", nullptr},
                      {"edit", nullptr},
                      {"written", false},
                      {"backup", nullptr},
                      {"regenerate", nullptr},
                      {"writes", nlohmann::json::array()},
                      {"notes", nlohmann::json::array()},
                      {"warnings", warnings}};
  auto edit_json = [](const char* file, const std::vector<std::string>& added,
                      const std::vector<std::string>& removed) {
    return nlohmann::json{
        {"file", file}, {"arguments_added", added}, {"arguments_removed", removed}};
  };
  if (f.format == "cmdline") {
    std::string line = join(spec->wanted, " ") + "\n";
    if (!cli.json) std::cout << line;
    j["text"] = line;
    if (auto current = read_proc_cmdline(host); current.ok()) {
      ArgsEdit e = edit_args(split_cmdline(*current), *spec);
      j["edit"] = edit_json("/proc/cmdline", e.added, e.removed);
      if (!e.changed())
        std::cerr << "hostpass: the running kernel's command line already has these\n";
      for (const std::string& r : e.removed)
        std::cerr << "hostpass: remove from the command line: " << r << "\n";
    }
    BootLoaderInfo loader = detect_boot_loader(host);
    if (loader.loader != BootLoader::Unknown)
      std::cerr << "hostpass: this host boots with " << boot_loader_name(loader.loader) << " ("
                << loader.evidence
                << "): set them with: " << set_args_advice(loader, spec->wanted, spec->forbidden)
                << ", or " << loader.apply_advice() << "\n";
    if (cli.json) print_json(j);
    return kExitOk;
  }
  if (f.format == "machineconfig" || f.format == "butane") {
    NodeConfig c;
    c.name = "100-" + f.role + "-iommu";
    c.role = f.role;
    c.kernel_arguments = spec->wanted;
    std::string text = f.format == "butane" ? render_butane(c) : render_machine_config(c);
    if (!spec->forbidden.empty())
      std::cerr << "hostpass: also make sure no other MachineConfig adds: "
                << join(spec->forbidden, ", ") << "\n";
    if (!cli.json) {
      std::cout << text;
      return kExitOk;
    }
    j["text"] = text;
    print_json(j);
    return kExitOk;
  }
  // --apply is a mutation: the spine's steps 1-3 (lock, recover, ledger repair) come first.
  std::unique_ptr<Spine> spine;
  if (f.apply) {
    auto sp = open_session(host, f.state_dir, f.lock_timeout, "kernel-args --apply");
    if (!sp.ok()) return report_error(sp.error());
    spine = std::move(*sp);
  }
  auto edit = plan_boot_edit(host, *spec,
                             f.format == "grub" ? BootTarget::Grub : BootTarget::KernelCmdline);
  if (!edit.ok()) return report_error(edit.error());
  for (const std::string& n : edit->notes) std::cerr << "hostpass: note: " << n << "\n";
  std::vector<std::string> paths;
  for (const BootFileEdit& file : edit->files) paths.push_back(file.path);
  std::string then = edit->then.empty() ? "reboot" : edit->then + " && reboot";
  std::string text;
  if (!edit->changed()) {
    text = join(paths, ", ") + (paths.size() == 1 ? " already has " : " already have ") +
           join(spec->wanted, " ") + "; nothing to do\n";
  } else {
    text = edit->diff;
    if (f.apply) {
      if (Status s = write_boot_edit(host, *edit); !s.ok()) return report_error(s.error());
      for (const BootFileEdit& file : edit->files) {
        if (!file.changed()) continue;
        text += "wrote " + file.path;
        if (!file.backup_path.empty()) text += " (previous content in " + file.backup_path + ")";
        text += "\n";
      }
      text += "now run: " + then + "\n";
    } else {
      text += "(not written: add --apply, then run: " + then;
      if (edit->loader.loader == BootLoader::GrubBls)
        text += "; or, without hostpass: " + edit->alternative + " && reboot";
      text += ")\n";
    }
  }
  if (!cli.json) {
    std::cout << text;
    return kExitOk;
  }
  // The first file is the one the format names (/etc/default/grub, /etc/kernel/cmdline); the
  // arguments are those added or removed over every file; writes list each file written.
  j["text"] = edit->changed() ? nlohmann::json(edit->diff) : nlohmann::json(text);
  j["edit"] = edit_json(paths.empty() ? "" : paths.front().c_str(), edit->added, edit->removed);
  j["written"] = f.apply && edit->changed();
  j["notes"] = edit->notes;
  if (edit->changed()) {
    j["regenerate"] = then;
    std::vector<PlannedWrite> writes;
    for (const BootFileEdit& file : edit->files) {
      if (!file.changed()) continue;
      if (!file.backup_path.empty()) {
        if (j["backup"].is_null()) j["backup"] = file.backup_path;
        writes.push_back(PlannedWrite{file.backup_path, file.before, "write"});
      }
      writes.push_back(PlannedWrite{file.path, file.after, "write"});
    }
    j["writes"] = writes_json(writes);
  }
  print_json(j);
  return kExitOk;
}

}  // namespace

void add_kernel_args_command(CLI::App& app, Cli& cli) {
  auto f = std::make_shared<KernelArgsFlags>();
  CLI::App* k = app.add_subcommand(
      "kernel-args",
      "the kernel arguments VFIO passthrough needs on this host (intel_iommu=on, "
      "iommu=pt, vfio-pci.ids=...), as a command line, a grub/BLS or "
      "/etc/kernel/cmdline edit, or an OpenShift MachineConfig/Butane");
  k->add_option("--vfio-ids", f->vfio_ids,
                "bind these vendor:device ids to vfio-pci at boot "
                "(10de:1eb8,8086:5845)");
  k->add_option("--format", f->format,
                "cmdline (default), grub, kernel-cmdline, machineconfig or butane");
  k->add_flag("--apply", f->apply,
              "with --format grub or kernel-cmdline: write the files (keeps backups)");
  k->add_option("--role", f->role, "machine config pool role for machineconfig/butane (worker)");
  k->add_option("--cpu", f->cpu, "intel or amd (default: the host's IOMMU, else its CPU vendor)");
  k->add_flag("--no-iommu-pt", f->no_pt, "do not add iommu=pt");
  k->add_option("--state-dir", f->state_dir, "journal directory, for --apply's lock");
  add_lock_timeout_option(k, f->lock_timeout);
  add_force_flag(k, f->force);
  k->callback([&cli, f, k] { cli.exit_code = run_kernel_args(cli, *k, *f); });
}

}  // namespace hostpass
