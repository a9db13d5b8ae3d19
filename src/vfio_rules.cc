// vfio_rules.cc — see vfio_rules.h for the kernel code each rule follows.
#include "vfio_rules.h"

#include "pci_device.h"

namespace hostpass {

bool is_pci_bridge(std::optional<uint8_t> header_type, std::optional<uint32_t> class_code) {
  if (header_type) {
    uint8_t t = *header_type & 0x7f;  // PCI_HEADER_TYPE_MASK; bit 7 is multi-function
    return t == 1 || t == 2;          // PCI_HEADER_TYPE_BRIDGE, PCI_HEADER_TYPE_CARDBUS
  }
  if (!class_code) return false;
  uint32_t cls = *class_code >> 8;  // class and subclass
  return cls == 0x0604 || cls == 0x0607 || cls == 0x0609;
}

bool is_vfio_driver(std::string_view driver) {
  // vfio-pci itself, and the variants, whose names end in vfio_pci (KBUILD_MODNAME) or, where a
  // release spelled the name out, in vfio-pci ("hisi-acc-vfio-pci").
  return driver.starts_with("vfio") || driver.ends_with("vfio_pci") || driver.ends_with("vfio-pci");
}

bool is_stub_driver(std::string_view driver) {
  return is_vfio_driver(driver) || driver == "pci-stub";
}

bool driver_manages_dma(std::string_view driver) {
  return is_stub_driver(driver) || driver == "pcieport";
}

bool keeps_group_viable(const std::optional<std::string>& driver) {
  return !driver || driver_manages_dma(*driver);
}

std::optional<std::string> parse_driver_override(std::string_view text) {
  text = trim(text);
  if (text.empty() || text == "(null)") return std::nullopt;
  return std::string(text);
}

std::optional<std::string> read_driver_override(Host& host, const PciAddress& address) {
  auto text = host.read_file(pci_device_dir(address) + "/driver_override", 4096);
  if (!text.ok()) return std::nullopt;
  return parse_driver_override(*text);
}

}  // namespace hostpass
