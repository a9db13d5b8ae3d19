// vfio_variant_test.cc — the VFIO driver `bind --driver auto` picks from modules.alias's
// vfio_pci: entries (the most exact fields win, a tie keeps the first, no match is vfio-pci),
// and which bound drivers count as VFIO drivers (vfio_pci_core holders, alias entries).
#include "vfio_variant.h"

#include <gtest/gtest.h>

#include "fixture_tree.h"
#include "pci_device.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

// Lines as a 6.8 kernel's depmod writes them: vfio_pci's catch-all driver_override entry, the
// mlx5 and hisi_acc variants' device entries, and one line made up for the subsystem-specific
// tie-break (nvgrace_gpu_vfio_pci with a subsystem id) plus a damaged line.
constexpr const char* kAliases =
    "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n"
    "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
    "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n"
    "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* other_vfio_pci\n"
    "alias vfio_pci:v000019E5d0000A256sv*sd*bc*sc*i* hisi_acc_vfio_pci\n"
    "alias vfio_pci:v000010DEd00002342sv*sd*bc*sc*i* nvgrace_gpu_vfio_pci\n"
    "alias vfio_pci:v000010DEd00002342sv000010DEsd000016EBbc*sc*i* special_vfio_pci\n"
    "alias vfio_pci:v000010DEd00002343 damaged line\n";

PciDevice device(uint16_t vendor, uint16_t id, uint16_t sub_vendor, uint16_t sub_device) {
  PciDevice d;
  d.vendor = vendor;
  d.device = id;
  d.subsystem_vendor = sub_vendor;
  d.subsystem_device = sub_device;
  d.class_code = 0x020000;
  return d;
}

TEST(VfioVariant, ParsesOnlyVfioPciAliasesAndCountsExactFields) {
  auto a = parse_vfio_aliases(kAliases);
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a[0].module, "vfio_pci");
  EXPECT_EQ(a[0].exact_fields, 0);
  EXPECT_EQ(a[1].pattern, "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*");
  EXPECT_EQ(a[1].exact_fields, 2);
  EXPECT_EQ(a[5].exact_fields, 4);
}

TEST(VfioVariant, AutoPicksTheVariantOverVfioPci) {
  auto c = choose_vfio_driver(parse_vfio_aliases(kAliases), device(0x19e5, 0xa256, 0x19e5, 1));
  EXPECT_EQ(c.driver, "hisi_acc_vfio_pci");
  EXPECT_EQ(c.module, "hisi_acc_vfio_pci");
  ASSERT_TRUE(c.alias);
  EXPECT_EQ(c.reason(),
            "alias vfio_pci:v000019E5d0000A256sv*sd*bc*sc*i* hisi_acc_vfio_pci (2 of 7 fields "
            "exact)");
}

TEST(VfioVariant, PicksTheMostSpecificOfTwo) {
  auto aliases = parse_vfio_aliases(kAliases);
  EXPECT_EQ(choose_vfio_driver(aliases, device(0x10de, 0x2342, 0x10de, 0x16eb)).driver,
            "special_vfio_pci");
  // Another subsystem: only the device-wide entry matches.
  EXPECT_EQ(choose_vfio_driver(aliases, device(0x10de, 0x2342, 0x10de, 0x16ec)).driver,
            "nvgrace_gpu_vfio_pci");
}

TEST(VfioVariant, ATieKeepsTheFirstInTheFile) {
  EXPECT_EQ(
      choose_vfio_driver(parse_vfio_aliases(kAliases), device(0x15b3, 0x101e, 0x15b3, 1)).driver,
      "mlx5_vfio_pci");
}

TEST(VfioVariant, FallsBackToVfioPci) {
  auto c = choose_vfio_driver(parse_vfio_aliases(kAliases), device(0x8086, 0x10d3, 0x8086, 1));
  EXPECT_EQ(c.driver, "vfio-pci");
  EXPECT_EQ(c.module, "vfio_pci");
  EXPECT_FALSE(c.alias);
  EXPECT_EQ(c.reason(), "no variant driver: vfio-pci");
}

class VfioVariantHost : public ::testing::Test {
 protected:
  void SetUp() override {
    tree.set_kernel_release("6.8.0-31-generic");
    tree.write("/lib/modules/6.8.0-31-generic/modules.alias", kAliases);
    tree.add_pci({.address = "0000:3b:00.0",
                  .vendor = 0x15b3,
                  .device = 0x101e,
                  .driver = "mlx5_vfio_pci",
                  .iommu_group = 30});
    tree.add_pci({.address = "0000:3c:00.0",
                  .vendor = 0x8086,
                  .device = 0x10d3,
                  .driver = "e1000e",
                  .iommu_group = 31});
  }
  testing::ScratchDir dir;
  testing::FixtureTree tree{dir.path() + "/root"};
  RealHost host{tree.root()};
};

TEST_F(VfioVariantHost, ChoosesForADeviceOnTheHost) {
  auto c = choose_vfio_driver(host, *PciAddress::parse("0000:3b:00.0"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->driver, "mlx5_vfio_pci");
  auto r = resolve_bind_driver(host, {*PciAddress::parse("0000:3b:00.0")}, "auto");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "mlx5_vfio_pci");
  EXPECT_EQ(*resolve_bind_driver(host, {*PciAddress::parse("0000:3b:00.0")}, "pci-stub"),
            "pci-stub");
  auto mixed = resolve_bind_driver(
      host, {*PciAddress::parse("0000:3b:00.0"), *PciAddress::parse("0000:3c:00.0")}, "auto");
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error().kind, ErrorKind::Refused);
}

TEST_F(VfioVariantHost, KnowsVariantsFromTheKernelNotTheName) {
  EXPECT_TRUE(is_vfio_driver(host, "vfio-pci"));
  EXPECT_TRUE(is_vfio_driver(host, "mlx5_vfio_pci"));  // a vfio_pci: alias names its module
  EXPECT_FALSE(is_vfio_driver(host, "e1000e"));
  // A variant without alias entries here, known only as a holder of vfio_pci_core.
  tree.add_driver("acme");
  EXPECT_FALSE(is_vfio_driver(host, "acme"));
  tree.mkdir("/sys/module/vfio_pci_core/holders/acme");
  EXPECT_TRUE(is_vfio_driver(host, "acme"));
}

}  // namespace
}  // namespace hostpass
