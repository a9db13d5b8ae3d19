// vm_unit.cc — see vm_unit.h.
#include "vm_unit.h"

#include <algorithm>

#include "kubevirt_inventory.h"
#include "mdev.h"
#include "pci_device.h"
#include "pci_names.h"
#include "usb_device.h"

namespace hostpass {

namespace {

bool is_usb_port_path(std::string_view s) {
  // "<bus>-<port>[.<port>...]", as the kernel names USB devices (drivers/usb/core/usb.c).
  size_t dash = s.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash > 3) return false;
  for (size_t i = 0; i < dash; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  std::string_view rest = s.substr(dash + 1);
  if (rest.empty() || rest.size() > 32) return false;
  bool digit_seen = false;
  for (char c : rest) {
    if (c >= '0' && c <= '9') {
      digit_seen = true;
    } else if (c == '.' && digit_seen) {
      digit_seen = false;
    } else {
      return false;
    }
  }
  return digit_seen;
}

Result<AssignableUnit> read_pci_unit(Host& host, const PciAddress& address) {
  auto d = read_pci_device(host, address, Detail::Basic);
  if (!d.ok()) return d.error();
  if (!d->vendor || !d->device || !d->class_code)
    return io_error("cannot read the ids of " + address.to_string() + " from sysfs");
  PciNames names;
  names.name(*d);
  PciMember m;
  m.address = address;
  m.vendor = *d->vendor;
  m.device = *d->device;
  m.class_code = *d->class_code;
  m.numa_node = d->numa_node;
  m.iommu_group = d->iommu_group;
  m.driver = d->driver;
  m.name = d->vendor_name + (d->device_name.empty() ? "" : " " + d->device_name);
  AssignableUnit u;
  u.kind = UnitKind::Pci;
  u.id = address.to_string();
  u.numa_node = m.numa_node;
  u.pci.push_back(std::move(m));
  return u;
}

Result<AssignableUnit> read_mdev_unit(Host& host, const std::string& uuid) {
  auto instances = list_mdev_instances(host);
  if (!instances.ok()) return instances.error();
  for (const MdevInstance& i : *instances) {
    if (i.uuid != uuid) continue;
    AssignableUnit u;
    u.kind = UnitKind::Mdev;
    u.id = uuid;
    u.mdev_uuid = uuid;
    u.mdev_parent = i.parent;
    u.mdev_type = i.type_id;
    u.mdev_type_name = i.type_name;
    auto api = host.read_file(std::string(kMdevDevicesDir) + "/" + uuid + "/mdev_type/device_api");
    u.mdev_device_api = api.ok() ? std::string(trim(*api)) : "vfio-pci";
    if (auto parent = PciAddress::parse_full(i.parent); parent.ok()) {
      auto p = read_pci_device(host, *parent, Detail::Basic);
      if (p.ok()) {
        u.mdev_parent_class = p->class_code.value_or(0);
        u.numa_node = p->numa_node;
      }
    }
    return u;
  }
  return not_found("mediated device " + uuid + " does not exist on this host (no " +
                   std::string(kMdevDevicesDir) + "/" + uuid + "); hostpass mdev list shows them");
}

Result<AssignableUnit> read_usb_unit(Host& host, const std::vector<std::string>& ports) {
  auto devices = discover_usb(host);
  if (!devices.ok()) return devices.error();
  AssignableUnit u;
  u.kind = UnitKind::Usb;
  u.id = "usb-";
  for (size_t i = 0; i < ports.size(); ++i) u.id += (i ? "+" : "") + ports[i];
  for (const std::string& port : ports) {
    auto it = std::find_if(devices->begin(), devices->end(),
                           [&](const UsbDevice& d) { return d.port_path == port; });
    if (it == devices->end())
      return not_found("USB device " + port +
                       " does not exist on this host (no "
                       "/sys/bus/usb/devices/" +
                       port + "); hostpass list --usb shows them");
    UsbMember m;
    m.port_path = port;
    m.vendor = it->vendor;
    m.product = it->product;
    m.busnum = it->busnum;
    m.devnum = it->devnum;
    m.ambiguous = std::count_if(devices->begin(), devices->end(), [&](const UsbDevice& d) {
                    return !d.is_root_hub && d.vendor == it->vendor && d.product == it->product;
                  }) > 1;
    m.name = it->manufacturer + (it->product_name.empty() ? "" : " " + it->product_name);
    u.usb.push_back(std::move(m));
  }
  return u;
}

}  // namespace

const char* unit_kind_name(UnitKind kind) {
  switch (kind) {
    case UnitKind::Pci:
      return "pci";
    case UnitKind::Mdev:
      return "mdev";
    case UnitKind::Usb:
      return "usb";
  }
  return "unknown";
}

bool AssignableUnit::is_gpu() const {
  if (kind == UnitKind::Pci) return !pci.empty() && (pci.front().class_code >> 16) == 0x03;
  if (kind == UnitKind::Mdev) return (mdev_parent_class >> 16) == 0x03;
  return false;
}

Result<AssignableUnit> read_inventory_unit(Host& host, const ResourceInventory& resource,
                                           const Unit& unit) {
  Result<AssignableUnit> u =
      invalid_input("inventory unit " + unit.id + " of " + resource.name + " names no device");
  switch (resource.kind) {
    case ResourceKind::Pci: {
      if (unit.pci.empty()) return u;
      for (const PciAddress& a : unit.pci) {
        auto one = read_pci_unit(host, a);
        if (!one.ok()) return one.error();
        if (!u.ok()) {
          u = std::move(one);
        } else {
          u->pci.push_back(one->pci.front());
        }
      }
      break;
    }
    case ResourceKind::Mdev:
      if (unit.mdev_uuids.empty()) return u;
      u = read_mdev_unit(host, unit.mdev_uuids.front());
      break;
    case ResourceKind::Usb: {
      std::vector<std::string> ports;
      for (const UsbRef& r : unit.usb) ports.push_back(r.port_path);
      if (ports.empty()) return u;
      u = read_usb_unit(host, ports);
      break;
    }
  }
  if (!u.ok()) return u;
  u->resource = resource.name;
  if (unit.numa_node) u->numa_node = unit.numa_node;
  return u;
}

Result<std::vector<std::string>> parse_usb_unit_id(std::string_view text) {
  std::string_view rest = text;
  if (rest.rfind("usb-", 0) == 0) rest.remove_prefix(4);
  std::vector<std::string> ports;
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t plus = rest.find('+', pos);
    if (plus == std::string_view::npos) plus = rest.size();
    std::string_view part = rest.substr(pos, plus - pos);
    if (!is_usb_port_path(part))
      return invalid_input("invalid USB device '" + std::string(text) +
                           "': expected usb-<port>[+<port>...] or a port path, as in usb-1-2");
    ports.emplace_back(part);
    pos = plus + 1;
  }
  return ports;
}

