// pci_address_resolve_test.cc — short addresses resolved against a fixture host's PCI domains,
// and every non-device answer an InvalidInput that names the problem.
#include "pci_address_resolve.h"

#include <gtest/gtest.h>

#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::PciSpec;
using testing::ScratchDir;

class PciAddressResolve : public ::testing::Test {
 protected:
  PciAddressResolve() : tree_(dir_.path() + "/root"), host_(tree_.root()) {
    PciSpec s;
    s.address = "0000:00:00.0";
    s.class_code = 0x060000;
    tree_.add_pci(s);
    s.address = "0000:5e:00.0";  // in domain 0000 only
    s.class_code = 0x030200;
    s.mdev_types = {"nvidia-222"};
    tree_.add_pci(s);
    s.mdev_types = {};
    s.address = "0000:06:00.0";  // in two domains
    tree_.add_pci(s);
    s.address = "0001:06:00.0";
    tree_.add_pci(s);
    s.address = "0001:07:00.0";  // in domain 0001 only
    tree_.add_pci(s);
  }
  ScratchDir dir_;
  FixtureTree tree_;
  RealHost host_;
};

TEST_F(PciAddressResolve, ShortFormFindsTheOneDomainThatHasIt) {
  auto a = resolve_pci_address(host_, "5e:00.0");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->to_string(), "0000:5e:00.0");
  auto b = resolve_pci_address(host_, "07:00.0");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->to_string(), "0001:07:00.0");
}

TEST_F(PciAddressResolve, FullFormMustExist) {
  auto a = resolve_pci_address(host_, "0001:06:00.0");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->to_string(), "0001:06:00.0");
  auto r = resolve_pci_address(host_, "0000:99:00.0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(r.error().message, "no PCI device 0000:99:00.0 on this host");
  // The domain is part of the name: 0000:07:00.0 is not 0001:07:00.0.
  EXPECT_FALSE(resolve_pci_address(host_, "0000:07:00.0").ok());
}

TEST_F(PciAddressResolve, ShortFormInTwoDomainsIsAmbiguous) {
  auto r = resolve_pci_address(host_, "06:00.0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(r.error().message,
            "06:00.0 is ambiguous: 0000:06:00.0, 0001:06:00.0 (give the domain)");
}

TEST_F(PciAddressResolve, AbsentShortFormSaysSo) {
  auto r = resolve_pci_address(host_, "99:00.0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(r.error().message, "no PCI device 99:00.0 on this host (in any PCI domain)");
}

TEST_F(PciAddressResolve, MalformedNamesTheExpectedForm) {
  auto r = resolve_pci_address(host_, "garbage");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(r.error().message.find("expected DDDD:BB:DD.F"), std::string::npos)
      << r.error().message;
}

TEST_F(PciAddressResolve, AmongAGivenListForDevicesTheHostNoLongerHas) {
  std::vector<PciAddress> ledger = {*PciAddress::parse("0002:41:00.0")};
  auto a = resolve_pci_address_among("41:00.0", ledger, "in the ledger");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->to_string(), "0002:41:00.0");
  auto r = resolve_pci_address_among("0000:41:00.0", ledger, "in the ledger");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "no PCI device 0000:41:00.0 in the ledger");
}

TEST_F(PciAddressResolve, MdevParentMustOfferTypes) {
  auto p = resolve_mdev_parent(host_, "5e:00.0");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, "0000:5e:00.0");
  auto r = resolve_mdev_parent(host_, "0000:00:00.0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(r.error().message,
            "0000:00:00.0 is not a mediated device parent (no mdev_supported_types)");
  auto absent = resolve_mdev_parent(host_, "0000:99:00.0");
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().message, "no PCI device 0000:99:00.0 on this host");
  auto garbage = resolve_mdev_parent(host_, "garbage");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().kind, ErrorKind::InvalidInput);
  EXPECT_FALSE(resolve_mdev_parent(host_, "../x").ok());
}

TEST_F(PciAddressResolve, NonPciMdevParentFoundInMdevBus) {
  tree_.write("/sys/class/mdev_bus/0.0.0001/uevent", "");
  auto p = resolve_mdev_parent(host_, "0.0.0001");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, "0.0.0001");
}

}  // namespace
}  // namespace hostpass
