// inventory_test.cc — units, reasons and fixes on kernel-shaped fixture nodes.
#include "inventory.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "faulty_host.h"
#include "fixture_tree.h"
#include "inventory_fixture.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::PciSpec;
using testing::ScratchDir;

std::string fixture_text(const std::string& name) {
  std::ifstream f(std::string(HOSTPASS_SOURCE_DIR) + "/tests/fixtures/policy/" + name);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

Policy policy_from(const std::string& yaml) {
  auto p = parse_policy(yaml, "cr.yaml");
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return p.ok() ? *p : Policy{};
}

const ResourceInventory& find(const Inventory& inv, const std::string& name) {
  for (const ResourceInventory& r : inv.resources)
    if (r.name == name) return r;
  static ResourceInventory none;
  ADD_FAILURE() << "no resource " << name;
  return none;
}

std::vector<std::string> addresses(const Unit& u) {
  std::vector<std::string> out;
  for (const PciAddress& a : u.pci) out.push_back(a.to_string());
  return out;
}

class InventoryNode : public ::testing::Test {
 protected:
  InventoryNode() : tree_(dir_.path() + "/root"), host_(tree_.root()) {
    testing::build_inventory_node(tree_);
  }
  Inventory inventory(const std::string& yaml) {
    auto inv = build_inventory(host_, policy_from(yaml));
    EXPECT_TRUE(inv.ok()) << (inv.ok() ? "" : inv.error().message);
    return inv.ok() ? *inv : Inventory{};
  }
  ScratchDir dir_;
  FixtureTree tree_;
  RealHost host_;
};

TEST_F(InventoryNode, ExactInventoryOfTheNodeCr) {
  Inventory inv = inventory(fixture_text("node_kubevirt_cr.yaml"));
  ASSERT_EQ(inv.resources.size(), 10u);
  std::vector<std::string> names;
  for (const auto& r : inv.resources) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "nvidia.com/TU104GL_Tesla_T4", "intel.com/qat", "devices.kubevirt.io/nvme",
                       "example.com/nvme-fast", "intel.com/x710", "nvidia.com/GV100GL_Tesla_V100",
                       "nvidia.com/GRID_T4-1Q", "nvidia.com/GRID_T4-2B", "kubevirt.io/storage",
                       "kubevirt.io/peripherals"}));
  for (size_t i = 0; i < inv.resources.size(); ++i) EXPECT_EQ(inv.resources[i].rank, int(i));

  // T4: the vfio-pci one is a unit; the GRID parent on nvidia is not, and the fix says so.
  const auto& t4 = find(inv, "nvidia.com/TU104GL_Tesla_T4");
  EXPECT_EQ(t4.kind, ResourceKind::Pci);
  ASSERT_EQ(t4.units.size(), 1u);
  EXPECT_EQ(t4.units[0].id, "pci-0000:65:00.0");
  EXPECT_EQ(addresses(t4.units[0]), std::vector<std::string>{"0000:65:00.0"});
  EXPECT_EQ(t4.units[0].iommu_group, 10);
  EXPECT_EQ(t4.units[0].numa_node, 1);
  EXPECT_TRUE(t4.units[0].healthy);
  ASSERT_EQ(t4.unusable.size(), 1u);
  EXPECT_EQ(t4.unusable[0].what, "0000:01:00.0");
  EXPECT_EQ(t4.unusable[0].reason,
            "on nvidia, not vfio-pci; it is a mediated-device parent (hostpass mdev types)");
  EXPECT_EQ(t4.unusable[0].fix, "hostpass bind 0000:01:00.0 (this ends its mediated devices)");
  EXPECT_EQ(capacity_line(t4), "nvidia.com/TU104GL_Tesla_T4: 1");

  // QAT: both functions of group 6 on the host driver; the fix binds the group.
  const auto& qat = find(inv, "intel.com/qat");
  EXPECT_TRUE(qat.units.empty());
  ASSERT_EQ(qat.unusable.size(), 2u);
  EXPECT_EQ(qat.unusable[0].what, "0000:02:00.0");
  EXPECT_EQ(qat.unusable[0].reason, "on qat_c62x, not vfio-pci");
  EXPECT_EQ(qat.unusable[0].fix, "hostpass bind --group 0000:02:00.0");
  EXPECT_EQ(qat.unusable[1].what, "0000:02:00.1");
  EXPECT_EQ(capacity_line(qat), "intel.com/qat: 0");

  // Two identical NVMe drives: the address selector carves 04:00.0 out of the vendor selector.
  const auto& nvme = find(inv, "devices.kubevirt.io/nvme");
  EXPECT_TRUE(nvme.units.empty());
  ASSERT_EQ(nvme.unusable.size(), 2u);
  EXPECT_EQ(nvme.unusable[0].what, "0000:04:00.0");
  EXPECT_EQ(nvme.unusable[0].reason,
            "claimed by example.com/nvme-fast, whose pciAddressSelector names it (line 20)");
  EXPECT_EQ(nvme.unusable[1].what, "0000:03:00.0");
  EXPECT_EQ(nvme.unusable[1].reason, "not bound to any driver, not vfio-pci");
  EXPECT_EQ(nvme.unusable[1].fix, "hostpass bind 0000:03:00.0");
  const auto& fast = find(inv, "example.com/nvme-fast");
  ASSERT_EQ(fast.units.size(), 1u);
  EXPECT_EQ(fast.units[0].id, "pci-0000:04:00.0");
  EXPECT_EQ(fast.units[0].iommu_group, 8);
  EXPECT_EQ(fast.units[0].numa_node, 1);
  EXPECT_EQ(inv.warnings,
            std::vector<std::string>{"0000:04:00.0 (8086:5845) matches devices.kubevirt.io/nvme "
                                     "(line 18) and example.com/nvme-fast (line 20): it goes to "
                                     "example.com/nvme-fast"});

  // mdev: the GRID T4-1Q instance is a unit; T4-2B has a type but no instance.
  const auto& q1 = find(inv, "nvidia.com/GRID_T4-1Q");
  EXPECT_EQ(q1.kind, ResourceKind::Mdev);
  ASSERT_EQ(q1.units.size(), 1u);
  EXPECT_EQ(q1.units[0].id, testing::kGridInstanceUuid);
  EXPECT_EQ(q1.units[0].mdev_uuids, std::vector<std::string>{testing::kGridInstanceUuid});
  EXPECT_EQ(q1.units[0].mdev_parent, "0000:01:00.0");
  EXPECT_EQ(q1.units[0].mdev_type, "nvidia-230");
  EXPECT_EQ(q1.units[0].iommu_group, 20);
  EXPECT_EQ(q1.units[0].numa_node, 0);
  EXPECT_TRUE(q1.units[0].healthy);
  const auto& b2 = find(inv, "nvidia.com/GRID_T4-2B");
  EXPECT_TRUE(b2.units.empty());
  ASSERT_EQ(b2.unusable.size(), 1u);
  EXPECT_EQ(b2.unusable[0].what, "type nvidia-223 (GRID T4-2B) on 0000:01:00.0");
  EXPECT_EQ(b2.unusable[0].reason, "no instance exists; 8 can be created");
  EXPECT_EQ(b2.unusable[0].fix.rfind("hostpass mdev create --parent 0000:01:00.0 --type nvidia-223", 0),
            0u);

  // USB: the storage device, and one complete peripherals bundle; the second receiver alone is
  // an incomplete set, reported and not exposed.
  const auto& storage = find(inv, "kubevirt.io/storage");
  ASSERT_EQ(storage.units.size(), 1u);
  EXPECT_EQ(storage.units[0].id, "usb-1-1");
  ASSERT_EQ(storage.units[0].usb.size(), 1u);
  EXPECT_EQ(storage.units[0].usb[0].busnum, 1);
  EXPECT_EQ(storage.units[0].usb[0].devnum, 2);
  EXPECT_EQ(storage.units[0].usb[0].dev_node, "/dev/bus/usb/001/002");
  const auto& per = find(inv, "kubevirt.io/peripherals");
  ASSERT_EQ(per.units.size(), 1u);
  EXPECT_EQ(per.units[0].id, "usb-1-2+1-3+1-4");
  ASSERT_EQ(per.units[0].usb.size(), 3u);
  EXPECT_EQ(per.units[0].usb[2].vendor, 0x072f);
  EXPECT_FALSE(per.units[0].numa_node.has_value());
  ASSERT_EQ(per.unusable.size(), 1u);
  EXPECT_EQ(per.unusable[0].what, "usb 1-5 (045e:07a5)");
  EXPECT_EQ(per.unusable[0].reason,
            "incomplete bundle: no device left for 062a:4102 (selectors[1]), 072f:b100 "
            "(selectors[2])");
}

