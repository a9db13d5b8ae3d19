// persist.cc — see persist.h.
#include "persist.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "boot_loader.h"
#include "module_alias.h"
#include "next_boot_guard.h"
#include "pci_device.h"
#include "pci_id.h"
#include "preflight.h"
#include "vfio_rules.h"
#include "vfio_variant.h"

namespace hostpass {

Result<PersistFormat> parse_persist_format(std::string_view name) {
  if (name == "modprobe") return PersistFormat::Modprobe;
  if (name == "driverctl") return PersistFormat::Driverctl;
  if (name == "systemd") return PersistFormat::Systemd;
  if (name == "butane") return PersistFormat::Butane;
  if (name == "machineconfig") return PersistFormat::MachineConfig;
  if (name == "udev") return PersistFormat::Udev;
  if (name == "cmdline") return PersistFormat::Cmdline;
  return invalid_input("invalid --format '" + std::string(name) +
                       "': expected modprobe, driverctl, systemd, butane, machineconfig, udev "
                       "or cmdline");
}

namespace {

constexpr const char* kModprobeConf = "/etc/modprobe.d/vfio.conf";
constexpr const char* kByAddress = "use --format driverctl or systemd to persist by address";

// The module behind a bound driver: drivers/<name>/module -> ../../../../module/<module>.
std::string module_of_driver(Host& host, const std::string& driver) {
  if (auto link = host.read_link(std::string(kPciDriversDir) + "/" + driver + "/module"); link.ok())
    return base_name(*link);
  std::string m = driver;
  std::replace(m.begin(), m.end(), '-', '_');
  return m;
}

Result<PersistDevice> describe(Host& host, const PciAddress& a, const std::string& driver) {
  auto d = read_pci_device(host, a, Detail::Full);
  if (!d.ok()) return d.error();
  if (!d->vendor || !d->device)
    return io_error("cannot read the ids of " + a.to_string() + " (vendor/device unreadable)");
  PersistDevice p;
  p.address = a;
  p.vendor = *d->vendor;
  p.device = *d->device;
  p.driver = driver;
  if (d->driver && !is_stub_driver(*d->driver))
    p.host_module = module_of_driver(host, *d->driver);
  else
    p.host_module = host_module_for(host, a);
  return p;
}

void add_file(PersistOutput& o, std::string path, std::string contents) {
  o.files.push_back(NodeFile{std::move(path), std::move(contents), 0644});
}

std::vector<std::string> unique_ids(const std::vector<PersistDevice>& vfio) {
  std::vector<std::string> ids;
  for (const PersistDevice& d : vfio) {
    std::string id = vendor_device_string(d.vendor, d.device);
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

std::vector<NodeFile> modprobe_files(const std::vector<std::string>& ids,
                                     const std::vector<std::string>& modules) {
  std::string conf = "# Written by hostpass persist: vfio-pci claims these devices at boot.\n";
  std::string list;
  for (const std::string& id : ids) list += (list.empty() ? "" : ",") + id;
  conf += "options vfio-pci ids=" + list + "\n";
  for (const std::string& m : modules) conf += "softdep " + m + " pre: vfio-pci\n";
  return {NodeFile{kModprobeConf, conf, 0644},
          NodeFile{"/etc/modules-load.d/vfio-pci.conf",
                   "# Written by hostpass persist: load vfio-pci at boot.\nvfio-pci\n", 0644}};
}

std::vector<NodeFile> modprobe_files(const std::vector<PersistDevice>& vfio) {
  std::vector<std::string> modules;
  for (const PersistDevice& d : vfio)
    if (d.host_module && std::find(modules.begin(), modules.end(), *d.host_module) == modules.end())
      modules.push_back(*d.host_module);
  return modprobe_files(unique_ids(vfio), modules);
}

// The configuration directories modprobe reads (modprobe.d(5)). kmod sorts the files of all of
// them by name, a name in an earlier directory hiding the same name in a later one
// (libkmod-config.c, conf_files_list), and for a module joins the `options` lines of every file
// in that order (kmod_module_get_options); the kernel then sets the parameters left to right, so
// for vfio-pci's string parameter `ids` the last ids= read wins and the other list is lost.
constexpr const char* kModprobeDirs[] = {"/etc/modprobe.d", "/run/modprobe.d",
                                         "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d",
                                         "/lib/modprobe.d"};

// "options vfio-pci ids=..." (or vfio_pci) lines of other modprobe.d files: "path:line: text".
std::vector<std::string> other_vfio_ids_lines(Host& host) {
  std::set<std::string> seen_names{base_name(kModprobeConf)};  // ours hides any same name
  std::vector<std::string> out;
  for (const char* dir : kModprobeDirs) {
    auto names = host.list_dir(dir);
    if (!names.ok()) continue;
    std::sort(names->begin(), names->end());
    for (const std::string& name : *names) {
      if (name.size() < 5 || name.compare(name.size() - 5, 5, ".conf") != 0) continue;
      if (!seen_names.insert(name).second) continue;
      std::string path = std::string(dir) + "/" + name;
      auto text = host.read_file(path, 1 << 20);
      if (!text.ok()) continue;
      size_t pos = 0;
      int line_no = 0;
      while (pos < text->size()) {
        size_t eol = text->find('\n', pos);
        if (eol == std::string::npos) eol = text->size();
        std::string line(trim(std::string_view(*text).substr(pos, eol - pos)));
        pos = eol + 1;
        ++line_no;
        std::vector<std::string> words;
        size_t w = 0;
        while (w < line.size()) {
          size_t b = line.find_first_not_of(" \t", w);
          if (b == std::string::npos) break;
          size_t e = line.find_first_of(" \t", b);
          if (e == std::string::npos) e = line.size();
          words.push_back(line.substr(b, e - b));
          w = e;
        }
        if (words.size() < 3 || words[0] != "options") continue;
        if (words[1] != "vfio-pci" && words[1] != "vfio_pci") continue;
        for (size_t i = 2; i < words.size(); ++i)
          if (words[i].rfind("ids=", 0) == 0) {
            out.push_back(path + ":" + std::to_string(line_no) + ": " + line);
            break;
          }
      }
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> host_module_for(Host& host, const PciAddress& address) {
  auto d = read_pci_device(host, address, Detail::Full);
  if (!d.ok()) return std::nullopt;
  auto alias = pci_modalias(*d);
  if (!alias) return std::nullopt;
  auto table = read_pci_module_aliases(host);
  if (!table.ok()) return std::nullopt;
  for (const std::string& module : table->modules_for(*alias))
    if (!is_stub_driver(module) && module != "pci_stub") return module;  // module names use '_'
  return std::nullopt;
}

Result<std::vector<PersistDevice>> devices_bound_to(Host& host, const std::string& driver) {
  auto all = discover_pci(host, DiscoverOptions{});
  if (!all.ok()) return all.error();
  std::vector<PersistDevice> out;
  for (const PciDevice& d : *all) {
    if (d.driver != driver) continue;
    auto p = describe(host, d.address, driver);
    if (!p.ok()) return p.error();
    out.push_back(std::move(*p));
  }
  return out;
}

Result<std::vector<PersistDevice>> devices_on_vfio_drivers(Host& host) {
  auto all = discover_pci(host, DiscoverOptions{});
  if (!all.ok()) return all.error();
  VfioDriverKnowledge vfio(host);
  std::vector<PersistDevice> out;
  for (const PciDevice& d : *all) {
    if (!d.driver || !vfio.is_vfio(*d.driver)) continue;
    auto p = describe(host, d.address, *d.driver);
    if (!p.ok()) return p.error();
    out.push_back(std::move(*p));
  }
  return out;
}

Result<std::vector<PersistDevice>> devices_from_plan(Host& host, const ApplyPlan& plan) {
  std::vector<PersistDevice> out;
  for (const ApplyItem& i : plan.items) {
    if (i.driver == kHostDriver) continue;
    auto p = describe(host, i.address, i.driver);
    if (!p.ok()) return p.error();
    out.push_back(std::move(*p));
  }
  return out;
}

Result<PersistOutput> render_persist(Host& host, const std::vector<PersistDevice>& devices,
                                     const PersistOptions& options) {
  PersistOutput o;
  bool openshift =
      options.format == PersistFormat::Butane || options.format == PersistFormat::MachineConfig;
  if (!options.vfio_ids.empty()) {
    // OpenShift: the nodes are elsewhere; render the ids as given.
    if (!openshift)
      return invalid_input(
          "--vfio-ids renders for nodes hostpass cannot read: use it with --format butane or "
          "machineconfig (on this host, persist the devices on vfio-pci, or -f FILE)");
    if (Status s = validate_role(options.role); !s.ok()) return s.error();
    NodeConfig c;
    c.name = "100-" + options.role + "-vfiopci";
    c.role = options.role;
    c.files = modprobe_files(options.vfio_ids, {});
    o.text = options.format == PersistFormat::Butane ? render_butane(c) : render_machine_config(c);
    o.notes.push_back(
        "the ids were not checked against any node: every device with these ids on every node "
        "of the '" +
        options.role +
        "' pool goes to vfio-pci at boot, including a node's root disk or NIC if it has the "
        "same ids; no softdep line (no node to read the host modules from)");
    return o;
  }
  // vfio-pci exactly, not every VFIO driver: `vfio-pci.ids=` and modprobe's "options vfio-pci
  // ids=" hand ids to vfio-pci alone; a variant driver's devices are warned about below.
  std::vector<PersistDevice> vfio;
  for (const PersistDevice& d : devices)
    if (d.driver == "vfio-pci") vfio.push_back(d);
  bool needs_devices = options.format != PersistFormat::Udev;
  if (needs_devices && devices.empty())
    return not_found(
        "no device to persist: none is bound to vfio-pci (hostpass bind ADDR "
        "first), or name an apply file with -f");
  bool ids_based =
      options.format == PersistFormat::Modprobe || options.format == PersistFormat::Butane ||
      options.format == PersistFormat::MachineConfig || options.format == PersistFormat::Cmdline;
  if (ids_based) {
    for (const PersistDevice& d : devices)
      if (d.driver != "vfio-pci")
        o.warnings.push_back(d.address.to_string() + " wants " + d.driver +
                             ", which this format cannot express (vfio-pci ids only); use "
                             "--format systemd or driverctl");
    if (vfio.empty()) return not_found("no device to persist on vfio-pci in this format");
    // ids= binds every device with the id, not just the chosen ones (next_boot_guard.h).
    NextBootRequest req;
    req.ids = unique_ids(vfio);
    for (const PersistDevice& d : vfio) req.chosen.insert(d.address);
    req.force = options.force;
    req.form = options.format == PersistFormat::Cmdline ? "vfio-pci.ids=" : "ids=";
    req.alternative = kByAddress;
    auto check = guard_next_boot(host, req);
    if (!check.ok()) return check.error();
    o.warnings.insert(o.warnings.end(), check->warnings.begin(), check->warnings.end());
    for (const std::string& n : check->notes) o.notes.push_back(n);
    for (const PersistDevice& d : vfio)
      if (!d.host_module && options.format != PersistFormat::Cmdline)
        o.notes.push_back("no host module known for " + d.address.to_string() +
                          " (no modules.alias match): no softdep line for it");
  }

  switch (options.format) {
    case PersistFormat::Modprobe:
      o.files = modprobe_files(vfio);
      for (const std::string& line : other_vfio_ids_lines(host)) {
        o.write_conflicts.push_back(
            line +
            ": another file sets vfio-pci's ids= too; modprobe joins the options of "
            "every file (in file-name order) and the last ids= wins, so one of the two "
            "lists would be lost: merge them into " +
            std::string(kModprobeConf) + ", or --force to write it anyway");
        o.warnings.push_back(line + ": also sets vfio-pci's ids= (the last ids= read wins)");
      }
      o.notes.push_back(
          "if vfio-pci or the host driver is in the initramfs, regenerate it "
          "(update-initramfs -u, or dracut -f), then reboot");
      break;
    case PersistFormat::Driverctl: {
      // By address: only the named devices move, but those must not be the host's own.
      NextBootRequest req;
      for (const PersistDevice& d : devices)
        if (d.driver != kHostDriver) req.chosen.insert(d.address);
      req.only_chosen = true;
      req.force = options.force;
      req.form = "driverctl's pci-<address> override";
      auto check = guard_next_boot(host, req);
      if (!check.ok()) return check.error();
      for (const std::string& n : check->notes) o.notes.push_back(n);
      for (const PersistDevice& d : devices)
        add_file(o, "/etc/driverctl.d/pci-" + d.address.to_string(), d.driver + "\n");
      o.notes.push_back(
          "driverctl's udev rule applies these at boot; to apply one now: "
          "driverctl load-override pci-" +
          devices.front().address.to_string());
      break;
    }
    case PersistFormat::Systemd: {
      std::string unit =
          "# Written by hostpass persist: bind passthrough devices early at boot.\n"
          "[Unit]\n"
          "Description=hostpass: bind host devices for passthrough (hostpass apply)\n"
          "Documentation=man:hostpass(8)\n"
          "After=systemd-modules-load.service local-fs.target\n"
          "Before=kubelet.service libvirtd.service virtqemud.service\n"
          "ConditionPathExists=" +
          options.apply_file +
          "\n"
          "\n"
          "[Service]\n"
          "Type=oneshot\n"
          "RemainAfterExit=yes\n"
          "ExecStart=" +
          options.hostpass_bin + " apply -f " + options.apply_file +
          "\n"
          "\n"
          "[Install]\n"
          "WantedBy=multi-user.target\n";
      add_file(o, "/etc/systemd/system/hostpass.service", unit);
      std::string config = options.apply_text;
      if (config.empty()) {
        // Group by driver so each device keeps the driver it is on.
        std::string body = "version: 1\ndevices:\n";
        for (const PersistDevice& d : devices)
          body += "  - address: \"" + d.address.to_string() + "\"\n    driver: " + d.driver + "\n";
        config =
            "# Written by hostpass persist --format systemd: hostpass.service applies it at "
            "boot.\n" +
            body;
      } else if (!carries_marker(config)) {
        config =
            "# Written by hostpass persist --format systemd (from the apply file given): "
            "hostpass.service applies it at boot.\n" +
            config;
      }
      add_file(o, options.apply_file, config);
      o.notes.push_back("then: systemctl daemon-reload && systemctl enable hostpass.service");
      break;
    }
    case PersistFormat::Butane:
    case PersistFormat::MachineConfig: {
      if (Status s = validate_role(options.role); !s.ok()) return s.error();
      NodeConfig c;
      c.name = "100-" + options.role + "-vfiopci";
      c.role = options.role;
      c.files = modprobe_files(vfio);
      o.text =
          options.format == PersistFormat::Butane ? render_butane(c) : render_machine_config(c);
      break;
    }
    case PersistFormat::Udev: {
      std::string mode = options.udev_world_writable ? "0666" : "0660";
      add_file(o, "/etc/udev/rules.d/70-hostpass-vfio.rules",
               "# Written by hostpass persist: VFIO group nodes (/dev/vfio/<group>) for the kvm "
               "group.\nSUBSYSTEM==\"vfio\", GROUP=\"kvm\", MODE=\"" +
                   mode + "\"\n");
      if (options.udev_world_writable)
        o.warnings.push_back(
            "MODE=0666 lets every local user open the passthrough devices and "
            "DMA into them through VFIO; use 0660 and add the VM users to kvm");
      o.notes.push_back("then: udevadm control --reload && udevadm trigger --subsystem-match=vfio");
      break;
    }
    case PersistFormat::Cmdline: {
      std::string list;
      std::set<std::string> seen;
      for (const PersistDevice& d : vfio) {
        std::string id = vendor_device_string(d.vendor, d.device);
        if (seen.insert(id).second) list += (list.empty() ? "" : ",") + id;
      }
      o.text = "vfio-pci.ids=" + list + "\n";
      o.notes.push_back("add it with: hostpass kernel-args --vfio-ids " + list + " --format " +
                        detect_boot_loader(host).apply_format() + " --apply");
      break;
    }
  }
  return o;
}

Result<OwnedWriteReport> write_persist(Host& host, const PersistOutput& out,
                                       const ForceSet& force) {
  if (out.print_only())
    return invalid_input(
        "this format is printed, not installed: redirect it to a file "
        "(butane/machineconfig: oc create -f; cmdline: hostpass kernel-args)");
  if (!out.write_conflicts.empty() && !force.all) {
    std::string msg = "refusing to write:";
    for (const std::string& c : out.write_conflicts) msg += "\n" + c;
    return refused(msg);
  }
  return write_owned_files(host, out.files, force.all);
}

}  // namespace hostpass
