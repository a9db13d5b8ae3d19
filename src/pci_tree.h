// pci_tree.h — PCI functions as a tree of domains, root buses, bridges and what sits behind
// them, as `lspci -t` draws it and `hostpass list --tree` prints it.
//
// Contract read (through Host, read-only): the sysfs parent chain of each function,
//   /sys/bus/pci/devices/<addr> -> ../../../devices/pci<dddd>:<bb>/<bridge>/.../<addr>
// A function's parent is the PCI function whose directory holds it; a function directly under
// /sys/devices/pci<dddd>:<bb> sits on that root bus (drivers/pci/probe.c pci_register_host_bridge
// names the host bridge's device "pci%04x:%02x"). lspci -t instead follows the bridges'
// secondary bus numbers in config space; on a real host both give the same tree.
//
// What it deliberately does not do: read anything but the links (the caller has the devices),
// or draw (the CLI prints).
#pragma once

#include <string>
#include <vector>

#include "host.h"
#include "pci_device.h"

namespace hostpass {

struct PciTreeNode {
  size_t device;                      // index into the devices given to build_pci_tree
  std::vector<PciTreeNode> children;  // sorted by address
};

struct PciTreeRoot {
  std::string name;  // "0000:00": the root bus, from /sys/devices/pci0000:00
  std::vector<PciTreeNode> children;
};

// The tree of `devices` (sorted by address, as discover_pci returns them). A function whose link
// cannot be read, or whose parent is not among `devices`, becomes a child of its root bus (of
// "unknown" when even that is unknown) and is named in `warnings`.
std::vector<PciTreeRoot> build_pci_tree(Host& host, const std::vector<PciDevice>& devices,
                                        std::vector<std::string>* warnings = nullptr);

}  // namespace hostpass
