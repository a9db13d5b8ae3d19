// boot_edit.cc — see boot_edit.h.
#include "boot_edit.h"

#include <algorithm>

#include "kernel_cmdline.h"
#include "owned_file.h"

namespace hostpass {

namespace {

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const std::string& x : from)
    if (std::ranges::find(to, x) == to.end()) to.push_back(x);
}

// True when the whitespace-separated words of `text` include "--" (split_cmdline stops there).
bool has_double_dash(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t b = text.find_first_not_of(" \t\r\n", pos);
    if (b == std::string_view::npos) break;
    size_t e = text.find_first_of(" \t\r\n", b);
    if (e == std::string_view::npos) e = text.size();
    if (text.substr(b, e - b) == "--") return true;
    pos = e;
  }
  return false;
}

Status no_double_dash(std::string_view text) {
  if (!has_double_dash(text)) return {};
  return invalid_input(
      "the arguments hold \"--\" (what follows is init's); hostpass does not edit such a line: "
      "add the arguments before the \"--\" by hand");
}

std::string grubby_advice(const KernelArgSpec& spec) {
  BootLoaderInfo bls;
  bls.loader = BootLoader::GrubBls;
  return set_args_advice(bls, spec.wanted, spec.forbidden);
}

// The arguments kernel-install itself manages, dropped when /proc/cmdline seeds the file.
bool installer_arg(const std::string& arg) {
  std::string name = arg_name(arg);
  return name == "BOOT_IMAGE" || name == "initrd" || name == "systemd.machine_id";
}

void add_file(BootEdit& edit, BootFileEdit file) {
  edit.files.push_back(std::move(file));
}

Status plan_grub(Host& host, const KernelArgSpec& spec, BootEdit& edit) {
  auto text = host.read_file(kGrubDefaults, 1 << 20);
  if (!text.ok()) {
    std::string hint = edit.loader.loader == BootLoader::SystemdBoot
                           ? "; this host boots with systemd-boot (" + edit.loader.evidence +
                                 "): use --format kernel-cmdline"
                           : "; this host does not keep GRUB defaults there: use --format cmdline "
                             "and your boot loader's own tool";
    return not_found(std::string("cannot read ") + kGrubDefaults + ": " + text.error().message +
                     hint);
  }
  auto grub = edit_grub_defaults(*text, spec);
  if (!grub.ok()) return grub.error().wrap(kGrubDefaults);
  add_unique(edit.added, grub->added);
  add_unique(edit.removed, grub->removed);
  add_file(edit, {kGrubDefaults, grub->before, grub->after});
  if (auto frags = host.list_dir("/etc/default/grub.d"); frags.ok()) {
    std::sort(frags->begin(), frags->end());
    for (const std::string& f : *frags) {
      if (f.size() < 4 || f.compare(f.size() - 4, 4, ".cfg") != 0) continue;
      auto body = host.read_file("/etc/default/grub.d/" + f, 1 << 20);
      if (body.ok() && body->find("GRUB_CMDLINE_LINUX") != std::string::npos)
        edit.notes.push_back("/etc/default/grub.d/" + f +
                             " also sets GRUB_CMDLINE_LINUX*: it is sourced after "
                             "/etc/default/grub; check it keeps these arguments");
    }
  }
  if (edit.loader.loader == BootLoader::SystemdBoot)
    edit.notes.push_back("this host boots with systemd-boot (" + edit.loader.evidence +
                         "), which does not read /etc/default/grub: --format kernel-cmdline "
                         "edits what it reads");
  if (edit.loader.loader != BootLoader::GrubBls) {
    edit.then = grub_mkconfig_command(edit.loader.distro);
    return {};
  }
  for (const std::string& path : edit.loader.bls_entries) {
    auto entry = host.read_file(path, 1 << 20);
    if (!entry.ok()) return entry.error().wrap("reading the boot entry " + path);
    auto edited = edit_bls_entry(*entry, spec);
    if (!edited.ok()) return edited.error().wrap(path);
    add_file(edit, {path, *entry, *edited});
  }
  if (edit.loader.kernel_cmdline) {
    auto body = host.read_file(kKernelCmdlineFile, 64 << 10);
    if (!body.ok()) return body.error().wrap(std::string("reading ") + kKernelCmdlineFile);
    auto edited = edit_kernel_cmdline_file(*body, spec);
    if (!edited.ok()) return edited.error().wrap(kKernelCmdlineFile);
    add_file(edit, {kKernelCmdlineFile, *body, *edited});
  }
  return {};
}

