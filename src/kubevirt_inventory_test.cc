// kubevirt_inventory_test.cc — units, reasons and fixes on kernel-shaped fixture nodes.
#include "kubevirt_inventory.h"

#include <gtest/gtest.h>

#include <algorithm>
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
  EXPECT_EQ(names, (std::vector<std::string>{"nvidia.com/TU104GL_Tesla_T4", "intel.com/qat",
                                             "devices.kubevirt.io/nvme", "example.com/nvme-fast",
                                             "intel.com/x710", "nvidia.com/GV100GL_Tesla_V100",
                                             "nvidia.com/GRID_T4-1Q", "nvidia.com/GRID_T4-2B",
                                             "kubevirt.io/storage", "kubevirt.io/peripherals"}));
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
  EXPECT_EQ(t4.unusable[0].fix,
            "hostpass bind --force=mdev-live 0000:01:00.0 (this ends its mediated devices)");
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
  EXPECT_EQ(
      b2.unusable[0].fix.rfind("hostpass mdev create --parent 0000:01:00.0 --type nvidia-223", 0),
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
  Inventory inv = inventory(
      "pciHostDevices:\n- pciVendorSelector: 8086:1572\n"
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
  Inventory inv = inventory(
      "pciHostDevices:\n- pciVendorSelector: 10de:1db6\n"
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
  Inventory inv = inventory(
      "pciHostDevices:\n- pciVendorSelector: 10de:1db6\n"
      "  resourceName: nvidia.com/v100\n");
  const auto& r = find(inv, "nvidia.com/v100");
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_EQ(addresses(r.units[0]), std::vector<std::string>{"0000:68:00.0"});
}

// A device on a vfio-pci variant driver (a holder of vfio_pci_core) is usable as it is, and
// keeps its group viable; one on a host driver is not.
TEST_F(InventoryNode, ADeviceOnAVariantDriverIsUsable) {
  std::filesystem::remove(tree_.path(tree_.device_path("0000:68:00.1") + "/driver"));
  std::string dev = tree_.device_path("0000:68:00.0");
  std::filesystem::remove(tree_.path(dev + "/driver"));
  tree_.add_driver("nvgrace_gpu_vfio_pci");
  tree_.mkdir("/sys/module/vfio_pci_core/holders/nvgrace_gpu_vfio_pci");
  tree_.symlink(FixtureTree::relative(dev + "/driver", "/sys/bus/pci/drivers/nvgrace_gpu_vfio_pci"),
                dev + "/driver");
  const std::string cr =
      "pciHostDevices:\n- pciVendorSelector: 10de:1db6\n"
      "  resourceName: nvidia.com/v100\n";
  {
    Inventory inv = inventory(cr);
    const auto& r = find(inv, "nvidia.com/v100");
    ASSERT_EQ(r.units.size(), 1u);
    EXPECT_TRUE(r.unusable.empty());
  }
  std::filesystem::remove(tree_.path("/sys/module/vfio_pci_core/holders/nvgrace_gpu_vfio_pci"));
  Inventory inv = inventory(cr);
  const auto& r = find(inv, "nvidia.com/v100");
  EXPECT_TRUE(r.units.empty());
  ASSERT_FALSE(r.unusable.empty());
  EXPECT_EQ(r.unusable[0].reason, "on nvgrace_gpu_vfio_pci, not vfio-pci");
}

TEST_F(InventoryNode, DeviceInUseByTheHostIsReported) {
  Inventory inv = inventory(
      "pciHostDevices:\n- pciVendorSelector: 1af4:1042\n"
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
  Inventory inv = inventory(
      "pciHostDevices:\n- pciVendorSelector: 10de:1eb8\n"
      "  resourceName: nvidia.com/t4\n");
  const auto& r = find(inv, "nvidia.com/t4");
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_FALSE(r.units[0].healthy);
  EXPECT_EQ(r.units[0].health_reason, "/dev/vfio/10 is missing");
  EXPECT_EQ(r.healthy_units(), 0);
  EXPECT_EQ(capacity_line(r), "nvidia.com/t4: 1 (1 unhealthy)");
}

TEST_F(InventoryNode, RemovingAnEntryRemovesTheResource) {
  // OpenShift Virtualization's removal procedure: the edited HCO CR no longer has intel.com/qat.
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

// An HCO CR's entries are echoed with the key it uses, pciDeviceSelector; a KubeVirt CR's with
// pciVendorSelector; mdev entries with mdevNameSelector.
TEST_F(InventoryNode, SelectorsAreEchoedWithTheKeyTheCrUses) {
  Inventory hco = inventory(fixture_text("hco_seed000.yaml"));
  EXPECT_EQ(find(hco, "nvidia.com/TU104GL_Tesla_T4").selectors,
            std::vector<std::string>{"pciDeviceSelector 10de:1eb8 (line 11)"});
  Inventory kubevirt = inventory(fixture_text("node_kubevirt_cr.yaml"));
  EXPECT_EQ(find(kubevirt, "nvidia.com/TU104GL_Tesla_T4").selectors,
            std::vector<std::string>{"pciVendorSelector 10de:1eb8 (line 14)"});
  EXPECT_EQ(find(kubevirt, "nvidia.com/GRID_T4-1Q").selectors,
            std::vector<std::string>{"mdevNameSelector \"GRID T4-1Q\" (line 27)"});
}

// A type the CR's mediatedDevicesConfiguration already lists is made by mdev apply with that CR
// (and the entry's nodeSelector as --node-label); never "list it" again.
TEST_F(InventoryNode, AnMdevTypeTheCrListsIsFixedByMdevApplyWithThatCr) {
  const std::string permitted =
      "permittedHostDevices:\n  mediatedDevices:\n  - mdevNameSelector: GRID T4-2B\n"
      "    resourceName: nvidia.com/GRID_T4-2B\n";
  Inventory listed = inventory(permitted +
                               "mediatedDevicesConfiguration:\n  mediatedDeviceTypes:\n"
                               "  - nvidia-223\n");
  ASSERT_EQ(find(listed, "nvidia.com/GRID_T4-2B").unusable.size(), 1u);
  EXPECT_EQ(find(listed, "nvidia.com/GRID_T4-2B").unusable[0].fix,
            "hostpass mdev apply -f cr.yaml");
  Inventory per_node = inventory(permitted +
                                 "mediatedDevicesConfiguration:\n  nodeMediatedDeviceTypes:\n"
                                 "  - nodeSelector:\n      gpu: t4\n"
                                 "    mediatedDeviceTypes:\n    - GRID_T4-2B\n");
  EXPECT_EQ(find(per_node, "nvidia.com/GRID_T4-2B").unusable[0].fix,
            "hostpass mdev apply -f cr.yaml --node-label gpu=t4");
  Inventory unlisted = inventory(permitted);
  EXPECT_EQ(find(unlisted, "nvidia.com/GRID_T4-2B").unusable[0].fix,
            "hostpass mdev create --parent 0000:01:00.0 --type nvidia-223 (or list nvidia-223 in "
            "mediatedDevicesConfiguration.mediatedDeviceTypes of cr.yaml, then hostpass mdev "
            "apply -f cr.yaml)");
}

TEST_F(InventoryNode, ExternalResourcesAreMarked) {
  Inventory inv = inventory(fixture_text("seed002_permitted.yaml"));
  const auto& t4 = find(inv, "nvidia.com/TU104GL_Tesla_T4");
  EXPECT_TRUE(t4.external);
  EXPECT_EQ(capacity_line(t4),
            "nvidia.com/TU104GL_Tesla_T4: 1 (external: "
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
  EXPECT_EQ(second.unusable[0].reason,
            "usb 1-1 (46f4:0001) matches but was taken by example.com/first");
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

// ---- double serving: hostpass serves the external resources, KubeVirt the others

std::vector<std::string> twice(const Inventory& inv) {
  std::vector<std::string> out;
  for (const DoubleServed& d : inv.double_served)
    out.push_back(std::string(resource_kind_name(d.kind)) + " " + d.device + ": " + d.external +
                  " (line " + std::to_string(d.external_line) + ") and " + d.kubevirt + " (line " +
                  std::to_string(d.kubevirt_line) + ")");
  return out;
}

TEST_F(InventoryNode, AddressResourceServedByHostpassAndVendorResourceByKubeVirtIsRefused) {
  // Two identical NVMe drives (the root disk's twin); the address resource is hostpass's, the
  // vendor resource KubeVirt's, and KubeVirt's plugin takes every 8086:5845 on vfio-pci,
  // 0000:04:00.0 included.
  Inventory inv = inventory(R"(pciHostDevices:
- pciVendorSelector: 8086:5845
  resourceName: devices.kubevirt.io/nvme
- pciAddressSelector: ["0000:04:00.0"]
  resourceName: example.com/nvme-fast
  externalResourceProvider: true
)");
  EXPECT_EQ(twice(inv), std::vector<std::string>{"pci 0000:04:00.0 (8086:5845): "
                                                 "example.com/nvme-fast (line 4) and "
                                                 "devices.kubevirt.io/nvme (line 2)"});
  Status s = double_serving(inv, false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::Refused);
  EXPECT_EQ(s.error().message,
            "refusing the policy: 1 device would be served twice, by hostpass and by KubeVirt's "
            "own device plugin, so two VMs could get the same device:\n"
            "  0000:04:00.0 (8086:5845): hostpass serves it as example.com/nvme-fast "
            "(externalResourceProvider: true, line 4); KubeVirt serves it as "
            "devices.kubevirt.io/nvme (line 2), whose entry is not external: its "
            "pciVendorSelector 8086:5845 takes every 8086:5845 device on vfio-pci (KubeVirt does "
            "not read pciAddressSelector)\n"
            "fix: mark devices.kubevirt.io/nvme (line 2) externalResourceProvider: true as well, "
            "in this file and in the CR KubeVirt reads (hostpass then serves both resources and "
            "gives each device to one of them); or, where KubeVirt's own plugins do not serve "
            "this CR, run hostpass plugin --all so hostpass serves both");
  // --all: hostpass serves both, and the inventory gave 0000:04:00.0 to one of them.
  EXPECT_TRUE(double_serving(inv, true).ok());
  EXPECT_EQ(addresses(find(inv, "example.com/nvme-fast").units.at(0)),
            std::vector<std::string>{"0000:04:00.0"});
  for (const Unit& u : find(inv, "devices.kubevirt.io/nvme").units)
    EXPECT_NE(addresses(u), std::vector<std::string>{"0000:04:00.0"});
}

TEST_F(InventoryNode, KubeVirtIgnoresAnAddressSelectorSoItsVendorSelectorTakesEverything) {
  // The entry KubeVirt serves names 0000:04:00.0, but KubeVirt reads only its pciVendorSelector:
  // 0000:03:00.0, which hostpass gives to the external resource, is KubeVirt's too — though it is
  // unbound today (binding it would not reload either plugin).
  Inventory inv = inventory(R"(pciHostDevices:
- pciVendorSelector: 8086:5845
  resourceName: example.com/nvme-any
  externalResourceProvider: true
- pciVendorSelector: 8086:5845
  pciAddressSelector: ["0000:04:00.0"]
  resourceName: example.com/nvme-fast
)");
  EXPECT_EQ(twice(inv), std::vector<std::string>{"pci 0000:03:00.0 (8086:5845): "
                                                 "example.com/nvme-any (line 2) and "
                                                 "example.com/nvme-fast (line 5)"});
  EXPECT_FALSE(double_serving(inv, false).ok());
}

TEST_F(InventoryNode, MdevServedByHostpassAndMatchedByNameByKubeVirtIsRefused) {
  // hostpass matches the type id too; KubeVirt matches the name file only.
  Inventory inv = inventory(R"(mediatedDevices:
- mdevNameSelector: nvidia-230
  resourceName: example.com/t4-1q
  externalResourceProvider: true
- mdevNameSelector: GRID T4-1Q
  resourceName: nvidia.com/GRID_T4-1Q
)");
  EXPECT_EQ(twice(inv), std::vector<std::string>{std::string("mdev mediated device ") +
                                                 testing::kGridInstanceUuid +
                                                 " (nvidia-230): example.com/t4-1q (line 2) and "
                                                 "nvidia.com/GRID_T4-1Q (line 5)"});
  Status s = double_serving(inv, false);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("its mdevNameSelector \"GRID T4-1Q\" takes every instance of "
                                   "the type named GRID_T4-1Q"),
            std::string::npos)
      << s.error().message;
}

TEST_F(InventoryNode, MdevSelectorByTypeIdIsNotKubeVirtsSoNothingIsServedTwice) {
  // The other way round: KubeVirt's plugin reads "nvidia-230" as a type name, and no type is
  // named that, so only hostpass serves the instance.
  Inventory inv = inventory(R"(mediatedDevices:
- mdevNameSelector: GRID T4-1Q
  resourceName: nvidia.com/GRID_T4-1Q
  externalResourceProvider: true
- mdevNameSelector: nvidia-230
  resourceName: example.com/t4-1q
)");
  EXPECT_EQ(find(inv, "nvidia.com/GRID_T4-1Q").units.size(), 1u);
  EXPECT_TRUE(twice(inv).empty());
  EXPECT_TRUE(double_serving(inv, false).ok());
}

TEST_F(InventoryNode, UsbDeviceServedByHostpassAndMatchedByAKubeVirtBundleIsRefused) {
  Inventory inv = inventory(R"(usb:
- resourceName: example.com/stick
  externalResourceProvider: true
  selectors:
  - vendor: "46f4"
    product: "0001"
- resourceName: kubevirt.io/storage
  selectors:
  - vendor: "46f4"
    product: "0001"
)");
  EXPECT_EQ(twice(inv), std::vector<std::string>{"usb usb 1-1 (46f4:0001): example.com/stick "
                                                 "(line 2) and kubevirt.io/storage (line 7)"});
  EXPECT_FALSE(double_serving(inv, false).ok());
}

TEST_F(InventoryNode, DistinctDevicesAreNotServedTwice) {
  // The node's CR (nothing external), and one where the external resources match devices no
  // KubeVirt-served resource matches.
  Inventory plain = inventory(fixture_text("node_kubevirt_cr.yaml"));
  EXPECT_TRUE(twice(plain).empty());
  Inventory inv = inventory(R"(pciHostDevices:
- pciVendorSelector: 10de:1eb8
  resourceName: nvidia.com/TU104GL_Tesla_T4
  externalResourceProvider: true
- pciVendorSelector: 8086:5845
  resourceName: devices.kubevirt.io/nvme
mediatedDevices:
- mdevNameSelector: GRID T4-1Q
  resourceName: nvidia.com/GRID_T4-1Q
  externalResourceProvider: true
- mdevNameSelector: GRID T4-2B
  resourceName: nvidia.com/GRID_T4-2B
usb:
- resourceName: kubevirt.io/storage
  externalResourceProvider: true
  selectors:
  - vendor: "46f4"
    product: "0001"
- resourceName: kubevirt.io/receiver
  selectors:
  - vendor: "045e"
    product: "07a5"
)");
  EXPECT_TRUE(twice(inv).empty());
  EXPECT_TRUE(double_serving(inv, false).ok());
}

TEST_F(InventoryNode, BothResourcesExternalAreServedOnceByHostpass) {
  // hostpass serves both, and its inventory gives the device to the address resource (with the
  // usual warning): one owner, nothing to refuse.
  Inventory inv = inventory(R"(pciHostDevices:
- pciVendorSelector: 8086:5845
  resourceName: devices.kubevirt.io/nvme
  externalResourceProvider: true
- pciAddressSelector: ["0000:04:00.0"]
  resourceName: example.com/nvme-fast
  externalResourceProvider: true
)");
  EXPECT_TRUE(twice(inv).empty());
  EXPECT_TRUE(double_serving(inv, false).ok());
  EXPECT_EQ(find(inv, "example.com/nvme-fast").units.size(), 1u);
  EXPECT_TRUE(find(inv, "devices.kubevirt.io/nvme").units.empty());
  EXPECT_EQ(inv.warnings,
            std::vector<std::string>{
                "0000:04:00.0 (8086:5845) matches devices.kubevirt.io/nvme (line 2) "
                "and example.com/nvme-fast (line 5): it goes to example.com/nvme-fast"});
}

TEST(Inventory, DoubleServingListsEveryDeviceAndEachResourceToMarkOnce) {
  Inventory inv;
  inv.double_served = {
      {ResourceKind::Pci, "0000:04:00.0 (8086:5845)", "example.com/a", 4, "example.com/k", 2, "r1"},
      {ResourceKind::Pci, "0000:05:00.0 (8086:5845)", "example.com/b", 6, "example.com/k", 2,
       "r1"}};
  Status s = double_serving(inv, false);
  ASSERT_FALSE(s.ok());
  const std::string& m = s.error().message;
  EXPECT_EQ(m.rfind("refusing the policy: 2 devices would be served twice", 0), 0u) << m;
  EXPECT_NE(m.find("\n  0000:04:00.0 (8086:5845): hostpass serves it as example.com/a"),
            std::string::npos);
  EXPECT_NE(m.find("\n  0000:05:00.0 (8086:5845): hostpass serves it as example.com/b"),
            std::string::npos);
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 3) << m;  // two devices, one fix
  EXPECT_TRUE(double_serving(inv, true).ok());
  EXPECT_TRUE(double_serving(Inventory{}, false).ok());
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
