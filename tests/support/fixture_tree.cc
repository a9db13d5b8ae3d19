// fixture_tree.cc — see fixture_tree.h.
#include "fixture_tree.h"

#include "host.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace hostpass::testing {

namespace {

std::string hex(uint32_t v, int digits) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%0*x", digits, v);
  return b;
}

std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) parts.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

std::string parent_dir(const std::string& p) {
  return p.substr(0, p.rfind('/'));
}

}  // namespace

FixtureTree::FixtureTree(std::string root) : root_(std::move(root)) {
  fs::remove_all(root_);
  fs::create_directories(root_);
  for (const char* d : {"/sys/bus/pci/devices", "/sys/bus/pci/drivers", "/sys/kernel/iommu_groups",
                        "/sys/class/block", "/sys/class/net", "/sys/class/iommu", "/sys/dev/block",
                        "/sys/bus/usb/devices", "/proc/self", "/proc/net", "/dev", "/etc"})
    mkdir(d);
  write("/sys/bus/pci/drivers_probe", "");
  write("/sys/bus/pci/rescan", "");
  // A host seen from its own mount namespace: /proc/self/mountinfo has a "/" entry (rootfs until
  // add_mount stacks a disk on it), and there is no /proc/1 (host_use.h).
  flush_proc();
  write("/proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz root=/dev/vda ro quiet\n");
}

std::string FixtureTree::path(const std::string& p) const {
  return root_ + p;
}

void FixtureTree::write(const std::string& p, const std::string& content) {
  fs::create_directories(fs::path(path(p)).parent_path());
  std::ofstream f(path(p), std::ios::binary | std::ios::trunc);
  f << content;
  if (!f) throw std::runtime_error("fixture: cannot write " + path(p));
}

void FixtureTree::mkdir(const std::string& p) {
  fs::create_directories(path(p));
}

void FixtureTree::symlink(const std::string& target, const std::string& link_path) {
  fs::create_directories(fs::path(path(link_path)).parent_path());
  fs::remove(path(link_path));
  fs::create_symlink(target, path(link_path));
}

std::string FixtureTree::relative(const std::string& link, const std::string& target) {
  std::vector<std::string> from = split_path(parent_dir(link));
  std::vector<std::string> to = split_path(target);
  size_t common = 0;
  while (common < from.size() && common < to.size() && from[common] == to[common]) ++common;
  std::string out;
  for (size_t i = common; i < from.size(); ++i) out += "../";
  for (size_t i = common; i < to.size(); ++i) out += (i == common ? "" : "/") + to[i];
  return out;
}

std::string FixtureTree::device_path(const std::string& address) const {
  auto it = device_paths_.find(address);
  if (it == device_paths_.end()) throw std::runtime_error("fixture: unknown device " + address);
  return it->second;
}

std::string FixtureTree::config_space(const PciSpec& s) {
  std::string c(256, '\0');
  auto put16 = [&](size_t off, uint16_t v) {
    c[off] = static_cast<char>(v & 0xff);
    c[off + 1] = static_cast<char>(v >> 8);
  };
  uint8_t header = s.header_type.value_or((s.class_code >> 8) == 0x0604 ? 1 : 0);
  bool bridge = header != 0;
  put16(0x00, s.vendor);
  put16(0x02, s.device);
  put16(0x04, 0x0406);  // command: memory space, bus master, interrupt disable
  put16(0x06, 0x0010);  // status: capability list
  c[0x08] = static_cast<char>(s.revision);
  c[0x09] = static_cast<char>(s.class_code & 0xff);
  c[0x0a] = static_cast<char>((s.class_code >> 8) & 0xff);
  c[0x0b] = static_cast<char>((s.class_code >> 16) & 0xff);
  c[0x0e] = static_cast<char>(header | (s.multifunction ? 0x80 : 0));
  if (!bridge) {
    put16(0x2c, s.subsystem_vendor ? s.subsystem_vendor : s.vendor);
    put16(0x2e, s.subsystem_device ? s.subsystem_device : s.device);
  }
  if (!s.physfn.empty()) {
    // SR-IOV virtual functions return 0xffff for Vendor and Device ID in config space (PCIe
    // SR-IOV spec 3.4.1.1/3.4.1.2); the kernel fills the sysfs attributes from the PF.
    put16(0x00, 0xffff);
    put16(0x02, 0xffff);
  }
  c[0x34] = 0x40;  // capabilities pointer → a PCI Express capability with no next
  c[0x40] = 0x10;
  c[0x41] = 0x00;
  if (!s.pcie) return c;
  const PcieSpec& e = *s.pcie;
  if (!e.pcie) {  // conventional PCI: no capability list at all
    put16(0x06, 0x0000);
    c[0x34] = 0;
    c[0x40] = 0;
    return c;
  }
  c.resize(4096, '\0');
  auto put32 = [&](size_t off, uint32_t v) {
    put16(off, static_cast<uint16_t>(v & 0xffff));
    put16(off + 2, static_cast<uint16_t>(v >> 16));
  };
  put16(0x42, static_cast<uint16_t>(0x0002 | ((e.port_type & 0xf) << 4)));  // version 2, type
  // Extended capability header: ID (15:0), version (19:16), next offset (31:20).
  uint32_t next = e.acs_capability ? 0x148 : 0;
  put32(0x100, 0x0001u | (2u << 16) | (next << 20));  // AER
  if (e.acs_capability) {
    put32(0x148, 0x000Du | (1u << 16));  // ACS, last in the list
    put16(0x14c, *e.acs_capability);
    put16(0x14e, e.acs_control);
  }
  return c;
}