NameKind classify_unit_name(std::string_view text) {
  if (text.empty() || text.size() > 256) return NameKind::Invalid;
  if (PciAddress::parse(text).ok()) return NameKind::PciAddress;
  if (parse_mdev_uuid(text).ok()) return NameKind::MdevUuid;
  if (parse_usb_unit_id(text).ok()) return NameKind::Usb;
  if (text.find('/') != std::string_view::npos) return NameKind::Resource;
  return NameKind::Invalid;
}

Result<AssignableUnit> read_unit(Host& host, std::string_view text) {
  switch (classify_unit_name(text)) {
    case NameKind::PciAddress:
      return read_pci_unit(host, *PciAddress::parse(text));
    case NameKind::MdevUuid:
      return read_mdev_unit(host, *parse_mdev_uuid(text));
    case NameKind::Usb:
      return read_usb_unit(host, *parse_usb_unit_id(text));
    case NameKind::Resource:
      return invalid_input("'" + std::string(text) +
                           "' is a resource name: give the KubeVirt or HyperConverged CR that "
                           "defines it with -f CR.yaml");
    case NameKind::Invalid:
      break;
  }
  return invalid_input("invalid device '" + std::string(text) +
                       "': expected a PCI address (0000:65:00.0), an mdev UUID, usb-<port> "
                       "(usb-1-2) or a resource name (nvidia.com/TU104GL_Tesla_T4)");
}

}  // namespace hostpass
