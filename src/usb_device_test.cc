// Tests for usb_device.cc on kernel-shaped USB trees (tests/support/fixture_tree.h add_usb).
#include "usb_device.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "faulty_host.h"
#include "fixture_tree.h"
#include "test_dirs.h"
#include "usb_ids.h"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::ScratchDir;
using testing::UsbSpec;

class UsbDiscovery : public ::testing::Test {
 protected:
  UsbDiscovery() : tree_(dir_.path() + "/root"), host_(tree_.root()) {}
  ScratchDir dir_;
  FixtureTree tree_;
  RealHost host_;
};

TEST_F(UsbDiscovery, FindsSeed002DevicesWithEveryAttribute) {
  testing::add_seed002_usb_devices(tree_);
  auto devices = discover_usb(host_);
  ASSERT_TRUE(devices.ok()) << devices.error().message;
  ASSERT_EQ(devices->size(), 6u);  // the root hub and five devices; no interfaces
  std::vector<std::string> order;
  for (const UsbDevice& d : *devices) order.push_back(d.port_path);
  EXPECT_EQ(order, (std::vector<std::string>{"usb1", "1-1", "1-2", "1-2.1", "1-2.2", "1-2.3"}));

  const UsbDevice& hub = (*devices)[0];
  EXPECT_TRUE(hub.is_root_hub);
  EXPECT_EQ(hub.vendor, 0x1d6b);
  EXPECT_EQ(hub.product, 0x0002);
  EXPECT_EQ(hub.devnum, 1);
  EXPECT_EQ(hub.device_class, 0x09);

  const UsbDevice& storage = (*devices)[1];
  EXPECT_FALSE(storage.is_root_hub);
  EXPECT_EQ(storage.vendor, 0x46f4);
  EXPECT_EQ(storage.product, 0x0001);
  EXPECT_EQ(storage.busnum, 1);
  EXPECT_EQ(storage.devnum, 2);
  EXPECT_EQ(storage.speed, "480");
  EXPECT_EQ(storage.manufacturer, "QEMU");
  EXPECT_EQ(storage.product_name, "QEMU USB HARDDRIVE");
  EXPECT_EQ(storage.serial, "1-0000:00:14.0-1");
  EXPECT_EQ(storage.sysfs_path, "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1");
  EXPECT_EQ(storage.dev_node(), "/dev/bus/usb/001/002");
  EXPECT_TRUE(storage.warnings.empty());

  const UsbDevice& reader = (*devices)[5];
  EXPECT_EQ(reader.vendor, 0x072f);
  EXPECT_EQ(reader.product, 0xb100);
  EXPECT_EQ(reader.bcd_device, 0x0100);
  EXPECT_EQ(reader.devnum, 6);
  EXPECT_EQ(reader.speed, "12");
  EXPECT_EQ(reader.serial, "AC39U0001");
  EXPECT_EQ(reader.sysfs_path, "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2.3");
  EXPECT_EQ(reader.dev_node(), "/dev/bus/usb/001/006");

  const UsbDevice& hub2 = (*devices)[2];
  EXPECT_EQ(hub2.device_class, 0x09);
  EXPECT_EQ(hub2.manufacturer, "");  // no manufacturer string: empty, not invented
  EXPECT_EQ(hub2.serial, "");
}

TEST_F(UsbDiscovery, PortsSortNumericallyAcrossBuses) {
  for (auto [port, devnum] : std::vector<std::pair<std::string, int>>{
           {"2-10", 3}, {"1-10", 4}, {"1-9", 5}, {"2-1", 2}, {"1-2", 2}}) {
    UsbSpec s;
    s.port_path = port;
    s.vendor = 0x046d;
    s.product = 0xc52b;
    s.devnum = devnum;
    tree_.add_usb(s);
  }
  auto devices = discover_usb(host_);
  ASSERT_TRUE(devices.ok());
  std::vector<std::string> order;
  for (const UsbDevice& d : *devices) order.push_back(d.port_path);
  EXPECT_EQ(order, (std::vector<std::string>{"usb1", "1-2", "1-9", "1-10", "usb2", "2-1", "2-10"}));
}