void FixtureTree::add_pci(const PciSpec& s) {
  std::string dom = s.address.substr(0, s.address.find(':'));
  std::string parent;
  if (s.parent.empty()) {
    std::string bus = s.address.substr(dom.size() + 1, 2);
    parent = "/sys/devices/pci" + dom + ":" + bus;
    mkdir(parent);
  } else {
    parent = device_path(s.parent);
  }
  std::string dev = parent + "/" + s.address;
  device_paths_[s.address] = dev;
  parents_[s.address] = s.parent;
  extended_[s.address] = s.pcie.has_value();
  // Bus numbers of the bridges above (config bytes 0x18 primary, 0x19 secondary, 0x1a
  // subordinate), for opted-in bridges only.
  auto bus_of = [](const std::string& a) {
    return static_cast<char>(std::stoi(a.substr(a.find(':') + 1, 2), nullptr, 16));
  };
  for (std::string up = s.parent, below = s.address; !up.empty(); below = up, up = parents_[up]) {
    if (!extended_[up]) break;
    std::string file = path(device_path(up) + "/config");
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    char b[3];
    f.seekg(0x18);
    f.read(b, 3);
    b[0] = bus_of(up);
    if (below == s.address) b[1] = bus_of(s.address);  // its own children's bus
    b[2] = static_cast<char>(std::max<unsigned char>(
        static_cast<unsigned char>(b[2]), static_cast<unsigned char>(bus_of(s.address))));
    f.seekp(0x18);
    f.write(b, 3);
    if (!f) throw std::runtime_error("fixture: cannot patch " + file);
  }
  mkdir(dev);
  bool bridge = s.header_type.value_or((s.class_code >> 8) == 0x0604 ? 1 : 0) != 0;
  uint16_t sv = s.subsystem_vendor ? s.subsystem_vendor : s.vendor;
  uint16_t sd = s.subsystem_device ? s.subsystem_device : s.device;
  write(dev + "/vendor", hex(s.vendor, 4) + "\n");
  write(dev + "/device", hex(s.device, 4) + "\n");
  write(dev + "/subsystem_vendor", hex(bridge ? 0 : sv, 4) + "\n");
  write(dev + "/subsystem_device", hex(bridge ? 0 : sd, 4) + "\n");
  write(dev + "/class", hex(s.class_code, 6) + "\n");
  write(dev + "/revision", hex(s.revision, 2) + "\n");
  write(dev + "/config", config_space(s));
  write(dev + "/numa_node", std::to_string(s.numa_node) + "\n");
  write(dev + "/driver_override", "(null)\n");
  write(dev + "/irq", "0\n");
  write(dev + "/enable", "1\n");
  write(dev + "/local_cpulist", "0-1\n");
  write(dev + "/modalias",
        "pci:v0000" + hex(s.vendor, 4).substr(2) + "d0000" + hex(s.device, 4).substr(2) + "\n");
  std::string resource;
  for (int i = 0; i < 13; ++i)
    resource += "0x0000000000000000 0x0000000000000000 0x0000000000000000\n";
  write(dev + "/resource", resource);
  write(dev + "/uevent", "PCI_CLASS=" + hex(s.class_code, 6).substr(2) +
                             "\nPCI_ID=" + hex(s.vendor, 4).substr(2) + ":" +
                             hex(s.device, 4).substr(2) + "\nPCI_SLOT_NAME=" + s.address + "\n");
  write(dev + "/remove", "");
  write(dev + "/rescan", "");
  if (s.reset_method) write(dev + "/reset_method", *s.reset_method + "\n");
  if ((s.class_code >> 16) == 0x03) write(dev + "/boot_vga", s.boot_vga ? "1\n" : "0\n");
  if (s.sriov_totalvfs > 0) {
    write(dev + "/sriov_totalvfs", std::to_string(s.sriov_totalvfs) + "\n");
    write(dev + "/sriov_numvfs", std::to_string(s.sriov_numvfs) + "\n");
  }
  symlink(relative(dev + "/subsystem", "/sys/bus/pci"), dev + "/subsystem");
  symlink(relative("/sys/bus/pci/devices/" + s.address, dev), "/sys/bus/pci/devices/" + s.address);
  if (!s.physfn.empty()) {
    std::string pf = device_path(s.physfn);
    symlink(relative(dev + "/physfn", pf), dev + "/physfn");
    // The PF lists its VFs as virtfnN links.
    int n = 0;
    while (fs::is_symlink(path(pf + "/virtfn" + std::to_string(n)))) ++n;
    symlink(relative(pf + "/virtfn" + std::to_string(n), dev), pf + "/virtfn" + std::to_string(n));
  }
  if (s.iommu_group) link_group(s.address, *s.iommu_group);
  if (s.driver) link_driver(s.address, *s.driver);
  for (const std::string& t : s.mdev_types) add_mdev_type(s.address, MdevTypeSpec{t, t});
}

void FixtureTree::add_mdev_type(const std::string& parent, const MdevTypeSpec& t) {
  std::string dir = device_path(parent) + "/mdev_supported_types/" + t.id;
  mkdir(dir + "/devices");
  write(dir + "/name", t.name + "\n");
  write(dir + "/device_api", t.device_api + "\n");
  write(dir + "/available_instances", std::to_string(t.available_instances) + "\n");
  write(dir + "/description", t.description + "\n");
  write(dir + "/create", "");
  // /sys/class/mdev_bus/<parent> -> ../../devices/.../<parent>
  mkdir("/sys/bus/mdev/devices");
  mkdir("/sys/bus/mdev/drivers/vfio_mdev");
  std::string bus_link = "/sys/class/mdev_bus/" + parent;
  if (!fs::is_symlink(path(bus_link))) symlink(relative(bus_link, device_path(parent)), bus_link);
}

void FixtureTree::write_mdev_instance(const std::string& root, const std::string& parent_dev,
                                      const std::string& type, const std::string& uuid) {
  FixtureTree t = FixtureTree::attach(root);
  std::string dev = parent_dev + "/" + uuid;
  std::string type_dir = parent_dev + "/mdev_supported_types/" + type;
  t.mkdir(dev);
  t.symlink(relative(dev + "/mdev_type", type_dir), dev + "/mdev_type");
  t.write(dev + "/remove", "");
  t.write(dev + "/uevent", "DRIVER=vfio_mdev\nMDEV_TYPE=" + type + "\n");
  t.symlink(relative(dev + "/subsystem", "/sys/bus/mdev"), dev + "/subsystem");
  t.symlink(relative(dev + "/driver", "/sys/bus/mdev/drivers/vfio_mdev"), dev + "/driver");
  t.symlink(relative(type_dir + "/devices/" + uuid, dev), type_dir + "/devices/" + uuid);
  t.symlink(relative("/sys/bus/mdev/devices/" + uuid, dev), "/sys/bus/mdev/devices/" + uuid);
  t.symlink(relative("/sys/bus/mdev/drivers/vfio_mdev/" + uuid, dev),
            "/sys/bus/mdev/drivers/vfio_mdev/" + uuid);
}

