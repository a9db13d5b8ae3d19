#include "device_plugin_uevent.h"

#include <gtest/gtest.h>

namespace hostpass {
namespace {

using namespace std::string_literals;

// What drivers/base/dd.c sends when 0000:05:00.1 is unbound from vfio-pci (captured shape:
// `udevadm monitor --kernel --property` on Linux 6.1).
const std::string kUnbind =
    "unbind@/devices/pci0000:00/0000:00:1c.0/0000:05:00.1\0"
    "ACTION=unbind\0"
    "DEVPATH=/devices/pci0000:00/0000:00:1c.0/0000:05:00.1\0"
    "SUBSYSTEM=pci\0"
    "PCI_CLASS=40300\0"
    "PCI_ID=10DE:10F8\0"
    "PCI_SUBSYS_ID=10DE:12A2\0"
    "PCI_SLOT_NAME=0000:05:00.1\0"
    "MODALIAS=pci:v000010DEd000010F8sv000010DEsd000012A2bc04sc03i00\0"
    "SEQNUM=4711\0"s;

TEST(ParseUevent, ReadsHeaderAndEveryKey) {
  auto ev = parse_uevent(kUnbind);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->action, "unbind");
  EXPECT_EQ(ev->devpath, "/devices/pci0000:00/0000:00:1c.0/0000:05:00.1");
  EXPECT_EQ(ev->get("SUBSYSTEM"), "pci");
  EXPECT_EQ(ev->get("PCI_SLOT_NAME"), "0000:05:00.1");
  EXPECT_EQ(ev->get("SEQNUM"), "4711");
  EXPECT_EQ(ev->get("DRIVER"), "");
  EXPECT_EQ(ev->env.size(), 9u);
}

TEST(ParseUevent, RejectsWhatTheKernelDoesNotSend) {
  // udev's re-broadcast (multicast group 2): "libudev\0" and a binary header.
  EXPECT_FALSE(parse_uevent("libudev\0\xfe\xed\xca\xfe"s).has_value());
  EXPECT_FALSE(parse_uevent("").has_value());
  EXPECT_FALSE(parse_uevent("@/devices/x\0"s).has_value());
  EXPECT_FALSE(parse_uevent("bind@/sys/bus/pci/devices/0000:05:00.1\0"s).has_value());
  EXPECT_FALSE(parse_uevent("bind@/devices/../../etc\0"s).has_value());
  EXPECT_FALSE(parse_uevent("bind@/devices/\0"s).has_value());
  EXPECT_FALSE(parse_uevent("BIND@/devices/pci0000:00/0000:05:00.1\0"s).has_value());
  // ACTION/DEVPATH repeat the header; a contradiction is not the kernel's.
  EXPECT_FALSE(parse_uevent("bind@/devices/pci0000:00/0000:05:00.1\0ACTION=unbind\0"s).has_value());
  EXPECT_FALSE(
      parse_uevent("bind@/devices/pci0000:00/0000:05:00.1\0DEVPATH=/devices/other\0"s).has_value());
}

TEST(UeventHealthEntry, PciBindAndUnbindNameTheFunction) {
  auto entry = uevent_health_entry(*parse_uevent(kUnbind));
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(*entry,
            std::make_pair(std::string("/sys/bus/pci/devices"), std::string("0000:05:00.1")));
  auto bind = parse_uevent(
      "bind@/devices/pci0000:00/0000:00:1c.0/0000:05:00.1\0ACTION=bind\0"
      "DEVPATH=/devices/pci0000:00/0000:00:1c.0/0000:05:00.1\0SUBSYSTEM=pci\0"
      "DRIVER=snd_hda_intel\0PCI_SLOT_NAME=0000:05:00.1\0SEQNUM=4712\0"s);
  ASSERT_TRUE(bind.has_value());
  EXPECT_EQ(bind->get("DRIVER"), "snd_hda_intel");
  EXPECT_EQ(uevent_health_entry(*bind)->second, "0000:05:00.1");
}

TEST(UeventHealthEntry, UsbDevicesAndMdevInstancesButNotInterfacesOrOtherBuses) {
  auto usb = parse_uevent(
      "remove@/devices/pci0000:00/0000:00:14.0/usb1/1-2\0ACTION=remove\0"
      "DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2\0SUBSYSTEM=usb\0"
      "DEVNAME=bus/usb/001/005\0DEVTYPE=usb_device\0BUSNUM=001\0DEVNUM=005\0"s);
  ASSERT_TRUE(usb.has_value());
  EXPECT_EQ(*uevent_health_entry(*usb),
            std::make_pair(std::string("/sys/bus/usb/devices"), std::string("1-2")));
  auto interface = parse_uevent(
      "unbind@/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0\0ACTION=unbind\0"
      "SUBSYSTEM=usb\0DEVTYPE=usb_interface\0"s);
  ASSERT_TRUE(interface.has_value());
  EXPECT_FALSE(uevent_health_entry(*interface).has_value());
  auto mdev = parse_uevent(
      "add@/devices/pci0000:00/0000:00:02.0/4b20d080-1b54-4048-85b3-a6a62d165c01\0"
      "ACTION=add\0SUBSYSTEM=mdev\0MDEV_TYPE=i915-GVTg_V5_4\0"s);
  ASSERT_TRUE(mdev.has_value());
  EXPECT_EQ(*uevent_health_entry(*mdev),
            std::make_pair(std::string("/sys/bus/mdev/devices"),
                           std::string("4b20d080-1b54-4048-85b3-a6a62d165c01")));
  auto block = parse_uevent("add@/devices/virtual/block/loop0\0ACTION=add\0SUBSYSTEM=block\0"s);
  ASSERT_TRUE(block.has_value());
  EXPECT_FALSE(uevent_health_entry(*block).has_value());
  auto offline =
      parse_uevent("offline@/devices/pci0000:00/0000:05:00.1\0ACTION=offline\0SUBSYSTEM=pci\0"s);
  ASSERT_TRUE(offline.has_value());
  EXPECT_FALSE(uevent_health_entry(*offline).has_value());
  // A pci event whose name is not an address (or contradicts PCI_SLOT_NAME) maps to nothing.
  auto odd = parse_uevent(
      "bind@/devices/pci0000:00/0000:05:00.1\0SUBSYSTEM=pci\0PCI_SLOT_NAME=0000:06:00.0\0"s);
  ASSERT_TRUE(odd.has_value());
  EXPECT_FALSE(uevent_health_entry(*odd).has_value());
  auto bus = parse_uevent("add@/devices/pci0000:00\0SUBSYSTEM=pci\0"s);
  ASSERT_TRUE(bus.has_value());
  EXPECT_FALSE(uevent_health_entry(*bus).has_value());
}

}  // namespace
}  // namespace hostpass
