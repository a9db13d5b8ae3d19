#include "capk_manifest.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace hostpass {
namespace {

std::string fixture() {
  std::ifstream f(std::string(HOSTPASS_SOURCE_DIR) +
                  "/tests/fixtures/capk/clusterctl-kubevirt-cl.yaml");
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

// The documents of a multi-document manifest, parsed.
std::vector<YAML::Node> docs_of(const std::string& text) {
  return YAML::LoadAll(text);
}

YAML::Node devices_of(const YAML::Node& t) {
  return t["spec"]["template"]["spec"]["virtualMachineTemplate"]["spec"]["template"]["spec"]
          ["domain"]["devices"];
}

TEST(CapkManifest, AddsTheGpuToTheWorkerTemplateOnlyAndKeepsEveryOtherByte) {
  std::string before = fixture();
  auto r = capk_add_device(before, "cluster.yaml", {"nvidia.com/gpu_dev1", "", true, "", ""});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->template_name, "kubevirt-cl-md-0");
  EXPECT_EQ(r->name, "gpu1");
  // Exactly three lines inserted, after the worker's disks and above its trailing comment, with
  // the file's own list style (items indented two under their key).
  std::vector<std::string> a = lines_of(before), b = lines_of(r->text);
  ASSERT_EQ(b.size(), a.size() + 3);
  size_t at = 0;
  while (at < a.size() && a[at] == b[at]) ++at;
  EXPECT_EQ(b[at], "                  gpus:");
  EXPECT_EQ(b[at + 1], "                    - deviceName: nvidia.com/gpu_dev1");
  EXPECT_EQ(b[at + 2], "                      name: gpu1");
  EXPECT_EQ(b[at + 3],
            "                  # keep: networkInterfaceMultiqueue is left to the defaults");
  EXPECT_EQ(r->line, static_cast<int>(at + 2));
  for (size_t i = at; i < a.size(); ++i) ASSERT_EQ(a[i], b[i + 3]) << "line " << i + 1;
  EXPECT_EQ(r->text.back(), '\n');

  auto docs = docs_of(r->text);
  ASSERT_EQ(docs.size(), 7u);
  for (const YAML::Node& d : docs) {
    if (d["kind"].as<std::string>() != "KubevirtMachineTemplate") continue;
    YAML::Node dev = devices_of(d);
    if (d["metadata"]["name"].as<std::string>() == "kubevirt-cl-control-plane") {
      EXPECT_FALSE(dev["gpus"]) << "the control plane's template was touched";
    } else {
      ASSERT_TRUE(dev["gpus"].IsSequence());
      ASSERT_EQ(dev["gpus"].size(), 1u);
      EXPECT_EQ(dev["gpus"][0]["deviceName"].as<std::string>(), "nvidia.com/gpu_dev1");
      EXPECT_EQ(dev["gpus"][0]["name"].as<std::string>(), "gpu1");
      EXPECT_EQ(dev["disks"][0]["name"].as<std::string>(), "containervolume");
    }
  }
}

TEST(CapkManifest, RerunningIsANoOpAndASecondDeviceIsAppended) {
  auto first =
      capk_add_device(fixture(), "c.yaml", {"nvidia.com/gpu_dev1", "", true, "kubevirt-cl", ""});
  ASSERT_TRUE(first.ok());
  auto again = capk_add_device(first->text, "c.yaml", {"nvidia.com/gpu_dev1", "", true, "", ""});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(again->text, first->text);
  EXPECT_EQ(again->name, "gpu1");
  auto second = capk_add_device(first->text, "c.yaml", {"nvidia.com/GRID_T4-1Q", "", true, "", ""});
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->name, "gpu2");
  std::vector<std::string> a = lines_of(first->text), b = lines_of(second->text);
  ASSERT_EQ(b.size(), a.size() + 2);
  size_t at = 0;
  while (a[at] == b[at]) ++at;
  EXPECT_EQ(b[at], "                    - deviceName: nvidia.com/GRID_T4-1Q");
  EXPECT_EQ(b[at + 1], "                      name: gpu2");
  EXPECT_EQ(b[at - 1], "                      name: gpu1");
}