void FixtureTree::erase_mdev_instance(const std::string& root, const std::string& parent_dev,
                                      const std::string& type, const std::string& uuid) {
  fs::remove_all(root + parent_dev + "/" + uuid);
  fs::remove(root + parent_dev + "/mdev_supported_types/" + type + "/devices/" + uuid);
  fs::remove(root + "/sys/bus/mdev/devices/" + uuid);
  fs::remove(root + "/sys/bus/mdev/drivers/vfio_mdev/" + uuid);
}

void FixtureTree::add_mdev_instance(const std::string& parent, const std::string& type,
                                    const std::string& uuid) {
  std::string dev = device_path(parent);
  std::string avail = path(dev + "/mdev_supported_types/" + type + "/available_instances");
  std::ifstream in(avail);
  int n = 0;
  if (!(in >> n)) throw std::runtime_error("fixture: no mdev type " + type + " on " + parent);
  write_mdev_instance(root_, dev, type, uuid);
  write(dev + "/mdev_supported_types/" + type + "/available_instances",
        std::to_string(n > 0 ? n - 1 : 0) + "\n");
}

FixtureTree FixtureTree::attach(std::string root) {
  FixtureTree t;
  t.root_ = std::move(root);
  return t;
}

void FixtureTree::add_driver(const std::string& name) {
  std::string dir = "/sys/bus/pci/drivers/" + name;
  if (fs::exists(path(dir))) return;
  mkdir(dir);
  for (const char* f : {"bind", "unbind", "new_id", "remove_id", "uevent"})
    write(dir + "/" + f, "");
  write("/sys/module/" + name + "/initstate", "live\n");
  symlink(relative(dir + "/module", "/sys/module/" + name), dir + "/module");
}

void FixtureTree::link_driver(const std::string& address, const std::string& driver) {
  add_driver(driver);
  std::string dev = device_path(address);
  std::string dir = "/sys/bus/pci/drivers/" + driver;
  symlink(relative(dev + "/driver", dir), dev + "/driver");
  symlink(relative(dir + "/" + address, dev), dir + "/" + address);
}

void FixtureTree::link_group(const std::string& address, int group) {
  std::string dev = device_path(address);
  std::string gdir = "/sys/kernel/iommu_groups/" + std::to_string(group);
  mkdir(gdir + "/devices");
  write(gdir + "/type", "DMA\n");
  symlink(relative(dev + "/iommu_group", gdir), dev + "/iommu_group");
  symlink(relative(gdir + "/devices/" + address, dev), gdir + "/devices/" + address);
}

// drivers/iommu/intel/iommu.c: iommu_device_sysfs_add(&iommu->iommu, NULL, intel_iommu_groups,
// "%s", iommu->name) — the class device lives under /sys/devices/virtual/iommu/<name>, with the
// attribute group "intel-iommu" (version "%d:%d", address/cap/ecap "%llx", domains_supported
// "%ld", domains_used "%d") and the "devices" directory iommu_device_link() fills.
// /sys/class/iommu/<name> -> ../../devices/virtual/iommu/<name>.
void FixtureTree::add_iommu(const std::string& name) {
  std::string dir = "/sys/devices/virtual/iommu/" + name;
  mkdir(dir + "/devices");
  write(dir + "/uevent", "");
  write(dir + "/intel-iommu/version", "1:0\n");
  write(dir + "/intel-iommu/address", "fed90000\n");
  write(dir + "/intel-iommu/cap", "d2008c40660462\n");
  write(dir + "/intel-iommu/ecap", "f050da\n");
  write(dir + "/intel-iommu/domains_supported", "65536\n");
  write(dir + "/intel-iommu/domains_used", "1\n");
  symlink(relative(dir + "/subsystem", "/sys/class/iommu"), dir + "/subsystem");
  symlink(relative("/sys/class/iommu/" + name, dir), "/sys/class/iommu/" + name);
}

void FixtureTree::add_acpi_table(const std::string& signature) {
  // drivers/acpi/sysfs.c: each table's raw bytes, named by its signature (a second instance
  // would be <SIG>1). The 36-byte ACPI header: signature, length (little-endian), revision,
  // checksum, OEM id, OEM table id, OEM revision, creator id and revision.
  std::string t = signature.substr(0, 4);
  t.resize(4, ' ');
  t += std::string("\x30\0\0\0\x01\0", 6);
  t += "BOCHS BXPC    ";
  t += std::string("\x01\0\0\0", 4);
  t += "BXPC";
  t += std::string("\x01\0\0\0", 4);
  t.resize(48, '\0');
  write("/sys/firmware/acpi/tables/" + signature, t);
}

void FixtureTree::set_kernel_config(const std::string& release, const std::string& config) {
  write("/boot/config-" + release, config);
}

void FixtureTree::add_amd_iommu(const std::string& name) {
  std::string dir = "/sys/devices/virtual/iommu/" + name;
  mkdir(dir + "/devices");
  write(dir + "/amd-iommu/cap", "0x90020\n");
  write(dir + "/amd-iommu/features", "0x58f77ef22294ade\n");
  write(dir + "/uevent", "");
  symlink(relative(dir + "/subsystem", "/sys/class/iommu"), dir + "/subsystem");
  symlink(relative("/sys/class/iommu/" + name, dir), "/sys/class/iommu/" + name);
}

void FixtureTree::set_kernel_release(const std::string& release) {
  write("/proc/sys/kernel/osrelease", release + "\n");
}

