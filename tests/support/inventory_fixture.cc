// inventory_fixture.cc — see inventory_fixture.h.
#include "inventory_fixture.h"

namespace hostpass::testing {

void add_mdev_iommu_group(FixtureTree& t, const std::string& parent, const std::string& uuid,
                          int group) {
  std::string dir = t.device_path(parent) + "/" + uuid;
  std::string gdir = "/sys/kernel/iommu_groups/" + std::to_string(group);
  t.mkdir(gdir + "/devices");
  t.write(gdir + "/type", "DMA\n");
  t.symlink(FixtureTree::relative(dir + "/iommu_group", gdir), dir + "/iommu_group");
  t.symlink(FixtureTree::relative(gdir + "/devices/" + uuid, dir), gdir + "/devices/" + uuid);
  t.write("/dev/vfio/" + std::to_string(group), "");
}

void build_inventory_node(FixtureTree& t) {
  build_standard_host(t);
  PciSpec s;
  s.address = "0000:65:00.0";
  s.vendor = 0x10de;
  s.device = 0x1eb8;
  s.subsystem_device = 0x12a2;
  s.class_code = 0x030200;
  s.revision = 0xa1;
  s.driver = "vfio-pci";
  s.iommu_group = 10;
  s.numa_node = 1;
  t.add_pci(s);
  t.write("/dev/vfio/10", "");

  s = {};
  s.address = "0000:67:00.0";
  s.vendor = 0x8086;
  s.device = 0x1572;
  s.class_code = 0x020000;
  s.revision = 0x02;
  s.driver = "vfio-pci";
  s.iommu_group = 12;
  s.numa_node = 0;
  s.multifunction = true;
  t.add_pci(s);
  s.address = "0000:67:00.1";
  s.multifunction = false;
  t.add_pci(s);
  t.write("/dev/vfio/12", "");

  s = {};
  s.address = "0000:68:00.0";
  s.vendor = 0x10de;
  s.device = 0x1db6;
  s.class_code = 0x030200;
  s.revision = 0xa1;
  s.driver = "vfio-pci";
  s.iommu_group = 13;
  s.numa_node = 1;
  s.multifunction = true;
  t.add_pci(s);
  s = {};
  s.address = "0000:68:00.1";
  s.vendor = 0x8086;
  s.device = 0x1533;
  s.class_code = 0x020000;
  s.revision = 0x03;
  s.driver = "igb";
  s.iommu_group = 13;
  s.numa_node = 1;
  t.add_pci(s);
  t.write("/dev/vfio/13", "");

  s = {};
  s.address = "0000:00:14.0";
  s.vendor = 0x8086;
  s.device = 0xa36d;
  s.class_code = 0x0c0330;
  s.revision = 0x10;
  s.driver = "xhci_hcd";
  s.iommu_group = 9;
  t.add_pci(s);

  t.add_mdev_instance("0000:01:00.0", "nvidia-230", kGridInstanceUuid);
  add_mdev_iommu_group(t, "0000:01:00.0", kGridInstanceUuid, 20);

  // Flat on the root hub (ports 1-1 .. 1-5, devnums 2 .. 6): unit ids "usb-1-1" and
  // "usb-1-2+1-3+1-4" are what the plugin and ledger tests allocate.
  t.add_usb_bus(1, "0000:00:14.0", "480");
  struct Dev {
    const char* port;
    int devnum;
    uint16_t vendor, product;
    const char* speed;
    const char* manufacturer;
    const char* product_name;
  };
  const Dev devs[] = {
      {"1-1", 2, 0x46f4, 0x0001, "480", "QEMU", "QEMU USB HARDDRIVE"},
      {"1-2", 3, 0x045e, 0x07a5, "12", "Microsoft", "Microsoft 2.4GHz Transceiver v9.0"},
      {"1-3", 4, 0x062a, 0x4102, "12", "MOSART Semi.", "2.4G Keyboard Mouse"},
      {"1-4", 5, 0x072f, 0xb100, "12", "ACS", "ACR39U ICC Reader"},
      {"1-5", 6, 0x045e, 0x07a5, "12", "Microsoft", "Microsoft 2.4GHz Transceiver v9.0"},
  };
  for (const Dev& d : devs) {
    UsbSpec u;
    u.port_path = d.port;
    u.devnum = d.devnum;
    u.vendor = d.vendor;
    u.product = d.product;
    u.speed = d.speed;
    u.manufacturer = d.manufacturer;
    u.product_name = d.product_name;
    t.add_usb(u);
  }
}

}  // namespace hostpass::testing
