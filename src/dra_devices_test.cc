#include "dra_devices.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>

#include "fixture_tree.h"
#include "inventory_fixture.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::ScratchDir;

// The API server's rules for a published device (k8s.io/kubernetes pkg/apis/resource/validation):
// the name a DNS label; at most 32 attributes; a name is a C identifier of at most 32 characters,
// optionally after a DNS-subdomain domain and "/"; exactly one value, strings at most 64 bytes.
std::vector<std::string> slice_rule_violations(const nlohmann::json& device) {
  std::vector<std::string> out;
  const std::string name = device.value("name", "");
  if (!is_dns_label(name)) out.push_back("name " + name + " is not a DNS label");
  const nlohmann::json& attrs = device.at("attributes");
  if (attrs.size() > kDraMaxAttributes) out.push_back(name + ": too many attributes");
  for (const auto& [key, value] : attrs.items()) {
    std::string id = key.substr(key.find('/') + 1);
    bool c_ident =
        !id.empty() && id.size() <= 32 && !std::isdigit(static_cast<unsigned char>(id[0]));
    for (char c : id) c_ident &= std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (!c_ident) out.push_back(name + ": attribute name " + key);
    if (value.size() != 1) out.push_back(name + ": " + key + " has not exactly one value");
    if (value.contains("string") &&
        value["string"].get<std::string>().size() > kDraMaxAttributeString)
      out.push_back(name + ": " + key + " is longer than 64");
  }
  return out;
}

Policy policy_from(const std::string& yaml) {
  auto p = parse_policy(yaml, "cr.yaml");
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return p.ok() ? *p : Policy{};
}

const char* kPolicy = R"(permittedHostDevices:
  pciHostDevices:
  - pciVendorSelector: "10DE:1EB8"
    resourceName: "nvidia.com/TU104GL_Tesla_T4"
  - pciVendorSelector: "8086:1572"
    resourceName: intel.com/x710
  - pciVendorSelector: "1af4:1041"
    resourceName: virtio.network.devices.example.com/virtio-net-with-a-name-past-the-limit
  mediatedDevices:
  - mdevNameSelector: "GRID T4-1Q"
    resourceName: "nvidia.com/GRID_T4-1Q"
    externalResourceProvider: true
)";

class DraNode : public ::testing::Test {
 protected:
  DraNode() : tree_(dir_.path() + "/root"), host_(tree_.root()) {
    testing::build_inventory_node(tree_);
    // A function behind a root port of root bus 64, on a platform without NUMA information.
    testing::PciSpec port;
    port.address = "0000:64:00.0";
    port.class_code = 0x060400;
    port.driver = "pcieport";
    port.iommu_group = 41;
    tree_.add_pci(port);
    testing::PciSpec s;
    s.address = "0000:70:00.0";
    s.parent = "0000:64:00.0";
    s.vendor = 0x1af4;
    s.device = 0x1041;
    s.driver = "vfio-pci";
    s.iommu_group = 40;
    s.numa_node = -1;
    tree_.add_pci(s);
    tree_.write("/dev/vfio/40", "");
  }
  std::vector<DraDevice> devices() {
    auto d = dra_devices(host_, policy_from(kPolicy));
    EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
    return d.ok() ? *d : std::vector<DraDevice>{};
  }
  static const DraDevice& named(const std::vector<DraDevice>& all, const std::string& name) {
    for (const DraDevice& d : all)
      if (d.name == name) return d;
    static DraDevice none;
    ADD_FAILURE() << "no device " << name;
    return none;
  }
  ScratchDir dir_;
  FixtureTree tree_;
  RealHost host_;
};

std::string str(const DraAttributes& a, const std::string& key) {
  auto it = a.find(key);
  if (it == a.end() || !std::holds_alternative<std::string>(it->second)) return "<none>";
  return std::get<std::string>(it->second);
}
std::optional<int64_t> num(const DraAttributes& a, const std::string& key) {
  auto it = a.find(key);
  if (it == a.end() || !std::holds_alternative<int64_t>(it->second)) return std::nullopt;
  return std::get<int64_t>(it->second);
}

