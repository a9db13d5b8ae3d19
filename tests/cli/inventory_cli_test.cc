// End-to-end: `hostpass inventory -f CR.yaml [--json]` on fixture nodes, as an administrator
// runs it with the CR they already have.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "fixture_tree.h"
#include "inventory_fixture.h"
#include "run_program.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

std::string policy_fixture(const std::string& name) {
  return std::string(HOSTPASS_SOURCE_DIR) + "/tests/fixtures/policy/" + name;
}

class InventoryCli : public ::testing::Test {
 protected:
  InventoryCli() : tree_(dir_.path() + "/root") { build_inventory_node(tree_); }
  ProgramRun hostpass(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  // Writes a CR next to (not inside) the fixture root and returns its path.
  std::string write_cr(const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  ScratchDir dir_;
  FixtureTree tree_;
};

TEST_F(InventoryCli, ExactInventoryOfTheNode) {
  std::string cr = policy_fixture("node_kubevirt_cr.yaml");
  ProgramRun r = hostpass({"inventory", "-f", cr});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "policy: " + cr +
                " (KubeVirt CR)\n"
                "\n"
                "nvidia.com/TU104GL_Tesla_T4 (pci)\n"
                "  from pciVendorSelector 10de:1eb8 (line 14)\n"
                "  unit pci-0000:65:00.0  group 10  numa 1  0000:65:00.0  healthy\n"
                "  not usable: 0000:01:00.0: on nvidia, not vfio-pci; it is a mediated-device "
                "parent (hostpass mdev types)\n"
                "    fix: hostpass bind --force=mdev-live 0000:01:00.0 (this ends its mediated "
                "devices)\n"
                "\n"
                "intel.com/qat (pci)\n"
                "  from pciVendorSelector 8086:6f54 (line 16)\n"
                "  not usable: 0000:02:00.0: on qat_c62x, not vfio-pci\n"
                "    fix: hostpass bind --group 0000:02:00.0\n"
                "  not usable: 0000:02:00.1: on qat_c62x, not vfio-pci\n"
                "    fix: hostpass bind --group 0000:02:00.0\n"
                "\n"
                "devices.kubevirt.io/nvme (pci)\n"
                "  from pciVendorSelector 8086:5845 (line 18)\n"
                "  not usable: 0000:04:00.0: claimed by example.com/nvme-fast, whose "
                "pciAddressSelector names it (line 20)\n"
                "  not usable: 0000:03:00.0: not bound to any driver, not vfio-pci\n"
                "    fix: hostpass bind 0000:03:00.0\n"
                "\n"
                "example.com/nvme-fast (pci)\n"
                "  from pciAddressSelector 0000:04:00.0 (line 20)\n"
                "  unit pci-0000:04:00.0  group 8  numa 1  0000:04:00.0  healthy\n"
                "\n"
                "intel.com/x710 (pci)\n"
                "  from pciVendorSelector 8086:1572 (line 22)\n"
                "  unit pci-0000:67:00.0  group 12  numa 0  0000:67:00.0 + 0000:67:00.1  healthy\n"
                "\n"
                "nvidia.com/GV100GL_Tesla_V100 (pci)\n"
                "  from pciVendorSelector 10de:1db6 (line 24)\n"
                "  not usable: 0000:68:00.0: IOMMU group 13 is not viable: 0000:68:00.1 "
                "(8086:1533, not selected) is on igb\n"
                "    fix: hostpass bind --group 0000:68:00.0 (moves 0000:68:00.1 to vfio-pci too), "
                "or move the card to a slot with its own IOMMU group\n"
                "\n"
                "nvidia.com/GRID_T4-1Q (mdev)\n"
                "  from mdevNameSelector \"GRID T4-1Q\" (line 27)\n"
                "  unit 4b20d080-1b54-4048-85b3-a6a62d165c01  nvidia-230 on 0000:01:00.0  group 20 "
                " numa 0  healthy\n"
                "\n"
                "nvidia.com/GRID_T4-2B (mdev)\n"
                "  from mdevNameSelector \"GRID T4-2B\" (line 29)\n"
                "  not usable: type nvidia-223 (GRID T4-2B) on 0000:01:00.0: no instance exists; 8 "
                "can be created\n"
                "    fix: hostpass mdev create --parent 0000:01:00.0 --type nvidia-223 (or list "
                "nvidia-223 in mediatedDevicesConfiguration.mediatedDeviceTypes of " +
                cr + ", then hostpass mdev apply -f " + cr +
                ")\n"
                "\n"
                "kubevirt.io/storage (usb)\n"
                "  from selectors 46f4:0001 (line 32)\n"
                "  unit usb-1-1  bus 001 device 002 46f4:0001  healthy\n"
                "\n"
                "kubevirt.io/peripherals (usb)\n"
                "  from selectors 045e:07a5 + 062a:4102 + 072f:b100 (line 36)\n"
                "  unit usb-1-2+1-3+1-4  bus 001 device 003 045e:07a5 + bus 001 device 004 "
                "062a:4102 + bus 001 device 005 072f:b100  healthy\n"
                "  not usable: usb 1-5 (045e:07a5): incomplete bundle: no device left for "
                "062a:4102 (selectors[1]), 072f:b100 (selectors[2])\n"
                "    fix: plug in the missing device(s)\n"
                "\n"
                "capacity:\n"
                "  nvidia.com/TU104GL_Tesla_T4: 1\n"
                "  intel.com/qat: 0\n"
                "  devices.kubevirt.io/nvme: 0\n"
                "  example.com/nvme-fast: 1\n"
                "  intel.com/x710: 1\n"
                "  nvidia.com/GV100GL_Tesla_V100: 0\n"
                "  nvidia.com/GRID_T4-1Q: 1\n"
                "  nvidia.com/GRID_T4-2B: 0\n"
                "  kubevirt.io/storage: 1\n"
                "  kubevirt.io/peripherals: 1\n");
  EXPECT_EQ(r.err,
            "hostpass: warning: 0000:04:00.0 (8086:5845) matches devices.kubevirt.io/nvme (line "
            "18) and example.com/nvme-fast (line 20): it goes to example.com/nvme-fast\n");
}

TEST_F(InventoryCli, JsonInventoryOfTheNode) {
  ProgramRun r = hostpass({"inventory", "-f", policy_fixture("node_kubevirt_cr.yaml"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["policy"]["format"], "KubeVirt CR");
  ASSERT_EQ(j["resources"].size(), 10u);
  const auto& t4 = j["resources"][0];
  EXPECT_EQ(t4["name"], "nvidia.com/TU104GL_Tesla_T4");
  EXPECT_EQ(t4["kind"], "pci");
  EXPECT_EQ(t4["external"], false);
  EXPECT_EQ(t4["rank"], 0);
  EXPECT_EQ(t4["capacity"], 1);
  EXPECT_EQ(t4["allocatable"], 1);
  ASSERT_EQ(t4["units"].size(), 1u);
  EXPECT_EQ(t4["units"][0]["id"], "pci-0000:65:00.0");
  EXPECT_EQ(t4["units"][0]["pci"], nlohmann::json::array({"0000:65:00.0"}));
  EXPECT_EQ(t4["units"][0]["iommu_group"], 10);
  EXPECT_EQ(t4["units"][0]["numa_node"], 1);
  EXPECT_EQ(t4["units"][0]["healthy"], true);
  EXPECT_TRUE(t4["units"][0]["health_reason"].is_null());
  EXPECT_EQ(t4["unusable"][0]["what"], "0000:01:00.0");
  EXPECT_EQ(t4["unusable"][0]["fix"]["command"], "hostpass bind --force=mdev-live 0000:01:00.0");
  EXPECT_EQ(t4["unusable"][0]["fix"]["advice"],
            "hostpass bind --force=mdev-live 0000:01:00.0 (this ends its mediated devices)");

  const auto& x710 = j["resources"][4];
  EXPECT_EQ(x710["name"], "intel.com/x710");
  EXPECT_EQ(x710["units"][0]["pci"], nlohmann::json::array({"0000:67:00.0", "0000:67:00.1"}));

  const auto& v100 = j["resources"][5];
  EXPECT_EQ(v100["capacity"], 0);
  EXPECT_EQ(v100["unusable"][0]["reason"],
            "IOMMU group 13 is not viable: 0000:68:00.1 (8086:1533, not selected) is on igb");

  const auto& grid = j["resources"][6];
  EXPECT_EQ(grid["kind"], "mdev");
  EXPECT_EQ(grid["units"][0]["id"], kGridInstanceUuid);
  EXPECT_EQ(grid["units"][0]["mdev_uuids"], nlohmann::json::array({kGridInstanceUuid}));
  EXPECT_EQ(grid["units"][0]["mdev_parent"], "0000:01:00.0");
  EXPECT_EQ(grid["units"][0]["mdev_type"], "nvidia-230");
  EXPECT_EQ(grid["units"][0]["iommu_group"], 20);

  const auto& per = j["resources"][9];
  EXPECT_EQ(per["kind"], "usb");
  EXPECT_EQ(per["units"][0]["id"], "usb-1-2+1-3+1-4");
  ASSERT_EQ(per["units"][0]["usb"].size(), 3u);
  EXPECT_EQ(per["units"][0]["usb"][0], (nlohmann::json{{"port_path", "1-2"},
                                                       {"busnum", 1},
                                                       {"devnum", 3},
                                                       {"vendor", "045e"},
                                                       {"device", "07a5"},
                                                       {"dev_node", "/dev/bus/usb/001/003"}}));
  EXPECT_TRUE(per["units"][0]["numa_node"].is_null());
  EXPECT_EQ(per["unusable"][0]["what"], "usb 1-5 (045e:07a5)");
  EXPECT_EQ(j["warnings"].size(), 1u);
  EXPECT_EQ(j["disabled"], nlohmann::json::array());
}

TEST_F(InventoryCli, SeedCrsRunAsIs) {
  for (const char* name :
       {"seed001_kubevirt_cr.yaml", "seed001_fragment.yaml", "seed002_permitted.yaml",
        "seed002_nvme.yaml", "seed002_usb_storage.yaml", "seed002_usb_bundle.yaml",
        "hco_seed000.yaml"}) {
    ProgramRun r = hostpass({"inventory", "-f", policy_fixture(name)});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_NE(r.out.find("\ncapacity:\n"), std::string::npos) << name << ":\n" << r.out;
  }
  ProgramRun r = hostpass({"inventory", "-f", policy_fixture("seed002_permitted.yaml")});
  EXPECT_NE(r.out.find("\n  nvidia.com/TU104GL_Tesla_T4: 1 (external: externalResourceProvider "
                       "is true, KubeVirt does not serve it)\n  intel.com/qat: 0\n  "
                       "nvidia.com/GRID_T4-1Q: 1\n"),
            std::string::npos)
      << r.out;
}

TEST_F(InventoryCli, RemovingAnEntryFromTheCrRemovesTheResource) {
  ProgramRun before = hostpass({"inventory", "-f", policy_fixture("hco_seed000.yaml")});
  ProgramRun after = hostpass({"inventory", "-f", policy_fixture("hco_seed000_qat_removed.yaml")});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(before.out.find("\n  intel.com/qat: 0 (external"), std::string::npos) << before.out;
  EXPECT_EQ(after.out.find("intel.com/qat"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("capacity:\n  nvidia.com/GV100GL_Tesla_V100: 0\n"
                           "  nvidia.com/TU104GL_Tesla_T4: 1\n"),
            std::string::npos)
      << after.out;
}

struct BadCr {
  const char* name;
  const char* text;
  const char* expected;  // the first stderr line after "hostpass: <file>:"
};

TEST_F(InventoryCli, BadCrsExitTwoWithFileLineAndField) {
  const BadCr cases[] = {
      {"syntax.yaml", "spec:\n  configuration:\n    permittedHostDevices: {pciHostDevices: [\n",
       "4: YAML syntax error: "},
      {"types.yaml",
       "pciHostDevices:\n- pciVendorSelector: 8086:6f54\n  resourceName: intel.com/qat\n"
       "  externalResourceProvider: \"true\"\n",
       "4: pciHostDevices[0].externalResourceProvider: expected true or false, got the string "
       "\"true\""},
      {"name.yaml", "pciHostDevices:\n- pciVendorSelector: 8086:6f54\n  resourceName: qat\n",
       "3: pciHostDevices[0].resourceName: \"qat\" is not a valid extended resource name: it needs "
       "a domain prefix"},
      {"selector.yaml",
       "apiVersion: kubevirt.io/v1\nkind: KubeVirt\nspec:\n  configuration:\n"
       "    permittedHostDevices:\n      pciHostDevices:\n      - pciVendorSelector: \"10de\"\n"
       "        resourceName: nvidia.com/t4\n",
       "7: spec.configuration.permittedHostDevices.pciHostDevices[0].pciVendorSelector: \"10de\" "
       "is "
       "not a vendor:device selector"},
      {"short.yaml",
       "pciHostDevices:\n- pciAddressSelector: [\"04:00.0\"]\n  resourceName: example.com/nvme\n",
       "2: pciHostDevices[0].pciAddressSelector[0] (hostpass extension): \"04:00.0\" is a short "
       "address"},
  };
  for (const BadCr& c : cases) {
    std::string path = write_cr(c.name, c.text);
    ProgramRun r = hostpass({"inventory", "-f", path});
    EXPECT_EQ(r.exit_code, 2) << c.name << ": " << r.out << r.err;
    EXPECT_EQ(r.out, "") << c.name;
    std::string prefix = "hostpass: " + path + ":" + c.expected;
    EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << c.name << ":\n" << r.err << "expected:\n" << prefix;
  }
}

TEST_F(InventoryCli, EveryProblemOfABadCrIsListed) {
  std::string path = write_cr("many.yaml",
                              "pciHostDevices:\n- pciVendorSelector: 8086:6f5\n  resourceName: q\n"
                              "- pciVendorSeletor: 8086:6f54\n  resourceName: intel.com/qat\n");
  ProgramRun r = hostpass({"inventory", "-f", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(
      r.err,
      "hostpass: " + path +
          ":2: pciHostDevices[0].pciVendorSelector: \"8086:6f5\" is not a "
          "vendor:device selector: expected VVVV:DDDD, four hex digits each, as lspci -nn prints "
          "them (e.g. 10de:1eb8)\n"
          "hostpass: " +
          path +
          ":3: pciHostDevices[0].resourceName: \"q\" is not a valid "
          "extended resource name: it needs a domain prefix, as in nvidia.com/TU104GL_Tesla_T4 "
          "(names without one are Kubernetes' own resources)\n"
          "hostpass: " +
          path +
          ":4: pciHostDevices[1].pciVendorSeletor: unknown field (expected "
          "pciVendorSelector, resourceName, externalResourceProvider, or hostpass's "
          "pciAddressSelector)\n"
          "hostpass: " +
          path +
          ":4: pciHostDevices[1]: missing pciVendorSelector (or hostpass's "
          "pciAddressSelector)\n");
}

// Two identical NVMe drives: the address resource is external (hostpass serves it), the vendor
// resource is KubeVirt's, and KubeVirt's plugin takes 0000:04:00.0 too. The address entry lists
// pciAddressSelector before pciVendorSelector: key order does not matter.
const char* kDoubleServedCr = R"(apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata:
  name: kubevirt
  namespace: kubevirt
spec:
  configuration:
    permittedHostDevices:
      pciHostDevices:
      - pciVendorSelector: 8086:5845
        resourceName: devices.kubevirt.io/nvme
      - pciAddressSelector: ["0000:04:00.0"]
        pciVendorSelector: 8086:5845
        resourceName: example.com/nvme-fast
        externalResourceProvider: true
)";

TEST_F(InventoryCli, DeviceServedByHostpassAndKubeVirtIsRefusedWithExitTwo) {
  std::string cr = write_cr("twice.yaml", kDoubleServedCr);
  for (bool json : {false, true}) {
    std::vector<std::string> args = {"inventory", "-f", cr};
    if (json) args.push_back("--json");
    ProgramRun r = hostpass(args);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    // Text: nothing on stdout; JSON: the refusal's error object (docs/json.md).
    if (json)
      EXPECT_EQ(nlohmann::json::parse(r.out)["error"]["kind"], "refused") << r.out;
    else
      EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("hostpass: refusing the policy: 1 device would be served twice, by "
                         "hostpass and by KubeVirt's own device plugin, so two VMs could get the "
                         "same device:\n"
                         "hostpass:   0000:04:00.0 (8086:5845): hostpass serves it as "
                         "example.com/nvme-fast (externalResourceProvider: true, line 12); "
                         "KubeVirt serves it as devices.kubevirt.io/nvme (line 10), whose entry is "
                         "not external: its pciVendorSelector 8086:5845 takes every 8086:5845 "
                         "device on vfio-pci (KubeVirt does not read pciAddressSelector)\n"
                         "hostpass: fix: mark devices.kubevirt.io/nvme (line 10) "
                         "externalResourceProvider: true as well"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("run hostpass plugin --all so hostpass serves both\n"), std::string::npos)
        << r.err;
  }
}

TEST_F(InventoryCli, WithAllHostpassServesBothAndEachDeviceOnce) {
  std::string cr = write_cr("twice.yaml", kDoubleServedCr);
  ProgramRun r = hostpass({"inventory", "-f", cr, "--all", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["resources"].size(), 2u);
  EXPECT_EQ(j["resources"][0]["name"], "devices.kubevirt.io/nvme");
  EXPECT_EQ(j["resources"][0]["units"].size(), 0u);  // 0000:03:00.0 is unbound
  EXPECT_EQ(j["resources"][1]["name"], "example.com/nvme-fast");
  ASSERT_EQ(j["resources"][1]["units"].size(), 1u);
  EXPECT_EQ(j["resources"][1]["units"][0]["pci"], nlohmann::json::array({"0000:04:00.0"}));
  EXPECT_NE(r.err.find("hostpass: warning: 0000:04:00.0 (8086:5845) matches "
                       "devices.kubevirt.io/nvme (line 10) and example.com/nvme-fast (line 12): "
                       "it goes to example.com/nvme-fast"),
            std::string::npos)
      << r.err;
}

TEST_F(InventoryCli, BothResourcesExternalIsNotRefused) {
  std::string text = kDoubleServedCr;
  text.insert(text.find("      - pciAddressSelector"), "        externalResourceProvider: true\n");
  ProgramRun r = hostpass({"inventory", "-f", write_cr("both.yaml", text)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  devices.kubevirt.io/nvme: 0 (external"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  example.com/nvme-fast: 1 (external"), std::string::npos) << r.out;
}

TEST_F(InventoryCli, MissingPolicyFileIsBadInput) {
  ProgramRun r = hostpass({"inventory", "-f", dir_.path() + "/nope.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "hostpass: cannot read " + dir_.path() + "/nope.yaml: No such file or directory\n");
}

TEST_F(InventoryCli, FileFlagIsRequired) {
  ProgramRun r = hostpass({"inventory"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--file is required"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hostpass::testing
