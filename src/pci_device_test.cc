#include "pci_device.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "faulty_host.h"
#include "fixture_tree.h"
#include "host_use.h"
#include "iommu_group.h"
#include "pci_names.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using testing::FixtureTree;

const PciDevice* find(const std::vector<PciDevice>& ds, const std::string& addr) {
  for (const PciDevice& d : ds)
    if (d.address.to_string() == addr) return &d;
  return nullptr;
}

class Discovery : public ::testing::Test {
 protected:
  Discovery() : tree_(dir_.path()), host_(dir_.path()) {}
  testing::ScratchDir dir_;
  FixtureTree tree_;
  RealHost host_;
};

TEST_F(Discovery, ReadsTheStandardHost) {
  testing::build_standard_host(tree_);
  auto ds = discover_pci(host_, DiscoverOptions{});
  ASSERT_TRUE(ds.ok()) << ds.error().message;
  ASSERT_EQ(ds->size(), 13u);
  const PciDevice* t4 = find(*ds, "0000:01:00.0");
  ASSERT_NE(t4, nullptr);
  EXPECT_TRUE(t4->sysfs_path.empty());  // Basic detail skips the readlink
  auto full = read_pci_device(host_, t4->address, Detail::Full);
  EXPECT_EQ(full->sysfs_path, "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0");
  EXPECT_EQ(t4->vendor, 0x10de);
  EXPECT_EQ(t4->device, 0x1eb8);
  EXPECT_EQ(t4->class_code, 0x030200u);
  EXPECT_EQ(t4->class_hex(), "0302");
  EXPECT_EQ(t4->revision, 0xa1);
  EXPECT_EQ(t4->subsystem_device, 0x12a2);
  EXPECT_EQ(t4->driver, "nvidia");
  EXPECT_EQ(t4->iommu_group, 1);
  EXPECT_EQ(t4->numa_node, 0);
  EXPECT_TRUE(t4->warnings.empty());
  const PciDevice* nvme = find(*ds, "0000:03:00.0");
  ASSERT_NE(nvme, nullptr);
  EXPECT_FALSE(nvme->driver.has_value());
  const PciDevice* port = find(*ds, "0000:00:01.0");
  EXPECT_TRUE(port->is_bridge());
  EXPECT_FALSE(t4->is_bridge());
  EXPECT_FALSE(find(*ds, "0000:00:02.0")->numa_node.has_value());  // -1 → none
}

TEST_F(Discovery, FullDetailReadsOverrideResetSriovAndMdev) {
  testing::build_tricky_host(tree_);
  tree_.write("/sys/bus/pci/devices/0000:06:02.1/driver_override", "vfio-pci\n");
  auto vf = read_pci_device(host_, *PciAddress::parse("0000:06:02.1"), Detail::Full);
  ASSERT_TRUE(vf.ok());
  EXPECT_EQ(vf->driver_override, "vfio-pci");
  ASSERT_TRUE(vf->physfn.has_value());
  EXPECT_EQ(vf->physfn->to_string(), "0000:06:00.0");
  // VF config space reads 0xffff: identity comes from the kernel's attributes.
  EXPECT_EQ(vf->vendor, 0x8086);
  EXPECT_EQ(vf->device, 0x154c);
  auto pf = read_pci_device(host_, *PciAddress::parse("0000:06:00.0"), Detail::Full);
  EXPECT_EQ(pf->sriov_totalvfs, 64);
  EXPECT_EQ(pf->sriov_numvfs, 2);
  EXPECT_FALSE(pf->driver_override.has_value());
  auto unknown = read_pci_device(host_, *PciAddress::parse("0000:07:00.0"), Detail::Full);
  ASSERT_TRUE(unknown->reset_methods.has_value());
  EXPECT_TRUE(unknown->reset_methods->empty());
  auto gpu = read_pci_device(host_, *PciAddress::parse("0000:05:00.0"), Detail::Full);
  EXPECT_TRUE(gpu->boot_vga);
  EXPECT_EQ(*gpu->reset_methods, (std::vector<std::string>{"flr", "bus"}));
  auto vmd = read_pci_device(host_, *PciAddress::parse("10000:e1:00.0"), Detail::Basic);
  ASSERT_TRUE(vmd.ok());
  EXPECT_EQ(vmd->driver, "nvme");
  auto nogroup = read_pci_device(host_, *PciAddress::parse("0001:00:01.0"), Detail::Basic);
  EXPECT_FALSE(nogroup->iommu_group.has_value());
  EXPECT_TRUE(nogroup->warnings.empty());
}

