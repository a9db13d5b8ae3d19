// PciNames against this machine's pci.ids (what lspci reads too): class names carry no number,
// even where libpci appends one (a class whose subclass pci.ids does not list); the -nn forms do.
#include "pci_names.h"

#include <gtest/gtest.h>

namespace hostpass {
namespace {

TEST(PciNames, ClassNamesAreTheNameOnlyEvenForAnUnlistedSubclass) {
  PciNames names;
  EXPECT_EQ(names.class_name(0x030200), "3D controller");
  EXPECT_EQ(names.class_name(0x0b5000), "Processor");         // 0b50: not in pci.ids
  EXPECT_EQ(names.class_name(0xffff00), "Unassigned class");  // ff has no subclasses
  EXPECT_EQ(names.class_name(0xff0000), "Unassigned class");
  EXPECT_EQ(names.class_name(0x200000), "");  // class 20: unknown
}

TEST(PciNames, MixedFormsKeepTheNumberAsLspciNnPrintsIt) {
  PciNames names;
  EXPECT_EQ(names.class_mixed(0x030200), "3D controller [0302]");
  EXPECT_EQ(names.class_mixed(0x0b5000), "Processor [0b50]");
  EXPECT_EQ(names.class_mixed(0xffff00), "Unassigned class [ffff]");
  EXPECT_EQ(names.class_mixed(0x200000), "Class [2000]");
}

TEST(PciNames, NameFillsTheDevicesClassNameWithoutTheNumber) {
  PciDevice d;
  d.vendor = 0x10de;
  d.device = 0x1eb8;
  d.class_code = 0x0b5000;
  PciNames names;
  names.name(d);
  EXPECT_EQ(d.class_name, "Processor");
  EXPECT_EQ(d.vendor_name, "NVIDIA Corporation");
}

}  // namespace
}  // namespace hostpass