TEST_F(UsbDiscovery, NoUsbBusIsAnEmptyListNotAnError) {
  std::filesystem::remove_all(tree_.path("/sys/bus/usb"));
  auto devices = discover_usb(host_);
  ASSERT_TRUE(devices.ok());
  EXPECT_TRUE(devices->empty());
}

TEST_F(UsbDiscovery, MalformedIdentityIsAWarningNotAWrongValue) {
  testing::add_seed002_usb_devices(tree_);
  tree_.write(tree_.usb_path("1-2.2") + "/idVendor", "zz6a\n");
  std::filesystem::remove(tree_.path(tree_.usb_path("1-2.3") + "/devnum"));
  tree_.write(tree_.usb_path("1-2.1") + "/bcdDevice", "9\n");  // not identity: kept, warned
  std::vector<std::string> warnings;
  auto devices = discover_usb(host_, &warnings);
  ASSERT_TRUE(devices.ok());
  std::vector<std::string> order;
  for (const UsbDevice& d : *devices) order.push_back(d.port_path);
  EXPECT_EQ(order, (std::vector<std::string>{"usb1", "1-1", "1-2", "1-2.1"}));
  ASSERT_EQ(warnings.size(), 4u);
  EXPECT_EQ(warnings[0].find("USB device 1-2.2: idVendor is not 4 hex digits: 'zz6a'"), 0u)
      << warnings[0];
  const UsbDevice& receiver = devices->back();
  ASSERT_EQ(receiver.warnings.size(), 1u);
  EXPECT_EQ(receiver.warnings[0], "bcdDevice: not 4 hex digits: '9'");
  EXPECT_EQ(receiver.bcd_device, 0);
}

TEST_F(UsbDiscovery, OnlyReads) {
  testing::add_seed002_usb_devices(tree_);
  FaultyHost faulty(host_);
  auto devices = discover_usb(faulty);
  ASSERT_TRUE(devices.ok());
  EXPECT_EQ(faulty.write_count(), 0);
  EXPECT_GT(faulty.read_count(), 30);
}

TEST_F(UsbDiscovery, LsusbLineUsesTheDatabaseThenTheDeviceStrings) {
  testing::add_seed002_usb_devices(tree_);
  UsbSpec unknown;
  unknown.port_path = "1-3";
  unknown.vendor = 0xfff0;  // not in usb.ids
  unknown.product = 0x0001;
  unknown.devnum = 7;
  tree_.add_usb(unknown);  // and no strings at all
  RealHost system("/");
  auto ids = UsbIds::load(system);
  ASSERT_TRUE(ids.ok());
  auto devices = discover_usb(host_);
  ASSERT_TRUE(devices.ok());
  std::vector<std::string> lines;
  for (UsbDevice& d : *devices) {
    name_usb_device(*ids, d);
    lines.push_back(lsusb_line(d));
  }
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "Bus 001 Device 001: ID 1d6b:0002 Linux Foundation 2.0 root hub",
                       "Bus 001 Device 002: ID 46f4:0001 QEMU QEMU USB HARDDRIVE",
                       "Bus 001 Device 003: ID 05e3:0608 Genesys Logic, Inc. Hub",
                       "Bus 001 Device 004: ID 045e:07a5 Microsoft Corp. Wireless Receiver 1461C",
                       "Bus 001 Device 005: ID 062a:4102 MosArt Semiconductor Corp. Wireless Mouse",
                       "Bus 001 Device 006: ID 072f:b100 Advanced Card Systems, Ltd ACR39U",
                       "Bus 001 Device 007: ID fff0:0001  ",
                   }));
  EXPECT_EQ((*devices)[5].class_name, "(Defined at Interface level)");
  EXPECT_EQ((*devices)[2].class_name, "Hub");
}

}  // namespace
}  // namespace hostpass
