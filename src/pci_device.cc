// pci_device.cc — PCI discovery from sysfs. See pci_device.h for the attributes read.
//
// Speed: `list` on 10,000 functions is dominated by syscalls, so Basic detail reads one 64-byte
// config-space prefix (vendor, device, revision, header type, subsystem ids) instead of four
// attribute files, plus the `class` attribute (the kernel applies class quirks that config space
// does not show, and lspci reports the kernel's value), the driver and iommu_group links and
// numa_node; the work is split over a few threads. Virtual functions read 0xffff as their vendor
// in config space (the kernel fills it from the PF), so a 0xffff vendor falls back to the
// attribute files.
#include "pci_device.h"

#include <algorithm>
#include <thread>

#include "pci_id.h"
#include "vfio_rules.h"

namespace hostpass {

const char* host_use_kind_name(HostUse::Kind kind) {
  switch (kind) {
    case HostUse::Kind::RootFilesystem:
      return "root-filesystem";
    case HostUse::Kind::Mounted:
      return "mounted";
    case HostUse::Kind::Swap:
      return "swap";
    case HostUse::Kind::NetworkUp:
      return "network-up";
    case HostUse::Kind::DefaultRoute:
      return "default-route";
    case HostUse::Kind::BootVga:
      return "boot-vga";
  }
  return "unknown";
}

bool PciDevice::is_bridge() const {
  return is_pci_bridge(header_type, class_code);
}

std::string PciDevice::class_hex() const {
  if (!class_code) return "????";
  return hex4(static_cast<uint16_t>(*class_code >> 8));  // class_code is 24 bits
}

std::string pci_device_dir(const PciAddress& address) {
  return join_path(kPciDevicesDir, address.to_string());
}

namespace {

uint16_t le16(const std::string& b, size_t off) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[off]) |
                               (static_cast<uint8_t>(b[off + 1]) << 8));
}

// Reads a hex attribute into `out`; on failure records why and leaves `out` empty.
template <class T>
void read_hex_attr(Host& host, const std::string& dir, const char* name, std::optional<T>& out,
                   PciDevice& d, uint32_t max) {
  auto text = host.read_file(join_path(dir, name), 64);
  if (!text.ok()) {
    d.warnings.push_back(std::string(name) + ": " + text.error().message);
    return;
  }
  auto v = parse_sysfs_hex(*text);
  if (!v || *v > max) {
    d.warnings.push_back(std::string(name) + ": not a hex value: '" +
                         std::string(trim(*text).substr(0, 32)) + "'");
    return;
  }
  out = static_cast<T>(*v);
}

// The last component of a link under `dir`, or none when the link is absent.
std::optional<std::string> link_name(Host& host, const std::string& path) {
  auto target = host.read_link(path);
  if (!target.ok()) return std::nullopt;
  return base_name(*target);
}

void read_identity(Host& host, const std::string& dir, PciDevice& d) {
  auto config = host.read_file(join_path(dir, "config"), 64);
  bool from_config = config.ok() && config->size() >= 48 && le16(*config, 0) != 0xffff;
  if (from_config) {
    const std::string& c = *config;
    d.vendor = le16(c, 0x00);
    d.device = le16(c, 0x02);
    d.revision = static_cast<uint8_t>(c[0x08]);
    d.header_type = static_cast<uint8_t>(c[0x0e]);
    if ((*d.header_type & 0x7f) == 0) {
      d.subsystem_vendor = le16(c, 0x2c);
      d.subsystem_device = le16(c, 0x2e);
    }
  } else {
    read_hex_attr(host, dir, "vendor", d.vendor, d, 0xffff);
    read_hex_attr(host, dir, "device", d.device, d, 0xffff);
    read_hex_attr(host, dir, "revision", d.revision, d, 0xff);
  }
  read_hex_attr(host, dir, "class", d.class_code, d, 0xffffff);
  if (!from_config && config.ok() && config->size() > 0x0e)
    d.header_type = static_cast<uint8_t>((*config)[0x0e]);
}

