// pci_id_test.cc — the one spelling of an id, and the rule for values wider than one.
#include "pci_id.h"

#include <gtest/gtest.h>

#include <type_traits>

namespace hostpass {
namespace {

// Whether hex4 accepts an argument of type T (the deleted overload makes a wider one ill-formed).
template <class T>
constexpr bool hex4_takes = requires(T v) {
  hex4(v);
};

TEST(PciId, Hex4IsAlwaysFourLowercaseDigits) {
  EXPECT_EQ(hex4(uint16_t{0x10de}), "10de");
  EXPECT_EQ(hex4(uint16_t{0x8}), "0008");
  EXPECT_EQ(hex4(uint16_t{0}), "0000");
  EXPECT_EQ(hex4(uint16_t{0xABCD}), "abcd");
  EXPECT_EQ(hex4(uint16_t{0xffff}), "ffff");
  for (uint32_t v = 0; v <= 0xffff; v += 0x0f0f)
    EXPECT_EQ(hex4(static_cast<uint16_t>(v)).size(), 4u);
}

// The two copies this replaced disagreed on a value wider than 16 bits: one kept the low four
// digits, one printed them all. An id cannot be wider, so hex4 takes nothing wider; each caller
// holding a 32-bit value says what it means (a class code's top 16 bits, a domain's every digit).
TEST(PciId, AWiderValueIsTheCallersDecisionNotHex4s) {
  static_assert(hex4_takes<uint16_t>);
  static_assert(!hex4_takes<uint32_t>);
  static_assert(!hex4_takes<int>);
  static_assert(!hex4_takes<uint8_t>);
  EXPECT_EQ(hex_digits(0x10000, 4), "10000");  // a VMD domain keeps every digit
  EXPECT_EQ(hex_digits(0x030200 >> 8, 4), "0302");
  EXPECT_EQ(hex_digits(0x8, 2), "08");
  EXPECT_EQ(hex_digits(0x5, 1), "5");
  EXPECT_EQ(hex_digits(0xffffffff, 4), "ffffffff");
  EXPECT_EQ(hex_digits(0, 0), "0");
}

TEST(PciId, VendorDeviceIsTwoHex4s) {
  EXPECT_EQ(vendor_device_string(0x10de, 0x1eb8), "10de:1eb8");
  EXPECT_EQ(vendor_device_string(VendorDevice{0x8086, 0x0a}), "8086:000a");
}

TEST(PciId, ParsesVendorDeviceExactly) {
  auto id = parse_vendor_device("10DE:1eb8");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->vendor, 0x10de);
  EXPECT_EQ(id->device, 0x1eb8);
  EXPECT_EQ(vendor_device_string(*id), "10de:1eb8");  // printed back lowercase
  for (const char* bad :
       {"", "10de", "10de:", ":1eb8", "10de:1eb", "10de:1eb8a", "10de-1eb8", "0x10de:1eb8",
        "10de:1eb8\n", " 10de:1eb8", "10dg:1eb8", "10de:+eb8", "10de:-eb8", "1:1", "10de::eb8"})
    EXPECT_FALSE(parse_vendor_device(bad)) << bad;
}

TEST(PciId, ParsesExactlyTheDigitsAsked) {
  EXPECT_EQ(parse_hex_digits("046d", 4), 0x046du);
  EXPECT_EQ(parse_hex_digits("FF", 2), 0xffu);
  EXPECT_EQ(parse_hex_digits("ffffffff", 8), 0xffffffffu);
  for (auto [text, digits] : std::initializer_list<std::pair<const char*, size_t>>{{"46d", 4},
                                                                                   {"0046d", 4},
                                                                                   {"046d\n", 4},
                                                                                   {"04 6", 4},
                                                                                   {"-46d", 4},
                                                                                   {"+46d", 4},
                                                                                   {"0x4d", 4},
                                                                                   {"", 0},
                                                                                   {"123456789", 9},
                                                                                   {"g", 1}})
    EXPECT_FALSE(parse_hex_digits(text, digits)) << text << " " << digits;
}

}  // namespace
}  // namespace hostpass
