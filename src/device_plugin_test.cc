#include "device_plugin.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

PciAddress addr(const char* text) {
  return PciAddress::parse_full(text).value();
}

Unit pci_unit(const char* first, std::vector<const char*> members, int group,
              std::optional<int> numa) {
  Unit u;
  u.id = std::string("pci-") + first;
  for (const char* m : members) u.pci.push_back(addr(m));
  u.iommu_group = group;
  u.numa_node = numa;
  return u;
}

ResourceInventory t4_resource() {
  ResourceInventory r;
  r.name = "nvidia.com/TU104GL_Tesla_T4";
  r.kind = ResourceKind::Pci;
  r.units.push_back(pci_unit("0000:65:00.0", {"0000:65:00.0"}, 30, 0));
  r.units.push_back(pci_unit("0000:66:00.0", {"0000:66:00.0", "0000:66:00.1"}, 31, 0));
  r.units.push_back(pci_unit("0000:b3:00.0", {"0000:b3:00.0"}, 60, 1));
  r.units.push_back(pci_unit("0000:b4:00.0", {"0000:b4:00.0"}, 61, 1));
  r.units.push_back(pci_unit("0000:b5:00.0", {"0000:b5:00.0"}, 62, 1));
  return r;
}

TEST(ResourceEnvVar, FollowsKubeVirtsResourceNameToEnvVar) {
  EXPECT_EQ(resource_env_var("PCI_RESOURCE", "nvidia.com/TU104GL_Tesla_T4"),
            "PCI_RESOURCE_NVIDIA_COM_TU104GL_TESLA_T4");
  EXPECT_EQ(resource_env_var("MDEV_PCI_RESOURCE", "nvidia.com/GRID_T4-1Q"),
            "MDEV_PCI_RESOURCE_NVIDIA_COM_GRID_T4-1Q");
  EXPECT_EQ(resource_env_var("USB_RESOURCE", "kubevirt.io/storage"),
            "USB_RESOURCE_KUBEVIRT_IO_STORAGE");
  EXPECT_EQ(plugin_socket_name("nvidia.com/TU104GL_Tesla_T4"),
            "hostpass-nvidia.com_TU104GL_Tesla_T4.sock");
}

TEST(DeviceList, OneEntryPerUnitWithNumaAndHealth) {
  ResourceInventory r = t4_resource();
  r.units[2].healthy = false;
  r.units[3].numa_node.reset();
  auto list = device_list(r);
  ASSERT_EQ(list.size(), 5u);
  EXPECT_EQ(list[0], (DeviceEntry{"pci-0000:65:00.0", true, 0}));
  EXPECT_EQ(list[2], (DeviceEntry{"pci-0000:b3:00.0", false, 1}));
  EXPECT_EQ(list[3], (DeviceEntry{"pci-0000:b4:00.0", true, std::nullopt}));
}

TEST(Allocate, PciGivesFullAddressesAndVfioNodes) {
  auto a = allocate(t4_resource(), {"pci-0000:b3:00.0", "pci-0000:65:00.0"});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->envs,
            (std::map<std::string, std::string>{
                {"PCI_RESOURCE_NVIDIA_COM_TU104GL_TESLA_T4", "0000:b3:00.0,0000:65:00.0"}}));
  EXPECT_EQ(a->devices, (std::vector<DeviceNode>{{"/dev/vfio/vfio", "/dev/vfio/vfio", "mrw"},
                                                 {"/dev/vfio/60", "/dev/vfio/60", "mrw"},
                                                 {"/dev/vfio/30", "/dev/vfio/30", "mrw"}}));
}

TEST(Allocate, GroupOfTwoIsGivenWhole) {
  auto a = allocate(t4_resource(), {"pci-0000:66:00.0"});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->envs.at("PCI_RESOURCE_NVIDIA_COM_TU104GL_TESLA_T4"), "0000:66:00.0,0000:66:00.1");
  EXPECT_EQ(a->devices, (std::vector<DeviceNode>{{"/dev/vfio/vfio", "/dev/vfio/vfio", "mrw"},
                                                 {"/dev/vfio/31", "/dev/vfio/31", "mrw"}}));
}

