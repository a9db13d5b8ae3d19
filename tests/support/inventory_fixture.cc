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

  t.add_mdev_instance("0000:01:00.0", "nvidia-230", kGridInstanceUuid);
  add_mdev_iommu_group(t, "0000:01:00.0", kGridInstanceUuid, 20);

  t.add_usb_bus(1, "0000:00:14.0", "480");
  add_seed002_usb_devices(t);
  UsbSpec u;
  u.port_path = "1-3"; u.vendor = 0x045e; u.product = 0x07a5; u.bcd_device = 0x0930;
  u.devnum = 7; u.speed = "12"; u.manufacturer = "Microsoft";
  t.add_usb(u);
}

}  // namespace hostpass::testing
