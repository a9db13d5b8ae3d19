// inventory_fixture.cc — see inventory_fixture.h.
#include "inventory_fixture.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hostpass::testing {

namespace {

std::string hex4(uint16_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "%04x", v);
  return b;
}

std::string hex_short(uint16_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "%x", v);
  return b;
}

std::string read(const FixtureTree& t, const std::string& p) {
  std::ifstream f(t.path(p));
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

void add_usb_fixture_device(FixtureTree& t, const std::string& controller,
                            const UsbFixtureDevice& d) {
  std::string root_hub = "usb" + std::to_string(d.bus);
  std::string dir = t.device_path(controller) + "/" + root_hub;
  if (d.port != root_hub) dir += "/" + d.port;
  t.mkdir(dir);
  t.write(dir + "/idVendor", hex4(d.vendor) + "\n");
  t.write(dir + "/idProduct", hex4(d.product) + "\n");
  t.write(dir + "/bcdDevice", "0100\n");
  t.write(dir + "/busnum", std::to_string(d.bus) + "\n");
  t.write(dir + "/devnum", std::to_string(d.devnum) + "\n");
  t.write(dir + "/speed", d.speed + "\n");
  t.write(dir + "/bDeviceClass", d.port == root_hub ? "09\n" : "00\n");
  if (!d.manufacturer.empty()) t.write(dir + "/manufacturer", d.manufacturer + "\n");
  if (!d.product_name.empty()) t.write(dir + "/product", d.product_name + "\n");
  if (!d.serial.empty()) t.write(dir + "/serial", d.serial + "\n");
  char node[64];
  std::snprintf(node, sizeof node, "/dev/bus/usb/%03d/%03d", d.bus, d.devnum);
  t.write(dir + "/uevent", "MAJOR=189\nMINOR=" + std::to_string((d.bus - 1) * 128 + d.devnum - 1) +
                               "\nDEVNAME=" + std::string(node + 5) + "\nDEVTYPE=usb_device\n" +
                               "PRODUCT=" + hex_short(d.vendor) + "/" + hex_short(d.product) +
                               "/100\nBUSNUM=" +
                               std::string(node + 13, 3) + "\nDEVNUM=" +
                               std::string(node + 17, 3) + "\n");
  // An interface directory, which discovery must skip.
  if (d.port != root_hub) t.mkdir(dir + "/" + d.port + ":1.0");
  std::string link = "/sys/bus/usb/devices/" + d.port;
  t.symlink(FixtureTree::relative(link, dir), link);
  if (d.port != root_hub) {
    std::string ilink = "/sys/bus/usb/devices/" + d.port + ":1.0";
    t.symlink(FixtureTree::relative(ilink, dir + "/" + d.port + ":1.0"), ilink);
  }
  t.write(node, "");
}

void add_mdev_fixture_instance(FixtureTree& t, const std::string& parent,
                               const std::string& type_id, const std::string& uuid, int group) {
  std::string pdir = t.device_path(parent);
  std::string dir = pdir + "/" + uuid;
  std::string type_dir = pdir + "/mdev_supported_types/" + type_id;
  t.mkdir(dir);
  t.write(dir + "/remove", "");
  t.write(dir + "/uevent", "MDEV_TYPE=" + type_id + "\n");
  t.symlink(FixtureTree::relative(dir + "/mdev_type", type_dir), dir + "/mdev_type");
  t.symlink(FixtureTree::relative(type_dir + "/devices/" + uuid, dir), type_dir + "/devices/" + uuid);
  std::string bus = "/sys/bus/mdev/devices/" + uuid;
  t.symlink(FixtureTree::relative(bus, dir), bus);
  std::string gdir = "/sys/kernel/iommu_groups/" + std::to_string(group);
  t.mkdir(gdir + "/devices");
  t.symlink(FixtureTree::relative(dir + "/iommu_group", gdir), dir + "/iommu_group");
  t.symlink(FixtureTree::relative(gdir + "/devices/" + uuid, dir), gdir + "/devices/" + uuid);
  t.write("/dev/vfio/" + std::to_string(group), "");
  int avail = std::stoi(read(t, type_dir + "/available_instances"));
  t.write(type_dir + "/available_instances", std::to_string(avail - 1) + "\n");
}

void build_inventory_node(FixtureTree& t) {
  build_standard_host(t);
  PciSpec s;
  s.address = "0000:65:00.0"; s.vendor = 0x10de; s.device = 0x1eb8; s.subsystem_device = 0x12a2;
  s.class_code = 0x030200; s.revision = 0xa1; s.driver = "vfio-pci"; s.iommu_group = 10;
  s.numa_node = 1;
  t.add_pci(s);
  t.write("/dev/vfio/10", "");

  s = {};
  s.address = "0000:67:00.0"; s.vendor = 0x8086; s.device = 0x1572; s.class_code = 0x020000;
  s.revision = 0x02; s.driver = "vfio-pci"; s.iommu_group = 12; s.numa_node = 0;
  s.multifunction = true;
  t.add_pci(s);
  s.address = "0000:67:00.1"; s.multifunction = false;
  t.add_pci(s);
  t.write("/dev/vfio/12", "");

  s = {};
  s.address = "0000:68:00.0"; s.vendor = 0x10de; s.device = 0x1db6; s.class_code = 0x030200;
  s.revision = 0xa1; s.driver = "vfio-pci"; s.iommu_group = 13; s.numa_node = 1;
  s.multifunction = true;
  t.add_pci(s);
  s = {};
  s.address = "0000:68:00.1"; s.vendor = 0x8086; s.device = 0x1533; s.class_code = 0x020000;
  s.revision = 0x03; s.driver = "igb"; s.iommu_group = 13; s.numa_node = 1;
  t.add_pci(s);
  t.write("/dev/vfio/13", "");

  s = {};
  s.address = "0000:00:14.0"; s.vendor = 0x8086; s.device = 0xa36d; s.class_code = 0x0c0330;
  s.revision = 0x10; s.driver = "xhci_hcd"; s.iommu_group = 9;
  t.add_pci(s);

  add_mdev_fixture_instance(t, "0000:01:00.0", "nvidia-230", kGridInstanceUuid, 20);

  const std::string xhci = "0000:00:14.0";
  add_usb_fixture_device(t, xhci, {1, "usb1", 1, 0x1d6b, 0x0002, "Linux 6.1.0 xhci-hcd",
                                   "xHCI Host Controller", "0000:00:14.0", "480"});
  add_usb_fixture_device(t, xhci, {2, "usb2", 1, 0x1d6b, 0x0003, "Linux 6.1.0 xhci-hcd",
                                   "xHCI Host Controller", "0000:00:14.0", "5000"});
  add_usb_fixture_device(t, xhci, {1, "1-1", 2, 0x46f4, 0x0001, "QEMU", "QEMU USB HARDDRIVE",
                                   "1-0000:00:14.0-1", "480"});
  add_usb_fixture_device(t, xhci, {1, "1-2", 3, 0x045e, 0x07a5, "Microsoft",
                                   "Microsoft 2.4GHz Transceiver v9.0", "", "12"});
  add_usb_fixture_device(t, xhci, {1, "1-3", 4, 0x062a, 0x4102, "MosArt", "2.4G Wireless Mouse",
                                   "", "12"});
  add_usb_fixture_device(t, xhci, {1, "1-4", 5, 0x072f, 0xb100, "ACS", "ACR39U ICC Reader", "",
                                   "12"});
  add_usb_fixture_device(t, xhci, {1, "1-5", 6, 0x045e, 0x07a5, "Microsoft",
                                   "Microsoft 2.4GHz Transceiver v9.0", "", "12"});
}

}  // namespace hostpass::testing