TEST(Allocate, MdevGivesUuidsAndTheMdevsGroup) {
  ResourceInventory r;
  r.name = "nvidia.com/GRID_T4-1Q";
  r.kind = ResourceKind::Mdev;
  Unit u;
  u.id = "4b20d080-1b54-4048-85b3-a6a62d165c01";
  u.mdev_uuids = {u.id};
  u.iommu_group = 140;
  r.units.push_back(u);
  u.id = "9a1e4d2c-0000-4000-8000-00000000000b";
  u.mdev_uuids = {u.id};
  u.iommu_group = 141;
  r.units.push_back(u);
  auto a =
      allocate(r, {"4b20d080-1b54-4048-85b3-a6a62d165c01", "9a1e4d2c-0000-4000-8000-00000000000b"});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->envs,
            (std::map<std::string, std::string>{
                {"MDEV_PCI_RESOURCE_NVIDIA_COM_GRID_T4-1Q",
                 "4b20d080-1b54-4048-85b3-a6a62d165c01,9a1e4d2c-0000-4000-8000-00000000000b"}}));
  EXPECT_EQ(a->devices, (std::vector<DeviceNode>{{"/dev/vfio/vfio", "/dev/vfio/vfio", "mrw"},
                                                 {"/dev/vfio/140", "/dev/vfio/140", "mrw"},
                                                 {"/dev/vfio/141", "/dev/vfio/141", "mrw"}}));
}

TEST(Allocate, UsbBundleGivesBusDevnumPairsAndNodes) {
  ResourceInventory r;
  r.name = "kubevirt.io/peripherals";
  r.kind = ResourceKind::Usb;
  Unit u;
  u.id = "usb-1-2+1-3";
  u.usb = {UsbRef{"1-2", 1, 5, 0x046d, 0xc52b}, UsbRef{"1-3", 1, 12, 0x0951, 0x1666}};
  r.units.push_back(u);
  auto a = allocate(r, {"usb-1-2+1-3"});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(
      a->envs,
      (std::map<std::string, std::string>{{"USB_RESOURCE_KUBEVIRT_IO_PERIPHERALS", "1:5,1:12"}}));
  EXPECT_EQ(a->devices,
            (std::vector<DeviceNode>{{"/dev/bus/usb/001/005", "/dev/bus/usb/001/005", "mrw"},
                                     {"/dev/bus/usb/001/012", "/dev/bus/usb/001/012", "mrw"}}));
}

TEST(Allocate, RejectsUnknownUnhealthyDuplicateAndEmpty) {
  ResourceInventory r = t4_resource();
  r.units[0].healthy = false;
  r.units[0].health_reason = "0000:65:00.0 left vfio-pci (now on nvidia)";
  auto unknown = allocate(r, {"pci-0000:99:00.0"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::NotFound);
  EXPECT_NE(unknown.error().message.find("no device 'pci-0000:99:00.0'"), std::string::npos)
      << unknown.error().message;
  auto sick = allocate(r, {"pci-0000:65:00.0"});
  ASSERT_FALSE(sick.ok());
  EXPECT_EQ(sick.error().kind, ErrorKind::Refused);
  EXPECT_EQ(sick.error().message,
            "allocate nvidia.com/TU104GL_Tesla_T4: device 'pci-0000:65:00.0' is unhealthy: "
            "0000:65:00.0 left vfio-pci (now on nvidia)");
  EXPECT_EQ(allocate(r, {"pci-0000:b3:00.0", "pci-0000:b3:00.0"}).error().kind,
            ErrorKind::InvalidInput);
  EXPECT_EQ(allocate(r, {}).error().kind, ErrorKind::InvalidInput);
}

std::vector<std::string> all_ids(const ResourceInventory& r) {
  std::vector<std::string> ids;
  for (const Unit& u : r.units) ids.push_back(u.id);
  return ids;
}

TEST(PreferredAllocation, StaysOnOneNumaNodeWhenItCan) {
  ResourceInventory r = t4_resource();
  // Node 0 holds two units, node 1 three: a request for three fits only on node 1, even though
  // node 0's units rank first.
  auto p = preferred_allocation(r, all_ids(r), {}, 3);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p,
            (std::vector<std::string>{"pci-0000:b3:00.0", "pci-0000:b4:00.0", "pci-0000:b5:00.0"}));
  // Two fit on node 0, which holds the best-ranked unit.
  p = preferred_allocation(r, all_ids(r), {}, 2);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"pci-0000:65:00.0", "pci-0000:66:00.0"}));
}