void FixtureTree::add_kernel_modules(const std::string& release,
                                     const std::vector<std::string>& loadable,
                                     const std::vector<std::string>& builtin) {
  std::string dir = "/lib/modules/" + release;
  std::string dep, bi;
  for (const std::string& m : loadable) {
    dep += m + ":\n";
    write(dir + "/" + m, "");
  }
  for (const std::string& m : builtin) bi += m + "\n";
  write(dir + "/modules.dep", dep);
  write(dir + "/modules.builtin", bi);
}

void FixtureTree::set_hostname(const std::string& hostname) {
  write("/proc/sys/kernel/hostname", hostname + "\n");
}

void FixtureTree::add_disk(const std::string& pci, const std::string& subdir,
                           const std::string& disk, int major, int minor,
                           const std::vector<std::string>& partitions) {
  std::string base = device_path(pci) + (subdir.empty() ? "" : "/" + subdir) + "/block/" + disk;
  mkdir(base);
  write(base + "/dev", std::to_string(major) + ":" + std::to_string(minor) + "\n");
  write(base + "/size", "2097152\n");
  mkdir(base + "/slaves");
  mkdir(base + "/holders");
  symlink(relative("/sys/class/block/" + disk, base), "/sys/class/block/" + disk);
  std::string mm = std::to_string(major) + ":" + std::to_string(minor);
  symlink(relative("/sys/dev/block/" + mm, base), "/sys/dev/block/" + mm);
  write("/dev/" + disk, "");
  int n = 1;
  for (const std::string& part : partitions) {
    std::string p = base + "/" + part;
    std::string pmm = std::to_string(major) + ":" + std::to_string(minor + n++);
    mkdir(p);
    write(p + "/dev", pmm + "\n");
    write(p + "/partition", std::to_string(n - 1) + "\n");
    symlink(relative("/sys/class/block/" + part, p), "/sys/class/block/" + part);
    symlink(relative("/sys/dev/block/" + pmm, p), "/sys/dev/block/" + pmm);
    write("/dev/" + part, "");
  }
}

void FixtureTree::add_net(const std::string& pci, const std::string& subdir,
                          const std::string& ifname, bool up) {
  std::string base = device_path(pci) + (subdir.empty() ? "" : "/" + subdir) + "/net/" + ifname;
  mkdir(base);
  write(base + "/flags", up ? "0x1003\n" : "0x1002\n");
  write(base + "/operstate", up ? "up\n" : "down\n");
  write(base + "/address", "52:54:00:12:34:56\n");
  symlink(relative("/sys/class/net/" + ifname, base), "/sys/class/net/" + ifname);
}

void FixtureTree::add_virtual_net(const std::string& ifname, const std::vector<std::string>& lowers,
                                  bool up) {
  std::string base = "/sys/devices/virtual/net/" + ifname;
  mkdir(base);
  write(base + "/flags", up ? "0x1003\n" : "0x1002\n");
  write(base + "/operstate", up ? "up\n" : "down\n");
  for (const std::string& l : lowers) {
    std::string link = "/sys/class/net/" + l;
    std::string abs = resolve_link(link, fs::read_symlink(path(link)).string());
    symlink(relative(base + "/lower_" + l, abs), base + "/lower_" + l);
  }
  symlink(relative("/sys/class/net/" + ifname, base), "/sys/class/net/" + ifname);
}

void FixtureTree::add_mount(const std::string& source, const std::string& majmin,
                            const std::string& point, const std::string& fstype) {
  int id = next_mount_id_++;
  mountinfo_.push_back(std::to_string(id) + " 1 " + majmin + " / " + point +
                       " rw,relatime shared:1 - " + fstype + " " + source + " rw");
  flush_proc();
}

void FixtureTree::add_swap(const std::string& source) {
  swaps_.push_back(source + "                               partition\t1048572\t\t0\t\t-2");
  flush_proc();
}

void FixtureTree::set_default_route(const std::string& ifname) {
  routes_.push_back(ifname + "\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0");
  routes_.push_back(ifname + "\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0");
  flush_proc();
}

void FixtureTree::flush_proc() {
  std::string mi;
  mi += "1 0 0:1 / / rw - rootfs rootfs rw\n";
  mi += "2 1 0:5 / /proc rw,nosuid,nodev,noexec,relatime shared:2 - proc proc rw\n";
  mi += "3 1 0:6 / /sys rw,nosuid,nodev,noexec,relatime shared:3 - sysfs sysfs rw\n";
  for (const std::string& l : mountinfo_) mi += l + "\n";
  write("/proc/self/mountinfo", mi);
  std::string mounts;
  for (const std::string& l : mountinfo_) {
    // "id parent majmin root point opts shared - fstype source super"
    std::vector<std::string> f;
    size_t i = 0;
    while (i < l.size()) {
      size_t j = l.find(' ', i);
      if (j == std::string::npos) j = l.size();
      f.push_back(l.substr(i, j - i));
      i = j + 1;
    }
    mounts += f[9] + " " + f[4] + " " + f[8] + " rw,relatime 0 0\n";
  }
  write("/proc/self/mounts", mounts);
  std::string sw = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
  for (const std::string& l : swaps_) sw += l + "\n";
  write("/proc/swaps", sw);
  std::string rt =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
  for (const std::string& l : routes_) rt += l + "\n";
  write("/proc/net/route", rt);
}

void FixtureTree::set_cmdline(const std::string& cmdline) {
  write("/proc/cmdline", cmdline + "\n");
}

void FixtureTree::set_cpuinfo(const std::string& vendor_id, const std::string& flags) {
  std::string s;
  for (int cpu = 0; cpu < 2; ++cpu) {
    s += "processor\t: " + std::to_string(cpu) + "\nvendor_id\t: " + vendor_id +
         "\ncpu family\t: 6\nmodel name\t: Test CPU\nflags\t\t: " + flags + "\n\n";
  }
  write("/proc/cpuinfo", s);
}

void FixtureTree::set_modules(const std::vector<std::string>& loaded) {
  std::string s;
  for (const std::string& m : loaded) s += m + " 16384 0 - Live 0x0000000000000000\n";
  write("/proc/modules", s);
}