void read_full(Host& host, const std::string& dir, PciDevice& d) {
  // The kernel's attributes are authoritative for subsystem ids (bridges keep them in a
  // capability, not at 0x2c).
  d.subsystem_vendor.reset();
  d.subsystem_device.reset();
  read_hex_attr(host, dir, "subsystem_vendor", d.subsystem_vendor, d, 0xffff);
  read_hex_attr(host, dir, "subsystem_device", d.subsystem_device, d, 0xffff);

  if (auto ov = host.read_file(join_path(dir, "driver_override"), 256); ov.ok())
    d.driver_override = parse_driver_override(*ov);
  if (auto vga = host.read_file(join_path(dir, "boot_vga"), 16); vga.ok())
    d.boot_vga = trim(*vga) == "1";
  if (auto rm = host.read_file(join_path(dir, "reset_method"), 256); rm.ok()) {
    std::vector<std::string> methods;
    std::string_view s = trim(*rm);
    while (!s.empty()) {
      size_t sp = s.find(' ');
      std::string_view m = s.substr(0, sp);
      if (!m.empty()) methods.emplace_back(m);
      if (sp == std::string_view::npos) break;
      s.remove_prefix(sp + 1);
    }
    d.reset_methods = std::move(methods);
  }
  if (auto t = host.read_file(join_path(dir, "sriov_totalvfs"), 32); t.ok()) {
    d.sriov_totalvfs = parse_sysfs_int(*t);
    if (auto n = host.read_file(join_path(dir, "sriov_numvfs"), 32); n.ok())
      d.sriov_numvfs = parse_sysfs_int(*n);
  }
  if (auto pf = host.read_link(join_path(dir, "physfn")); pf.ok()) {
    auto a = PciAddress::parse(base_name(*pf));
    if (a.ok()) d.physfn = *a;
  }
  d.has_mdev_types = host.is_dir(join_path(dir, "mdev_supported_types"));
}

PciDevice read_one(Host& host, const PciAddress& address, Detail detail) {
  PciDevice d;
  d.address = address;
  std::string dir = pci_device_dir(address);
  // The canonical /sys/devices path costs a readlink; `list` does not show it.
  if (detail == Detail::Full) {
    if (auto target = host.read_link(dir); target.ok()) {
      d.sysfs_path = resolve_link(dir, *target);
    } else {
      d.sysfs_path = dir;
      d.warnings.push_back("not a link to /sys/devices: " + target.error().message);
    }
  }
  read_identity(host, dir, d);
  d.driver = link_name(host, join_path(dir, "driver"));
  if (auto g = link_name(host, join_path(dir, "iommu_group"))) {
    d.iommu_group = parse_sysfs_int(*g);
    if (!d.iommu_group) d.warnings.push_back("iommu_group: link names no group number: " + *g);
  }
  // numa_node is absent on kernels built without CONFIG_NUMA: that is "none", not a problem.
  if (auto n = host.read_file(join_path(dir, "numa_node"), 32); !n.ok()) {
    if (n.error().kind != ErrorKind::NotFound)
      d.warnings.push_back("numa_node: " + n.error().message);
  } else {
    auto v = parse_sysfs_int(*n);
    if (!v) {
      d.warnings.push_back("numa_node: not a number: '" + std::string(trim(*n).substr(0, 32)) +
                           "'");
    } else if (*v >= 0) {
      d.numa_node = v;
    }
  }
  if (detail == Detail::Full) read_full(host, dir, d);
  return d;
}

}  // namespace

Result<std::vector<PciDevice>> discover_pci(Host& host, const DiscoverOptions& options,
                                            std::vector<std::string>* warnings) {
  auto names = host.list_dir(kPciDevicesDir);
  if (!names.ok()) return names.error().wrap("no PCI devices to read");
  std::vector<PciAddress> addresses;
  addresses.reserve(names->size());
  for (const std::string& name : *names) {
    auto a = PciAddress::parse(name);
    if (!a.ok() || a->to_string() != name) {
      if (warnings)
        warnings->push_back(std::string(kPciDevicesDir) + "/" + name +
                            ": not a PCI address, skipped");
      continue;
    }
    addresses.push_back(*a);
  }
  std::sort(addresses.begin(), addresses.end());

  std::vector<PciDevice> devices(addresses.size());
  int threads = std::clamp(options.threads, 1, 16);
  if (addresses.size() < 64) threads = 1;
  auto work = [&](size_t begin, size_t step) {
    for (size_t i = begin; i < addresses.size(); i += step)
      devices[i] = read_one(host, addresses[i], options.detail);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, static_cast<size_t>(t), threads);
  work(0, static_cast<size_t>(threads));
  for (std::thread& t : pool) t.join();
  return devices;
}

Result<PciDevice> read_pci_device(Host& host, const PciAddress& address, Detail detail) {
  std::string dir = pci_device_dir(address);
  if (!host.exists(dir))
    return not_found("no PCI device " + address.to_string() + " (" + dir + " does not exist)");
  return read_one(host, address, detail);
}

std::optional<std::string> current_driver(Host& host, const PciAddress& address) {
  return link_name(host, join_path(pci_device_dir(address), "driver"));
}

}  // namespace hostpass
