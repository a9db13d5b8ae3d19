// End-to-end: `hostpass list --usb` run as a user would, on a fixture root carrying KubeVirt's
// host-devices page's USB devices (fixture_tree.h add_seed002_usb_devices).
//
// Agreement with lsusb: lsusb reads /dev/bus/usb through libusb and cannot be pointed at a
// fixture root, so the lines are checked against what usbutils 014's lsusb prints for the same
// facts: its format "Bus %03u Device %03u: ID %04x:%04x %s %s" (lsusb.c list_devices()), with
// names from the database, else the device's sysfs manufacturer/product strings (names.c
// get_vendor_product_with_fallback()). The database names are looked up here independently,
// with awk over the same usb.ids file, not through hostpass's loader.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "fixture_tree.h"
#include "run_program.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

class UsbCli : public ::testing::Test {
 protected:
  UsbCli() : tree_(dir_.path() + "/root") {
    build_standard_host(tree_);
    add_seed002_usb_devices(tree_);
  }
  ProgramRun hostpass(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  ScratchDir dir_;
  FixtureTree tree_;
};

std::string usb_ids_file() {
  for (const char* p : {"/usr/share/hwdata/usb.ids", "/usr/share/misc/usb.ids",
                        "/var/lib/usbutils/usb.ids", "/usr/share/usb.ids"})
    if (std::filesystem::exists(p)) return p;
  return "";
}

// {vendor name, product name} from usb.ids, by awk: the oracle for the database lookups.
std::pair<std::string, std::string> awk_names(const std::string& vendor,
                                              const std::string& product) {
  const char* script =
      "/^#/ {next}\n"
      "/^[0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / {in_v = (substr($0,1,4) == v); if (in_v) vn = "
      "substr($0,7); next}\n"
      "/^[^\\t]/ {in_v = 0; next}\n"
      "in_v && substr($0,1,1) == \"\\t\" && substr($0,2,4) == p && substr($0,6,2) == \"  \" {pn = "
      "substr($0,8)}\n"
      "END {print vn; print pn}\n";
  ProgramRun r =
      run_program({"awk", "-v", "v=" + vendor, "-v", "p=" + product, script, usb_ids_file()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string vn, pn;
  std::getline(in, vn);
  std::getline(in, pn);
  return {vn, pn};
}

TEST_F(UsbCli, ListUsbPrintsWhatLsusbPrintsForEachDevice) {
  ASSERT_FALSE(usb_ids_file().empty()) << "install usbutils (scripts/deps.sh test)";
  ProgramRun r = hostpass({"list", "--usb"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  struct Expect {
    std::string bus_dev, vendor, product, manufacturer, product_string, port, speed;
  };
  std::vector<Expect> expected = {
      {"Bus 001 Device 001", "1d6b", "0002", "Linux 6.1.0-13-amd64 xhci-hcd",
       "xHCI Host Controller", "usb1", "480"},
      {"Bus 001 Device 002", "46f4", "0001", "QEMU", "QEMU USB HARDDRIVE", "1-1", "480"},
      {"Bus 001 Device 003", "05e3", "0608", "", "USB2.0 Hub", "1-2", "480"},
      {"Bus 001 Device 004", "045e", "07a5", "Microsoft",
       "Microsoft\xc2\xae 2.4GHz Transceiver v9.0", "1-2.1", "12"},
      {"Bus 001 Device 005", "062a", "4102", "MOSART Semi.", "2.4G Keyboard Mouse", "1-2.2", "12"},
      {"Bus 001 Device 006", "072f", "b100", "ACS", "ACR39U ICC Reader", "1-2.3", "12"},
  };
  std::string want;
  for (const Expect& e : expected) {
    auto [vn, pn] = awk_names(e.vendor, e.product);
    want += e.bus_dev + ": ID " + e.vendor + ":" + e.product + " " +
            (vn.empty() ? e.manufacturer : vn) + " " + (pn.empty() ? e.product_string : pn) +
            "  port=" + e.port + " speed=" + e.speed + "\n";
  }
  EXPECT_EQ(r.out, want);
  // The seed's devices by name, as an administrator reads them.
  EXPECT_NE(
      r.out.find(
          "Bus 001 Device 004: ID 045e:07a5 Microsoft Corp. Wireless Receiver 1461C  port=1-2.1"),
      std::string::npos)
      << r.out;
  // usb.ids knows QEMU but not its product 0001: the device's own string fills in, as in lsusb.
  EXPECT_NE(r.out.find("Bus 001 Device 002: ID 46f4:0001 QEMU QEMU USB HARDDRIVE  port=1-1"),
            std::string::npos)
      << r.out;
}

TEST_F(UsbCli, DeviceFilterSelectsLikeLsusbDashD) {
  ProgramRun r = hostpass({"list", "--usb", "--device", "072F:B100"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "Bus 001 Device 006: ID 072f:b100 Advanced Card Systems, Ltd ACR39U  port=1-2.3 speed=12\n");
  ProgramRun v = hostpass({"list", "--usb", "--vendor", "1d6b"});
  ASSERT_EQ(v.exit_code, 0);
  EXPECT_EQ(
      v.out,
      "Bus 001 Device 001: ID 1d6b:0002 Linux Foundation 2.0 root hub  port=usb1 speed=480\n");
}

TEST_F(UsbCli, BadFiltersExitTwoBeforeReadingAnything) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"list", "--usb", "--device", "072f"},
        {"list", "--usb", "--vendor", "72f"},
        {"list", "--usb", "--device", "072f:b10g"},
        {"list", "--usb", "--driver", "usbhid"}}) {
    ProgramRun r = hostpass(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("hostpass: ", 0), 0u) << r.err;
  }
}

TEST_F(UsbCli, JsonHasTheDocumentedKeys) {
  ProgramRun r = hostpass({"--json", "list", "--usb"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 6u);
  const auto& reader = j[5];
  EXPECT_EQ(reader["busnum"], 1);
  EXPECT_EQ(reader["devnum"], 6);
  EXPECT_EQ(reader["port_path"], "1-2.3");
  EXPECT_EQ(reader["vendor"], "072f");
  EXPECT_EQ(reader["device"], "b100");  // the product id, as PCI's device id
  EXPECT_EQ(reader["bcd_device"], "0100");
  EXPECT_EQ(reader["vendor_name"], "Advanced Card Systems, Ltd");
  EXPECT_EQ(reader["product_name"], "ACR39U");
  EXPECT_EQ(reader["manufacturer"], "ACS");
  EXPECT_EQ(reader["product_string"], "ACR39U ICC Reader");
  EXPECT_EQ(reader["serial"], "AC39U0001");
  EXPECT_EQ(reader["speed"], "12");
  EXPECT_EQ(reader["device_class"], "00");
  EXPECT_EQ(reader["class_name"], "(Defined at Interface level)");
  EXPECT_EQ(reader["root_hub"], false);
  EXPECT_EQ(reader["dev_node"], "/dev/bus/usb/001/006");
  EXPECT_EQ(reader["sysfs_path"], "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2.3");
  EXPECT_EQ(reader["warnings"], nlohmann::json::array());
  EXPECT_TRUE(j[1]["product_name"].is_null());  // QEMU's 0001 is not in usb.ids
  EXPECT_TRUE(j[2]["manufacturer"].is_null());  // the hub has no manufacturer string
  EXPECT_EQ(j[0]["root_hub"], true);
}

TEST_F(UsbCli, AHostWithoutUsbListsNothingAndSucceeds) {
  std::filesystem::remove_all(tree_.path("/sys/bus/usb"));
  ProgramRun r = hostpass({"list", "--usb"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(UsbCli, PlainListStillListsPciOnly) {
  ProgramRun r = hostpass({"list"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.find("Bus 001"), std::string::npos);
  EXPECT_NE(r.out.find("0000:01:00.0"), std::string::npos);
}

}  // namespace
}  // namespace hostpass::testing
