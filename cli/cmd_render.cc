// cmd_render.cc — `hostpass render TARGET... | --vm NAME --format F`: the snippet each platform
// wants (src/render.h), for devices, resources or a VM's assignments; with --format capk, an
// in-place edit of a clusterctl manifest (src/capk_manifest.h).
//
// TARGET is a PCI address, an mdev UUID, usb-<port>[+...], or a resource name. Resource names
// need the CR (-f/--cr) for the formats that name concrete devices (libvirt, qemu, opennebula:
// the first free healthy unit is shown); KubeVirt and CAPK use the resource name itself, and
// need the CR (or --gpu/--host-device) only to tell gpus from hostDevices. Devices rendered for
// KubeVirt/CAPK need their resource name: --resource, or the CR's inventory.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "capk_manifest.h"
#include "cli.h"
#include "ledger.h"
#include "ledger_cli.h"
#include "render.h"
#include "user_file.h"

namespace hostpass {

namespace {

struct RenderFlags {
  std::vector<std::string> targets;
  std::string vm, format, file, cr, resource, name, node, cluster, template_name;
  std::string state_dir = kDefaultStateDir;
  bool gpu = false, host_device = false, by_type = false, this_node = false, to_stdout = false;
};

// The resource whose inventory unit holds `u`'s first member.
std::string resource_of(const Inventory& inv, const AssignableUnit& u) {
  for (const ResourceInventory& r : inv.resources)
    for (const Unit& unit : r.units) {
      if (u.kind == UnitKind::Pci && !u.pci.empty())
        for (const PciAddress& a : unit.pci)
          if (a == u.pci.front().address) return r.name;
      if (u.kind == UnitKind::Mdev)
        for (const std::string& id : unit.mdev_uuids)
          if (id == u.mdev_uuid) return r.name;
      if (u.kind == UnitKind::Usb && unit.id == u.id) return r.name;
    }
  return "";
}

// Whether a resource is a GPU, from the inventory: its first unit.
std::optional<bool> resource_is_gpu(Host& host, const Inventory& inv, const std::string& name) {
  for (const ResourceInventory& r : inv.resources) {
    if (r.name != name) continue;
    if (r.kind == ResourceKind::Usb) return false;
    if (r.kind == ResourceKind::Mdev) return true;  // vGPUs, as the KubeVirt user guide puts them
    for (const Unit& u : r.units) {
      auto a = read_inventory_unit(host, r, u);
      if (a.ok()) return a->is_gpu();
    }
  }
  return std::nullopt;
}

int run_render(Cli& cli, const RenderFlags& f) {
  auto format = parse_render_format(f.format);
  if (!format.ok()) return report_error(format.error());
  if (f.targets.empty() && f.vm.empty())
    return report_error(invalid_input("name what to render: a device, a resource, or --vm NAME"));
  if (f.gpu && f.host_device)
    return report_error(invalid_input("--gpu and --host-device exclude each other"));
  bool capk = *format == RenderFormat::Capk;
  bool by_resource = capk || *format == RenderFormat::Kubevirt;
  if (capk && f.file.empty())
    return report_error(
        invalid_input("--format capk edits a manifest: give it with -f cluster.yaml "
                      "(from clusterctl generate cluster)"));
  for (const std::string& t : f.targets)
    if (classify_unit_name(t) == NameKind::Invalid)
      return report_error(read_unit(cli.host(), t).error());
  if (!f.vm.empty())
    if (Status s = validate_vm_name(f.vm); !s.ok()) return report_error(s.error());
  Host& host = cli.host();

  std::string cr = capk ? f.cr : (f.cr.empty() ? f.file : f.cr);
  std::optional<Inventory> inv;
  if (!cr.empty()) {
    auto i = inventory_from_cr(host, cr);
    if (!i.ok()) return report_error(i.error());
    inv = std::move(*i);
  }

  std::vector<AssignableUnit> units;
  std::vector<KubevirtRequest> requests;
  auto add_unit = [&](AssignableUnit u) -> Status {
    if (by_resource) {
      std::string res = !f.resource.empty() ? f.resource : u.resource;
      if (res.empty() && inv) res = resource_of(*inv, u);
      if (res.empty())
        return invalid_input(u.id +
                             " has no resource name: KubeVirt assigns devices by "
                             "resource; give --resource NAME or the CR that permits it with " +
                             std::string(capk ? "--cr" : "-f"));
      bool gpu = f.gpu || (!f.host_device && u.is_gpu());
      requests.push_back(KubevirtRequest{res, gpu, f.name});
    }
    units.push_back(std::move(u));
    return ok_status();
  };

  if (!f.vm.empty()) {
    auto rows = list_assignments(host, f.state_dir);
    if (!rows.ok()) return report_error(rows.error());
    std::vector<std::string> seen;
    for (const Assignment& a : *rows) {
      if (a.vm != f.vm || std::find(seen.begin(), seen.end(), a.unit) != seen.end()) continue;
      seen.push_back(a.unit);
      AssignableUnit u;
      bool first = true;
      for (const Assignment& m : *rows) {  // every member of the unit
        if (m.unit != a.unit) continue;
        auto one = read_unit(host, m.device);
        if (!one.ok()) return report_error(one.error().wrap("vm " + f.vm + "'s " + m.device));
        if (first) {
          u = std::move(*one);
          first = false;
        } else if (u.kind == UnitKind::Pci) {
          u.pci.push_back(one->pci.front());
        } else if (u.kind == UnitKind::Usb) {
          u.usb.push_back(one->usb.front());
        }
      }
      u.id = a.unit;
      u.resource = a.resource;
      if (Status s = add_unit(std::move(u)); !s.ok()) return report_error(s.error());
    }
    if (seen.empty())
      return report_error(
          not_found("vm " + f.vm + " has no assigned devices (hostpass assignments)"));
  }

  for (const std::string& t : f.targets) {
    if (classify_unit_name(t) != NameKind::Resource) {
      auto u = read_unit(host, t);
      if (!u.ok()) return report_error(u.error());
      if (Status s = add_unit(std::move(*u)); !s.ok()) return report_error(s.error());
      continue;
    }
    if (by_resource) {
      std::optional<bool> gpu;
      if (f.gpu) gpu = true;
      if (f.host_device) gpu = false;
      if (!gpu && inv) gpu = resource_is_gpu(host, *inv, t);
      if (!gpu)
        return report_error(invalid_input("cannot tell whether " + t +
                                          " is a GPU (gpus) or another device (hostDevices): give "
                                          "--gpu or --host-device, or the CR with " +
                                          std::string(capk ? "--cr" : "-f") +
                                          " and a device of it on this host"));
      requests.push_back(KubevirtRequest{t, *gpu, f.name});
      continue;
    }
    if (!inv)
      return report_error(invalid_input("'" + t +
                                        "' is a resource name: give the KubeVirt or "
                                        "HyperConverged CR that defines it with -f CR.yaml"));
    const ResourceInventory* res = nullptr;
    for (const ResourceInventory& r : inv->resources)
      if (r.name == t) res = &r;
    if (!res) return report_error(not_found("no resource " + t + " in " + cr));
    auto owned = list_assignments(host, f.state_dir);
    if (!owned.ok()) return report_error(owned.error());
    bool found = false;
    for (const Unit& u : res->units) {
      if (!u.healthy) continue;
      auto a = read_inventory_unit(host, *res, u);
      if (!a.ok()) continue;
      bool taken = false;
      for (const Assignment& o : *owned) taken = taken || o.unit == a->id;
      if (taken) continue;
      std::cerr << "hostpass: " << t << ": rendering " << a->id
                << ", its first free healthy unit (hostpass assign " << t << " --vm NAME -f " << cr
                << " reserves one)\n";
      units.push_back(std::move(*a));
      found = true;
      break;
    }
    if (!found) return report_error(refused("no free healthy unit of " + t + " on this host"));
  }

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
      if (!f.node.empty()) o.node = f.node;
      if (f.this_node) {
        auto h = host.read_file("/etc/hostname");
        if (!h.ok()) return report_error(h.error().wrap("--this-node reads /etc/hostname"));
        o.node = std::string(trim(*h));
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
      for (const KubevirtRequest& k : requests) {
        CapkDeviceRequest req{k.resource, k.name, k.gpu, f.cluster, f.template_name};
        auto e = capk_add_device(manifest, f.file, req);
        if (!e.ok()) return report_error(e.error());
        report += std::string(e->changed ? "added " : "already present: ") +
                  (k.gpu ? "gpus" : "hostDevices") + " entry " + e->name + " (" + k.resource +
                  ") in KubevirtMachineTemplate " + e->template_name + ", " + f.file + ":" +
                  std::to_string(e->line) + "\n";
        changed = changed || e->changed;
        manifest = std::move(e->text);
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
                "PCI address, mdev UUID, usb-<port>[+<port>...], or resource name");
  r->add_option("--vm", f->vm, "every device assigned to this VM (hostpass assignments)");
  r->add_option("--format", f->format, "libvirt, qemu, kubevirt, capk or opennebula")->required();
  r->add_option("-f,--file", f->file,
                "capk: the clusterctl manifest to edit in place; other formats: the CR");
  r->add_option("--cr", f->cr, "the KubeVirt or HyperConverged CR defining resources");
  r->add_option("--resource", f->resource, "kubevirt/capk: the resource name for a device");
  r->add_flag("--gpu", f->gpu, "kubevirt/capk: list it under gpus");
  r->add_flag("--host-device", f->host_device, "kubevirt/capk: list it under hostDevices");
  r->add_option("--name", f->name, "kubevirt/capk: the VMI-local device name (default gpu1, ...)");
  r->add_option("--node", f->node, "kubevirt: spec.nodeSelector kubernetes.io/hostname");
  r->add_flag("--this-node", f->this_node, "kubevirt: nodeSelector for this host (/etc/hostname)");
  r->add_flag("--by-type", f->by_type,
              "opennebula: PCI = [ VENDOR, DEVICE, CLASS ] (any such device)");
  r->add_option("--cluster", f->cluster, "capk: edit <cluster>-md-0");
  r->add_option("--template", f->template_name, "capk: the KubevirtMachineTemplate to edit");
  r->add_flag("--stdout", f->to_stdout, "capk: print the edited manifest instead of writing it");
  r->add_option("--state-dir", f->state_dir, "ledger directory, for --vm (under --root)");
  r->callback([&cli, f] { cli.exit_code = run_render(cli, *f); });
}

}  // namespace hostpass