TEST_F(DraNode, EveryUnitAndMdevIsOneDeviceWithAStableDnsLabel) {
  std::vector<DraDevice> all = devices();
  std::vector<std::string> names;
  for (const DraDevice& d : all) names.push_back(d.name);
  // 0000:01:00.0 (the T4 on nvidia) is not on vfio-pci: the inventory leaves it out.
  EXPECT_EQ(names,
            (std::vector<std::string>{"mdev-" + std::string(testing::kGridInstanceUuid),
                                      "pci-0000-65-00-0", "pci-0000-67-00-0", "pci-0000-70-00-0"}));
  for (const DraDevice& d : all) {
    nlohmann::json j = dra_device_json(d);
    EXPECT_EQ(slice_rule_violations(j), std::vector<std::string>{}) << j.dump();
  }
  std::vector<DraDevice> again = devices();
  ASSERT_EQ(again.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i)
    EXPECT_EQ(dra_device_json(again[i]), dra_device_json(all[i]));
}

TEST_F(DraNode, PciUnitCarriesItsFirstFunctionAndListsTheOthers) {
  std::vector<DraDevice> all = devices();
  const DraDevice& x710 = named(all, "pci-0000-67-00-0");
  EXPECT_EQ(str(x710.attributes, "resource.kubernetes.io/pciBusID"), "0000:67:00.0");
  EXPECT_EQ(str(x710.attributes, "otherFunctions"), "0000:67:00.1");
  EXPECT_EQ(num(x710.attributes, "functions"), 2);
  EXPECT_EQ(num(x710.attributes, "iommuGroup"), 12);
  EXPECT_EQ(str(x710.attributes, "vendorID"), "8086");
  EXPECT_EQ(str(x710.attributes, "deviceID"), "1572");
  EXPECT_EQ(str(x710.attributes, "classCode"), "0200");
  EXPECT_EQ(str(x710.attributes, "driver"), "vfio-pci");
  EXPECT_EQ(str(x710.attributes, "resourceName"), "intel.com/x710");
  EXPECT_EQ(str(x710.attributes, "resource.kubernetes.io/pcieRoot"), "pci0000:67");
  EXPECT_EQ(num(x710.attributes, "numaNode"), 0);
  EXPECT_EQ(num(x710.attributes, "resource.kubernetes.io/numaNode"), 0);

  const DraDevice& t4 = named(all, "pci-0000-65-00-0");
  EXPECT_EQ(str(t4.attributes, "otherFunctions"), "<none>");
  EXPECT_EQ(num(t4.attributes, "numaNode"), 1);
}

TEST_F(DraNode, PcieRootComesFromTheSysfsPathAndNumaMinusOneGivesNoAttribute) {
  std::vector<DraDevice> all = devices();
  const DraDevice& v = named(all, "pci-0000-70-00-0");
  EXPECT_EQ(str(v.attributes, "resource.kubernetes.io/pcieRoot"), "pci0000:64");
  EXPECT_FALSE(v.attributes.contains("numaNode"));
  EXPECT_FALSE(v.attributes.contains("resource.kubernetes.io/numaNode"));
  // resourceName cut to 64 bytes.
  EXPECT_EQ(str(v.attributes, "resourceName").size(), kDraMaxAttributeString);
  EXPECT_EQ(str(v.attributes, "resourceName"),
            std::string("virtio.network.devices.example.com/virtio-net-with-a-name-past-the-limit")
                .substr(0, 64));
}

TEST_F(DraNode, MdevCarriesItsUuidAndNotItsParentsPciBusId) {
  std::vector<DraDevice> all = devices();
  const DraDevice& m = named(all, "mdev-" + std::string(testing::kGridInstanceUuid));
  EXPECT_EQ(m.kind, ResourceKind::Mdev);
  EXPECT_EQ(str(m.attributes, "mdevUUID"), testing::kGridInstanceUuid);
  EXPECT_FALSE(m.attributes.contains("resource.kubernetes.io/pciBusID"));
  EXPECT_EQ(str(m.attributes, "mdevParent"), "0000:01:00.0");
  EXPECT_EQ(str(m.attributes, "mdevType"), "nvidia-230");
  EXPECT_EQ(num(m.attributes, "iommuGroup"), 20);
  EXPECT_EQ(str(m.attributes, "vendorID"), "10de");  // the parent's identity
  EXPECT_EQ(str(m.attributes, "kind"), "mdev");
}