TEST(CapkManifest, NonGpuDevicesGoToHostDevices) {
  auto r = capk_add_device(fixture(), "c.yaml", {"devices.kubevirt.io/nvme", "", false, "", ""});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, "nvme1");
  for (const YAML::Node& d : docs_of(r->text)) {
    if (d["kind"].as<std::string>() != "KubevirtMachineTemplate") continue;
    bool worker = d["metadata"]["name"].as<std::string>() == "kubevirt-cl-md-0";
    YAML::Node dev = devices_of(d);
    EXPECT_EQ(static_cast<bool>(dev["hostDevices"]), worker);
    EXPECT_FALSE(dev["gpus"]);
    if (worker) {
      EXPECT_EQ(dev["hostDevices"][0]["deviceName"].as<std::string>(), "devices.kubevirt.io/nvme");
    }
  }
}

TEST(CapkManifest, TheControlPlaneTemplateIsRefused) {
  auto r = capk_add_device(fixture(), "c.yaml",
                           {"nvidia.com/gpu_dev1", "", true, "", "kubevirt-cl-control-plane"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Refused);
  EXPECT_NE(r.error().message.find("refusing to edit kubevirt-cl-control-plane"),
            std::string::npos);
  auto unknown =
      capk_add_device(fixture(), "c.yaml", {"nvidia.com/gpu_dev1", "", true, "other", ""});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message,
            "no KubevirtMachineTemplate named other-md-0 in c.yaml (there are: "
            "kubevirt-cl-control-plane, kubevirt-cl-md-0)");
}

TEST(CapkManifest, Seed001CompactListsAndTrailingCommentsKeepTheirShape) {
  // The CAPK guide's KubevirtMachineTemplate, verbatim, with its gpus list already present.
  std::string seed =
      "apiVersion: infrastructure.cluster.x-k8s.io/v1alpha1\n"
      "kind: KubevirtMachineTemplate\n"
      "metadata:\n"
      "  name: kubevirt-cl-md-0\n"
      "  namespace: default\n"
      "spec:\n"
      "  template:\n"
      "    spec:\n"
      "      virtualMachineTemplate:\n"
      "        metadata:\n"
      "          namespace: default\n"
      "        spec:\n"
      "          runStrategy: Always\n"
      "          template:\n"
      "            spec:\n"
      "              domain:\n"
      "                cpu:\n"
      "                  cores: 2\n"
      "                devices:\n"
      "                  disks:\n"
      "                  - disk:\n"
      "                      bus: virtio\n"
      "                    name: containervolume\n"
      "                  # --- PCI-passthrough device settings\n"
      "                  gpus:\n"
      "                  - deviceName: nvidia.com/dev1\n"
      "                    name: gpu1\n"
      "                  # ---\n"
      "                memory:\n"
      "                  guest: 4Gi\n"
      "              evictionStrategy: External\n";
  auto r = capk_add_device(seed, "seed.yaml", {"nvidia.com/dev2", "", true, "", ""});
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::string expected = seed;
  std::string anchor = "                    name: gpu1\n";
  expected.insert(expected.find(anchor) + anchor.size(),
                  "                  - deviceName: nvidia.com/dev2\n"
                  "                    name: gpu2\n");
  EXPECT_EQ(r->text, expected);
}

TEST(CapkManifest, ATemplateWithoutDevicesGetsThem) {
  std::string t =
      "kind: KubevirtMachineTemplate\n"
      "metadata:\n  name: c-md-0\n"
      "spec:\n  template:\n    spec:\n      virtualMachineTemplate:\n        spec:\n"
      "          template:\n            spec:\n              domain:\n"
      "                cpu:\n                  cores: 2\n"
      "              evictionStrategy: External\n";
  auto r = capk_add_device(t, "t.yaml", {"nvidia.com/dev1", "", true, "", ""});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->text.find("                  cores: 2\n"
                         "                devices:\n"
                         "                  gpus:\n"
                         "                    - deviceName: nvidia.com/dev1\n"
                         "                      name: gpu1\n"
                         "              evictionStrategy: External\n"),
            std::string::npos)
      << r->text;
}

TEST(CapkManifest, ManifestsWithoutTemplatesOrWithBrokenYamlAreRefused) {
  auto none = capk_add_device("kind: Cluster\n", "x.yaml", {"a.b/c", "", true, "", ""});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, ErrorKind::NotFound);
  auto broken = capk_add_device("---\nkind: [\n", "x.yaml", {"a.b/c", "", true, "", ""});
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(broken.error().message.rfind("x.yaml:", 0), 0u) << broken.error().message;
}

}  // namespace
}  // namespace hostpass
