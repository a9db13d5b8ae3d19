// module_alias_test.cc — modules.alias patterns against the kernel's modalias, as lspci -k
// matches them: globs over every field, file order, each module once, damaged lines skipped.
#include "module_alias.h"

#include <gtest/gtest.h>

#include "fixture_tree.h"
#include "pci_device.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

// Lines as depmod writes them for nvme, e1000e, vfio-pci's driver_override-only entry and a
// variant driver; one damaged line.
constexpr const char* kAliases =
    "# Aliases extracted from modules themselves.\n"
    "alias pci:v*d*sv*sd*bc01sc08i02* nvme\n"
    "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n"
    "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n"
    "alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n"
    "alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core\n"
    "alias pci:v*d*sv*sd*bc01sc08i02* nvme tail\n"
    "alias usb:v*p*d*dc*dsc*dp*ic03isc*ip*in* usbhid\n";

PciDevice device(uint16_t vendor, uint16_t id, uint32_t class_code) {
  PciDevice d;
  d.vendor = vendor;
  d.device = id;
  d.class_code = class_code;
  d.subsystem_vendor = vendor;
  d.subsystem_device = 0x0001;
  return d;
}

TEST(ModuleAlias, TheModaliasIsTheKernelsUeventForm) {
  EXPECT_EQ(pci_modalias(device(0x8086, 0x5845, 0x010802)),
            "pci:v00008086d00005845sv00008086sd00000001bc01sc08i02");
  PciDevice unknown;
  EXPECT_FALSE(pci_modalias(unknown));
}

TEST(ModuleAlias, GlobsMatchInFileOrderEachModuleOnce) {
  PciModuleAliases t = PciModuleAliases::parse(kAliases);
  EXPECT_EQ(t.size(), 5u);  // the damaged line and the usb line are not PCI entries
  EXPECT_EQ(t.modules_for(*pci_modalias(device(0x8086, 0x5845, 0x010802))),
            (std::vector<std::string>{"nvme"}));
  EXPECT_EQ(t.modules_for(*pci_modalias(device(0x8086, 0x10d3, 0x020000))),
            (std::vector<std::string>{"e1000e"}));
  EXPECT_EQ(t.modules_for(*pci_modalias(device(0x15b3, 0x101e, 0x020000))),
            (std::vector<std::string>{"mlx5_vfio_pci", "mlx5_core"}));
  EXPECT_TRUE(t.modules_for(*pci_modalias(device(0x10de, 0x1eb8, 0x030200))).empty());
}

TEST(ModuleAlias, ReadsTheRunningKernelsFile) {
  testing::ScratchDir dir;
  testing::FixtureTree tree(dir.path() + "/root");
  RealHost host(tree.root());
  EXPECT_EQ(read_pci_module_aliases(host).error().kind, ErrorKind::NotFound);
  tree.set_kernel_release("6.1.0-13-amd64");
  tree.write("/lib/modules/6.1.0-13-amd64/modules.alias", kAliases);
  auto t = read_pci_module_aliases(host);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->size(), 5u);
}

}  // namespace
}  // namespace hostpass
