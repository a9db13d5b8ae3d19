// device_select: `list`'s filters parsed strictly (every malformed flag is InvalidInput before
// anything is read), matched on plain structs, --expect's missing pairs, and USB selection.
#include "device_select.h"

#include <gtest/gtest.h>

namespace hostpass {
namespace {

PciDevice pci(const char* address, uint16_t vendor, uint16_t device, uint32_t class_code,
              std::optional<std::string> driver, std::optional<int> group) {
  PciDevice d;
  d.address = *PciAddress::parse(address);
  d.vendor = vendor;
  d.device = device;
  d.class_code = class_code;
  d.driver = std::move(driver);
  d.iommu_group = group;
  return d;
}

std::vector<PciDevice> machine() {
  return {pci("0000:00:00.0", 0x8086, 0x3e30, 0x060000, std::nullopt, 0),
          pci("0000:00:1c.0", 0x8086, 0xa33c, 0x060400, "pcieport", 1),
          pci("0000:01:00.0", 0x10de, 0x1eb8, 0x030200, "nvidia", 1),
          pci("0000:01:00.1", 0x10de, 0x10f8, 0x040300, "snd_hda_intel", 1),
          pci("0000:04:00.0", 0x8086, 0x5845, 0x010802, "vfio-pci", 4)};
}

// The addresses `text` selects from machine(), or "error: <message>".
std::string selected(const DeviceFilterText& text) {
  auto s = parse_pci_selection(text);
  if (!s.ok()) return "error: " + s.error().message;
  std::string out;
  for (const PciDevice& d : select_devices(machine(), *s))
    out += (out.empty() ? "" : " ") + d.address.to_string();
  return out;
}

TEST(PciSelection, EveryFilterGivenMustMatch) {
  EXPECT_EQ(selected({}), "0000:00:00.0 0000:00:1c.0 0000:01:00.0 0000:01:00.1 0000:04:00.0");
  EXPECT_EQ(selected({.vendor = "10DE"}), "0000:01:00.0 0000:01:00.1");
  EXPECT_EQ(selected({.device = "10de:1eb8"}), "0000:01:00.0");
  EXPECT_EQ(selected({.class_prefix = "06"}), "0000:00:00.0 0000:00:1c.0");
  EXPECT_EQ(selected({.class_prefix = "0604"}), "0000:00:1c.0");
  EXPECT_EQ(selected({.driver = "none"}), "0000:00:00.0");
  EXPECT_EQ(selected({.driver = "vfio-pci"}), "0000:04:00.0");
  EXPECT_EQ(selected({.group = "1"}), "0000:00:1c.0 0000:01:00.0 0000:01:00.1");
  EXPECT_EQ(selected({.vendor = "8086", .group = "1"}), "0000:00:1c.0");
  EXPECT_EQ(selected({.vendor = "1234"}), "");
}

TEST(PciSelection, AMalformedFilterIsInvalidInputNamingTheFlag) {
  EXPECT_EQ(selected({.vendor = "10d"}),
            "error: invalid vendor id '10d': expected 4 hex digits, as in 10de");
  EXPECT_EQ(selected({.vendor = "0x10"}),
            "error: invalid vendor id '0x10': expected 4 hex digits, as in 10de");
  EXPECT_EQ(selected({.device = "10de"}),
            "error: invalid --device '10de': expected VVVV:DDDD, as in 10de:1eb8");
  EXPECT_EQ(selected({.device = "10de:zzzz"}),
            "error: invalid device id 'zzzz': expected 4 hex digits, as in 10de");
  EXPECT_EQ(selected({.vendor = "8086", .device = "10de:1eb8"}),
            "error: --vendor and --device name different vendors");
  EXPECT_EQ(selected({.class_prefix = "030"}),
            "error: invalid --class '030': expected 2 or 4 hex digits, as in 03 or 0302");
  EXPECT_EQ(selected({.driver = "../x"}), "error: invalid --driver '../x'");
  EXPECT_EQ(selected({.group = "-1"}), "error: invalid --group '-1': expected a number");
  auto s = parse_pci_selection({.group = "x"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::InvalidInput);
}

TEST(ExpectedDevices, ParsedInOrderAndMissingOnesReported) {
  auto e = parse_expected_devices("10de:1eb8,1af4:1041,8086:5845");
  ASSERT_TRUE(e.ok()) << e.error().message;
  ASSERT_EQ(e->size(), 3u);
  EXPECT_EQ(missing_devices(machine(), *e), (std::vector<VendorDevice>{{0x1af4, 0x1041}}));
  EXPECT_TRUE(missing_devices(machine(), {{0x10de, 0x10f8}}).empty());
  auto bad = parse_expected_devices("10de:1eb8,");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "invalid --expect '': expected VVVV:DDDD[,VVVV:DDDD...]");
}

UsbDevice usb(const char* port, uint16_t vendor, uint16_t product, int bus, int dev) {
  UsbDevice d;
  d.port_path = port;
  d.vendor = vendor;
  d.product = product;
  d.busnum = bus;
  d.devnum = dev;
  return d;
}

TEST(UsbSelection, MatchesVendorAndProductSortedByBusThenDevice) {
  std::vector<UsbDevice> all = {usb("2-1", 0x046d, 0xc52b, 2, 2), usb("1-2", 0x046d, 0xc077, 1, 5),
                                usb("1-1", 0x0781, 0x5567, 1, 3), usb("usb1", 0x1d6b, 2, 1, 1)};
  auto ports = [&](const DeviceFilterText& t) {
    auto s = parse_usb_selection(t);
    if (!s.ok()) return "error: " + s.error().message;
    std::string out;
    for (const UsbDevice& d : select_usb_devices(all, *s)) out += d.port_path + " ";
    return out;
  };
  EXPECT_EQ(ports({}), "usb1 1-1 1-2 2-1 ");
  EXPECT_EQ(ports({.vendor = "046d"}), "1-2 2-1 ");
  EXPECT_EQ(ports({.device = "046D:C52B"}), "2-1 ");
  EXPECT_EQ(ports({.vendor = "0781", .device = "046d:c52b"}),
            "error: --vendor and --device name different vendors");
  EXPECT_EQ(ports({.device = "046d"}),
            "error: invalid --device '046d': expected VVVV:PPPP, as in 046d:c52b");
  EXPECT_EQ(ports({.group = "3"}),
            "error: --class, --driver and --group select PCI devices; with --usb use --vendor "
            "VVVV or --device VVVV:PPPP");
}

}  // namespace
}  // namespace hostpass
