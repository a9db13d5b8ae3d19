// pci_names.h — vendor, device and class names from the pci.ids database, through libpci.
//
// hostpass never keeps a table of names: it asks libpci's pci_lookup_name(), the same code lspci
// uses (pci.ids from the hwdata/pci.ids package, then udev's hwdb), so the two always agree.
// libpci's name cache is not thread-safe: one PciNames per thread, and name a device after
// discovery, not during it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pci_device.h"

struct pci_access;

namespace hostpass {

class PciNames {
 public:
  PciNames();
  ~PciNames();
  PciNames(const PciNames&) = delete;
  PciNames& operator=(const PciNames&) = delete;

  // Empty string when the database does not know the id.
  std::string vendor(uint16_t vendor);
  std::string device(uint16_t vendor, uint16_t device);
  // The subclass's name, else the class's ("Processor" for 0b50, whose subclass pci.ids does not
  // list), never with the number; empty when the class is unknown too.
  std::string class_name(uint32_t class_code24);

  // Fills vendor_name, device_name and class_name of `d`.
  void name(PciDevice& d);

  // The line `lspci -Dnn` prints for the device, e.g.
  // "0000:65:00.0 3D controller [0302]: NVIDIA Corporation TU104GL [Tesla T4] [10de:1eb8] (rev a1)"
  std::string lspci_line(const PciDevice& d);

  // The three quoted fields `lspci -mmnn` prints (PCI_LOOKUP_MIXED): "3D controller [0302]",
  // "NVIDIA Corporation [10de]", "TU104GL [Tesla T4] [1eb8]"; unknown ids print as lspci does
  // ("Device [1234]"). OpenNebula's PCI probe parses exactly these (opennebula_probe.h).
  std::string class_mixed(uint32_t class_code24);
  std::string vendor_mixed(uint16_t vendor);
  std::string device_mixed(uint16_t vendor, uint16_t device);

 private:
  std::string lookup(int flags, uint32_t a, uint32_t b);
  pci_access* pacc_;
};

}  // namespace hostpass