TEST(PreferredAllocation, HonoursMustIncludeAndItsNode) {
  ResourceInventory r = t4_resource();
  auto p = preferred_allocation(r, all_ids(r), {"pci-0000:b5:00.0"}, 2);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, (std::vector<std::string>{"pci-0000:b5:00.0", "pci-0000:b3:00.0"}));
  // More than one node can hold: spill over to the biggest other node.
  p = preferred_allocation(r, all_ids(r), {"pci-0000:65:00.0"}, 4);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"pci-0000:65:00.0", "pci-0000:66:00.0",
                                          "pci-0000:b3:00.0", "pci-0000:b4:00.0"}));
  EXPECT_FALSE(
      preferred_allocation(r, all_ids(r), {"pci-0000:65:00.0", "pci-0000:b3:00.0"}, 1).ok());
  EXPECT_FALSE(preferred_allocation(r, {"nope"}, {}, 1).ok());
}

TEST(PreferredAllocation, FollowsPolicyOrderAndSkipsUnhealthy) {
  ResourceInventory r = t4_resource();
  r.units[2].healthy = false;
  // Only node 1's remaining healthy units, offered in reverse order, come back in policy order.
  auto p =
      preferred_allocation(r, {"pci-0000:b5:00.0", "pci-0000:b4:00.0", "pci-0000:b3:00.0"}, {}, 2);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"pci-0000:b4:00.0", "pci-0000:b5:00.0"}));
}

class UnitHealthTest : public ::testing::Test {
 protected:
  UnitHealthTest() : tree_(dir_.path() + "/root"), host_(tree_.root()) {
    testing::build_standard_host(tree_);
  }
  Unit nvme() { return pci_unit("0000:04:00.0", {"0000:04:00.0"}, 8, 1); }
  testing::ScratchDir dir_;
  testing::FixtureTree tree_;
  RealHost host_;
};

TEST_F(UnitHealthTest, PciUnitOnVfioIsHealthyAndEveryWayOffIsNamed) {
  EXPECT_TRUE(check_unit_health(host_, ResourceKind::Pci, nvme()).healthy);
  // Unbind as the kernel does: both links go.
  std::string dev = tree_.device_path("0000:04:00.0");
  std::filesystem::remove(tree_.path(dev + "/driver"));
  std::filesystem::remove(tree_.path("/sys/bus/pci/drivers/vfio-pci/0000:04:00.0"));
  UnitHealth h = check_unit_health(host_, ResourceKind::Pci, nvme());
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.reason, "0000:04:00.0 left vfio-pci (now unbound)");
  tree_.symlink(testing::FixtureTree::relative(dev + "/driver", "/sys/bus/pci/drivers/nvme"),
                dev + "/driver");
  EXPECT_EQ(check_unit_health(host_, ResourceKind::Pci, nvme()).reason,
            "0000:04:00.0 left vfio-pci (now on nvme)");
  tree_.symlink(testing::FixtureTree::relative(dev + "/driver", "/sys/bus/pci/drivers/vfio-pci"),
                dev + "/driver");
  EXPECT_TRUE(check_unit_health(host_, ResourceKind::Pci, nvme()).healthy);
  std::filesystem::remove(tree_.path("/dev/vfio/8"));
  EXPECT_EQ(check_unit_health(host_, ResourceKind::Pci, nvme()).reason, "/dev/vfio/8 is missing");
  std::filesystem::remove(tree_.path("/sys/bus/pci/devices/0000:04:00.0"));
  EXPECT_EQ(check_unit_health(host_, ResourceKind::Pci, nvme()).reason,
            "0000:04:00.0 was removed (no /sys/bus/pci/devices/0000:04:00.0)");
}

