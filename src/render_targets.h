// render_targets.h — what `hostpass render` shows: the units a user names, resolved on this host.
//
// A target is a device (PCI address, mdev UUID, usb-<port>[+<port>...]: read_unit, vm_unit.h), a
// resource name of the KubeVirt CR, or — with `vm` — every unit the ledger gives that VM
// (assigned_units, ledger.h). For the formats that name concrete devices (libvirt, qemu,
// opennebula) a resource name is shown as its first free healthy unit by the ledger's one
// free-unit rule (first_free_unit, ledger.h: the unit `hostpass assign` would take now, without
// reserving it); KubeVirt and CAPK (by_resource) name the resource itself, so they get one
// KubevirtRequest per target: a device's resource comes from `resource`, the ledger row, the
// CR's inventory unit that holds it, or the CR entry whose selector takes it (a device not yet on
// vfio-pci is in no unit); gpus or hostDevices from `gpu`, the device's class, or the class of
// the resource's first unit on this host, else of any device of it here (a QAT, class 0b40, is a
// hostDevice before it is bound). A resource the CR does not list is refused by name:
// "no resource R in CR.yaml's permittedHostDevices (resources: ...)".
// Every device is rendered once: a member already rendered (named twice, by --vm and by name, or
// in two units) is dropped with a note, and a resource named twice shows two different units.
//
// Only reads (sysfs through the Host, the ledger). Rendering the result is render.h's; editing a
// CAPK manifest is capk_manifest.h's.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host.h"
#include "kubevirt_inventory.h"
#include "kubevirt_policy.h"
#include "render.h"
#include "result.h"
#include "vfio_bind.h"
#include "vm_unit.h"

namespace hostpass {

struct RenderTargetsRequest {
  std::vector<std::string> targets;
  std::string vm;  // also every unit the ledger gives this VM
  std::string state_dir = kDefaultStateDir;
  const Policy* cr = nullptr;  // the KubeVirt/HyperConverged CR, when one was given
  std::string cr_name;         // its file name, for messages
  std::string cr_flag = "-f";  // the flag that gives the CR, for messages ("--cr" for capk)
  bool by_resource = false;    // KubeVirt and CAPK: requests by resource name
  std::string resource;        // every device's resource name (--resource); empty: found
  std::optional<bool> gpu;     // true: gpus, false: hostDevices; none: from the device or CR
  std::string name;            // the VMI-local device name (--name)
};

struct RenderTargets {
  std::vector<AssignableUnit> units;      // what libvirt, qemu and opennebula render
  std::vector<KubevirtRequest> requests;  // by_resource: what kubevirt and capk render
  std::vector<std::string> notes;         // which unit stands for a resource name
};

// Targets in order: the VM's units first, then `targets`. Every name and the VM name are checked
// before anything is read (InvalidInput). A resource name needs the CR (InvalidInput without it
// or when the CR has no such resource; Refused when none of its units is free here).
Result<RenderTargets> resolve_render_targets(Host& host, const RenderTargetsRequest& request);

}  // namespace hostpass
