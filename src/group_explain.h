// group_explain.h — why an IOMMU group holds more than one device, from config space.
//
// The kernel forms PCI groups in drivers/iommu/iommu.c pci_device_group(), and this file
// replays it from what config space says (read through Host: <dev>/config, the sysfs parent
// chain of /sys/bus/pci/devices/<addr>):
//   1. DMA aliases (pci_for_each_dma_alias): a device behind a PCIe-to-PCI(-X) bridge (PCI
//      Express capability device/port type 7) or behind a conventional PCI bridge reaches the
//      IOMMU with the bridge's requester ID, so it joins the group of the nearest such bridge.
//   2. The walk to the root: for the bridge above the device, pci_acs_path_enabled(bridge, NULL,
//      REQ_ACS_FLAGS) must hold for it and every bridge above it; otherwise the device joins the
//      bridge's group. REQ_ACS_FLAGS = Source Validation | Request Redirect | Completion
//      Redirect | Upstream Forwarding (PCI_ACS_SV|RR|CR|UF).
//   3. A multifunction device whose function fails pci_acs_enabled shares the group of the other
//      functions of its slot that fail it too (get_pci_function_alias_group).
// pci_acs_enabled (drivers/pci/pci.c), quoted as replayed: conventional PCI and PCIe-to-PCI
// bridges never have ACS; root and downstream ports need the ACS extended capability (0x000D)
// whose control register enables every required bit the capability register offers (a bit the
// port does not implement counts as enabled: pci_acs_flags_enabled masks by the capability);
// endpoints, upstream ports and integrated endpoints need it only when multifunction; any other
// single function passes.
// The kernel also applies device-specific ACS quirks (pci_dev_specific_acs_enabled) and
// DMA-alias quirks (pci_add_dma_alias, quirk_dma_func0_alias...): when the replay predicts a
// different group than sysfs shows, the explanation says a quirk is at work and never invents a
// reason. Extended config space (offset >= 0x100) is readable only by root on a real host
// (sysfs returns 64 bytes to others, 256 when the kernel cannot reach extended space): a PCI
// Express function whose config reads short leaves the explanation incomplete, and it says so.
//
// What it deliberately does not do: read the kernel's quirk tables, judge the ACS-override
// patch's fake isolation as real (acs_override_note), or change anything.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host.h"
#include "pci_address.h"
#include "result.h"

namespace hostpass {

// What config space says about one function's ACS and place in the PCIe hierarchy.
struct AcsFacts {
  enum class Pcie { Unknown, No, Yes };
  Pcie pcie = Pcie::Unknown;    // No: a conventional PCI function (no PCI Express capability)
  int port_type = -1;           // PCI_EXP_TYPE_*, when pcie is Yes
  bool extended_read = false;   // extended space (>= 0x100) was readable
  bool has_acs = false;         // when extended_read: an ACS extended capability is present
  uint16_t acs_capability = 0;  // its capability register
  uint16_t acs_control = 0;     // its control register
  bool multifunction = false;   // header type bit 7, or a function number above 0
  bool bridge = false;          // a bridge header (type 1 or 2)
  std::string unreadable;       // why the facts are incomplete ("" when they are complete)
};

// Parses a config space as read (any length). REQUIRES: nothing; short reads are facts too.
AcsFacts parse_acs_facts(std::string_view config, const PciAddress& address);

// The REQ_ACS_FLAGS bits (SV, RR, CR, UF) the capability offers and the control leaves off.
uint16_t missing_acs_bits(const AcsFacts& facts);

struct GroupReason {
  enum class Kind {
    NoAcs,          // a bridge or port on the path has no ACS extended capability
    AcsDisabled,    // it has one, but its control leaves a required bit off
    Multifunction,  // functions of one device without ACS
    BridgeAlias,    // a PCIe-to-PCI bridge or conventional bridge aliases what is behind it
  };
  Kind kind;
  PciAddress device;                 // the port, bridge or (Multifunction) function responsible
  std::vector<PciAddress> affected;  // the members that share a group because of it
  std::string text;                  // the sentence
};
const char* group_reason_kind_name(GroupReason::Kind kind);  // "no-acs", "acs-disabled", ...

struct GroupExplanation {
  int group = -1;
  std::vector<PciAddress> members;  // the kernel's group, from sysfs
  std::vector<GroupReason> reasons;
  // Why the explanation cannot be complete, one line a function ("0000:00:01.0: config space
  // reads 256 bytes: extended space (ACS) needs root"); empty when complete.
  std::vector<std::string> unreadable;
  bool complete() const { return unreadable.empty(); }
  // When complete: the group config space predicts for the first member, sorted.
  std::optional<std::vector<PciAddress>> predicted;
  // When complete and predicted differs from members: the sentence saying a kernel quirk applies.
  std::optional<std::string> quirk;
  std::string summary;  // the whole explanation as one paragraph
};

// The ACS-override patch, once: what it does and why hostpass does not call it isolation.
std::string acs_override_note();

// The explanation of group `number`. NotFound when the group does not exist; a group of one
// device is explained in one sentence ("0000:03:00.0 is alone in group 7").
Result<GroupExplanation> explain_group(Host& host, int number);

// Every group with more than one PCI device, by group number. Fails only when
// /sys/bus/pci/devices cannot be listed.
// The call `check` and `inventory` would make for their "not usable" reasons.
Result<std::vector<GroupExplanation>> explain_shared_groups(Host& host);

}  // namespace hostpass
