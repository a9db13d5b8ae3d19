// kubevirt_inventory.cc — what each permitted resource exposes on this node, and why the rest does
// not.
//
// Reads (never writes): PCI discovery (pci_device.h) with host use (host_use.h), mediated types
// and instances (mdev.h), USB devices (usb_device.h), and these kernel files:
//   /dev/vfio/<group>                          the VFIO group node: a unit's health
//   /sys/bus/mdev/devices/<uuid>/iommu_group   -> ../../../kernel/iommu_groups/<n> (an mdev's
//                                              own group; its /dev/vfio/<n> is what a VM opens)
//   /dev/bus/usb/BBB/DDD                       a USB device's node: a bundle's health
//
// How KubeVirt forms units (pkg/virt-handler/device-manager), and where hostpass differs:
//   PCI  pci_device.go discoverPermittedHostPCIDevices walks /sys/bus/pci/devices, keeps the
//        devices whose "vendor:device" is a permitted selector and whose driver is vfio-pci, and
//        constructDPIdevices uses the IOMMU group number as the device ID with iommuToPCIMap
//        [group] = address — so a group with two matching endpoints becomes one ID that maps to
//        whichever address came last, and the other endpoint never reaches the VM (KubeVirt
//        kubevirt/kubevirt#11412). hostpass makes the group the unit and puts every matching
//        endpoint in it. KubeVirt silently skips devices on other drivers; hostpass lists them with
//        the fix. The group must be viable for VFIO (vfio_rules.h: every other member unbound or on
//        a driver that leaves the group's DMA to VFIO — a vfio driver, pci-stub, pcieport): a group
//        with a sibling on a host driver, bridge or not, is not exposed, with the reason.
//   mdev mediated_device.go discoverPermittedMediatedDevices: one unit per instance UUID whose
//        type's name (spaces as '_'; the type id when there is no name file) equals the
//        selector (spaces as '_'); mdev_name_selector_matches() in mdev.cc implements it.
//   USB  usb_device.go discoverAllowedUSBDevices/LocalDevices.fetch: per resource, in policy
//        order, take for every selector the first remaining device with that vendor:product;
//        when all selectors found one, that is a bundle, its devices are removed from the pool
//        (so a device never serves two resources: the earlier resource wins), and repeat. Root
//        hubs ("usbN") are never candidates. hostpass walks the devices sorted by bus and port
//        path, so bundles are the same on every run, and reports an incomplete last set.
// Health is the presence of the node a VM opens, as KubeVirt's health checks watch it
// (pci_device.go/mediated_device.go healthCheckFunc: /dev/vfio/<group>; usb_device.go: the
// /dev/bus/usb node; generic_device.go: the device path).
// pciAddressSelector (hostpass extension) claims named devices first: a device matched by an
// address selector of one resource and by the vendor selector of another goes to the address
// resource, with a warning.
//
// Double serving: a device the inventory gives to an external resource (which `hostpass plugin`
// serves) that KubeVirt's own plugin also takes for a resource that is not external is recorded
// in Inventory::double_served. "Takes" is KubeVirt's rule, not hostpass's: device_controller.go
// builds its plugins from the non-external entries only (PCI by pciVendorSelector alone, mdev
// by the type's name, USB bundles from a pool that external entries never draw from), and
// double_serving() turns the record into the refusal `inventory` and `plugin` share.
//
// Deliberately not done here: binding, creating mdevs, or deciding what the device plugin serves
// (external resources are computed like the others and marked).
#include "kubevirt_inventory.h"

#include <algorithm>
#include <map>
#include <set>

#include "host_use.h"
#include "iommu_group.h"
#include "mdev.h"
#include "pci_device.h"
#include "pci_id.h"
#include "usb_device.h"
#include "vfio_rules.h"
#include "vfio_variant.h"

namespace hostpass {

const char* resource_kind_name(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::Pci:
      return "pci";
    case ResourceKind::Mdev:
      return "mdev";
    case ResourceKind::Usb:
      return "usb";
  }
  return "?";
}

int ResourceInventory::healthy_units() const {
  int n = 0;
  for (const Unit& u : units) n += u.healthy ? 1 : 0;
  return n;
}