// ---- USB ----

std::string FixtureTree::usb_path(const std::string& port_path) const {
  auto it = usb_paths_.find(port_path);
  if (it == usb_paths_.end()) throw std::runtime_error("fixture: unknown USB device " + port_path);
  return it->second;
}

namespace {

std::string hex_plain(uint32_t v, int digits) {
  char b[16];
  std::snprintf(b, sizeof b, "%0*x", digits, v);
  return b;
}

// The `descriptors` attribute: the device descriptor (USB 2.0 spec 9.6.1) followed by the
// configuration descriptor with one interface and no endpoints (9.6.3, 9.6.5), little endian.
std::string usb_descriptors(const UsbSpec& s, uint16_t bcd_usb) {
  std::string d;
  auto b = [&](unsigned v) { d.push_back(static_cast<char>(v & 0xff)); };
  auto w = [&](unsigned v) {
    b(v);
    b(v >> 8);
  };
  b(18);
  b(0x01);
  w(bcd_usb);
  b(s.device_class);
  b(0);
  b(s.device_class == 0x09 ? 1 : 0);
  b(64);
  w(s.vendor);
  w(s.product);
  w(s.bcd_device);
  b(s.manufacturer ? 1 : 0);
  b(s.product_name ? 2 : 0);
  b(s.serial ? 3 : 0);
  b(1);
  b(9);
  b(0x02);
  w(18);
  b(1);
  b(1);
  b(0);
  b(0x80);
  b(50);
  b(9);
  b(0x04);
  b(0);
  b(0);
  b(0);
  b(s.interface_class);
  b(0);
  b(0);
  b(0);
  return d;
}

}  // namespace

void FixtureTree::write_usb_device(const std::string& dir, const std::string& name,
                                   const UsbSpec& s, int bus) {
  mkdir(dir);
  bool super = s.speed == "5000" || s.speed == "10000" || s.speed == "20000";
  uint16_t bcd_usb = super ? 0x0300 : (s.speed == "480" ? 0x0200 : 0x0110);
  write(dir + "/idVendor", hex_plain(s.vendor, 4) + "\n");
  write(dir + "/idProduct", hex_plain(s.product, 4) + "\n");
  write(dir + "/bcdDevice", hex_plain(s.bcd_device, 4) + "\n");
  write(dir + "/bDeviceClass", hex_plain(s.device_class, 2) + "\n");
  write(dir + "/bDeviceSubClass", "00\n");
  write(dir + "/bDeviceProtocol", s.device_class == 0x09 ? "01\n" : "00\n");
  write(dir + "/bNumConfigurations", "1\n");
  write(dir + "/bConfigurationValue", "1\n");
  write(dir + "/bNumInterfaces", " 1\n");
  write(dir + "/bMaxPacketSize0", "64\n");
  write(dir + "/busnum", std::to_string(bus) + "\n");
  write(dir + "/devnum", std::to_string(s.devnum) + "\n");
  write(dir + "/devpath",
        (name.rfind("usb", 0) == 0 ? "0" : name.substr(name.find('-') + 1)) + "\n");
  write(dir + "/speed", s.speed + "\n");
  write(dir + "/version", super ? " 3.00\n" : (s.speed == "480" ? " 2.00\n" : " 1.10\n"));
  write(dir + "/maxchild", s.device_class == 0x09 ? "4\n" : "0\n");
  write(dir + "/authorized", "1\n");
  write(dir + "/removable", "unknown\n");
  if (s.manufacturer) write(dir + "/manufacturer", *s.manufacturer + "\n");
  if (s.product_name) write(dir + "/product", *s.product_name + "\n");
  if (s.serial) write(dir + "/serial", *s.serial + "\n");
  write(dir + "/descriptors", usb_descriptors(s, bcd_usb));
  char node[32];
  std::snprintf(node, sizeof node, "bus/usb/%03d/%03d", bus, s.devnum);
  int minor = (bus - 1) * 128 + (s.devnum - 1);
  write(dir + "/dev", "189:" + std::to_string(minor) + "\n");
  // uevent as drivers/usb/core/usb.c usb_dev_uevent() and the driver core write it.
  char ue[256];
  std::snprintf(
      ue, sizeof ue,
      "MAJOR=189\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=usb_device\nDRIVER=usb\nPRODUCT=%x/%x/%x\n"
      "TYPE=%d/0/0\nBUSNUM=%03d\nDEVNUM=%03d\n",
      minor, node, s.vendor, s.product, s.bcd_device, s.device_class, bus, s.devnum);
  write(dir + "/uevent", ue);
  symlink(relative(dir + "/subsystem", "/sys/bus/usb"), dir + "/subsystem");
  symlink(relative(dir + "/driver", "/sys/bus/usb/drivers/usb"), dir + "/driver");
  mkdir("/sys/bus/usb/drivers/usb");
  symlink(relative("/sys/bus/usb/devices/" + name, dir), "/sys/bus/usb/devices/" + name);
  symlink(relative("/sys/dev/char/189:" + std::to_string(minor), dir),
          "/sys/dev/char/189:" + std::to_string(minor));
  write(std::string("/dev/") + node, "");

  // Interface 1.0: <port>:1.0 (root hubs: <bus>-0:1.0).
  std::string ifname = (name.rfind("usb", 0) == 0 ? std::to_string(bus) + "-0" : name) + ":1.0";
  std::string ifdir = dir + "/" + ifname;
  mkdir(ifdir);
  write(ifdir + "/bInterfaceClass", hex_plain(s.interface_class, 2) + "\n");
  write(ifdir + "/bInterfaceNumber", "00\n");
  write(ifdir + "/bNumEndpoints", "00\n");
  write(ifdir + "/uevent", "DEVTYPE=usb_interface\n");
  symlink(relative(ifdir + "/subsystem", "/sys/bus/usb"), ifdir + "/subsystem");
  symlink(relative("/sys/bus/usb/devices/" + ifname, ifdir), "/sys/bus/usb/devices/" + ifname);
  usb_paths_[name] = dir;
}