TEST_F(InventoryNode, MultiDeviceGroupIsOneUnitWithBoth) {
  Inventory inv = inventory("pciHostDevices:\n- pciVendorSelector: 8086:1572\n"
                            "  resourceName: intel.com/x710\n");
  const auto& r = find(inv, "intel.com/x710");
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_EQ(r.units[0].id, "pci-0000:67:00.0");
  EXPECT_EQ(addresses(r.units[0]), (std::vector<std::string>{"0000:67:00.0", "0000:67:00.1"}));
  EXPECT_EQ(r.units[0].iommu_group, 12);
  EXPECT_TRUE(r.unusable.empty());
  EXPECT_EQ(capacity_line(r), "intel.com/x710: 1");
}

TEST_F(InventoryNode, GroupWithNonMatchingSiblingOnHostDriverIsNotViable) {
  Inventory inv = inventory("pciHostDevices:\n- pciVendorSelector: 10de:1db6\n"
                            "  resourceName: nvidia.com/GV100GL_Tesla_V100\n");
  const auto& r = find(inv, "nvidia.com/GV100GL_Tesla_V100");
  EXPECT_TRUE(r.units.empty());
  ASSERT_EQ(r.unusable.size(), 1u);
  EXPECT_EQ(r.unusable[0].what, "0000:68:00.0");
  EXPECT_EQ(r.unusable[0].reason,
            "IOMMU group 13 is not viable: 0000:68:00.1 (8086:1533, not selected) is on igb");
  EXPECT_EQ(r.unusable[0].fix,
            "hostpass bind --group 0000:68:00.0 (moves 0000:68:00.1 to vfio-pci too), or move "
            "the card to a slot with its own IOMMU group");
}