std::string capacity_line(const ResourceInventory& r) {
  std::string line = r.name + ": " + std::to_string(r.units.size());
  int unhealthy = static_cast<int>(r.units.size()) - r.healthy_units();
  if (unhealthy > 0) line += " (" + std::to_string(unhealthy) + " unhealthy)";
  if (r.external)
    line += " (external: externalResourceProvider is true, KubeVirt does not serve it)";
  return line;
}

namespace {

std::string ids(const PciDevice& d) {
  return (d.vendor ? hex4(*d.vendor) : "????") + ":" + (d.device ? hex4(*d.device) : "????");
}

std::string vfio_node(int group) {
  return "/dev/vfio/" + std::to_string(group);
}

// One resource being assembled: its policy entries, in order.
struct Pending {
  ResourceInventory inv;
  std::vector<const PolicyPciDevice*> pci;
  std::vector<const PolicyMdevDevice*> mdev;
  std::vector<const PolicyUsbDevice*> usb;
};

Pending& pending_for(std::vector<Pending>& all, const std::string& name, ResourceKind kind,
                     bool external) {
  for (Pending& p : all)
    if (p.inv.name == name) return p;
  Pending p;
  p.inv.name = name;
  p.inv.kind = kind;
  p.inv.external = external;
  p.inv.rank = static_cast<int>(all.size());
  all.push_back(std::move(p));
  return all.back();
}

// The resource called `name` when it is external (hostpass serves it), else nullptr.
const Pending* external_named(const std::vector<Pending>& all, const std::string& name) {
  for (const Pending& p : all)
    if (p.inv.name == name) return p.inv.external ? &p : nullptr;
  return nullptr;
}

bool selector_matches(const PolicyPciDevice& e, const PciDevice& d) {
  return e.selector && d.vendor == e.selector->vendor && d.device == e.selector->device;
}

// ---------------------------------------------------------------- PCI

struct PciWorld {
  std::vector<PciDevice> devices;
  std::map<PciAddress, const PciDevice*> by_address;
  std::map<int, std::vector<const PciDevice*>> by_group;
};

// The --force a bind of `parent` needs for its mediated devices (guard.h: mdev-live for live
// instances, mdev-defined for mdevctl definitions), "" when it has none.
std::string mdev_parent_force(Host& host, const std::string& parent) {
  std::vector<std::string> guards;
  auto live = list_mdev_instances(host);
  if (live.ok() && std::any_of(live->begin(), live->end(),
                               [&](const MdevInstance& i) { return i.parent == parent; }))
    guards.emplace_back("mdev-live");
  std::vector<std::string> ignored;
  auto defined = list_mdev_definitions(host, &ignored);
  if (defined.ok() && std::any_of(defined->begin(), defined->end(),
                                  [&](const MdevDefinition& d) { return d.parent == parent; }))
    guards.emplace_back("mdev-defined");
  return guards.empty() ? "" : "--force=" + join(guards, ",");
}

void build_pci(Host& host, PciWorld& world, std::vector<Pending>& resources,
               std::vector<std::string>& warnings, std::vector<DoubleServed>& twice) {
  // Who claims each device: address selectors first (the hostpass extension exists to carve a
  // device out of a vendor selector), then vendor selectors in policy order.
  std::map<PciAddress, Pending*> claim;
  std::map<PciAddress, int> claim_line;
  for (Pending& r : resources) {
    for (const PolicyPciDevice* e : r.pci) {
      for (const PciAddress& a : e->addresses) {
        auto it = world.by_address.find(a);
        if (it == world.by_address.end()) {
          r.inv.unusable.push_back({a.to_string(),
                                    "pciAddressSelector (line " + std::to_string(e->line) +
                                        ") names it, but there is no such device on this node",
                                    ""});
          continue;
        }
        const PciDevice& d = *it->second;
        if (e->selector && !selector_matches(*e, d)) {
          r.inv.unusable.push_back(
              {a.to_string(),
               "it is " + ids(d) + ", not the " +
                   vendor_device_string(e->selector->vendor, e->selector->device) +
                   " its entry selects (line " + std::to_string(e->line) + ")",
               ""});
          continue;
        }
        claim[a] = &r;
        claim_line[a] = e->line;
      }
    }
  }
  for (Pending& r : resources) {
    for (const PolicyPciDevice* e : r.pci) {
      if (!e->selector || !e->addresses.empty()) continue;
      for (const PciDevice& d : world.devices) {
        if (!selector_matches(*e, d)) continue;
        auto it = claim.find(d.address);
        if (it == claim.end()) {
          claim[d.address] = &r;
          claim_line[d.address] = e->line;
        } else if (it->second != &r) {
          std::string msg = d.address.to_string() + " (" + ids(d) + ") matches " + r.inv.name +
                            " (line " + std::to_string(e->line) + ") and " + it->second->inv.name +
                            " (line " + std::to_string(claim_line[d.address]) + "): it goes to " +
                            it->second->inv.name;
          warnings.push_back(msg);
          r.inv.unusable.push_back({d.address.to_string(),
                                    "claimed by " + it->second->inv.name +
                                        ", whose pciAddressSelector names it (line " +
                                        std::to_string(claim_line[d.address]) + ")",
                                    ""});
        }
      }
    }
  }

  // KubeVirt's plugin serves, for every entry that is not external, each device whose
  // vendor:device is its pciVendorSelector (device_controller.go, pci_device.go); it does not
  // read pciAddressSelector, so an entry with both serves the whole vendor:device.
  for (const PciDevice& d : world.devices) {
    auto it = claim.find(d.address);
    if (it == claim.end() || !it->second->inv.external) continue;
    for (const Pending& k : resources) {
      if (k.inv.external) continue;
      for (const PolicyPciDevice* e : k.pci)
        if (selector_matches(*e, d))
          twice.push_back({ResourceKind::Pci, d.address.to_string() + " (" + ids(d) + ")",
                           it->second->inv.name, claim_line[d.address], k.inv.name, e->line,
                           "its " + e->selector_key + " " + ids(d) + " takes every " + ids(d) +
                               " device on vfio-pci (KubeVirt does not read pciAddressSelector)"});
    }
  }

  for (Pending& r : resources) {
    if (r.pci.empty()) continue;
    // This resource's devices, by IOMMU group.
    std::map<int, std::vector<const PciDevice*>> groups;
    bool any = false;
    for (const auto& [addr, owner] : claim) {
      if (owner != &r) continue;
      any = true;
      const PciDevice& d = *world.by_address.at(addr);
      if (!d.iommu_group) {
        r.inv.unusable.push_back(
            {addr.to_string(),
             "it has no IOMMU group: the IOMMU is off or the device is not behind it",
             "enable the IOMMU (VT-d or AMD-Vi) in the firmware, and on Intel boot with "
             "intel_iommu=on; hostpass check says what this host lacks"});
        continue;
      }
      groups[*d.iommu_group].push_back(&d);
    }
    if (!any) {
      bool named_only = true;
      for (const PolicyPciDevice* e : r.pci) named_only &= !e->addresses.empty();
      if (!named_only)
        for (const PolicyPciDevice* e : r.pci)
          if (e->selector && e->addresses.empty())
            r.inv.unusable.push_back(
                {e->selector_key + " " +
                     vendor_device_string(e->selector->vendor, e->selector->device),
                 "no device on this node matches (line " + std::to_string(e->line) + ")", ""});
    }
    VfioDriverKnowledge vfio(host);  // which drivers are VFIO drivers (vfio_variant.h)
    for (auto& [group, members] : groups) {
      std::set<PciAddress> mine;
      for (const PciDevice* m : members) mine.insert(m->address);
      bool several_endpoints = false;
      std::vector<GroupMember> group_members;
      for (const PciDevice* s : world.by_group[group]) {
        group_members.push_back(group_member(*s));
        if (!s->is_bridge() && !mine.contains(s->address)) several_endpoints = true;
      }
      std::vector<const PciDevice*> blocking;  // siblings that make the group not viable
      for (const GroupMember& b : viability_blockers(group_members, mine))
        blocking.push_back(world.by_address.at(b.address));
      several_endpoints |= members.size() > 1;
      std::vector<std::string> problems;  // per matched member
      std::vector<Unusable> found;
      for (const PciDevice* m : members) {
        const std::string a = m->address.to_string();
        // A mediated-device parent on its vendor driver serves vGPUs: binding it to vfio-pci
        // ends them, which bind refuses unless forced (guard.h) and the fix must say.
        const bool mdev_parent =
            m->driver && host.exists(pci_device_dir(m->address) + "/mdev_supported_types");
        const std::string force = mdev_parent ? mdev_parent_force(host, a) : "";
        // One command per group: --group binds every endpoint of it (vfio_bind.h).
        const std::string bind =
            "hostpass bind " + (force.empty() ? "" : force + " ") +
            (several_endpoints ? "--group " + members.front()->address.to_string() : a);
        for (const HostUse& u : m->in_use)
          found.push_back({a, "in use by the host: " + u.detail,
                           "free it from the host first; hostpass will not take it"});
        if (!m->driver) {
          found.push_back({a, "not bound to any driver, not vfio-pci", bind});
        } else if (!vfio.is_vfio(*m->driver)) {  // a variant (mlx5_vfio_pci, ...) is usable
          found.push_back({a,
                           "on " + *m->driver + ", not vfio-pci" +
                               (mdev_parent ? "; it is a mediated-device parent (hostpass mdev "
                                              "types)"
                                            : ""),
                           bind + (mdev_parent ? " (this ends its mediated devices)" : "")});
        }
      }
      for (const PciDevice* s : blocking) {
        std::string reason = "IOMMU group " + std::to_string(group) +
                             " is not viable: " + (s->is_bridge() ? "bridge " : "") +
                             s->address.to_string() + " (" + ids(*s) + ", not selected) is on " +
                             *s->driver;
        for (const HostUse& u : s->in_use) reason += " and in use by the host (" + u.detail + ")";
        std::string fix = !s->in_use.empty() ? "move the card to a slot with its own IOMMU group"
                          : s->is_bridge()
                              ? bridge_blocker_remedy(group_member(*s)) +
                                    ": a bridge keeps the group viable only unbound or on pcieport"
                              : "hostpass bind --group " + members.front()->address.to_string() +
                                    " (moves " + s->address.to_string() +
                                    " to vfio-pci too), or move the card to a slot with its own "
                                    "IOMMU group";
        for (const PciDevice* m : members) found.push_back({m->address.to_string(), reason, fix});
      }
      if (!found.empty()) {
        // Members that are fine by themselves are held back with the group.
        std::set<std::string> named;
        for (const Unusable& u : found) named.insert(u.what);
        for (const PciDevice* m : members)
          if (!named.contains(m->address.to_string()))
            found.push_back({m->address.to_string(),
                             "held back: IOMMU group " + std::to_string(group) +
                                 " also holds devices of this resource that are not usable",
                             ""});
        for (Unusable& u : found) r.inv.unusable.push_back(std::move(u));
        continue;
      }
      Unit u;
      for (const PciDevice* m : members) u.pci.push_back(m->address);
      std::sort(u.pci.begin(), u.pci.end());
      u.id = "pci-" + u.pci.front().to_string();
      u.iommu_group = group;
      u.numa_node = members.front()->numa_node;
      for (const PciDevice* m : members)
        if (m->numa_node != u.numa_node)
          warnings.push_back("IOMMU group " + std::to_string(group) + " spans NUMA nodes; unit " +
                             u.id + " reports the first member's");
      if (!host.exists(vfio_node(group))) {
        u.healthy = false;
        u.health_reason = vfio_node(group) + " is missing";
      }
      r.inv.units.push_back(std::move(u));
    }
    std::sort(r.inv.units.begin(), r.inv.units.end(),
              [](const Unit& a, const Unit& b) { return a.pci.front() < b.pci.front(); });
  }
}

// ---------------------------------------------------------------- mdev

// What creates an instance of `t`: mdev apply with the CR when the CR's
// mediatedDevicesConfiguration already lists the type (for a nodeMediatedDeviceTypes entry, with
// its nodeSelector as --node-label), else mdev create, or listing it there first.
std::string mdev_create_fix(const Policy& policy, const MdevType& t) {
  std::string apply = "hostpass mdev apply -f " + policy.source;
  auto lists = [&](const std::vector<std::string>& types) {
    return std::any_of(types.begin(), types.end(),
                       [&](const std::string& want) { return mdev_type_matches(t, want); });
  };
  if (lists(policy.mdev_config.types)) return apply;
  for (const NodeMediatedDeviceTypes& n : policy.mdev_config.node_types) {
    if (!lists(n.types)) continue;
    std::string labels;
    for (const auto& [k, v] : n.node_selector) labels += " --node-label " + k + "=" + v;
    return apply + labels;
  }
  return "hostpass mdev create --parent " + t.parent + " --type " + t.id + " (or list " + t.id +
         " in mediatedDevicesConfiguration.mediatedDeviceTypes of " + policy.source + ", then " +
         apply + ")";
}

void build_mdev(Host& host, const Policy& policy, const PciWorld& world,
                std::vector<Pending>& resources, std::vector<std::string>& warnings,
                std::vector<DoubleServed>& twice) {
  bool wanted = false;
  for (const Pending& r : resources) wanted |= !r.mdev.empty();
  if (!wanted) return;
  std::vector<std::string> w;
  auto types = list_mdev_types(host, &w);
  auto instances = list_mdev_instances(host, &w);
  for (std::string& x : w) warnings.push_back(std::move(x));
  if (!types.ok()) warnings.push_back(types.error().message);
  if (!instances.ok()) warnings.push_back(instances.error().message);
  std::vector<MdevType> all_types = types.ok() ? *types : std::vector<MdevType>{};
  std::vector<MdevInstance> all_instances =
      instances.ok() ? *instances : std::vector<MdevInstance>{};

  auto type_of = [&](const MdevInstance& i) -> MdevType {
    for (const MdevType& t : all_types)
      if (t.parent == i.parent && t.id == i.type_id) return t;
    MdevType t;  // the parent no longer lists the type: use what the instance says
    t.parent = i.parent;
    t.id = i.type_id;
    t.name = i.type_name;
    return t;
  };
  std::map<std::string, std::string> owner;  // uuid -> resource
  std::map<std::string, int> owner_line;     // uuid -> the line of the entry that took it
  for (Pending& r : resources) {
    for (const PolicyMdevDevice* e : r.mdev) {
      bool type_found = false;
      for (const MdevType& t : all_types) {
        if (!mdev_name_selector_matches(t, e->name_selector)) continue;
        type_found = true;
        bool has_instance = false;
        for (const MdevInstance& i : all_instances)
          has_instance |= i.parent == t.parent && i.type_id == t.id;
        if (!has_instance) {
          std::string what = "type " + t.id + " (" + t.name + ") on " + t.parent;
          if (t.available_instances > 0)
            r.inv.unusable.push_back(
                {what,
                 "no instance exists; " + std::to_string(t.available_instances) + " can be created",
                 mdev_create_fix(policy, t)});
          else
            r.inv.unusable.push_back(
                {what, "no instance exists and none can be created (available_instances is 0)",
                 ""});
        }
      }
      for (const MdevInstance& i : all_instances) {
        MdevType t = type_of(i);
        if (!mdev_name_selector_matches(t, e->name_selector)) continue;
        type_found = true;
        auto [it, fresh] = owner.emplace(i.uuid, r.inv.name);
        if (fresh) owner_line[i.uuid] = e->line;
        if (!fresh) {
          if (it->second != r.inv.name) {
            warnings.push_back("mediated device " + i.uuid + " (" + t.id + ") matches " +
                               it->second + " and " + r.inv.name + ": it goes to " + it->second);
            r.inv.unusable.push_back({i.uuid, "claimed by " + it->second, ""});
          }
          continue;
        }
        Unit u;
        u.id = i.uuid;
        u.mdev_uuids = {i.uuid};
        u.mdev_parent = i.parent;
        u.mdev_type = i.type_id;
        if (auto p = PciAddress::parse_full(i.parent); p.ok()) {
          auto d = world.by_address.find(*p);
          if (d != world.by_address.end()) u.numa_node = d->second->numa_node;
        }
        u.iommu_group = mdev_iommu_group(host, i.uuid);
        if (!u.iommu_group) {
          u.healthy = false;
          u.health_reason = "it has no IOMMU group (is the vendor's vfio-mdev driver loaded?)";
        } else if (!host.exists(vfio_node(*u.iommu_group))) {
          u.healthy = false;
          u.health_reason = vfio_node(*u.iommu_group) + " is missing";
        }
        r.inv.units.push_back(std::move(u));
      }
      if (!type_found) {
        std::string names;
        for (const MdevType& t : all_types)
          names +=
              (names.empty() ? "" : ", ") + (t.name.empty() ? t.id : t.name) + " (" + t.id + ")";
        r.inv.unusable.push_back({"mdevNameSelector \"" + e->name_selector + "\"",
                                  "no mediated device type on this node is named \"" +
                                      e->name_selector + "\" (line " + std::to_string(e->line) +
                                      ")" +
                                      (names.empty() ? "; this node has no mediated device types"
                                                     : "; types here: " + names),
                                  ""});
      }
    }
  }
  // KubeVirt's plugin serves, for every entry that is not external, each instance whose type's
  // name file (spaces as '_'; the type id when there is no name file) equals the selector with
  // spaces as '_' (mediated_device.go getMdevTypeName, device_controller.go
  // removeSelectorSpaces): by name only, where hostpass also accepts the type id.
  for (const MdevInstance& i : all_instances) {
    auto it = owner.find(i.uuid);
    if (it == owner.end()) continue;
    const Pending* ext = external_named(resources, it->second);
    if (!ext) continue;
    MdevType t = type_of(i);
    const std::string kubevirt_name = t.name.empty() ? t.id : kubevirt_mdev_name(t.name);
    for (const Pending& k : resources) {
      if (k.inv.external) continue;
      for (const PolicyMdevDevice* e : k.mdev)
        if (kubevirt_mdev_name(e->name_selector) == kubevirt_name)
          twice.push_back({ResourceKind::Mdev, "mediated device " + i.uuid + " (" + t.id + ")",
                           ext->inv.name, owner_line[i.uuid], k.inv.name, e->line,
                           "its mdevNameSelector \"" + e->name_selector +
                               "\" takes every instance of the type named " + kubevirt_name});
    }
  }
}

// ---------------------------------------------------------------- USB

void build_usb(Host& host, std::vector<Pending>& resources, std::vector<std::string>& warnings,
               std::vector<DoubleServed>& twice) {
  bool wanted = false;
  for (const Pending& r : resources) wanted |= !r.usb.empty();
  if (!wanted) return;
  std::vector<std::string> w;
  auto found = discover_usb(host, &w);
  for (std::string& x : w) warnings.push_back(std::move(x));
  if (!found.ok()) {
    warnings.push_back(found.error().message);
    return;
  }
  // The pool, in discover_usb's order (bus, then port path numerically): deterministic bundles.
  std::vector<const UsbDevice*> pool;
  for (const UsbDevice& d : *found)
    if (!d.is_root_hub) pool.push_back(&d);
  std::map<std::string, std::string> taken_by;  // port path -> resource
  std::map<std::string, int> taken_line;        // port path -> the line of the entry

  for (Pending& r : resources) {
    for (const PolicyUsbDevice* e : r.usb) {
      int bundles = 0;
      for (;;) {
        std::vector<const UsbDevice*> bundle;
        std::vector<size_t> missing;
        std::set<const UsbDevice*> used;
        for (size_t s = 0; s < e->selectors.size(); ++s) {
          const UsbSelector& sel = e->selectors[s];
          const UsbDevice* hit = nullptr;
          for (const UsbDevice* d : pool)
            if (d->vendor == sel.vendor && d->product == sel.product && !used.contains(d)) {
              hit = d;
              break;
            }
          if (hit) {
            bundle.push_back(hit);
            used.insert(hit);
          } else {
            missing.push_back(s);
          }
        }
        if (!missing.empty()) {
          if (!bundle.empty()) {
            std::string what, miss;
            for (const UsbDevice* d : bundle)
              what += (what.empty() ? "usb " : " + ") + d->port_path + " (" +
                      vendor_device_string(d->vendor, d->product) + ")";
            for (size_t s : missing)
              miss += (miss.empty() ? "" : ", ") +
                      vendor_device_string(e->selectors[s].vendor, e->selectors[s].product) +
                      " (selectors[" + std::to_string(s) + "])";
            r.inv.unusable.push_back({what, "incomplete bundle: no device left for " + miss,
                                      "plug in the missing device(s)"});
          } else if (bundles == 0) {
            std::string sel;
            for (const UsbSelector& x : e->selectors)
              sel += (sel.empty() ? "" : " + ") + vendor_device_string(x.vendor, x.product);
            std::string reason =
                "no matching USB device on this node (line " + std::to_string(e->line) + ")";
            // A device another resource took first is the likelier story.
            for (const UsbSelector& x : e->selectors)
              for (const UsbDevice& d : *found)
                if (d.vendor == x.vendor && d.product == x.product &&
                    taken_by.contains(d.port_path))
                  reason = "usb " + d.port_path + " (" + vendor_device_string(x.vendor, x.product) +
                           ") matches but was taken by " + taken_by[d.port_path];
            r.inv.unusable.push_back({"selectors " + sel, reason, ""});
          }
          break;
        }
        Unit u;
        u.id = "usb";
        for (const UsbDevice* d : bundle) {
          u.id += (u.usb.empty() ? "-" : "+") + d->port_path;
          u.usb.push_back(
              {d->port_path, d->busnum, d->devnum, d->vendor, d->product, d->dev_node()});
          if (u.healthy && !host.exists(d->dev_node())) {
            u.healthy = false;
            u.health_reason = d->dev_node() + " is missing";
          }
          taken_by[d->port_path] = r.inv.name;
          taken_line[d->port_path] = e->line;
        }
        pool.erase(std::remove_if(pool.begin(), pool.end(),
                                  [&](const UsbDevice* d) { return used.contains(d); }),
                   pool.end());
        r.inv.units.push_back(std::move(u));
        ++bundles;
      }
    }
  }
  // A device that also matches a resource that did not get it: report the double claim.
  std::set<std::string> claims;
  for (Pending& r : resources)
    for (const PolicyUsbDevice* e : r.usb)
      for (const UsbSelector& x : e->selectors)
        for (const UsbDevice& d : *found) {
          auto it = taken_by.find(d.port_path);
          if (it != taken_by.end() && it->second != r.inv.name && d.vendor == x.vendor &&
              d.product == x.product)
            claims.insert("usb " + d.port_path + " (" + vendor_device_string(x.vendor, x.product) +
                          ") matches " + it->second + " and " + r.inv.name + ": it goes to " +
                          it->second);
        }
  for (const std::string& c : claims) warnings.push_back(c);
  // KubeVirt's plugin takes bundles for every entry that is not external from the node's devices
  // (usb_device.go discoverAllowedUSBDevices skips external entries, so their devices stay in
  // its pool): a device hostpass serves that matches such an entry's selector is KubeVirt's
  // too, now or once the rest of its bundle is plugged in.
  for (const UsbDevice& d : *found) {
    auto it = taken_by.find(d.port_path);
    if (it == taken_by.end()) continue;
    const Pending* ext = external_named(resources, it->second);
    if (!ext) continue;
    for (const Pending& k : resources) {
      if (k.inv.external) continue;
      for (const PolicyUsbDevice* e : k.usb) {
        bool matches = false;
        for (const UsbSelector& x : e->selectors)
          matches |= d.vendor == x.vendor && d.product == x.product;
        if (matches)
          twice.push_back(
              {ResourceKind::Usb,
               "usb " + d.port_path + " (" + vendor_device_string(d.vendor, d.product) + ")",
               ext->inv.name, taken_line[d.port_path], k.inv.name, e->line,
               "its selectors take every " + vendor_device_string(d.vendor, d.product) +
                   " device for a bundle"});
      }
    }
  }
}

}  // namespace

