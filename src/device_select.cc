// device_select.cc — `hostpass list`'s filters. See device_select.h.
#include "device_select.h"

#include <algorithm>

namespace hostpass {

namespace {

// Exactly four hex digits, either case: a vendor, device or product id.
Result<uint16_t> parse_id(const std::string& text, const char* what, const char* example) {
  auto v = parse_hex_digits(text, 4);
  if (!v)
    return invalid_input(std::string("invalid ") + what + " '" + text +
                         "': expected 4 hex digits, as in " + example);
  return static_cast<uint16_t>(*v);
}

// "VVVV:DDDD" → the pair; `flag` and `form` word the error ("--device", "VVVV:DDDD, as in ...").
Result<VendorDevice> parse_pair(const std::string& text, const std::string& flag,
                                const std::string& form, const char* second, const char* example) {
  size_t colon = text.find(':');
  if (colon == std::string::npos)
    return invalid_input("invalid " + flag + " '" + text + "': expected " + form);
  auto v = parse_id(text.substr(0, colon), "vendor id", example);
  if (!v.ok()) return v.error();
  auto d = parse_id(text.substr(colon + 1), second, example);
  if (!d.ok()) return d.error();
  return VendorDevice{*v, *d};
}

// --vendor and --device together: the vendor (from either) and the second id. `second` names
// the second id ("device id", "product id"), `example` is a vendor id, `form` --device's form.
struct VendorAndId {
  std::optional<uint16_t> vendor, id;
};
Result<VendorAndId> parse_vendor_and_device(const DeviceFilterText& f, const char* second,
                                            const char* example, const std::string& form) {
  VendorAndId out;
  if (!f.vendor.empty()) {
    auto v = parse_id(f.vendor, "vendor id", example);
    if (!v.ok()) return v.error();
    out.vendor = *v;
  }
  if (!f.device.empty()) {
    auto pair = parse_pair(f.device, "--device", form, second, example);
    if (!pair.ok()) return pair.error();
    if (out.vendor && *out.vendor != pair->vendor)
      return invalid_input("--vendor and --device name different vendors");
    out.vendor = pair->vendor;
    out.id = pair->device;
  }
  return out;
}

}  // namespace

bool PciSelection::matches(const PciDevice& d) const {
  if (vendor && d.vendor != vendor) return false;
  if (device && d.device != device) return false;
  if (class_value) {
    if (!d.class_code) return false;
    uint32_t have = class_bytes == 1 ? (*d.class_code >> 16) : (*d.class_code >> 8);
    if (have != *class_value) return false;
  }
  if (driver) {
    if (*driver == "none" ? d.driver.has_value() : d.driver != *driver) return false;
  }
  if (group && d.iommu_group != group) return false;
  return true;
}

Result<PciSelection> parse_pci_selection(const DeviceFilterText& f) {
  PciSelection p;
  auto ids = parse_vendor_and_device(f, "device id", "10de", "VVVV:DDDD, as in 10de:1eb8");
  if (!ids.ok()) return ids.error();
  p.vendor = ids->vendor;
  p.device = ids->id;
  if (!f.class_prefix.empty()) {
    if (f.class_prefix.size() != 2 && f.class_prefix.size() != 4)
      return invalid_input("invalid --class '" + f.class_prefix +
                           "': expected 2 or 4 hex digits, as in 03 or 0302");
    auto v = parse_sysfs_hex(f.class_prefix);
    if (!v) return invalid_input("invalid --class '" + f.class_prefix + "': not hex");
    p.class_value = *v;
    p.class_bytes = static_cast<int>(f.class_prefix.size() / 2);
  }
  if (!f.driver.empty()) {
    if (f.driver.find('/') != std::string::npos || f.driver.size() > 64)
      return invalid_input("invalid --driver '" + f.driver + "'");
    p.driver = f.driver;
  }
  if (!f.group.empty()) {
    auto g = parse_sysfs_int(f.group);
    if (!g || *g < 0) return invalid_input("invalid --group '" + f.group + "': expected a number");
    p.group = *g;
  }
  return p;
}

std::vector<PciDevice> select_devices(std::vector<PciDevice> devices,
                                      const PciSelection& selection) {
  std::erase_if(devices, [&](const PciDevice& d) { return !selection.matches(d); });
  return devices;
}

Result<std::vector<VendorDevice>> parse_expected_devices(const std::string& text) {
  std::vector<VendorDevice> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string one = text.substr(pos, comma - pos);
    pos = comma + 1;
    auto pair = parse_pair(one, "--expect", "VVVV:DDDD[,VVVV:DDDD...]", "device id", "10de");
    if (!pair.ok()) return pair.error();
    out.push_back(*pair);
  }
  return out;
}

std::vector<VendorDevice> missing_devices(const std::vector<PciDevice>& devices,
                                          const std::vector<VendorDevice>& expected) {
  std::vector<VendorDevice> missing;
  for (const VendorDevice& e : expected) {
    bool found = false;
    for (const PciDevice& d : devices)
      found = found || (d.vendor == e.vendor && d.device == e.device);
    if (!found) missing.push_back(e);
  }
  return missing;
}

bool UsbSelection::matches(const UsbDevice& d) const {
  return (!vendor || d.vendor == *vendor) && (!product || d.product == *product);
}

Result<UsbSelection> parse_usb_selection(const DeviceFilterText& f) {
  if (!f.class_prefix.empty() || !f.driver.empty() || !f.group.empty())
    return invalid_input(
        "--class, --driver and --group select PCI devices; with --usb use --vendor VVVV or "
        "--device VVVV:PPPP");
  auto ids = parse_vendor_and_device(f, "product id", "046d", "VVVV:PPPP, as in 046d:c52b");
  if (!ids.ok()) return ids.error();
  return UsbSelection{ids->vendor, ids->id};
}

std::vector<UsbDevice> select_usb_devices(std::vector<UsbDevice> devices,
                                          const UsbSelection& selection) {
  std::erase_if(devices, [&](const UsbDevice& d) { return !selection.matches(d); });
  std::stable_sort(devices.begin(), devices.end(), [](const UsbDevice& a, const UsbDevice& b) {
    return a.busnum != b.busnum ? a.busnum < b.busnum : a.devnum < b.devnum;
  });
  return devices;
}

}  // namespace hostpass