TEST_F(Discovery, MalformedAttributesBecomeWarningsNotFacts) {
  testing::build_standard_host(tree_);
  std::string t4 = tree_.device_path("0000:01:00.0");
  std::string nvme = tree_.device_path("0000:03:00.0");
  std::string nic = tree_.device_path("0000:00:04.0");
  // Short config space: identity falls back to attributes, one of which is garbage.
  tree_.write(t4 + "/config", std::string(8, '\0'));
  tree_.write(t4 + "/vendor", "0xzzzz\n");
  tree_.write(t4 + "/numa_node", "banana\n");
  // Missing class, and an unreadable numa_node (a directory where a file should be).
  std::filesystem::remove(tree_.path(nvme + "/class"));
  std::filesystem::remove(tree_.path(nic + "/numa_node"));
  std::filesystem::create_directory(tree_.path(nic + "/numa_node"));
  // A dangling driver link and an iommu_group link naming no number.
  std::filesystem::remove(tree_.path(nic + "/driver"));
  std::filesystem::create_symlink("../../../bus/pci/drivers/gone", tree_.path(nic + "/driver"));
  std::filesystem::remove(tree_.path(nvme + "/iommu_group"));
  std::filesystem::create_symlink("../../../kernel/iommu_groups/x7",
                                  tree_.path(nvme + "/iommu_group"));

  auto ds = discover_pci(host_, DiscoverOptions{});
  ASSERT_TRUE(ds.ok());
  const PciDevice* d = find(*ds, "0000:01:00.0");
  EXPECT_FALSE(d->vendor.has_value());
  EXPECT_EQ(d->device, 0x1eb8);  // the good attribute is still read
  EXPECT_FALSE(d->numa_node.has_value());
  ASSERT_EQ(d->warnings.size(), 2u);
  EXPECT_NE(d->warnings[0].find("vendor: not a hex value: '0xzzzz'"), std::string::npos);
  EXPECT_NE(d->warnings[1].find("numa_node: not a number: 'banana'"), std::string::npos);
  const PciDevice* n = find(*ds, "0000:03:00.0");
  EXPECT_FALSE(n->class_code.has_value());
  EXPECT_FALSE(n->iommu_group.has_value());
  EXPECT_EQ(n->warnings.size(), 2u);
  const PciDevice* nic_d = find(*ds, "0000:00:04.0");
  EXPECT_EQ(nic_d->driver, "gone");  // the link's name is what the kernel says, even dangling
  ASSERT_EQ(nic_d->warnings.size(), 1u);
  EXPECT_NE(nic_d->warnings[0].find("numa_node"), std::string::npos);

  // The lspci line of a device with an unknown vendor never invents one.
  PciNames names;
  EXPECT_NE(names.lspci_line(*d).find("Device [????:????]"), std::string::npos);
}

TEST_F(Discovery, SkipsEntriesThatAreNotAddresses) {
  testing::build_standard_host(tree_);
  tree_.write("/sys/bus/pci/devices/garbage", "");
  std::vector<std::string> warnings;
  auto ds = discover_pci(host_, DiscoverOptions{}, &warnings);
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ(ds->size(), 13u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("garbage: not a PCI address"), std::string::npos);
}

TEST_F(Discovery, NoSysfsIsAnError) {
  RealHost empty(dir_.path() + "/nothing");
  auto ds = discover_pci(empty, DiscoverOptions{});
  ASSERT_FALSE(ds.ok());
  EXPECT_NE(ds.error().message.find("/sys/bus/pci/devices"), std::string::npos);
}

TEST_F(Discovery, ListAndShowNeverWrite) {
  testing::build_tricky_host(tree_);
  FaultyHost host(host_);
  auto ds = discover_pci(host, DiscoverOptions{Detail::Full, 2});
  ASSERT_TRUE(ds.ok());
  HostUseMap uses = detect_host_use(host);
  attach_host_use(host, uses, *ds);
  for (const PciDevice& d : *ds) {
    auto one = read_pci_device(host, d.address, Detail::Full);
    ASSERT_TRUE(one.ok());
    if (one->iommu_group) {
      ASSERT_TRUE(read_iommu_group(host, *one->iommu_group).ok());
    }
  }
  EXPECT_GT(host.read_count(), 100);
  EXPECT_EQ(host.write_count(), 0);
}

TEST_F(Discovery, ThreadedDiscoveryEqualsSerial) {
  testing::build_large_host(tree_, 300);
  auto one = discover_pci(host_, DiscoverOptions{Detail::Basic, 1});
  auto four = discover_pci(host_, DiscoverOptions{Detail::Basic, 4});
  ASSERT_TRUE(one.ok() && four.ok());
  ASSERT_EQ(one->size(), 300u);
  ASSERT_EQ(four->size(), 300u);
  for (size_t i = 0; i < one->size(); ++i) {
    EXPECT_EQ((*one)[i].address, (*four)[i].address);
    EXPECT_EQ((*one)[i].driver, (*four)[i].driver);
    EXPECT_EQ((*one)[i].iommu_group, (*four)[i].iommu_group);
  }
}

}  // namespace
}  // namespace hostpass
