#include "dra_files.h"

#include <gtest/gtest.h>

#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using json = nlohmann::json;
using testing::FixtureTree;
using testing::ScratchDir;

const char* kDriver = "vfio.hostpass.dev";
const char* kUid = "0b7e6f2a-1111-4222-8333-444455556666";

DraDevice x710() {
  DraDevice d;
  d.kind = ResourceKind::Pci;
  d.pci = {PciAddress::parse_full("0000:67:00.0").value(),
           PciAddress::parse_full("0000:67:00.1").value()};
  d.name = dra_pci_device_name(d.pci.front());
  d.iommu_group = 12;
  d.attributes["resource.kubernetes.io/pciBusID"] = std::string("0000:67:00.0");
  d.attributes["otherFunctions"] = std::string("0000:67:00.1");
  return d;
}

DraDevice grid() {
  DraDevice d;
  d.kind = ResourceKind::Mdev;
  d.mdev_uuid = "4b20d080-1b54-4048-85b3-a6a62d165c01";
  d.name = dra_mdev_device_name(d.mdev_uuid);
  d.iommu_group = 20;
  d.attributes["mdevUUID"] = d.mdev_uuid;
  return d;
}

ResourceClaim claim(bool from_template) {
  ResourceClaim c;
  c.name = "vm-gpu-x7k2p";
  c.namespace_ = "vms";
  c.uid = kUid;
  if (from_template) c.pod_claim_name = "gpu";
  c.allocated = true;
  return c;
}

std::vector<std::string> node_paths(const json& device) {
  std::vector<std::string> out;
  for (const json& n : device["containerEdits"]["deviceNodes"]) out.push_back(n["path"]);
  return out;
}

class CdiNode : public ::testing::Test {
 protected:
  CdiNode() : tree_(dir_.path() + "/root"), host_(tree_.root()) {
    testing::PciSpec s;
    s.address = "0000:67:00.0";
    s.driver = "vfio-pci";
    s.iommu_group = 12;
    tree_.add_pci(s);
    s.address = "0000:67:00.1";
    tree_.add_pci(s);
  }
  ScratchDir dir_;
  FixtureTree tree_;
  RealHost host_;
};

TEST_F(CdiNode, LegacyVfioGivesTheContainerAndGroupNodes) {
  DraDevice d = x710(), m = grid();
  auto f = device_cdi_spec(host_, kDriver, kUid, {{"nic", "node-1", &d}, {"gpu", "node-1", &m}});
  ASSERT_TRUE(f.ok()) << f.error().message;
  json spec = json::parse(f->text);  // what the runtime reads
  EXPECT_EQ(spec["cdiVersion"], "0.3.0");
  EXPECT_EQ(cdi_min_version(spec), spec["cdiVersion"]);
  EXPECT_EQ(spec["kind"], "vfio.hostpass.dev/vfio");
  EXPECT_EQ(f->path, "/var/run/cdi/vfio.hostpass.dev-" + std::string(kUid) + ".json");
  ASSERT_EQ(spec["devices"].size(), 2u);
  EXPECT_EQ(node_paths(spec["devices"][0]),
            (std::vector<std::string>{"/dev/vfio/vfio", "/dev/vfio/12"}));
  EXPECT_EQ(node_paths(spec["devices"][1]),
            (std::vector<std::string>{"/dev/vfio/vfio", "/dev/vfio/20"}));
  EXPECT_EQ(spec["devices"][0]["containerEdits"]["env"][0],
            "HOSTPASS_DEVICE_PCI_0000_67_00_0=0000:67:00.0,0000:67:00.1");
  EXPECT_EQ(spec["devices"][1]["containerEdits"]["env"][0],
            "HOSTPASS_DEVICE_MDEV_4B20D080_1B54_4048_85B3_A6A62D165C01="
            "4b20d080-1b54-4048-85b3-a6a62d165c01");
  EXPECT_EQ(f->ids, (std::vector<std::string>{
                        "vfio.hostpass.dev/vfio=pci-0000-67-00-0-" + std::string(kUid),
                        "vfio.hostpass.dev/vfio=mdev-4b20d080-1b54-4048-85b3-a6a62d165c01-" +
                            std::string(kUid)}));
}