Result<Inventory> build_inventory(Host& host, const Policy& policy) {
  Inventory inv;
  inv.disabled = policy.disabled;
  std::vector<Pending> resources;
  resources.reserve(policy.pci.size() + policy.mdev.size() + policy.usb.size());
  for (const PolicyPciDevice& e : policy.pci) {
    Pending& p = pending_for(resources, e.resource_name, ResourceKind::Pci, e.external);
    p.pci.push_back(&e);
    std::string sel;
    if (e.selector)
      sel = e.selector_key + " " + vendor_device_string(e.selector->vendor, e.selector->device);
    if (!e.addresses.empty()) {
      sel += sel.empty() ? "pciAddressSelector" : " + pciAddressSelector";
      for (const PciAddress& a : e.addresses) sel += " " + a.to_string();
    }
    p.inv.selectors.push_back(sel + " (line " + std::to_string(e.line) + ")");
  }
  for (const PolicyMdevDevice& e : policy.mdev) {
    Pending& p = pending_for(resources, e.resource_name, ResourceKind::Mdev, e.external);
    p.mdev.push_back(&e);
    p.inv.selectors.push_back("mdevNameSelector \"" + e.name_selector + "\" (line " +
                              std::to_string(e.line) + ")");
  }
  for (const PolicyUsbDevice& e : policy.usb) {
    Pending& p = pending_for(resources, e.resource_name, ResourceKind::Usb, e.external);
    p.usb.push_back(&e);
    std::string sel;
    for (const UsbSelector& s : e.selectors)
      sel += (sel.empty() ? "" : " + ") + vendor_device_string(s.vendor, s.product);
    p.inv.selectors.push_back("selectors " + sel + " (line " + std::to_string(e.line) + ")");
  }

  PciWorld world;
  bool want_pci = !policy.pci.empty() || !policy.mdev.empty();
  if (want_pci) {
    std::vector<std::string> w;
    auto devices = discover_pci(host, DiscoverOptions{}, &w);
    for (std::string& x : w) inv.warnings.push_back(std::move(x));
    if (!devices.ok()) {
      if (!policy.pci.empty()) return devices.error().wrap("cannot list PCI devices");
    } else {
      world.devices = std::move(*devices);
      HostUseMap uses = detect_host_use(host);
      for (std::string& x : uses.warnings) inv.warnings.push_back(std::move(x));
      attach_host_use(host, uses, world.devices);
      for (const PciDevice& d : world.devices) {
        world.by_address[d.address] = &d;
        if (d.iommu_group) world.by_group[*d.iommu_group].push_back(&d);
      }
    }
  }
  build_pci(host, world, resources, inv.warnings, inv.double_served);
  build_mdev(host, policy, world, resources, inv.warnings, inv.double_served);
  build_usb(host, resources, inv.warnings, inv.double_served);
  for (Pending& p : resources) inv.resources.push_back(std::move(p.inv));
  return inv;
}

