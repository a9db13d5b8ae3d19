// next_boot_guard.h — the guards for id-wide forms: which devices a vendor:device list gives to
// vfio-pci at the next boot (or offers to a scheduler), and the blockers among them.
//
// An id list does not name devices: `options vfio-pci ids=8086:5845` (modprobe.d),
// `vfio-pci.ids=8086:5845` (the kernel command line, and the MachineConfig/Butane that carry
// either), and OpenNebula's `PCI_FILTER="8086:5845"` match every function with that vendor and
// device, whatever its address. vfio-pci's `ids` parameter adds each entry as a dynamic id with
// PCI_ANY_ID for the subsystem ids (drivers/vfio/pci/vfio_pci.c, vfio_pci_fill_ids), so at the
// next boot vfio-pci probes every such function that no driver claimed first — and the modprobe
// softdep hostpass writes makes sure vfio-pci is first. Two identical NVMe drives, one holding
// `/`: an ids= line for the other takes the root disk too.
//
// So the guard looks at every device the ids match on this host, not just those the user named:
// each one's host use (host_use.h, through guard.h's host_use_blockers) is a blocker; --force
// (guard.h's ForceSet) overrides what is overridable and the root filesystem never. Devices the
// ids also catch that are on a host driver without host use (another identical NVMe that holds
// nothing, the nvidia-bound GPUs next to the one named) are warned about by address.
//
// What it deliberately does not do: render any format (persist.h, kernel_args.h,
// opennebula_deploy.h do, and each says in `alternative` what works by address instead), or look at
// a node other than this one (OpenShift renders without node access and says so).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "guard.h"
#include "host.h"
#include "pci_address.h"
#include "result.h"

namespace hostpass {

struct NextBootRequest {
  std::vector<std::string> ids;  // "8086:5845", lowercase hex (parse_vfio_ids' form)
  std::set<PciAddress> chosen;   // the devices the user named; empty: none (kernel-args)
  // A by-address form (driverctl's pci-<address>): only `chosen` are taken; `ids` is ignored.
  bool only_chosen = false;
  ForceSet force;
  // How the form names one id in messages: "ids=" (modprobe), "vfio-pci.ids=", "PCI_FILTER ".
  std::string form = "ids=";
  // What the form does to a caught device: "to vfio-pci at boot", "to OpenNebula's scheduler".
  std::string effect = "to vfio-pci at boot";
  std::string verb = "gives";  // "gives" / "offers"
  // What works instead, appended to the refusal and to each warning: "use --format driverctl or
  // systemd to persist by address".
  std::string alternative;
};

struct NextBootCheck {
  std::vector<PciAddress> caught;     // every device the ids match, in address order
  std::vector<Blocker> forced;        // host use overridden by --force
  std::vector<std::string> notes;     // forced_note() of each of `forced`
  std::vector<std::string> warnings;  // devices on a host driver the ids also take
};

// Every device of this host whose vendor:device is in `request.ids`, with its host use.
// Refused (exit 2) when a blocker stands after --force: the message is one line saying which
// form catches host-used devices, then guard.h's refusal_lines() of the standing blockers
// (host use first, in address order), then `alternative`. Io when the devices cannot be listed.
Result<NextBootCheck> guard_next_boot(Host& host, const NextBootRequest& request);

}  // namespace hostpass