void FixtureTree::add_usb_bus(int bus, const std::string& controller, const std::string& speed) {
  std::string ctrl = device_paths_.count(controller) ? device_path(controller)
                                                     : "/sys/devices/pci0000:00/" + controller;
  UsbSpec s;
  bool super = speed == "5000" || speed == "10000" || speed == "20000";
  s.vendor = 0x1d6b;
  s.product = super ? 0x0003 : 0x0002;
  s.bcd_device = 0x0601;
  s.devnum = 1;
  s.speed = speed;
  s.device_class = 0x09;
  s.interface_class = 0x09;
  s.manufacturer = "Linux 6.1.0-13-amd64 xhci-hcd";
  s.product_name = "xHCI Host Controller";
  s.serial = controller;
  std::string name = "usb" + std::to_string(bus);
  write_usb_device(ctrl + "/" + name, name, s, bus);
}

void FixtureTree::add_usb(const UsbSpec& s) {
  size_t dash = s.port_path.find('-');
  if (dash == std::string::npos) throw std::runtime_error("fixture: bad port path " + s.port_path);
  int bus = std::stoi(s.port_path.substr(0, dash));
  std::string root = "usb" + std::to_string(bus);
  if (!usb_paths_.count(root)) add_usb_bus(bus);
  size_t dot = s.port_path.rfind('.');
  std::string parent = dot == std::string::npos ? root : s.port_path.substr(0, dot);
  write_usb_device(usb_path(parent) + "/" + s.port_path, s.port_path, s, bus);
}

void add_seed002_usb_devices(FixtureTree& t) {
  UsbSpec s;
  s.port_path = "1-1";
  s.vendor = 0x46f4;
  s.product = 0x0001;
  s.bcd_device = 0x0000;
  s.devnum = 2;
  s.speed = "480";
  s.interface_class = 0x08;
  s.manufacturer = "QEMU";
  s.product_name = "QEMU USB HARDDRIVE";
  s.serial = "1-0000:00:14.0-1";
  t.add_usb(s);
  s = {};
  s.port_path = "1-2";
  s.vendor = 0x05e3;
  s.product = 0x0608;
  s.bcd_device = 0x6072;
  s.devnum = 3;
  s.speed = "480";
  s.device_class = 0x09;
  s.interface_class = 0x09;
  s.product_name = "USB2.0 Hub";
  t.add_usb(s);
  s = {};
  s.port_path = "1-2.1";
  s.vendor = 0x045e;
  s.product = 0x07a5;
  s.bcd_device = 0x0930;
  s.devnum = 4;
  s.speed = "12";
  s.manufacturer = "Microsoft";
  s.product_name = "Microsoft\xc2\xae 2.4GHz Transceiver v9.0";
  t.add_usb(s);
  s = {};
  s.port_path = "1-2.2";
  s.vendor = 0x062a;
  s.product = 0x4102;
  s.bcd_device = 0x0110;
  s.devnum = 5;
  s.speed = "12";
  s.manufacturer = "MOSART Semi.";
  s.product_name = "2.4G Keyboard Mouse";
  t.add_usb(s);
  s = {};
  s.port_path = "1-2.3";
  s.vendor = 0x072f;
  s.product = 0xb100;
  s.bcd_device = 0x0100;
  s.devnum = 6;
  s.speed = "12";
  s.interface_class = 0x0b;
  s.manufacturer = "ACS";
  s.product_name = "ACR39U ICC Reader";
  s.serial = "AC39U0001";
  t.add_usb(s);
}