// A vfio-pci variant driver is a VFIO driver: a device moved to one has not left. The kernel
// says which drivers are variants (vfio_pci_core's holders), not their names.
TEST_F(UnitHealthTest, ADeviceOnAVariantDriverIsHealthy) {
  std::string dev = tree_.device_path("0000:04:00.0");
  std::filesystem::remove(tree_.path(dev + "/driver"));
  tree_.add_driver("mlx5_vfio_pci");
  tree_.mkdir("/sys/module/vfio_pci_core/holders/mlx5_vfio_pci");
  tree_.symlink(
      testing::FixtureTree::relative(dev + "/driver", "/sys/bus/pci/drivers/mlx5_vfio_pci"),
      dev + "/driver");
  EXPECT_TRUE(check_unit_health(host_, ResourceKind::Pci, nvme()).healthy)
      << check_unit_health(host_, ResourceKind::Pci, nvme()).reason;
  // Named like one, but not a holder of vfio_pci_core and without a vfio_pci: alias.
  std::filesystem::remove(tree_.path(dev + "/driver"));
  tree_.add_driver("fake_vfio_pci");
  tree_.symlink(
      testing::FixtureTree::relative(dev + "/driver", "/sys/bus/pci/drivers/fake_vfio_pci"),
      dev + "/driver");
  EXPECT_EQ(check_unit_health(host_, ResourceKind::Pci, nvme()).reason,
            "0000:04:00.0 left vfio-pci (now on fake_vfio_pci)");
}

TEST_F(UnitHealthTest, GroupSiblingOnAHostDriverMakesTheUnitUnhealthy) {
  // The GPU 0000:66:00.0 is the unit; its audio function 0000:66:00.1 shares group 31.
  auto add = [&](const char* a, uint32_t cls, const char* driver) {
    testing::PciSpec s;
    s.address = a;
    s.vendor = 0x10de;
    s.device = 0x1eb8;
    s.class_code = cls;
    s.driver = driver;
    s.iommu_group = 31;
    tree_.add_pci(s);
  };
  add("0000:66:00.0", 0x030200, "vfio-pci");
  add("0000:66:00.1", 0x040300, "vfio-pci");
  tree_.write("/dev/vfio/31", "");
  tree_.add_driver("snd_hda_intel");
  Unit gpu = pci_unit("0000:66:00.0", {"0000:66:00.0"}, 31, 0);
  EXPECT_TRUE(check_unit_health(host_, ResourceKind::Pci, gpu).healthy);
  std::string dev = tree_.device_path("0000:66:00.1");
  auto relink = [&](const std::string& driver) {
    std::filesystem::remove(tree_.path(dev + "/driver"));
    if (!driver.empty())
      tree_.symlink(
          testing::FixtureTree::relative(dev + "/driver", "/sys/bus/pci/drivers/" + driver),
          dev + "/driver");
  };
  relink("snd_hda_intel");
  UnitHealth h = check_unit_health(host_, ResourceKind::Pci, gpu);
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.reason,
            "0000:66:00.1 in the same IOMMU group 31 left vfio-pci (now on snd_hda_intel): the "
            "group is not viable until it is back on vfio-pci");
  relink("");  // unbound: viable
  EXPECT_TRUE(check_unit_health(host_, ResourceKind::Pci, gpu).healthy);
  tree_.add_driver("pci-stub");
  relink("pci-stub");  // driver_managed_dma: leaves the group's DMA to VFIO
  EXPECT_TRUE(check_unit_health(host_, ResourceKind::Pci, gpu).healthy);
  // A bridge in the group may keep pcieport (driver_managed_dma too).
  add("0000:66:00.2", 0x060400, "pcieport");
  EXPECT_TRUE(check_unit_health(host_, ResourceKind::Pci, gpu).healthy);
  // Both functions in the unit: the member rule speaks first.
  relink("snd_hda_intel");
  Unit both = pci_unit("0000:66:00.0", {"0000:66:00.0", "0000:66:00.1"}, 31, 0);
  EXPECT_EQ(check_unit_health(host_, ResourceKind::Pci, both).reason,
            "0000:66:00.1 left vfio-pci (now on snd_hda_intel)");
}

