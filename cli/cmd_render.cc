// cmd_render.cc — `hostpass render TARGET... | --vm NAME --format F`: the snippet each platform
// wants (src/render.h), for devices, resources or a VM's assignments; with --format capk, an
// in-place edit of a clusterctl manifest (src/capk_manifest.h), or with --stdout the edited
// manifest on stdout (and on stderr what it would add, since nothing is written).
//
// A flag of one format given with another is refused (flag_scopes.h: --by-type with libvirt).
// TARGET is a PCI address, an mdev UUID, usb-<port>[+...], or a resource name. Resource names
// need the CR (-f/--cr) for the formats that name concrete devices (libvirt, qemu, opennebula:
// its first free healthy unit is shown); KubeVirt and CAPK use the resource name itself, and
// need the CR (or --gpu/--host-device) only to tell gpus from hostDevices. Devices rendered for
// KubeVirt/CAPK need their resource name: --resource, or the CR's inventory. --kind chooses the
// KubeVirt object: vm (spec.template.spec..., the default for a ledger VM) or vmi (spec.domain...).
// PCI addresses are resolved on the host first (pci_address_resolve.h: short forms, absent
// devices exit 2); the rest of the targets are resolved by one library call (src/render_targets.h:
// the ledger's free-unit rule picks a resource's unit); this file checks flags, renders and prints.
// --json prints {"format", "text"}; capk's adds the manifest's file, its edits and whether it was
// written.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "capk_manifest.h"
#include "cli.h"
#include "flag_scopes.h"
#include "json_output.h"
#include "ledger_cli.h"
#include "node_name.h"
#include "pci_address_resolve.h"
#include "render.h"
#include "render_targets.h"
#include "user_file.h"