Status plan_kernel_cmdline(Host& host, const KernelArgSpec& spec, BootEdit& edit) {
  BootFileEdit file{kKernelCmdlineFile, "", ""};
  if (auto body = host.read_file(kKernelCmdlineFile, 64 << 10); body.ok()) {
    file.before = *body;
  } else if (body.error().kind != ErrorKind::NotFound) {
    return body.error().wrap(std::string("reading ") + kKernelCmdlineFile);
  } else {
    file.existed = false;
    std::string seed;
    if (auto lib = host.read_file("/usr/lib/kernel/cmdline", 64 << 10); lib.ok()) {
      seed = *lib;
      edit.notes.push_back(std::string(kKernelCmdlineFile) +
                           " does not exist: it is created from /usr/lib/kernel/cmdline, which "
                           "kernel-install reads until then");
    } else if (auto proc = read_proc_cmdline(host); proc.ok()) {
      std::vector<std::string> kept;
      for (const std::string& a : split_cmdline(*proc))
        if (!installer_arg(a)) kept.push_back(a);
      seed = join(kept, " ") + "\n";
      edit.notes.push_back(std::string(kKernelCmdlineFile) +
                           " does not exist: it is created from the running kernel's "
                           "/proc/cmdline (without BOOT_IMAGE=, initrd=, systemd.machine_id=), "
                           "which kernel-install uses until then");
    } else {
      return not_found(std::string(kKernelCmdlineFile) +
                       " does not exist and /proc/cmdline cannot be read to start it from: "
                       "write the kernel's arguments there first");
    }
    // The file does not exist yet: `before` stays empty for the diff, the edit starts from seed.
    auto edited = edit_kernel_cmdline_file(seed, spec);
    if (!edited.ok()) return edited.error().wrap(kKernelCmdlineFile);
    file.after = *edited;
    ArgsEdit e = edit_args(split_cmdline(seed), spec);
    add_unique(edit.added, e.added);
    add_unique(edit.removed, e.removed);
    add_file(edit, std::move(file));
    edit.then = kernel_cmdline_regenerate_command(edit.loader.distro);
    return {};
  }
  auto edited = edit_kernel_cmdline_file(file.before, spec);
  if (!edited.ok()) return edited.error().wrap(kKernelCmdlineFile);
  file.after = *edited;
  ArgsEdit e = edit_args(split_cmdline(file.before), spec);
  add_unique(edit.added, e.added);
  add_unique(edit.removed, e.removed);
  add_file(edit, std::move(file));
  if (edit.loader.loader == BootLoader::Grub)
    edit.notes.push_back("this host boots with GRUB (" + edit.loader.evidence +
                         "), which takes its arguments from /etc/default/grub: --format grub "
                         "edits what it reads");
  edit.then = kernel_cmdline_regenerate_command(edit.loader.distro);
  return {};
}

}  // namespace

bool BootEdit::changed() const {
  return std::any_of(files.begin(), files.end(), [](const BootFileEdit& f) { return f.changed(); });
}

