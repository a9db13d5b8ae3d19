// render_targets.cc — the units and requests `hostpass render` shows. See render_targets.h.
#include "render_targets.h"

#include "ledger.h"

namespace hostpass {

namespace {

// The resource whose inventory unit holds `u`'s first member; empty when none does.
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

// Whether a resource is a GPU, from the inventory: its first unit this host can read.
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

}  // namespace

Result<RenderTargets> resolve_render_targets(Host& host, const RenderTargetsRequest& req) {
  for (const std::string& t : req.targets)
    if (classify_unit_name(t) == NameKind::Invalid) return read_unit(host, t).error();
  if (!req.vm.empty())
    if (Status s = validate_vm_name(req.vm); !s.ok()) return s.error();

  std::optional<Inventory> inv;
  if (req.cr) {
    auto i = build_inventory(host, *req.cr);
    if (!i.ok()) return i.error();
    inv = std::move(*i);
  }

  RenderTargets out;
  auto add_unit = [&](AssignableUnit u) -> Status {
    if (req.by_resource) {
      std::string res = !req.resource.empty() ? req.resource : u.resource;
      if (res.empty() && inv) res = resource_of(*inv, u);
      if (res.empty())
        return invalid_input(u.id +
                             " has no resource name: KubeVirt assigns devices by resource; give "
                             "--resource NAME or the CR that permits it with " +
                             req.cr_flag);
      out.requests.push_back(KubevirtRequest{res, req.gpu.value_or(u.is_gpu()), req.name});
    }
    out.units.push_back(std::move(u));
    return ok_status();
  };

  if (!req.vm.empty()) {
    auto units = assigned_units(host, req.state_dir, req.vm);
    if (!units.ok()) return units.error();
    for (AssignableUnit& u : *units)
      if (Status s = add_unit(std::move(u)); !s.ok()) return s.error();
  }

  for (const std::string& t : req.targets) {
    if (classify_unit_name(t) != NameKind::Resource) {
      auto u = read_unit(host, t);
      if (!u.ok()) return u.error();
      if (Status s = add_unit(std::move(*u)); !s.ok()) return s.error();
      continue;
    }
    if (req.by_resource) {
      std::optional<bool> gpu = req.gpu;
      if (!gpu && inv) gpu = resource_is_gpu(host, *inv, t);
      if (!gpu)
        return invalid_input("cannot tell whether " + t +
                             " is a GPU (gpus) or another device (hostDevices): give --gpu or "
                             "--host-device, or the CR with " +
                             req.cr_flag + " and a device of it on this host");
      out.requests.push_back(KubevirtRequest{t, *gpu, req.name});
      continue;
    }
    if (!inv)
      return invalid_input("'" + t +
                           "' is a resource name: give the KubeVirt or HyperConverged CR that "
                           "defines it with -f CR.yaml");
    const ResourceInventory* res = nullptr;
    for (const ResourceInventory& r : inv->resources)
      if (r.name == t) res = &r;
    if (!res) return not_found("no resource " + t + " in " + req.cr_name);
    auto rows = list_assignments(host, req.state_dir);
    if (!rows.ok()) return rows.error();
    auto free = first_free_unit(host, *res, *rows, FreeUnitQuery{});
    if (!free.ok()) return free.error();
    out.notes.push_back(t + ": rendering " + free->unit.id +
                        ", its first free healthy unit (hostpass assign " + t + " --vm NAME -f " +
                        req.cr_name + " reserves one)");
    out.units.push_back(std::move(free->unit));
  }
  return out;
}

}  // namespace hostpass