void build_standard_host(FixtureTree& t) {
  PciSpec s;
  s = {};
  s.address = "0000:00:00.0";
  s.vendor = 0x8086;
  s.device = 0x29c0;
  s.class_code = 0x060000;
  s.iommu_group = 0;
  s.reset_method = std::nullopt;
  t.add_pci(s);

  s = {};
  s.address = "0000:00:01.0";
  s.vendor = 0x1b36;
  s.device = 0x000c;
  s.class_code = 0x060400;
  s.driver = "pcieport";
  s.iommu_group = 1;
  s.reset_method = std::nullopt;
  t.add_pci(s);

  s = {};
  s.address = "0000:01:00.0";
  s.parent = "0000:00:01.0";
  s.vendor = 0x10de;
  s.device = 0x1eb8;
  s.subsystem_device = 0x12a2;
  s.class_code = 0x030200;
  s.revision = 0xa1;
  s.driver = "nvidia";
  s.iommu_group = 1;
  s.numa_node = 0;
  s.reset_method = "flr bus";
  s.mdev_types = {};
  t.add_pci(s);
  t.add_mdev_type("0000:01:00.0",
                  MdevTypeSpec{"nvidia-222", "GRID T4-1B", "vfio-pci", 16, "num_heads=4"});
  t.add_mdev_type("0000:01:00.0",
                  MdevTypeSpec{"nvidia-223", "GRID T4-2B", "vfio-pci", 8, "num_heads=4"});
  t.add_mdev_type("0000:01:00.0",
                  MdevTypeSpec{"nvidia-230", "GRID T4-1Q", "vfio-pci", 16, "num_heads=4"});

  s = {};
  s.address = "0000:00:02.0";
  s.vendor = 0x1af4;
  s.device = 0x1042;
  s.subsystem_device = 0x1100;
  s.class_code = 0x010000;
  s.revision = 0x01;
  s.driver = "virtio-pci";
  s.iommu_group = 2;
  s.reset_method = std::nullopt;
  t.add_pci(s);
  t.add_disk("0000:00:02.0", "virtio1", "vda", 254, 0, {"vda1", "vda2"});
  t.add_mount("/dev/vda1", "254:1", "/");
  t.add_swap("/dev/vda2");

  s = {};
  s.address = "0000:00:03.0";
  s.vendor = 0x1af4;
  s.device = 0x1041;
  s.subsystem_device = 0x1100;
  s.class_code = 0x020000;
  s.revision = 0x01;
  s.driver = "virtio-pci";
  s.iommu_group = 3;
  t.add_pci(s);
  t.add_net("0000:00:03.0", "virtio2", "eth0", true);
  t.set_default_route("eth0");

  s = {};
  s.address = "0000:00:04.0";
  s.vendor = 0x8086;
  s.device = 0x10d3;
  s.class_code = 0x020000;
  s.driver = "e1000e";
  s.iommu_group = 4;
  t.add_pci(s);
  t.add_net("0000:00:04.0", "", "enp0s4", false);

  s = {};
  s.address = "0000:00:1f.0";
  s.vendor = 0x8086;
  s.device = 0x2918;
  s.class_code = 0x060100;
  s.revision = 0x02;
  s.driver = "lpc_ich";
  s.iommu_group = 5;
  s.multifunction = true;
  s.reset_method = std::nullopt;
  t.add_pci(s);
  s = {};
  s.address = "0000:00:1f.2";
  s.vendor = 0x8086;
  s.device = 0x2922;
  s.class_code = 0x010601;
  s.revision = 0x02;
  s.driver = "ahci";
  s.iommu_group = 5;
  s.reset_method = std::nullopt;
  t.add_pci(s);
  s = {};
  s.address = "0000:00:1f.3";
  s.vendor = 0x8086;
  s.device = 0x2930;
  s.class_code = 0x0c0500;
  s.revision = 0x02;
  s.driver = "i801_smbus";
  s.iommu_group = 5;
  s.reset_method = std::nullopt;
  t.add_pci(s);

  s = {};
  s.address = "0000:02:00.0";
  s.vendor = 0x8086;
  s.device = 0x6f54;
  s.class_code = 0x0b4000;
  s.driver = "qat_c62x";
  s.iommu_group = 6;
  s.multifunction = true;
  s.numa_node = 1;
  t.add_pci(s);
  s.address = "0000:02:00.1";
  s.multifunction = false;
  t.add_pci(s);

  s = {};
  s.address = "0000:03:00.0";
  s.vendor = 0x8086;
  s.device = 0x5845;
  s.class_code = 0x010802;
  s.revision = 0x02;
  s.iommu_group = 7;
  s.numa_node = 0;
  t.add_pci(s);
  s.address = "0000:04:00.0";
  s.driver = "vfio-pci";
  s.iommu_group = 8;
  s.numa_node = 1;
  t.add_pci(s);
  t.write("/dev/vfio/8", "");

  t.add_driver("vfio-pci");
  t.add_iommu("dmar0");
  t.add_acpi_table("DMAR");
  t.mkdir("/var/lib/hostpass");  // the state directory, as the package installs it
  t.write("/dev/vfio/vfio", "");
  t.set_cmdline(
      "BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/vda1 ro quiet intel_iommu=on iommu=pt");
  t.set_cpuinfo("GenuineIntel", "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr vmx ept vpid");
  t.set_modules({"vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "vfio", "irqbypass", "nvidia",
                 "e1000e", "qat_c62x"});
}

PciSpec acs_port(const char* address, const char* parent, uint8_t type,
                 std::optional<uint16_t> acs_cap, uint16_t acs_ctrl, int group) {
  PciSpec s;
  s.address = address;
  s.parent = parent;
  s.vendor = 0x1b36;
  s.device = 0x000c;
  s.class_code = 0x060400;
  s.driver = "pcieport";
  s.iommu_group = group;
  s.pcie = PcieSpec{type, acs_cap, acs_ctrl, true};
  return s;
}

namespace {

PciSpec pcie_endpoint(const char* address, const char* parent, int group, uint8_t type = 0) {
  PciSpec s;
  s.address = address;
  s.parent = parent;
  s.vendor = 0x8086;
  s.device = 0x10d3;
  s.driver = "e1000e";
  s.iommu_group = group;
  s.pcie = PcieSpec{type, std::nullopt, 0, true};
  return s;
}

}  // namespace

void build_acs_host(FixtureTree& t) {
  PciSpec host_bridge = pcie_endpoint("0000:00:00.0", "", 0, 9);
  host_bridge.class_code = 0x060000;
  host_bridge.driver.reset();
  t.add_pci(host_bridge);
  // pcie-root-port (ACS, all four bits on) with an NVMe behind it: each alone.
  t.add_pci(acs_port("0000:00:01.0", "", 4, kAcsKernelBits, kAcsKernelBits, 1));
  t.add_pci(pcie_endpoint("0000:01:00.0", "0000:00:01.0", 2));
  // x3130-upstream + xio3130-downstream (no ACS) behind a root port with ACS; e1000e behind.
  t.add_pci(acs_port("0000:00:02.0", "", 4, kAcsKernelBits, kAcsKernelBits, 3));
  t.add_pci(acs_port("0000:02:00.0", "0000:00:02.0", 5, std::nullopt, 0, 4));
  t.add_pci(acs_port("0000:03:00.0", "0000:02:00.0", 6, std::nullopt, 0, 5));
  t.add_pci(pcie_endpoint("0000:04:00.0", "0000:03:00.0", 5));
  // A root port whose ACS leaves Request Redirect and Upstream Forwarding off.
  t.add_pci(acs_port("0000:00:03.0", "", 4, kAcsKernelBits, kAcsSv | kAcsCr, 6));
  t.add_pci(pcie_endpoint("0000:05:00.0", "0000:00:03.0", 6));
  // A root port that does not implement Upstream Forwarding: hard-wired, so it isolates.
  t.add_pci(
      acs_port("0000:00:05.0", "", 4, kAcsSv | kAcsRr | kAcsCr, kAcsSv | kAcsRr | kAcsCr, 10));
  t.add_pci(pcie_endpoint("0000:08:00.0", "0000:00:05.0", 11));
  // pcie-pci-bridge behind a root port with ACS, two conventional NICs behind it.
  t.add_pci(acs_port("0000:00:04.0", "", 4, kAcsKernelBits, kAcsKernelBits, 8));
  t.add_pci(acs_port("0000:06:00.0", "0000:00:04.0", 7, std::nullopt, 0, 9));
  for (const char* a : {"0000:07:01.0", "0000:07:02.0"}) {
    PciSpec nic = pcie_endpoint(a, "0000:06:00.0", 9);
    nic.pcie = PcieSpec{0, std::nullopt, 0, false};
    t.add_pci(nic);
  }
  // ICH9 LPC, SATA, SMBus: integrated endpoints of one multifunction device, no ACS.
  for (const char* a : {"0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"}) {
    PciSpec f = pcie_endpoint(a, "", 7, 9);
    f.multifunction = std::string(a) == "0000:00:1f.0";
    t.add_pci(f);
  }
}