Result<std::string> edit_bls_entry(std::string_view text, const KernelArgSpec& spec) {
  // Each line: optional blanks, a key, blanks, the value (the BLS spec's "key value" lines).
  struct Line {
    size_t value_begin, value_end;
  };
  std::vector<Line> options;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    size_t k = line.find_first_not_of(" \t");
    if (k != std::string_view::npos && line.substr(k, 7) == "options" &&
        (line.size() == k + 7 || line[k + 7] == ' ' || line[k + 7] == '\t')) {
      size_t v = line.find_first_not_of(" \t", k + 7);
      size_t end = line.size();
      while (end > 0 && (line[end - 1] == '\r' || line[end - 1] == ' ' || line[end - 1] == '\t'))
        --end;
      if (v == std::string_view::npos || v > end) v = end;
      options.push_back({pos + v, pos + end});
    }
    pos = eol + 1;
  }
  if (options.size() > 1)
    return invalid_input("the entry has " + std::to_string(options.size()) +
                         " options lines; hostpass edits entries with one (as grubby writes "
                         "them): run " +
                         grubby_advice(spec));
  if (options.empty()) {
    ArgsEdit e = edit_args({}, spec);
    if (!e.changed()) return std::string(text);
    std::string out(text);
    if (!out.empty() && out.back() != '\n') out += '\n';
    return out + "options " + join(e.result, " ") + "\n";
  }
  std::string_view value =
      text.substr(options[0].value_begin, options[0].value_end - options[0].value_begin);
  if (Status s = no_double_dash(value); !s.ok()) return s.error();
  std::vector<std::string> args = split_cmdline(value);
  if (std::ranges::find(args, "$kernelopts") != args.end())
    return refused(
        "its options line uses $kernelopts (the RHEL 8 layout: the arguments live in "
        "/boot/grub2/grubenv, which grub2-editenv owns, and hostpass does not edit it); run " +
        grubby_advice(spec) + ", which edits them there");
  ArgsEdit e = edit_args(args, spec);
  if (!e.changed()) return std::string(text);
  std::string out(text);
  out.replace(options[0].value_begin, options[0].value_end - options[0].value_begin,
              join(e.result, " "));
  return out;
}

Result<std::string> edit_kernel_cmdline_file(std::string_view text, const KernelArgSpec& spec) {
  if (Status s = no_double_dash(text); !s.ok()) return s.error();
  ArgsEdit e = edit_args(split_cmdline(text), spec);
  if (!e.changed()) return std::string(text);
  return join(e.result, " ") + "\n";
}

Result<BootEdit> plan_boot_edit(Host& host, const KernelArgSpec& spec, BootTarget target) {
  BootEdit edit;
  edit.loader = detect_boot_loader(host);
  Status s = target == BootTarget::Grub ? plan_grub(host, spec, edit)
                                        : plan_kernel_cmdline(host, spec, edit);
  if (!s.ok()) return s.error();
  for (const BootFileEdit& f : edit.files)
    if (f.changed()) edit.diff += unified_diff(f.path, f.before, f.after);
  BootLoaderInfo advice = edit.loader;
  if (target == BootTarget::KernelCmdline) advice.loader = BootLoader::SystemdBoot;
  edit.alternative = set_args_advice(advice, spec.wanted, spec.forbidden);
  return edit;
}

Status write_boot_edit(Host& host, BootEdit& edit) {
  struct Done {
    BootFileEdit* file;
    bool replaced;
  };
  std::vector<Done> done;
  auto roll_back = [&](const Error& cause) -> Error {
    std::vector<std::string> failed;
    for (auto it = done.rbegin(); it != done.rend(); ++it) {  // NOLINT(modernize-loop-convert)
      BootFileEdit& f = *it->file;
      if (it->replaced) {
        Status r = f.existed ? host.replace_file(f.path, f.before) : host.remove_file(f.path);
        if (!r.ok()) failed.push_back(f.path + " (" + r.error().message + ")");
      }
      if (!f.backup_path.empty()) {
        if (Status r = host.remove_file(f.backup_path); !r.ok())
          failed.push_back(f.backup_path + " (" + r.error().message + ")");
        f.backup_path.clear();
      }
    }
    std::string msg = cause.message + "; ";
    if (failed.empty())
      msg += std::none_of(done.begin(), done.end(), [](const Done& d) { return d.replaced; })
                 ? "nothing was changed"
                 : "every file written before it has its previous content again";
    else
      msg += "could not put back: " + join(failed, ", ") + ": restore them from their " +
             ".hostpass.bak backups";
    return Error{cause.kind, msg};
  };
  for (BootFileEdit& f : edit.files) {
    if (!f.changed()) continue;
    done.push_back({&f, false});
    if (f.existed) {
      auto backup = keep_backup(host, f.path, f.before);
      if (!backup.ok()) return roll_back(backup.error().wrap("keeping a backup of " + f.path));
      f.backup_path = *backup;
    }
    if (Status s = host.replace_file(f.path, f.after); !s.ok())
      return roll_back(s.error().wrap("writing " + f.path));
    done.back().replaced = true;
  }
  edit.written = !done.empty();
  return {};
}

}  // namespace hostpass