namespace hostpass {

namespace {

struct RenderFlags {
  std::vector<std::string> targets;
  std::string vm, format, file, cr, resource, name, node, cluster, template_name, kind;
  std::string state_dir = kDefaultStateDir;
  bool gpu = false, host_device = false, by_type = false, this_node = false, to_stdout = false;
};

int run_render(Cli& cli, const CLI::App& command, const RenderFlags& f) {
  auto format = parse_render_format(f.format);
  if (!format.ok()) return report_error(format.error());
  const std::vector<std::string_view> kube = {"kubevirt", "capk"};
  if (Status s = check_flag_scopes(command,
                                   {{"--by-type", {"opennebula"}},
                                    {"--resource", kube},
                                    {"--gpu", kube},
                                    {"--host-device", kube},
                                    {"--name", kube},
                                    {"--node", {"kubevirt"}},
                                    {"--this-node", {"kubevirt"}},
                                    {"--kind", {"kubevirt"}},
                                    {"--cluster", {"capk"}},
                                    {"--template", {"capk"}},
                                    {"--stdout", {"capk"}}},
                                   f.format, "--format " + f.format, "--format ");
      !s.ok())
    return report_error(s.error());
  if (f.targets.empty() && f.vm.empty())
    return report_error(invalid_input("name what to render: a device, a resource, or --vm NAME"));
  if (f.gpu && f.host_device)
    return report_error(invalid_input("--gpu and --host-device exclude each other"));
  bool capk = *format == RenderFormat::Capk;
  if (!f.kind.empty() && *format != RenderFormat::Kubevirt)
    return report_error(invalid_input("--kind applies to --format kubevirt only"));
  // A ledger VM is rendered as the VirtualMachine it stands for; devices alone as a VMI's.
  auto kind = f.kind.empty()
                  ? Result<KubevirtKind>(f.vm.empty() ? KubevirtKind::Vmi : KubevirtKind::Vm)
                  : parse_kubevirt_kind(f.kind);
  if (!kind.ok()) return report_error(kind.error());
  if (capk && f.file.empty())
    return report_error(
        invalid_input("--format capk edits a manifest: give it with -f cluster.yaml "
                      "(from clusterctl generate cluster)"));
  Host& host = cli.host();

  RenderTargetsRequest req;
  for (const std::string& t : f.targets) {
    if (classify_unit_name(t) != NameKind::PciAddress) {
      req.targets.push_back(t);
      continue;
    }
    auto a = resolve_pci_address(host, t);  // a short form names the one domain that has it
    if (!a.ok()) return report_error(a.error());
    req.targets.push_back(a->to_string());
  }
  req.vm = f.vm;
  req.state_dir = f.state_dir;
  req.cr_name = capk ? f.cr : (f.cr.empty() ? f.file : f.cr);
  req.cr_flag = capk ? "--cr" : "-f";
  req.by_resource = capk || *format == RenderFormat::Kubevirt;
  req.resource = f.resource;
  if (f.gpu || f.host_device) req.gpu = f.gpu;
  req.name = f.name;
  std::optional<Policy> cr;
  if (!req.cr_name.empty()) {
    auto p = load_user_policy(req.cr_name);
    if (!p.ok()) return report_error(p.error());
    cr = std::move(*p);
    req.cr = &*cr;
  }
  auto targets = resolve_render_targets(host, req);
  if (!targets.ok()) return report_error(targets.error());
  for (const std::string& n : targets->notes) std::cerr << "hostpass: " << n << "\n";
  const std::vector<AssignableUnit>& units = targets->units;
  const std::vector<KubevirtRequest>& requests = targets->requests;

  std::string out;
  switch (*format) {
    case RenderFormat::Libvirt:
      out = render_libvirt(units);
      break;
    case RenderFormat::Qemu:
      out = render_qemu(units);
      break;
    case RenderFormat::OpenNebula: {
      auto r = render_opennebula(units, OpenNebulaRenderOptions{f.by_type});
      if (!r.ok()) return report_error(r.error());
      out = *r;
      break;
    }
    case RenderFormat::Kubevirt: {
      KubevirtOptions o;
      o.kind = *kind;
      if (!f.node.empty()) o.node = f.node;
      if (f.this_node) {
        auto node = this_node_name(host);
        if (!node.ok()) return report_error(node.error().wrap("--this-node"));
        o.node = *node;
      }
      if (!f.name.empty() && requests.size() > 1)
        return report_error(invalid_input("--name names one device; " +
                                          std::to_string(requests.size()) + " are rendered"));
      auto r = render_kubevirt(requests, o);
      if (!r.ok()) return report_error(r.error());
      out = *r;
      break;
    }
    case RenderFormat::Capk: {
      auto text = read_user_file(f.file);
      if (!text.ok()) return report_error(text.error());
      std::string manifest = *text;
      bool changed = false;
      std::string report;
      nlohmann::json edits = nlohmann::json::array();
      for (const KubevirtRequest& k : requests) {
        CapkDeviceRequest req{k.resource, k.name, k.gpu, f.cluster, f.template_name};
        auto e = capk_add_device(manifest, f.file, req);
        if (!e.ok()) return report_error(e.error());
        // With --stdout nothing is written: say what the printed manifest adds, and where in it.
        std::string entry = std::string(k.gpu ? "gpus" : "hostDevices") + " entry " + e->name +
                            " (" + k.resource + ") in KubevirtMachineTemplate " + e->template_name;
        std::string line = std::to_string(e->line);
        if (!f.to_stdout)
          report += (e->changed ? "added " : "already present: ") + entry + ", " + f.file + ":" +
                    line + "\n";
        else if (e->changed)
          report += "hostpass: would add " + entry + ", at line " + line +
                    " of the manifest printed (" + f.file + " is not changed)\n";
        else
          report += "hostpass: already present: " + entry + ", at line " + line +
                    " of the manifest printed (" + f.file + " is not changed)\n";
        edits.push_back({{"kind", k.gpu ? "gpus" : "hostDevices"},
                         {"name", e->name},
                         {"resource", k.resource},
                         {"template", e->template_name},
                         {"line", e->line},
                         {"changed", e->changed}});
        changed = changed || e->changed;
        manifest = std::move(e->text);
      }
      if (cli.json) {
        bool write = changed && !f.to_stdout;
        if (write)
          if (Status s = replace_user_file(f.file, manifest); !s.ok())
            return report_error(s.error());
        print_json({{"format", f.format},
                    {"text", f.to_stdout ? nlohmann::json(manifest) : nlohmann::json(nullptr)},
                    {"file", f.file},
                    {"edits", edits},
                    {"written", write}});
        return kExitOk;
      }
      if (f.to_stdout) {
        out = manifest;
        std::cerr << report;
        break;
      }
      if (changed)
        if (Status s = replace_user_file(f.file, manifest); !s.ok()) return report_error(s.error());
      out = report;
      break;
    }
  }
  if (cli.json) {
    print_json({{"format", f.format}, {"text", out}});
    return kExitOk;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace

void add_render_commands(CLI::App& app, Cli& cli) {
  auto f = std::make_shared<RenderFlags>();
  CLI::App* r = app.add_subcommand(
      "render",
      "print the libvirt/QEMU/KubeVirt/OpenNebula snippet for devices, a resource or a "
      "VM's assignments; with --format capk, add it to a clusterctl manifest");
  r->add_option("target", f->targets,
                "PCI address (0000:06:00.0 or 06:00.0), mdev UUID, usb-<port>[+<port>...], or "
                "resource name");
  r->add_option("--vm", f->vm, "every device assigned to this VM (hostpass assignments)");
  r->add_option("--format", f->format, "libvirt, qemu, kubevirt, capk or opennebula")->required();
  r->add_option("-f,--file", f->file,
                "capk: the clusterctl manifest to edit in place; other formats: the CR");
  r->add_option("--cr", f->cr, "the KubeVirt or HyperConverged CR defining resources");
  r->add_option("--resource", f->resource, "kubevirt/capk: the resource name for a device");
  r->add_flag("--gpu", f->gpu, "kubevirt/capk: list it under gpus");
  r->add_flag("--host-device", f->host_device, "kubevirt/capk: list it under hostDevices");
  r->add_option("--name", f->name, "kubevirt/capk: the VMI-local device name (default gpu1, ...)");
  r->add_option(
      "--kind", f->kind,
      "kubevirt: vm (spec.template.spec..., the default with --vm) or vmi (spec.domain...)");
  r->add_option("--node", f->node, "kubevirt: spec.nodeSelector kubernetes.io/hostname");
  r->add_flag("--this-node", f->this_node,
              "kubevirt: nodeSelector for this node (its hostname, as the kubelet names it)");
  r->add_flag("--by-type", f->by_type,
              "opennebula: PCI = [ VENDOR, DEVICE, CLASS ] (any such device)");
  r->add_option("--cluster", f->cluster, "capk: edit <cluster>-md-0");
  r->add_option("--template", f->template_name, "capk: the KubevirtMachineTemplate to edit");
  r->add_flag("--stdout", f->to_stdout, "capk: print the edited manifest instead of writing it");
  r->add_option("--state-dir", f->state_dir, "ledger directory, for --vm (under --root)");
  r->callback([&cli, f, r] { cli.exit_code = run_render(cli, *r, *f); });
}

}  // namespace hostpass