void build_tricky_host(FixtureTree& t) {
  PciSpec s;
  s = {};
  s.address = "0000:00:00.0";
  s.vendor = 0x8086;
  s.device = 0x3e30;
  s.class_code = 0x060000;
  s.revision = 0x0d;
  s.iommu_group = 0;
  s.reset_method = std::nullopt;
  t.add_pci(s);
  // A root port with a GPU + its HDMI audio function behind it: one group of three.
  s = {};
  s.address = "0000:00:1c.0";
  s.vendor = 0x8086;
  s.device = 0xa33c;
  s.class_code = 0x060400;
  s.revision = 0xf0;
  s.driver = "pcieport";
  s.iommu_group = 1;
  s.reset_method = std::nullopt;
  t.add_pci(s);
  s = {};
  s.address = "0000:05:00.0";
  s.parent = "0000:00:1c.0";
  s.vendor = 0x10de;
  s.device = 0x1e87;
  s.class_code = 0x030000;
  s.revision = 0xa1;
  s.driver = "nouveau";
  s.iommu_group = 1;
  s.boot_vga = true;
  s.multifunction = true;
  s.numa_node = 0;
  t.add_pci(s);
  s.address = "0000:05:00.1";
  s.device = 0x10f8;
  s.class_code = 0x040300;
  s.driver = "snd_hda_intel";
  s.boot_vga = false;
  s.multifunction = false;
  t.add_pci(s);
  // An SR-IOV NIC: PF on a host driver, two VFs enabled, each in its own group, one on vfio-pci.
  s = {};
  s.address = "0000:06:00.0";
  s.vendor = 0x8086;
  s.device = 0x1572;
  s.class_code = 0x020000;
  s.revision = 0x01;
  s.driver = "i40e";
  s.iommu_group = 2;
  s.sriov_totalvfs = 64;
  s.sriov_numvfs = 2;
  s.numa_node = 1;
  t.add_pci(s);
  s = {};
  s.address = "0000:06:02.0";
  s.vendor = 0x8086;
  s.device = 0x154c;
  s.class_code = 0x020000;
  s.revision = 0x01;
  s.driver = "iavf";
  s.iommu_group = 3;
  s.physfn = "0000:06:00.0";
  s.numa_node = 1;
  t.add_pci(s);
  s.address = "0000:06:02.1";
  s.driver = "vfio-pci";
  s.iommu_group = 4;
  t.add_pci(s);
  // A device nobody knows (ids not in pci.ids), unbound, with no reset method.
  s = {};
  s.address = "0000:07:00.0";
  s.vendor = 0x1d0f;
  s.device = 0xfffe;
  s.class_code = 0xff0000;
  s.iommu_group = 5;
  s.reset_method = "";
  t.add_pci(s);
  // A second PCI domain whose devices sit behind no IOMMU (no iommu_group link).
  s = {};
  s.address = "0001:00:00.0";
  s.vendor = 0x1b36;
  s.device = 0x0008;
  s.class_code = 0x060000;
  s.reset_method = std::nullopt;
  t.add_pci(s);
  s = {};
  s.address = "0001:00:01.0";
  s.vendor = 0x1af4;
  s.device = 0x1000;
  s.subsystem_device = 0x0001;
  s.class_code = 0x020000;
  s.driver = "virtio-pci";
  t.add_pci(s);
  // A domain above 0xffff (Intel VMD style): an NVMe drive.
  s = {};
  s.address = "10000:e1:00.0";
  s.vendor = 0x144d;
  s.device = 0xa808;
  s.class_code = 0x010802;
  s.driver = "nvme";
  s.iommu_group = 6;
  t.add_pci(s);
  t.add_driver("vfio-pci");
  t.write("/dev/vfio/4", "");
  t.write("/dev/vfio/vfio", "");
}

void build_large_host(FixtureTree& t, int count) {
  // Realistic ids, one kind per slot: GPU (+audio function), NVMe, NIC with functions, QAT.
  struct Kind {
    uint16_t vendor, device;
    uint32_t class_code;
    const char* driver;
  };
  static const Kind kinds[] = {
      {0x10de, 0x1eb8, 0x030200, "nvidia"},    {0x8086, 0x5845, 0x010802, "nvme"},
      {0x8086, 0x1572, 0x020000, "i40e"},      {0x8086, 0x6f54, 0x0b4000, "qat_c62x"},
      {0x15b3, 0x101b, 0x020700, "mlx5_core"}, {0x1af4, 0x1041, 0x020000, "virtio-pci"},
      {0x8086, 0x10d3, 0x020000, "vfio-pci"},  {0x1002, 0x73bf, 0x030000, "amdgpu"},
  };
  int made = 0;
  int group = 0;
  for (int dom = 0; made < count; ++dom) {
    for (int bus = 0; bus < 256 && made < count; ++bus) {
      for (int dev = 0; dev < 32 && made < count; ++dev) {
        const Kind& k = kinds[(bus * 32 + dev) % 8];
        for (int fn = 0; fn < 8 && made < count; ++fn) {
          char addr[32];
          std::snprintf(addr, sizeof addr, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
          PciSpec s;
          s.address = addr;
          s.vendor = k.vendor;
          s.device = k.device;
          s.class_code = k.class_code;
          s.revision = static_cast<uint8_t>(fn);
          if ((made % 5) != 4) s.driver = k.driver;
          s.iommu_group = group;
          s.numa_node = bus % 2;
          s.multifunction = fn == 0;
          t.add_pci(s);
          ++made;
        }
        ++group;
      }
    }
  }
}

}  // namespace hostpass::testing
