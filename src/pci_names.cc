// pci_names.cc — see pci_names.h. The lspci line follows lspci.c show_terse(): the class with
// PCI_LOOKUP_CLASS, the vendor and device with PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE, both in
// PCI_LOOKUP_MIXED mode (what -nn selects), then " (rev %02x)" when the revision is not zero.
extern "C" {
#include <pci/pci.h>
}

#include "pci_names.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace hostpass {

namespace {

// pci_alloc() leaves the error, warning and debug hooks null (pci_init() would fill them, but
// it also picks a device access method, which names do not need). Name lookups call warning()
// on a missing pci.ids and debug() on the hwdb fallback; both stay quiet. error() is reached
// only when libpci runs out of memory and must not return.
void quiet(char*, ...) {}
// The GNU spelling, not [[noreturn]]: libpci's `error` member has the type "pointer to noreturn
// function" (PCI_NONRET), and only the attribute makes it part of fatal's type for clang.
__attribute__((noreturn)) void fatal(char* msg, ...) {
  std::fprintf(stderr, "hostpass: libpci: %s\n", msg);
  std::abort();
}

}  // namespace

PciNames::PciNames() : pacc_(pci_alloc()) {
  pacc_->warning = quiet;
  pacc_->debug = quiet;
  pacc_->error = fatal;
}

PciNames::~PciNames() {
  pci_cleanup(pacc_);
}

std::string PciNames::lookup(int flags, uint32_t a, uint32_t b) {
  char buf[1024];
  char* r = pci_lookup_name(pacc_, buf, sizeof buf, flags, a, b);
  return r ? std::string(r) : std::string();
}

std::string PciNames::vendor(uint16_t v) {
  return lookup(PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS, v, 0);
}

std::string PciNames::device(uint16_t v, uint16_t d) {
  return lookup(PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS, v, d);
}

std::string PciNames::class_name(uint32_t class_code24) {
  return lookup(PCI_LOOKUP_CLASS | PCI_LOOKUP_NO_NUMBERS, class_code24 >> 8, 0);
}

std::string PciNames::class_mixed(uint32_t class_code24) {
  return lookup(PCI_LOOKUP_CLASS | PCI_LOOKUP_MIXED, class_code24 >> 8, 0);
}

std::string PciNames::vendor_mixed(uint16_t v) {
  return lookup(PCI_LOOKUP_VENDOR | PCI_LOOKUP_MIXED, v, 0);
}

std::string PciNames::device_mixed(uint16_t v, uint16_t d) {
  return lookup(PCI_LOOKUP_DEVICE | PCI_LOOKUP_MIXED, v, d);
}

void PciNames::name(PciDevice& d) {
  if (d.vendor) d.vendor_name = vendor(*d.vendor);
  if (d.vendor && d.device) d.device_name = device(*d.vendor, *d.device);
  if (d.class_code) d.class_name = class_name(*d.class_code);
}

std::string PciNames::lspci_line(const PciDevice& d) {
  std::string line = d.address.to_string() + " ";
  if (d.class_code) {
    line += lookup(PCI_LOOKUP_CLASS | PCI_LOOKUP_MIXED, *d.class_code >> 8, 0);
  } else {
    line += "Class [????]";
  }
  line += ": ";
  if (d.vendor && d.device) {
    line += lookup(PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE | PCI_LOOKUP_MIXED, *d.vendor, *d.device);
  } else {
    line += "Device [????:????]";
  }
  if (d.revision && *d.revision != 0) {
    char rev[16];
    std::snprintf(rev, sizeof rev, " (rev %02x)", *d.revision);
    line += rev;
  }
  return line;
}

}  // namespace hostpass