TEST(DraNames, DnsLabelsAndRootBuses) {
  EXPECT_EQ(dra_pci_device_name(PciAddress::parse_full("0000:65:00.0").value()),
            "pci-0000-65-00-0");
  EXPECT_EQ(dra_mdev_device_name("4B20D080-1B54-4048-85B3-A6A62D165C01"),
            "mdev-4b20d080-1b54-4048-85b3-a6a62d165c01");
  EXPECT_TRUE(is_dns_label("pci-0000-65-00-0"));
  EXPECT_FALSE(is_dns_label("pci-0000:65:00.0"));
  EXPECT_FALSE(is_dns_label("-a"));
  EXPECT_FALSE(is_dns_label(std::string(64, 'a')));
  EXPECT_EQ(pcie_root_of("/sys/devices/pci0000:64/0000:64:00.0/0000:65:00.0"), "pci0000:64");
  EXPECT_EQ(pcie_root_of("/sys/devices/pci10000:00/x"), std::nullopt);
  EXPECT_EQ(pcie_root_of("/sys/devices/platform/x"), std::nullopt);
}

// ---------------------------------------------------------------- slices

std::vector<DraDevice> synthetic(size_t n) {
  std::vector<DraDevice> out;
  for (size_t i = 0; i < n; ++i) {
    DraDevice d;
    PciAddress a = PciAddress::parse_full("0000:00:00.0").value();
    a.bus = static_cast<uint8_t>(1 + i / 32);
    a.device = static_cast<uint8_t>(i % 32);
    d.pci = {a};
    d.name = dra_pci_device_name(a);
    d.attributes["resource.kubernetes.io/pciBusID"] = a.to_string();
    out.push_back(d);
  }
  return out;
}

SliceOwner owner() {
  return SliceOwner{"vfio.hostpass.dev", "node-1", "6a1b2c3d-0000-4000-8000-000000000001"};
}

TEST(DraSlices, ThreeHundredDevicesMakeThreeSlicesOfOnePool) {
  auto slices = resource_slices(owner(), 7, synthetic(300));
  ASSERT_EQ(slices.size(), 3u);
  std::set<std::string> names, devices;
  size_t total = 0;
  for (const nlohmann::json& s : slices) {
    EXPECT_EQ(s["apiVersion"], "resource.k8s.io/v1");
    EXPECT_EQ(s["kind"], "ResourceSlice");
    EXPECT_EQ(s["spec"]["driver"], "vfio.hostpass.dev");
    EXPECT_EQ(s["spec"]["nodeName"], "node-1");
    EXPECT_EQ(s["spec"]["pool"]["name"], "node-1");
    EXPECT_EQ(s["spec"]["pool"]["generation"], 7);
    EXPECT_EQ(s["spec"]["pool"]["resourceSliceCount"], 3);
    EXPECT_LE(s["spec"]["devices"].size(), kDraMaxDevicesPerSlice);
    EXPECT_EQ(s["metadata"]["ownerReferences"][0]["kind"], "Node");
    EXPECT_EQ(s["metadata"]["ownerReferences"][0]["uid"], "6a1b2c3d-0000-4000-8000-000000000001");
    names.insert(s["metadata"]["name"].get<std::string>());
    for (const nlohmann::json& d : s["spec"]["devices"]) {
      devices.insert(d["name"].get<std::string>());
      EXPECT_EQ(slice_rule_violations(d), std::vector<std::string>{});
      ++total;
    }
  }
  EXPECT_EQ(names.size(), 3u);
  EXPECT_EQ(total, 300u);
  EXPECT_EQ(devices.size(), 300u);
  EXPECT_EQ(slices[2]["spec"]["devices"].size(), 300u - 2 * 128);
}

TEST(DraSlices, NoNodeUidNoOwnerReferenceAndAnEmptyPoolIsOneSlice) {
  SliceOwner o = owner();
  o.node_uid.reset();
  auto slices = resource_slices(o, 1, {});
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_FALSE(slices[0]["metadata"].contains("ownerReferences"));
  EXPECT_EQ(slices[0]["spec"]["devices"], nlohmann::json::array());
  EXPECT_EQ(slices[0]["spec"]["pool"]["resourceSliceCount"], 1);
}