TEST_F(CdiNode, IommufdNodesOnlyWhenTheHostHasThem) {
  DraDevice d = x710();
  // /dev/iommu alone (no VFIO cdev for the functions): nothing more.
  tree_.write("/dev/iommu", "");
  auto none = device_cdi_spec(host_, kDriver, kUid, {{"nic", "node-1", &d}});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(node_paths(json::parse(none->text)["devices"][0]),
            (std::vector<std::string>{"/dev/vfio/vfio", "/dev/vfio/12"}));
  // Both functions have a cdev (vfio-dev/vfioN, /dev/vfio/devices/vfioN).
  tree_.mkdir(tree_.device_path("0000:67:00.0") + "/vfio-dev/vfio3");
  tree_.mkdir(tree_.device_path("0000:67:00.1") + "/vfio-dev/vfio4");
  tree_.write("/dev/vfio/devices/vfio3", "");
  tree_.write("/dev/vfio/devices/vfio4", "");
  auto f = device_cdi_spec(host_, kDriver, kUid, {{"nic", "node-1", &d}});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(node_paths(json::parse(f->text)["devices"][0]),
            (std::vector<std::string>{"/dev/vfio/vfio", "/dev/iommu", "/dev/vfio/12",
                                      "/dev/vfio/devices/vfio3", "/dev/vfio/devices/vfio4"}));
  EXPECT_EQ(cdi_min_version(json::parse(f->text)), "0.3.0");
}

