#include "opennebula_deploy.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "fixture_tree.h"
#include "test_dirs.h"
#include "twin_devices_host.h"

namespace hostpass {
namespace {

std::string seed003_inventory() {
  std::ifstream f(std::string(HOSTPASS_SOURCE_DIR) +
                  "/tests/fixtures/opennebula/pci_passthrough.yml");
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(OneDeployInventory, Seed003GivesN1TwoDevicesN2OneN3None) {
  auto hosts = parse_one_deploy_inventory(seed003_inventory(), "pci_passthrough.yml");
  ASSERT_TRUE(hosts.ok()) << hosts.error().message;
  ASSERT_EQ(hosts->size(), 4u);
  const auto& f1 = (*hosts)[0];
  EXPECT_EQ(f1.name, "f1");
  EXPECT_EQ(f1.groups, std::vector<std::string>{"frontend"});
  EXPECT_FALSE(f1.pci_passthrough_enabled);
  const auto& n1 = (*hosts)[1];
  EXPECT_EQ(n1.name, "n1");
  EXPECT_EQ(n1.ansible_host, "192.168.122.3");
  EXPECT_TRUE(n1.pci_passthrough_enabled);
  EXPECT_EQ(n1.pci_device_addresses, (std::vector<std::string>{"0000:09:00.0", "0000:0a:00.0"}));
  const auto& n2 = (*hosts)[2];
  EXPECT_TRUE(n2.pci_passthrough_enabled);
  EXPECT_EQ(n2.pci_device_addresses, (std::vector<std::string>{"0000:09:00.0"}));
  const auto& n3 = (*hosts)[3];
  EXPECT_EQ(n3.ansible_host, "192.168.122.5");
  EXPECT_FALSE(n3.pci_passthrough_enabled);
  EXPECT_TRUE(n3.pci_device_addresses.empty());
}

TEST(OneDeployInventory, GroupVarsApplyAndHostVarsWin) {
  auto hosts = parse_one_deploy_inventory(R"(
all:
  vars:
    pci_passthrough_enabled: false
node:
  vars:
    pci_passthrough_enabled: yes
    pci_devices: [{address: "0000:09:00.0"}]
  hosts:
    a: {}
    b:
      pci_passthrough_enabled: false
    c:
      pci_devices:
        - address: "0000:0a:00.0"
)",
                                          "inv.yml");
  ASSERT_TRUE(hosts.ok()) << hosts.error().message;
  ASSERT_EQ(hosts->size(), 3u);
  EXPECT_TRUE((*hosts)[0].pci_passthrough_enabled);
  EXPECT_EQ((*hosts)[0].pci_device_addresses, std::vector<std::string>{"0000:09:00.0"});
  EXPECT_FALSE((*hosts)[1].pci_passthrough_enabled);
  EXPECT_TRUE((*hosts)[2].pci_passthrough_enabled);
  EXPECT_EQ((*hosts)[2].pci_device_addresses, std::vector<std::string>{"0000:0a:00.0"});
}

TEST(OneDeployInventory, MalformedInventoriesNameFileAndLine) {
  auto bad_yaml = parse_one_deploy_inventory("node:\n  hosts:\n    n1: [\n", "inv.yml");
  ASSERT_FALSE(bad_yaml.ok());
  EXPECT_EQ(bad_yaml.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(bad_yaml.error().message.rfind("inv.yml:", 0), 0u) << bad_yaml.error().message;

  auto bad_bool = parse_one_deploy_inventory(
      "node:\n  hosts:\n    n1:\n      pci_passthrough_enabled: maybe\n", "inv.yml");
  ASSERT_FALSE(bad_bool.ok());
  EXPECT_EQ(bad_bool.error().message,
            "inv.yml:4: pci_passthrough_enabled must be true or false, not 'maybe'");

  auto bad_list = parse_one_deploy_inventory(
      "node:\n  hosts:\n    n1:\n      pci_devices:\n        - \"0000:09:00.0\"\n", "inv.yml");
  ASSERT_FALSE(bad_list.ok());
  EXPECT_EQ(
      bad_list.error().message,
      "inv.yml:5: pci_devices entry of 'n1' needs an address, as in - address: \"0000:09:00.0\"");

  // Found by fuzz/opennebula_inventory_fuzz: a null key named a group "" that hosts then
  // listed as theirs.
  for (const char* unnamed : {":\n  hosts:\n    n1:\n", "node:\n  hosts:\n    ? [a]\n    n1:\n",
                              "all:\n  children:\n    :\n      hosts:\n        n1:\n"}) {
    auto r = parse_one_deploy_inventory(unnamed, "inv.yml");
    ASSERT_FALSE(r.ok()) << unnamed;
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
    EXPECT_NE(r.error().message.find("without a name"), std::string::npos) << r.error().message;
  }
}

class OneDeployHostTest : public ::testing::Test {
 protected:
  OneDeployHostTest() : tree_(dir_.path() + "/root"), host_(tree_.root()) {
    testing::build_standard_host(tree_);
  }
  testing::ScratchDir dir_;
  testing::FixtureTree tree_;
  RealHost host_;
};

TEST_F(OneDeployHostTest, PciFilterIsUniqueVendorDeviceInFirstSeenOrder) {
  auto e = pci_filter_entries(host_, {"0000:03:00.0", "0000:01:00.0", "0000:04:00.0"});
  ASSERT_TRUE(e.ok()) << e.error().message;
  ASSERT_EQ(e->size(), 3u);
  EXPECT_EQ((*e)[0].vendor_device, "8086:5845");
  EXPECT_EQ((*e)[1].vendor_device, "10de:1eb8");
  EXPECT_EQ(pci_filter_value(*e), "8086:5845,10de:1eb8");
}

TEST_F(OneDeployHostTest, ShortAddressesAreRefusedBeforeAnyRead) {
  auto e = pci_filter_entries(host_, {"0000:03:00.0", "01:00.0"});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(e.error().message,
            "short PCI address '01:00.0' refused: OpenNebula's PCI_FILTER is built from full "
            "addresses (domain included), write 0000:01:00.0");
  auto missing = pci_filter_entries(host_, {"0000:09:00.0"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
}

class OneDeployTwins : public ::testing::Test {
 protected:
  OneDeployTwins() : tree_(dir_.path() + "/root"), host_(tree_.root()) {
    testing::build_twin_devices_host(tree_);
  }
  testing::ScratchDir dir_;
  testing::FixtureTree tree_;
  RealHost host_;
};

TEST_F(OneDeployTwins, PciFilterCatchingTheRootDiskIsRefusedAndShortAddressOffersTheNamedOnly) {
  auto e = pci_filter_entries(host_, {"0000:05:00.0"});
  ASSERT_TRUE(e.ok());
  auto g = guard_pci_filter(host_, *e, PciFilterOptions{ForceSet{true, {}}, false});
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().kind, ErrorKind::Refused);
  EXPECT_NE(g.error().message.find("refusing 0000:04:00.0: it holds the root filesystem"),
            std::string::npos)
      << g.error().message;
  EXPECT_NE(g.error().message.find("PCI_SHORT_ADDRESS"), std::string::npos);
  auto s = guard_pci_filter(host_, *e, PciFilterOptions{ForceSet{}, true});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(pci_short_address_value(*e), "05:00.0");
}

TEST_F(OneDeployTwins, NvidiaGpusThePciFilterAlsoOffersAreWarnedAbout) {
  auto e = pci_filter_entries(host_, {"0000:01:00.0"});
  ASSERT_TRUE(e.ok());
  auto g = guard_pci_filter(host_, *e, PciFilterOptions{});
  ASSERT_TRUE(g.ok()) << g.error().message;
  ASSERT_EQ(g->warnings.size(), 1u);
  EXPECT_EQ(g->warnings[0].rfind("PCI_FILTER 10de:1eb8 also offers 0000:02:00.0 (now on nvidia) "
                                 "to OpenNebula's scheduler",
                                 0),
            0u)
      << g->warnings[0];
}

TEST_F(OneDeployTwins, TheHostPlanRefusesTheRootDisksTwin) {
  OneDeployHost h;
  h.name = "n1";
  h.pci_passthrough_enabled = true;
  h.pci_device_addresses = {"0000:05:00.0"};
  auto p = plan_one_deploy_host(host_, h);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::Refused);
  EXPECT_NE(p.error().message.find("0000:04:00.0: it holds the root filesystem"), std::string::npos)
      << p.error().message;
}

}  // namespace
}  // namespace hostpass