Status double_serving(const Inventory& inventory, bool serve_all) {
  if (serve_all || inventory.double_served.empty()) return ok_status();
  const size_t n = inventory.double_served.size();
  std::string m = "refusing the policy: " + std::to_string(n) + (n == 1 ? " device" : " devices") +
                  " would be served twice, by hostpass and by KubeVirt's own device plugin, so "
                  "two VMs could get the same device:";
  std::vector<std::pair<std::string, int>> kubevirt;  // resources to mark, in order of mention
  for (const DoubleServed& d : inventory.double_served) {
    m += "\n  " + d.device + ": hostpass serves it as " + d.external +
         " (externalResourceProvider: true, line " + std::to_string(d.external_line) +
         "); KubeVirt serves it as " + d.kubevirt + " (line " + std::to_string(d.kubevirt_line) +
         "), whose entry is not external: " + d.kubevirt_rule;
    auto key = std::make_pair(d.kubevirt, d.kubevirt_line);
    if (std::find(kubevirt.begin(), kubevirt.end(), key) == kubevirt.end()) kubevirt.push_back(key);
  }
  for (const auto& [name, line] : kubevirt)
    m += "\nfix: mark " + name + " (line " + std::to_string(line) +
         ") externalResourceProvider: true as well, in this file and in the CR KubeVirt reads "
         "(hostpass then serves both resources and gives each device to one of them); or, where "
         "KubeVirt's own plugins do not serve this CR, run hostpass plugin --all so hostpass "
         "serves both";
  return refused(m);
}

}  // namespace hostpass