TEST_F(UnitHealthTest, IndexMapsAGroupSiblingToItsUnitsThroughTheGroupLink) {
  testing::PciSpec s;
  s.address = "0000:66:00.1";
  s.vendor = 0x10de;
  s.device = 0x10f8;
  s.class_code = 0x040300;
  s.driver = "vfio-pci";
  s.iommu_group = 31;
  tree_.add_pci(s);
  HealthIndex index;
  index.build({t4_resource()});
  using Ref = HealthIndex::Ref;
  // 0000:66:00.1 is a member of unit 1 there; 0000:04:00.0 (group 8) is in no unit's group.
  EXPECT_EQ(index.affected(host_, "/sys/bus/pci/devices", "0000:66:00.1"),
            (std::vector<Ref>{{0, 1}}));
  EXPECT_TRUE(index.affected(host_, "/sys/bus/pci/devices", "0000:04:00.0").empty());
  ResourceInventory gpu_only;
  gpu_only.units.push_back(pci_unit("0000:66:00.0", {"0000:66:00.0"}, 31, 0));
  index.build({t4_resource(), gpu_only});
  EXPECT_TRUE(index.affected("/sys/bus/pci/drivers/vfio-pci", "0000:77:00.1").empty());
  ResourceInventory other;
  other.units.push_back(pci_unit("0000:67:00.0", {"0000:67:00.0"}, 31, 0));
  index.build({other});
  EXPECT_TRUE(index.affected("/sys/bus/pci/drivers/vfio-pci", "0000:66:00.1").empty());
  EXPECT_EQ(index.affected(host_, "/sys/bus/pci/drivers/vfio-pci", "0000:66:00.1"),
            (std::vector<Ref>{{0, 0}}))
      << "a sibling maps to the units of its group";
}

TEST_F(UnitHealthTest, RefreshReportsOnlyHealthChanges) {
  ResourceInventory r;
  r.name = "example.com/nvme";
  r.units.push_back(nvme());
  EXPECT_FALSE(refresh_health(host_, r));
  std::filesystem::remove(tree_.path("/dev/vfio/8"));
  EXPECT_TRUE(refresh_health(host_, r, {0}));
  EXPECT_FALSE(r.units[0].healthy);
  EXPECT_FALSE(refresh_health(host_, r));
  tree_.write("/dev/vfio/8", "");
  EXPECT_TRUE(refresh_health(host_, r));
  EXPECT_TRUE(r.units[0].healthy);
  EXPECT_EQ(r.units[0].health_reason, "");
}

TEST_F(UnitHealthTest, MdevAndUsbHealthFollowSysfsAndDevNodes) {
  tree_.mkdir("/sys/bus/mdev/devices/4b20d080-1b54-4048-85b3-a6a62d165c01");
  tree_.symlink("../../../../kernel/iommu_groups/140",
                "/sys/bus/mdev/devices/4b20d080-1b54-4048-85b3-a6a62d165c01/iommu_group");
  tree_.write("/dev/vfio/140", "");
  ResourceInventory m;
  m.kind = ResourceKind::Mdev;
  Unit u;
  u.id = "4b20d080-1b54-4048-85b3-a6a62d165c01";
  u.mdev_uuids = {u.id};
  m.units.push_back(u);
  complete_units(host_, m);
  ASSERT_EQ(m.units[0].iommu_group, 140);
  EXPECT_TRUE(check_unit_health(host_, ResourceKind::Mdev, m.units[0]).healthy);
  std::filesystem::remove(tree_.path("/dev/vfio/140"));
  EXPECT_EQ(check_unit_health(host_, ResourceKind::Mdev, m.units[0]).reason,
            "/dev/vfio/140 is missing");

  Unit usb;
  usb.usb = {UsbRef{"1-2", 1, 5, 0x046d, 0xc52b}};
  tree_.mkdir("/sys/bus/usb/devices/1-2");
  tree_.write("/dev/bus/usb/001/005", "");
  EXPECT_TRUE(check_unit_health(host_, ResourceKind::Usb, usb).healthy);
  std::filesystem::remove(tree_.path("/dev/bus/usb/001/005"));
  EXPECT_EQ(check_unit_health(host_, ResourceKind::Usb, usb).reason,
            "/dev/bus/usb/001/005 is missing");
  std::filesystem::remove(tree_.path("/sys/bus/usb/devices/1-2"));
  EXPECT_EQ(check_unit_health(host_, ResourceKind::Usb, usb).reason, "usb 1-2 was unplugged");
}

