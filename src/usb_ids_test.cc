// Tests for usb_ids.cc: the documented usb.ids format, and the database Debian installs.
#include "usb_ids.h"

#include <gtest/gtest.h>

namespace hostpass {
namespace {

constexpr const char* kSample =
    "#\n#\tList of USB ID's\n#\n"
    "# Syntax:\n# vendor  vendor_name\n#\tdevice  device_name\n\n"
    "046d  Logitech, Inc.\n"
    "\tc52b  Unifying Receiver\n"
    "\t\t0000  an interface line, ignored\n"
    "\tc534  Unifying Receiver\n"
    "1d6b  Linux Foundation\n"
    "\t0002  2.0 root hub\n"
    "abcd  Vendor with trailing space  \n"
    "C 03  Human Interface Device\n"
    "\t01  Boot Interface Subclass\n"
    "\t\t02  Mouse\n"
    "C 09  Hub\n"
    "AT 0100  USB Undefined\n"
    "HID 21  HID\n"
    "\t0002  not a product of 1d6b: inside the HID section\n"
    "L 0409  English\n";

TEST(UsbIds, ParsesVendorsProductsAndClasses) {
  UsbIds db = UsbIds::parse(kSample);
  EXPECT_EQ(db.vendor(0x046d), "Logitech, Inc.");
  EXPECT_EQ(db.product(0x046d, 0xc52b), "Unifying Receiver");
  EXPECT_EQ(db.product(0x046d, 0xc534), "Unifying Receiver");
  EXPECT_EQ(db.product(0x1d6b, 0x0002), "2.0 root hub");
  EXPECT_EQ(db.vendor(0xabcd), "Vendor with trailing space");
  EXPECT_EQ(db.class_name(0x03), "Human Interface Device");
  EXPECT_EQ(db.class_name(0x09), "Hub");
  EXPECT_EQ(db.vendor_count(), 3u);
}

TEST(UsbIds, UnknownIdsAreEmptyNotGuessed) {
  UsbIds db = UsbIds::parse(kSample);
  EXPECT_EQ(db.vendor(0x1234), "");
  EXPECT_EQ(db.product(0x046d, 0x0001), "");
  EXPECT_EQ(db.product(0x1234, 0xc52b), "");  // a product id under another vendor
  EXPECT_EQ(db.class_name(0xfe), "");
}

TEST(UsbIds, EntriesOfLaterSectionsAreNotProductsOfTheLastVendor) {
  UsbIds db = UsbIds::parse(kSample);
  EXPECT_EQ(db.product(0x1d6b, 0x0002), "2.0 root hub");  // not the HID section's 0002
  EXPECT_EQ(db.class_name(0x01), "");  // the subclass "01" of class 03 is not a class
}

TEST(UsbIds, MalformedLinesAreSkipped) {
  UsbIds db = UsbIds::parse("046d Logitech one space\n0bda  Realtek\n\tzzzz  bad\n\t5411  Hub\n");
  EXPECT_EQ(db.vendor(0x046d), "");
  EXPECT_EQ(db.vendor(0x0bda), "Realtek");
  EXPECT_EQ(db.product(0x0bda, 0x5411), "Hub");
}

TEST(UsbIds, LoadsTheInstalledDatabaseWithSeedDevices) {
  RealHost host("/");
  auto db = UsbIds::load(host);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_GT(db->vendor_count(), 3000u);
  EXPECT_EQ(db->vendor(0x045e), "Microsoft Corp.");
  EXPECT_EQ(db->product(0x045e, 0x07a5), "Wireless Receiver 1461C");
  EXPECT_EQ(db->vendor(0x062a), "MosArt Semiconductor Corp.");
  EXPECT_EQ(db->product(0x062a, 0x4102), "Wireless Mouse");
  EXPECT_EQ(db->vendor(0x072f), "Advanced Card Systems, Ltd");
  EXPECT_EQ(db->product(0x072f, 0xb100), "ACR39U");
  EXPECT_EQ(db->vendor(0x46f4), "QEMU");
  EXPECT_EQ(db->product(0x46f4, 0x0001), "");
}

TEST(UsbIds, MissingDatabaseSaysWhatToInstall) {
  RealHost host("/nonexistent-root-for-usb-ids");
  auto db = UsbIds::load(host);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().kind, ErrorKind::NotFound);
  EXPECT_NE(db.error().message.find("install the usbutils or hwdata package"), std::string::npos);
}

}  // namespace
}  // namespace hostpass
