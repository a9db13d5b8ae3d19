// module_alias.h — the kernel modules that can drive a PCI device, as `lspci -k` lists them.
//
// Contract read (through Host, read-only):
//   /proc/sys/kernel/osrelease                 the running kernel's release (uname -r)
//   /lib/modules/<release>/modules.alias       "alias <pattern> <module>" lines written by
//                                              depmod; PCI patterns are fnmatch(3) globs over
//                                              the modalias below
// The modalias is the one the kernel puts in the uevent (drivers/pci/pci-driver.c pci_uevent):
// "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X" from vendor, device, subsystem ids and class.
// Lines that are not three fields are damaged (depmod writes exactly three) and skipped.
//
// What it deliberately does not do: load a module, read modules.dep or decide which of several
// modules the kernel would pick (persist.h picks the first host module; the vfio variant-driver
// choice is a later part of issue 17).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "host.h"
#include "result.h"

namespace hostpass {

struct PciDevice;

// The kernel's modalias of a device; none when its ids or class are unknown. Subsystem ids that
// were not read count as 0 (the uevent of a bridge has them as 0 too).
std::optional<std::string> pci_modalias(const PciDevice& device);

// The "alias pci:..." lines of one modules.alias, indexed by vendor so that matching 10,000
// devices does not run every pattern against each.
class PciModuleAliases {
 public:
  // Parses the text of a modules.alias.
  static PciModuleAliases parse(std::string_view text);
  // Every module whose pattern matches `modalias`, once each, in the file's order.
  std::vector<std::string> modules_for(std::string_view modalias) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string pattern;
    std::string module;
  };
  std::vector<Entry> entries_;                         // in file order
  std::map<std::string, std::vector<size_t>> vendor_;  // "000010DE" → entries with that vendor
  std::vector<size_t> any_vendor_;                     // entries whose vendor is a glob
};

// modules.alias of the running kernel. NotFound when the release or the file is missing.
Result<PciModuleAliases> read_pci_module_aliases(Host& host);

}  // namespace hostpass