TEST_F(InventoryNode, SiblingOnVfioOrUnboundKeepsTheGroupViable) {
  // Unbind the igb sibling: the group becomes viable (drivers/vfio/group.c: unbound is fine).
  std::filesystem::remove(tree_.path(tree_.device_path("0000:68:00.1") + "/driver"));
  Inventory inv = inventory("pciHostDevices:\n- pciVendorSelector: 10de:1db6\n"
                            "  resourceName: nvidia.com/v100\n");
  const auto& r = find(inv, "nvidia.com/v100");
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_EQ(addresses(r.units[0]), std::vector<std::string>{"0000:68:00.0"});
}

TEST_F(InventoryNode, DeviceInUseByTheHostIsReported) {
  Inventory inv = inventory("pciHostDevices:\n- pciVendorSelector: 1af4:1042\n"
                            "  resourceName: example.com/virtio-blk\n");
  const auto& r = find(inv, "example.com/virtio-blk");
  EXPECT_TRUE(r.units.empty());
  ASSERT_GE(r.unusable.size(), 1u);
  EXPECT_EQ(r.unusable[0].what, "0000:00:02.0");
  EXPECT_EQ(r.unusable[0].reason.rfind("in use by the host: root filesystem (/dev/vda1 on /)", 0),
            0u)
      << r.unusable[0].reason;
}

TEST_F(InventoryNode, MissingVfioNodeMakesTheUnitUnhealthy) {
  std::filesystem::remove(tree_.path("/dev/vfio/10"));
  Inventory inv = inventory("pciHostDevices:\n- pciVendorSelector: 10de:1eb8\n"
                            "  resourceName: nvidia.com/t4\n");
  const auto& r = find(inv, "nvidia.com/t4");
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_FALSE(r.units[0].healthy);
  EXPECT_EQ(r.units[0].health_reason, "/dev/vfio/10 is missing");
  EXPECT_EQ(r.healthy_units(), 0);
  EXPECT_EQ(capacity_line(r), "nvidia.com/t4: 1 (1 unhealthy)");
}

TEST_F(InventoryNode, RemovingAnEntryRemovesTheResource) {
  // Seed 000's removal procedure: the edited HCO CR no longer has intel.com/qat.
  Inventory before = inventory(fixture_text("hco_seed000.yaml"));
  Inventory after = inventory(fixture_text("hco_seed000_qat_removed.yaml"));
  auto has = [](const Inventory& inv, const std::string& n) {
    for (const auto& r : inv.resources)
      if (r.name == n) return true;
    return false;
  };
  EXPECT_TRUE(has(before, "intel.com/qat"));
  EXPECT_TRUE(find(before, "intel.com/qat").external);
  EXPECT_FALSE(has(after, "intel.com/qat"));
  EXPECT_EQ(after.resources.size(), 2u);
  EXPECT_EQ(capacity_line(find(after, "nvidia.com/TU104GL_Tesla_T4")),
            "nvidia.com/TU104GL_Tesla_T4: 1");
}

TEST_F(InventoryNode, ExternalResourcesAreMarked) {
  Inventory inv = inventory(fixture_text("seed002_permitted.yaml"));
  const auto& t4 = find(inv, "nvidia.com/TU104GL_Tesla_T4");
  EXPECT_TRUE(t4.external);
  EXPECT_EQ(capacity_line(t4), "nvidia.com/TU104GL_Tesla_T4: 1 (external: "
                               "externalResourceProvider is true, KubeVirt does not serve it)");
  EXPECT_FALSE(find(inv, "intel.com/qat").external);
}

TEST_F(InventoryNode, SelectorMatchingNothingIsReported) {
  Inventory inv = inventory(fixture_text("seed001_kubevirt_cr.yaml"));
  const auto& r = find(inv, "nvidia.com/dev1");
  EXPECT_TRUE(r.units.empty());
  ASSERT_EQ(r.unusable.size(), 1u);
  EXPECT_EQ(r.unusable[0].what, "pciVendorSelector 10de:20f1");
  EXPECT_EQ(r.unusable[0].reason, "no device on this node matches (line 12)");
}