TEST(DraSlices, NamesAreDeterministicSubdomainsAndLongOnesStayApart) {
  EXPECT_EQ(dra_slice_name(owner(), 0), "vfio.hostpass.dev-node-1-0");
  SliceOwner a{"vfio.hostpass.dev", std::string(80, 'n') + "-a", std::nullopt};
  SliceOwner b{"vfio.hostpass.dev", std::string(80, 'n') + "-b", std::nullopt};
  EXPECT_LE(dra_slice_name(a, 12).size(), 63u);
  EXPECT_NE(dra_slice_name(a, 12), dra_slice_name(b, 12));
  EXPECT_EQ(dra_slice_name(a, 12), dra_slice_name(a, 12));
}

TEST(DraSlicePlan, NewPoolCreatesEverySliceAtGenerationOne) {
  SlicePlan p = plan_slices(owner(), {}, synthetic(300));
  EXPECT_EQ(p.generation, 1);
  EXPECT_EQ(p.create.size(), 3u);
  EXPECT_TRUE(p.update.empty());
  EXPECT_TRUE(p.remove.empty());
}

TEST(DraSlicePlan, UnchangedPoolNeedsNothing) {
  auto published = resource_slices(owner(), 4, synthetic(300));
  for (auto& s : published) s["metadata"]["resourceVersion"] = "99";
  SlicePlan p = plan_slices(owner(), published, synthetic(300));
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.generation, 4);
}

TEST(DraSlicePlan, AnyChangeBumpsTheGenerationAndRewritesEverySlice) {
  auto published = resource_slices(owner(), 4, synthetic(300));
  for (auto& s : published) s["metadata"]["resourceVersion"] = "99";
  std::vector<DraDevice> changed = synthetic(300);
  changed[299].attributes["driver"] = std::string("vfio-pci");  // only the last slice differs
  SlicePlan p = plan_slices(owner(), published, changed);
  EXPECT_EQ(p.generation, 5);
  ASSERT_EQ(p.update.size(), 3u);
  EXPECT_TRUE(p.create.empty());
  EXPECT_TRUE(p.remove.empty());
  for (const nlohmann::json& s : p.update) {
    EXPECT_EQ(s["spec"]["pool"]["generation"], 5);
    EXPECT_EQ(s["metadata"]["resourceVersion"], "99");
  }

  // Fewer devices: one slice left, the other two removed.
  SlicePlan fewer = plan_slices(owner(), published, synthetic(100));
  EXPECT_EQ(fewer.generation, 5);
  EXPECT_EQ(fewer.update.size(), 1u);
  EXPECT_EQ(fewer.remove,
            (std::vector<std::string>{dra_slice_name(owner(), 1), dra_slice_name(owner(), 2)}));
  EXPECT_EQ(fewer.update[0]["spec"]["pool"]["resourceSliceCount"], 1);
}

TEST(DraSlicePlan, MixedGenerationsAreRewrittenAndOtherPoolsIgnored) {
  auto published = resource_slices(owner(), 4, synthetic(300));
  published[1]["spec"]["pool"]["generation"] = 3;  // a half-finished earlier rewrite
  SliceOwner other = owner();
  other.node_name = "node-2";
  for (auto& s : resource_slices(other, 9, synthetic(10))) published.push_back(s);
  SlicePlan p = plan_slices(owner(), published, synthetic(300));
  EXPECT_EQ(p.generation, 5);  // node-2's generation 9 is another pool's
  EXPECT_EQ(p.update.size(), 3u);
  EXPECT_TRUE(p.remove.empty());
}

}  // namespace
}  // namespace hostpass

namespace hostpass {
namespace {

TEST(DraSlicePlan, LearningTheNodeUidRewritesTheSlicesWithTheOwnerReference) {
  SliceOwner unknown = owner();
  unknown.node_uid.reset();
  auto published = resource_slices(unknown, 2, synthetic(10));
  SlicePlan p = plan_slices(owner(), published, synthetic(10));
  EXPECT_EQ(p.generation, 3);
  ASSERT_EQ(p.update.size(), 1u);
  EXPECT_EQ(p.update[0]["metadata"]["ownerReferences"][0]["name"], "node-1");
}

}  // namespace
}  // namespace hostpass