TEST_F(CdiNode, ADeviceWithoutAGroupIsAnError) {
  DraDevice d = x710();
  d.iommu_group.reset();
  auto f = device_cdi_spec(host_, kDriver, kUid, {{"nic", "node-1", &d}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().kind, ErrorKind::InvalidInput);
}

TEST(CdiVersion, FollowsTheSpecsMinimumVersionRules) {
  json base = {{"kind", "vfio.hostpass.dev/vfio"},
               {"devices", json::array({{{"name", "pci-1"}, {"containerEdits", json::object()}}})}};
  EXPECT_EQ(cdi_min_version(base), "0.3.0");
  json typed = base;
  typed["devices"][0]["containerEdits"]["mounts"] =
      json::array({{{"hostPath", "/a"}, {"containerPath", "/a"}, {"type", "bind"}}});
  EXPECT_EQ(cdi_min_version(typed), "0.4.0");
  json digit = base;
  digit["devices"][0]["name"] = "0b7e";
  EXPECT_EQ(cdi_min_version(digit), "0.5.0");
  json host_path = base;
  host_path["devices"][0]["containerEdits"]["deviceNodes"] =
      json::array({{{"path", "/dev/vfio/1"}, {"hostPath", "/dev/vfio/2"}}});
  EXPECT_EQ(cdi_min_version(host_path), "0.5.0");
  json dotted = base;
  dotted["kind"] = "hostpass.dev/vfio.pci";
  EXPECT_EQ(cdi_min_version(dotted), "0.6.0");
}

TEST(DeviceMetadata, PathsForBothClaimKinds) {
  EXPECT_EQ(metadata_container_path(claim(false), "gpu", kDriver),
            "/var/run/kubernetes.io/dra-device-attributes/resourceclaims/vm-gpu-x7k2p/gpu/"
            "vfio.hostpass.dev-metadata.json");
  EXPECT_EQ(metadata_container_path(claim(true), "gpu", kDriver),
            "/var/run/kubernetes.io/dra-device-attributes/resourceclaimtemplates/gpu/gpu/"
            "vfio.hostpass.dev-metadata.json");
  // A subrequest of a prioritized list: the path has the top-level request only.
  EXPECT_EQ(metadata_container_path(claim(false), "gpu/t4", kDriver),
            metadata_container_path(claim(false), "gpu", kDriver));
  EXPECT_EQ(metadata_host_path(claim(true), "gpu/t4", kDriver),
            "/var/lib/kubelet/plugins/vfio.hostpass.dev/metadata/" + std::string(kUid) +
                "/gpu/vfio.hostpass.dev-metadata.json");
}

TEST(DeviceMetadata, FileHasKubeVirtsShapeOneFilePerRequest) {
  DraDevice d = x710(), m = grid();
  auto files =
      metadata_files(claim(true), kDriver, 4, {{"gpu/t4", "node-1", &m}, {"nic", "node-1", &d}});
  ASSERT_EQ(files.size(), 2u);
  json g = json::parse(files[0].text);
  EXPECT_EQ(g["apiVersion"], "metadata.resource.k8s.io/v1alpha1");
  EXPECT_EQ(g["kind"], "DeviceMetadata");
  EXPECT_EQ(
      g["metadata"],
      (json{{"name", "vm-gpu-x7k2p"}, {"namespace", "vms"}, {"uid", kUid}, {"generation", 4}}));
  EXPECT_EQ(g["podClaimName"], "gpu");
  ASSERT_EQ(g["requests"].size(), 1u);
  EXPECT_EQ(g["requests"][0]["name"], "gpu/t4");  // the full name inside the file
  const json& dev = g["requests"][0]["devices"][0];
  EXPECT_EQ(dev["driver"], kDriver);
  EXPECT_EQ(dev["pool"], "node-1");
  EXPECT_EQ(dev["name"], "mdev-4b20d080-1b54-4048-85b3-a6a62d165c01");
  EXPECT_EQ(dev["attributes"]["mdevUUID"], (json{{"string", m.mdev_uuid}}));
  EXPECT_FALSE(dev["attributes"].contains("resource.kubernetes.io/pciBusID"));
  EXPECT_EQ(files[0].container_path, metadata_container_path(claim(true), "gpu", kDriver));

  json n = json::parse(files[1].text);
  EXPECT_EQ(n["requests"][0]["devices"][0]["attributes"]["resource.kubernetes.io/pciBusID"],
            (json{{"string", "0000:67:00.0"}}));

  // A claim referenced by name has no podClaimName.
  auto direct = metadata_files(claim(false), kDriver, 1, {{"nic", "node-1", &d}});
  ASSERT_EQ(direct.size(), 1u);
  EXPECT_FALSE(json::parse(direct[0].text).contains("podClaimName"));
}

TEST(DeviceMetadata, ItsCdiSpecMountsEachFileReadOnlyFromTheHostPath) {
  DraDevice d = x710();
  auto files = metadata_files(claim(false), kDriver, 1, {{"nic", "node-1", &d}});
  CdiSpecFile f = metadata_cdi_spec(kDriver, kUid, files);
  json spec = json::parse(f.text);
  EXPECT_EQ(spec["kind"], "vfio.hostpass.dev/metadata");
  EXPECT_EQ(spec["cdiVersion"], cdi_min_version(spec));
  EXPECT_EQ(f.path, "/var/run/cdi/vfio.hostpass.dev-metadata-" + std::string(kUid) + ".json");
  EXPECT_EQ(f.ids,
            (std::vector<std::string>{"vfio.hostpass.dev/metadata=claim-" + std::string(kUid)}));
  const json& mount = spec["devices"][0]["containerEdits"]["mounts"][0];
  EXPECT_EQ(mount["hostPath"], "/var/lib/kubelet/plugins/vfio.hostpass.dev/metadata/" +
                                   std::string(kUid) + "/nic/vfio.hostpass.dev-metadata.json");
  EXPECT_EQ(mount["containerPath"], files[0].container_path);
  EXPECT_EQ(mount["options"], (json{"ro", "bind"}));
}

}  // namespace
}  // namespace hostpass