TEST(HealthIndexTest, MapsEventsToTheUnitsTheyConcern) {
  std::vector<ResourceInventory> rs{t4_resource()};
  ResourceInventory usb;
  usb.kind = ResourceKind::Usb;
  Unit u;
  u.usb = {UsbRef{"1-2", 1, 5, 0, 0}};
  usb.units.push_back(u);
  rs.push_back(usb);
  HealthIndex index;
  index.build(rs);
  using Ref = HealthIndex::Ref;
  EXPECT_EQ(index.affected("/dev/vfio", "31"), (std::vector<Ref>{{0, 1}}));
  EXPECT_EQ(index.affected("/sys/bus/pci/drivers/vfio-pci", "0000:66:00.1"),
            (std::vector<Ref>{{0, 1}}));
  EXPECT_EQ(index.affected("/sys/bus/pci/devices", "0000:b5:00.0"), (std::vector<Ref>{{0, 4}}));
  EXPECT_EQ(index.affected("/dev/bus/usb/001", "005"), (std::vector<Ref>{{1, 0}}));
  EXPECT_TRUE(index.affected("/dev/vfio", "99").empty());
  EXPECT_EQ(health_watch_dirs(rs),
            (std::vector<std::string>{"/dev/bus/usb/001", "/dev/vfio", "/sys/bus/pci/devices",
                                      "/sys/bus/pci/drivers/vfio-pci", "/sys/bus/usb/devices"}));
}

TEST(ServedResources, ServesTheExternalOnesUnlessAskedForAll) {
  Inventory inv;
  ResourceInventory a = t4_resource();
  a.external = true;
  a.rank = 1;
  ResourceInventory b;
  b.name = "intel.com/qat";
  b.rank = 0;
  inv.resources = {a, b};
  auto served = served_resources(inv, false);
  ASSERT_EQ(served.size(), 1u);
  EXPECT_EQ(served[0].name, "nvidia.com/TU104GL_Tesla_T4");
  served = served_resources(inv, true);
  ASSERT_EQ(served.size(), 2u);
  EXPECT_EQ(served[0].name, "intel.com/qat");
}

TEST(DiffResources, TellsAddedRemovedChangedAndUnchanged) {
  ResourceInventory t4 = t4_resource();
  ResourceInventory qat;
  qat.name = "intel.com/qat";
  qat.units.push_back(pci_unit("0000:02:00.0", {"0000:02:00.0", "0000:02:00.1"}, 6, 1));
  ResourceInventory nvme;
  nvme.name = "example.com/nvme";
  ResourceInventory t4_smaller = t4;
  t4_smaller.units.pop_back();
  ResourceInventory qat_sick = qat;
  qat_sick.units[0].healthy = false;  // health is not part of the identity
  InventoryDiff d = diff_resources({t4, qat}, {t4_smaller, qat_sick, nvme});
  EXPECT_EQ(d.added, (std::vector<std::string>{"example.com/nvme"}));
  EXPECT_EQ(d.changed, (std::vector<std::string>{"nvidia.com/TU104GL_Tesla_T4"}));
  EXPECT_EQ(d.unchanged, (std::vector<std::string>{"intel.com/qat"}));
  d = diff_resources({t4, qat}, {qat});
  EXPECT_EQ(d.removed, (std::vector<std::string>{"nvidia.com/TU104GL_Tesla_T4"}));
  EXPECT_EQ(describe_resource(t4), "nvidia.com/TU104GL_Tesla_T4 (pci): 5 devices (5 healthy)");
}

}  // namespace
}  // namespace hostpass