TEST_F(InventoryNode, MdevNameMatchingFollowsKubeVirt) {
  // mediated_device.go: spaces become '_' on both sides; the type id matches too.
  Inventory inv = inventory(R"(mediatedDevices:
- mdevNameSelector: GRID_T4-1Q
  resourceName: example.com/a
- mdevNameSelector: GRID T4-8Q
  resourceName: example.com/b
)");
  ASSERT_EQ(find(inv, "example.com/a").units.size(), 1u);
  const auto& b = find(inv, "example.com/b");
  ASSERT_EQ(b.unusable.size(), 1u);
  EXPECT_EQ(b.unusable[0].reason,
            "no mediated device type on this node is named \"GRID T4-8Q\" (line 4); types here: "
            "GRID T4-1B (nvidia-222), GRID T4-2B (nvidia-223), GRID T4-1Q (nvidia-230)");
}

TEST_F(InventoryNode, IdenticalUsbDevicesFormSeparateBundlesByPortPath) {
  testing::UsbSpec u;
  u.port_path = "1-6";
  u.vendor = 0x46f4;
  u.product = 0x0001;
  u.devnum = 8;
  u.speed = "480";
  tree_.add_usb(u);
  Inventory inv = inventory(fixture_text("seed002_usb_storage.yaml"));
  const auto& r = find(inv, "kubevirt.io/storage");
  ASSERT_EQ(r.units.size(), 2u);
  EXPECT_EQ(r.units[0].id, "usb-1-1");
  EXPECT_EQ(r.units[1].id, "usb-1-6");
  EXPECT_TRUE(r.unusable.empty());
}

TEST_F(InventoryNode, UsbDeviceClaimedByTwoResourcesGoesToTheFirst) {
  Inventory inv = inventory(R"(usb:
- resourceName: example.com/first
  selectors:
  - vendor: "46f4"
    product: "0001"
- resourceName: example.com/second
  selectors:
  - vendor: "46f4"
    product: "0001"
)");
  EXPECT_EQ(find(inv, "example.com/first").units.size(), 1u);
  const auto& second = find(inv, "example.com/second");
  EXPECT_TRUE(second.units.empty());
  ASSERT_EQ(second.unusable.size(), 1u);
  EXPECT_EQ(second.unusable[0].reason, "usb 1-1 (46f4:0001) matches but was taken by example.com/first");
  EXPECT_EQ(inv.warnings, std::vector<std::string>{"usb 1-1 (46f4:0001) matches example.com/first "
                                                   "and example.com/second: it goes to "
                                                   "example.com/first"});
}

TEST_F(InventoryNode, UnplugedUsbDeviceNodeMakesTheBundleUnhealthy) {
  std::filesystem::remove(tree_.path("/dev/bus/usb/001/004"));
  Inventory inv = inventory(fixture_text("seed002_usb_bundle.yaml"));
  const auto& r = find(inv, "kubevirt.io/peripherals");
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_FALSE(r.units[0].healthy);
  EXPECT_EQ(r.units[0].health_reason, "/dev/bus/usb/001/004 is missing");
}

TEST_F(InventoryNode, InventoryNeverWrites) {
  FaultyHost faulty(host_);
  auto inv = build_inventory(faulty, policy_from(fixture_text("node_kubevirt_cr.yaml")));
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(faulty.write_count(), 0);
  EXPECT_GT(faulty.read_count(), 0);
}

TEST(Inventory, ResourceKindNames) {
  EXPECT_STREQ(resource_kind_name(ResourceKind::Pci), "pci");
  EXPECT_STREQ(resource_kind_name(ResourceKind::Mdev), "mdev");
  EXPECT_STREQ(resource_kind_name(ResourceKind::Usb), "usb");
}

TEST(Inventory, NoIommuGroupIsReportedWithTheFix) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  PciSpec s;
  s.address = "0000:06:00.0";
  s.vendor = 0x10de;
  s.device = 0x20f1;
  s.class_code = 0x030200;
  s.driver = "vfio-pci";
  tree.add_pci(s);
  RealHost host(tree.root());
  auto inv = build_inventory(host, policy_from(fixture_text("seed001_kubevirt_cr.yaml")));
  ASSERT_TRUE(inv.ok());
  const auto& r = inv->resources.at(0);
  EXPECT_TRUE(r.units.empty());
  ASSERT_EQ(r.unusable.size(), 1u);
  EXPECT_EQ(r.unusable[0].reason,
            "it has no IOMMU group: the IOMMU is off or the device is not behind it");
}

}  // namespace
}  // namespace hostpass
