// opennebula_deploy.h — what OpenNebula's one-deploy pci_passthrough roles do, computed by
// hostpass.
//
// Contract followed: OpenNebula/one-deploy roles/pci_passthrough/{node,frontend}.
//   node role: for every `pci_devices[].address` of a host with `pci_passthrough_enabled: true`,
//     assert /sys/bus/pci/devices/<address> exists, `driverctl set-override <address> vfio-pci`,
//     then read <address>/vendor and <address>/device, strip "0x", and keep "vendor:device".
//   frontend role: PCI_FILTER = those pairs, `unique`, joined with ","; written to the host's
//     template as `PCI_FILTER="10de:1eb8,8086:5845"` (`onehost update ID FILE -a`).
// Devices are named by their full address only: a short address ("09:00.0") is refused (the
// role's stat of /sys/bus/pci/devices/09:00.0 would fail; hostpass refuses it up front, exit 2).
//
// The inventory is the Ansible YAML inventory one-deploy reads (its pci_passthrough wiki page):
// groups with `hosts`, `vars` and `children`; a host's variables are all.vars, then the vars of
// every group holding it (parents first), then its own — Ansible's precedence for inventory
// variables. YAML is read here and nowhere else in the OpenNebula code; binding is the bind
// engine's (vfio_bind.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "guard.h"
#include "host.h"
#include "next_boot_guard.h"
#include "pci_address.h"
#include "result.h"
#include "vfio_bind.h"  // PlannedWrite

namespace hostpass {

struct PciFilterEntry {
  PciAddress address;
  std::string vendor_device;  // "10de:1eb8", as the role derives it from sysfs
};

// Reads vendor and device of every address on this host. InvalidInput for a short or malformed
// address (before any filesystem access), NotFound for a device this host does not have.
Result<std::vector<PciFilterEntry>> pci_filter_entries(Host& host,
                                                       const std::vector<std::string>& addresses);
// "10de:1eb8,8086:5845": unique, in first-seen order (Ansible's `unique | join(',')`).
std::string pci_filter_value(const std::vector<PciFilterEntry>& entries);
// "05:00.0,06:00.0": the host template's PCI_SHORT_ADDRESS for the entries (OpenNebula's
// SHORT_ADDRESS, bus:device.function), in order.
std::string pci_short_address_value(const std::vector<PciFilterEntry>& entries);

// PCI_FILTER is id-wide: the monitoring probe reports, and the scheduler hands to VMs, every
// device with a listed vendor:device — and libvirt's managed hostdev detaches a device from its
// host driver when a VM starts. So the filter passes next_boot_guard.h: each host-used device
// the ids match is refused (the root filesystem even with --force), the other devices it also
// offers are warned about. The host template's PCI_SHORT_ADDRESS narrows it to the named
// devices (OpenNebula applies PCI_FILTER, then PCI_SHORT_ADDRESS, then PCI_DEVICE_NAME, each to
// what the previous one kept): with `short_address`, only the named devices are guarded.
struct PciFilterOptions {
  ForceSet force;
  bool short_address = false;  // PCI_SHORT_ADDRESS is set next to PCI_FILTER
};
Result<NextBootCheck> guard_pci_filter(Host& host, const std::vector<PciFilterEntry>& entries,
                                       const PciFilterOptions& options);

struct OneDeployHost {
  std::string name;          // inventory hostname, "n1"
  std::string ansible_host;  // may be empty
  std::vector<std::string> groups;
  bool pci_passthrough_enabled = false;
  std::vector<std::string> pci_device_addresses;  // as written; validated by pci_filter_entries
};

// Every host of the inventory with its resolved variables. InvalidInput with "file:line: what"
// on malformed YAML or wrongly typed pci_* variables.
Result<std::vector<OneDeployHost>> parse_one_deploy_inventory(const std::string& yaml_text,
                                                              const std::string& source_name);

struct OneDevicePlan {
  PciAddress address;
  std::string vendor_device;
  std::optional<std::string> driver;  // bound now; none: unbound
  bool changes = false;               // false: already on vfio-pci
  std::vector<PlannedWrite> writes;   // the bind engine's dry-run writes of this device
};

struct OneHostPlan {
  std::string pci_filter;             // empty when nothing is to be configured
  std::string pci_short_address;      // set with PciFilterOptions::short_address
  std::vector<std::string> warnings;  // devices PCI_FILTER also offers
  std::vector<OneDevicePlan> devices;
  std::vector<std::string> notes;
};

// What the node and frontend roles would do for `h` on this host, changing nothing: with
// pci_passthrough_enabled false, nothing at all. Guards of the bind engine (host use, IOMMU group
// viability) refuse here exactly as `hostpass bind` would.
// PCI_FILTER passes guard_pci_filter first.
Result<OneHostPlan> plan_one_deploy_host(Host& host, const OneDeployHost& h,
                                         const PciFilterOptions& options = {});

}  // namespace hostpass
