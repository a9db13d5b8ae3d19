// render_targets.cc — the units and requests `hostpass render` shows. See render_targets.h.
#include "render_targets.h"

#include <algorithm>
#include <set>

#include "ledger.h"
#include "mdev.h"
#include "pci_device.h"

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

// The CR resource whose selectors take `u`, whatever driver it is on now (the inventory leaves a
// PCI device off vfio-pci out of its units): an address selector first, as the inventory ranks
// them, then a vendor:device selector; an mdev by its type; USB when the bundle's selectors each
// match one member. Empty when none does.
std::string policy_resource_of(const Policy& cr, const AssignableUnit& u) {
  if (u.kind == UnitKind::Pci && !u.pci.empty()) {
    const PciMember& m = u.pci.front();
    for (const PolicyPciDevice& p : cr.pci)
      for (const PciAddress& a : p.addresses)
        if (a == m.address) return p.resource_name;
    for (const PolicyPciDevice& p : cr.pci)
      if (p.selector && p.selector->vendor == m.vendor && p.selector->device == m.device)
        return p.resource_name;
  }
  if (u.kind == UnitKind::Mdev) {
    MdevType t;
    t.id = u.mdev_type;
    t.name = u.mdev_type_name;
    for (const PolicyMdevDevice& p : cr.mdev)
      if (mdev_name_selector_matches(t, p.name_selector)) return p.resource_name;
  }
  if (u.kind == UnitKind::Usb)
    for (const PolicyUsbDevice& p : cr.usb) {
      bool all = p.selectors.size() == u.usb.size();
      for (const UsbMember& m : u.usb) {
        bool one = false;
        for (const UsbSelector& sel : p.selectors)
          one = one || (sel.vendor == m.vendor && sel.product == m.product);
        all = all && one;
      }
      if (all && !u.usb.empty()) return p.resource_name;
    }
  return "";
}

bool cr_has_resource(const Policy& cr, const std::string& name) {
  for (const PolicyPciDevice& p : cr.pci)
    if (p.resource_name == name) return true;
  for (const PolicyMdevDevice& p : cr.mdev)
    if (p.resource_name == name) return true;
  for (const PolicyUsbDevice& p : cr.usb)
    if (p.resource_name == name) return true;
  return false;
}

