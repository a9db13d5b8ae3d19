#include "pci_address.h"

#include <gtest/gtest.h>

namespace hostpass {
namespace {

TEST(PciAddress, ParsesFullAndShortForms) {
  auto a = PciAddress::parse("0000:06:00.0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->to_string(), "0000:06:00.0");
  auto b = PciAddress::parse("65:00.1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->to_string(), "0000:65:00.1");
  EXPECT_EQ(b->to_short_string(), "65:00.1");
}

TEST(PciAddress, CanonicalizesCaseAndLargeDomains) {
  auto a = PciAddress::parse("00AB:FF:1F.7");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->to_string(), "00ab:ff:1f.7");
  auto vmd = PciAddress::parse("10000:e1:00.0");  // Intel VMD domains have five digits
  ASSERT_TRUE(vmd.ok());
  EXPECT_EQ(vmd->domain, 0x10000u);
  EXPECT_EQ(vmd->to_string(), "10000:e1:00.0");
}

TEST(PciAddress, RejectsEverythingElse) {
  for (const char* bad :
       {"", "06:00", "0000:06:00.8", "0000:06:20.0", "../x", "0000:06:00.0/../..", "0000:06:00.0 ",
        " 0000:06:00.0", "000:06:00.0", "0000:6:00.0", "0000:06:0.0", "0000:06:00.00",
        "0000:06:00.", "0000:06:00:0", "123456789:06:00.0", "zzzz:06:00.0", "0000:06:00.0\n",
        "0000::00.0", "0000000000000000000:06:00.0"}) {
    auto r = PciAddress::parse(bad);
    EXPECT_FALSE(r.ok()) << "accepted '" << bad << "'";
    if (!r.ok()) {
      EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput) << bad;
    }
  }
}

TEST(PciAddress, FullFormRequiredWhenAsked) {
  EXPECT_TRUE(PciAddress::parse_full("0000:09:00.0").ok());
  auto r = PciAddress::parse_full("09:00.0");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("short addresses are not accepted"), std::string::npos);
  EXPECT_EQ(r.error().message.find("or BB:DD.F"), std::string::npos) << r.error().message;
}

TEST(PciAddress, OrdersByDomainBusDeviceFunction) {
  EXPECT_LT(*PciAddress::parse("0000:00:1f.3"), *PciAddress::parse("0000:01:00.0"));
  EXPECT_LT(*PciAddress::parse("0000:ff:00.0"), *PciAddress::parse("0001:00:00.0"));
  EXPECT_LT(*PciAddress::parse("0000:00:02.0"), *PciAddress::parse("0000:00:02.1"));
}

}  // namespace
}  // namespace hostpass
