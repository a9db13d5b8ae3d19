// End-to-end: `hostpass opennebula probe|filter|inventory` on a fixture root (OpenNebula
// one-deploy's pci_passthrough example).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture_tree.h"
#include "run_program.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

class OpenNebulaCli : public ::testing::Test {
 protected:
  OpenNebulaCli() : tree_(dir_.path() + "/root") {
    build_standard_host(tree_);
    PciSpec s;  // the one-deploy wiki's two devices
    s.address = "0000:09:00.0";
    s.vendor = 0x10de;
    s.device = 0x20f1;
    s.class_code = 0x030200;
    s.driver = "nvidia";
    s.iommu_group = 9;
    s.numa_node = 0;
    tree_.add_pci(s);
    s = {};
    s.address = "0000:0a:00.0";
    s.vendor = 0x8086;
    s.device = 0x5845;
    s.class_code = 0x010802;
    s.driver = "vfio-pci";
    s.iommu_group = 10;
    s.numa_node = 1;
    tree_.add_pci(s);
  }
  ProgramRun hostpass(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  std::string inventory() const {
    return std::string(HOSTPASS_SOURCE_DIR) + "/tests/fixtures/opennebula/pci_passthrough.yml";
  }
  ScratchDir dir_;
  FixtureTree tree_;
};

TEST_F(OpenNebulaCli, ProbePrintsOneBlockPerMatchingDevice) {
  ProgramRun r = hostpass({"opennebula", "probe", "--filter", "10de:20f1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("PCI = [\n TYPE = \"10de:20f1:0302\" ,\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" ADDRESS = \"0000:09:00:0\" ,\n SHORT_ADDRESS = \"09:00.0\" ,\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - 2), "]\n");
  ProgramRun all = hostpass({"opennebula", "probe"});
  ASSERT_EQ(all.exit_code, 0);
  size_t blocks = 0;
  for (size_t p = 0; (p = all.out.find("PCI = [\n", p)) != std::string::npos; ++p) ++blocks;
  EXPECT_EQ(blocks, 15u);
}

TEST_F(OpenNebulaCli, ProbeRefusesAMalformedFilterWithExit2) {
  ProgramRun r = hostpass({"opennebula", "probe", "--filter", "10de"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "hostpass: invalid PCI filter '10de': expected [vendor]:[device][:class], as "
            "in 10de::0302\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(OpenNebulaCli, FilterTranslatesFullAddressesToVendorDevice) {
  ProgramRun r = hostpass({"opennebula", "filter", "0000:09:00.0", "0000:0a:00.0", "0000:01:00.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "PCI_FILTER=\"10de:20f1,8086:5845,10de:1eb8\"\n");
  ProgramRun j = hostpass({"--json", "opennebula", "filter", "0000:09:00.0"});
  ASSERT_EQ(j.exit_code, 0);
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["pci_filter"], "10de:20f1");
  EXPECT_EQ(doc["devices"][0]["address"], "0000:09:00.0");
}

// On the command line a short address names the one domain that has it (pci_address_resolve.h);
// an absent one is bad input.
TEST_F(OpenNebulaCli, FilterResolvesShortAddressesAndRefusesAbsentOnesWithExit2) {
  ProgramRun r = hostpass({"opennebula", "filter", "0000:09:00.0", "0a:00.0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ProgramRun full = hostpass({"opennebula", "filter", "0000:09:00.0", "0000:0a:00.0"});
  EXPECT_EQ(r.out, full.out);
  ProgramRun missing = hostpass({"opennebula", "filter", "0000:0b:00.0"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err, "hostpass: no PCI device 0000:0b:00.0 on this host\n");
}

TEST_F(OpenNebulaCli, Seed003InventoryN1HasTwoDevices) {
  ProgramRun r = hostpass({"opennebula", "inventory", "-f", inventory(), "--host", "n1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find("# bind plan")),
            "# n1 (192.168.122.3): 2 devices for PCI passthrough\n"
            "PCI_FILTER=\"10de:20f1,8086:5845\"\n");
  EXPECT_NE(r.out.find("\n0000:09:00.0 10de:20f1 nvidia -> vfio-pci\n"), std::string::npos)
      << r.out;
  EXPECT_NE(
      r.out.find("\n0000:0a:00.0 8086:5845 vfio-pci -> vfio-pci (already bound: nothing to do)\n"),
      std::string::npos)
      << r.out;
  ProgramRun j = hostpass({"--json", "opennebula", "inventory", "-f", inventory(), "--host", "n1"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["pci_filter"], "10de:20f1,8086:5845");
  ASSERT_EQ(doc["devices"].size(), 2u);
  EXPECT_EQ(doc["devices"][0]["driver"], "nvidia");
  EXPECT_EQ(doc["devices"][0]["changes"], true);
  EXPECT_EQ(doc["devices"][1]["changes"], false);
}

TEST_F(OpenNebulaCli, Seed003InventoryN2HasOneDeviceAndN3None) {
  ProgramRun n2 = hostpass({"opennebula", "inventory", "-f", inventory(), "--host", "n2"});
  ASSERT_EQ(n2.exit_code, 0) << n2.err;
  EXPECT_EQ(n2.out.substr(0, n2.out.find("# bind plan")),
            "# n2 (192.168.122.4): 1 device for PCI passthrough\nPCI_FILTER=\"10de:20f1\"\n");
  ProgramRun n3 = hostpass({"opennebula", "inventory", "-f", inventory(), "--host", "n3"});
  ASSERT_EQ(n3.exit_code, 0) << n3.err;
  EXPECT_EQ(n3.out,
            "# n3 (192.168.122.5): pci_passthrough_enabled is false: one-deploy "
            "configures no PCI device\n");
  ProgramRun j = hostpass({"--json", "opennebula", "inventory", "-f", inventory(), "--host", "n3"});
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_TRUE(doc["pci_filter"].is_null());
  EXPECT_EQ(doc["devices"].size(), 0u);
}

TEST_F(OpenNebulaCli, InventoryWithAShortAddressOrAnUnknownHostExits2) {
  std::string inv = dir_.path() + "/short.yml";
  tree_.write("/../short.yml",
              "node:\n  hosts:\n    n1:\n      pci_passthrough_enabled: true\n"
              "      pci_devices:\n        - address: \"09:00.0\"\n");
  ProgramRun r = hostpass({"opennebula", "inventory", "-f", inv, "--host", "n1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("short PCI address '09:00.0' refused"), std::string::npos) << r.err;
  ProgramRun u = hostpass({"opennebula", "inventory", "-f", inventory(), "--host", "n9"});
  EXPECT_EQ(u.exit_code, 2);
  EXPECT_EQ(u.err, "hostpass: host 'n9' is not in " + inventory() + " (hosts: f1, n1, n2, n3)\n");
}

}  // namespace
}  // namespace hostpass::testing