// "no resource intel.com/qat in cr.yaml's permittedHostDevices (resources: a, b)".
Error no_such_resource(const RenderTargetsRequest& req, const std::string& name) {
  std::vector<std::string> names;
  auto add = [&](const std::string& n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  for (const PolicyPciDevice& p : req.cr->pci) add(p.resource_name);
  for (const PolicyMdevDevice& p : req.cr->mdev) add(p.resource_name);
  for (const PolicyUsbDevice& p : req.cr->usb) add(p.resource_name);
  return invalid_input("no resource " + name + " in " + req.cr_name +
                       "'s permittedHostDevices (resources: " +
                       (names.empty() ? std::string("none") : join(names, ", ")) + ")");
}

// Whether a PCI resource is a GPU, from the class of a device its selectors take on this host,
// on whatever driver: a QAT still on qat_c62x is no unit of the inventory yet, but its class
// (0b40, a co-processor) already says hostDevices.
std::optional<bool> pci_resource_is_gpu(Host& host, const Policy& cr, const std::string& name) {
  std::optional<std::vector<PciDevice>> all;  // read once, when a vendor selector needs it
  for (const PolicyPciDevice& p : cr.pci) {
    if (p.resource_name != name) continue;
    for (const PciAddress& a : p.addresses) {
      auto d = read_pci_device(host, a, Detail::Basic);
      if (d.ok() && d->class_code) return (*d->class_code >> 16) == 0x03;
    }
    if (!p.selector) continue;
    if (!all) {
      auto found = discover_pci(host, DiscoverOptions{});
      all = found.ok() ? std::move(*found) : std::vector<PciDevice>{};
    }
    for (const PciDevice& d : *all)
      if (d.vendor == p.selector->vendor && d.device == p.selector->device && d.class_code)
        return (*d.class_code >> 16) == 0x03;
  }
  return std::nullopt;
}

// Whether a resource is a GPU: by kind (vGPUs are, USB is not), else the class of its first
// unit this host can read, else of any device of it here (pci_resource_is_gpu).
std::optional<bool> resource_is_gpu(Host& host, const Policy& cr, const Inventory& inv,
                                    const std::string& name) {
  for (const ResourceInventory& r : inv.resources) {
    if (r.name != name) continue;
    if (r.kind == ResourceKind::Usb) return false;
    if (r.kind == ResourceKind::Mdev) return true;  // vGPUs, as the KubeVirt user guide puts them
    for (const Unit& u : r.units) {
      auto a = read_inventory_unit(host, r, u);
      if (a.ok()) return a->is_gpu();
    }
  }
  return pci_resource_is_gpu(host, cr, name);
}

// Drops from `u` the members already rendered (`shown`, by member_ids, ledger.h) and records the
// rest there; returns the ids dropped. A unit left with no member is not rendered.
std::vector<std::string> drop_shown(AssignableUnit& u, std::set<std::string>& shown) {
  std::vector<std::string> dropped;
  auto seen = [&](const std::string& id) {
    bool was = shown.contains(id);
    if (was) dropped.push_back(id);
    return was;
  };
  switch (u.kind) {
    case UnitKind::Pci:
      std::erase_if(u.pci, [&](const PciMember& m) { return seen(m.address.to_string()); });
      break;
    case UnitKind::Usb:
      std::erase_if(u.usb, [&](const UsbMember& m) { return seen("usb-" + m.port_path); });
      break;
    case UnitKind::Mdev:
      seen(u.mdev_uuid);
      break;
  }
  for (const std::string& id : member_ids(u)) shown.insert(id);
  return dropped;
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
  // Each device is rendered once, however often it is named (twice on the command line, by --vm
  // and by name, or as a member of two units): later mentions are dropped, with a note.
  std::set<std::string> shown;
  auto add_unit = [&](AssignableUnit u) -> Status {
    std::vector<std::string> again = drop_shown(u, shown);
    if (!again.empty())
      out.notes.push_back(join(again, ", ") + (again.size() == 1 ? " is" : " are") +
                          " named more than once: rendered once");
    bool none_left = u.kind == UnitKind::Mdev ? !again.empty() : u.pci.empty() && u.usb.empty();
    if (none_left) return ok_status();
    if (req.by_resource) {
      std::string res = !req.resource.empty() ? req.resource : u.resource;
      if (res.empty() && inv) res = resource_of(*inv, u);
      if (res.empty() && req.cr) res = policy_resource_of(*req.cr, u);
      if (res.empty() && req.cr)
        return invalid_input(u.id + " is in no resource of " + req.cr_name +
                             "'s permittedHostDevices: KubeVirt assigns devices by resource; add "
                             "a selector for it there, or give --resource NAME");
      if (res.empty())
        return invalid_input(u.id +
                             " has no resource name: KubeVirt assigns devices by resource; give "
                             "--resource NAME or the CR that permits it with " +
                             req.cr_flag);
      if (req.cr && req.resource.empty() && !cr_has_resource(*req.cr, res))
        return no_such_resource(req, res);
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
      if (req.cr && !cr_has_resource(*req.cr, t)) return no_such_resource(req, t);
      std::optional<bool> gpu = req.gpu;
      if (!gpu && inv) gpu = resource_is_gpu(host, *req.cr, *inv, t);
      if (!gpu && req.cr)
        return invalid_input("cannot tell whether " + t +
                             " is a GPU (gpus) or another device (hostDevices): this host has "
                             "no device of it to read the class of; give --gpu or --host-device");
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
    if (!res) return no_such_resource(req, t);
    auto rows = list_assignments(host, req.state_dir);
    if (!rows.ok()) return rows.error();
    // What is rendered already counts as taken, so a resource named twice shows two units.
    std::vector<Assignment> taken = *rows;
    for (const std::string& id : shown) {
      Assignment a;
      a.device = id;
      taken.push_back(std::move(a));
    }
    auto free = first_free_unit(host, *res, taken, FreeUnitQuery{});
    if (!free.ok() && first_free_unit(host, *res, *rows, FreeUnitQuery{}).ok())
      return refused("no other free unit of " + t + ": every free one is rendered already");
    if (!free.ok()) return free.error();
    out.notes.push_back(t + ": rendering " + free->unit.id +
                        ", its first free healthy unit (hostpass assign " + t + " --vm NAME -f " +
                        req.cr_name + " reserves one)");
    if (Status s = add_unit(std::move(free->unit)); !s.ok()) return s.error();
  }
  return out;
}

}  // namespace hostpass
