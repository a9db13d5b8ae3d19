// openshift_config_test.cc — MachineConfig and Butane outputs parsed back with yaml-cpp.
#include "openshift_config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace hostpass {
namespace {

NodeConfig vfio_files() {
  NodeConfig c;
  c.name = "100-worker-vfiopci";
  c.role = "worker";
  c.files = {{"/etc/modprobe.d/vfio.conf", "options vfio-pci ids=10de:1eb8,10de:1db6\n", 0644},
             {"/etc/modules-load.d/vfio-pci.conf", "vfio-pci\n", 0644}};
  return c;
}

TEST(OpenShiftConfig, MachineConfigWithKernelArguments) {
  NodeConfig c;
  c.name = "100-worker-iommu";
  c.role = "worker";
  c.kernel_arguments = {"intel_iommu=on", "iommu=pt"};
  YAML::Node y = YAML::Load(render_machine_config(c));
  EXPECT_EQ(y["apiVersion"].as<std::string>(), "machineconfiguration.openshift.io/v1");
  EXPECT_EQ(y["kind"].as<std::string>(), "MachineConfig");
  EXPECT_EQ(y["metadata"]["name"].as<std::string>(), "100-worker-iommu");
  EXPECT_EQ(y["metadata"]["labels"]["machineconfiguration.openshift.io/role"].as<std::string>(),
            "worker");
  EXPECT_EQ(y["spec"]["config"]["ignition"]["version"].as<std::string>(), "3.2.0");
  ASSERT_TRUE(y["spec"]["kernelArguments"].IsSequence());
  EXPECT_EQ(y["spec"]["kernelArguments"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"intel_iommu=on", "iommu=pt"}));
  EXPECT_FALSE(y["spec"]["config"]["storage"].IsDefined());
}

TEST(OpenShiftConfig, ButaneWithKernelArguments) {
  NodeConfig c;
  c.name = "100-master-iommu";
  c.role = "master";
  c.kernel_arguments = {"intel_iommu=on"};
  YAML::Node y = YAML::Load(render_butane(c));
  EXPECT_EQ(y["variant"].as<std::string>(), "openshift");
  EXPECT_EQ(y["version"].as<std::string>(), "4.14.0");
  EXPECT_EQ(y["metadata"]["name"].as<std::string>(), "100-master-iommu");
  EXPECT_EQ(y["metadata"]["labels"]["machineconfiguration.openshift.io/role"].as<std::string>(),
            "master");
  EXPECT_EQ(y["openshift"]["kernel_arguments"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"intel_iommu=on"}));
}

TEST(OpenShiftConfig, ButaneFilesLikeSeed000) {
  std::string text = render_butane(vfio_files());
  EXPECT_NE(text.find("mode: 0644"), std::string::npos) << text;
  YAML::Node y = YAML::Load(text);
  YAML::Node files = y["storage"]["files"];
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0]["path"].as<std::string>(), "/etc/modprobe.d/vfio.conf");
  EXPECT_EQ(files[0]["mode"].as<int>(), 0644);
  EXPECT_TRUE(files[0]["overwrite"].as<bool>());
  EXPECT_EQ(files[0]["contents"]["inline"].as<std::string>(),
            "options vfio-pci ids=10de:1eb8,10de:1db6\n");
  EXPECT_EQ(files[1]["contents"]["inline"].as<std::string>(), "vfio-pci\n");
  EXPECT_FALSE(y["openshift"].IsDefined());
}

TEST(OpenShiftConfig, MachineConfigFilesAreDataUrls) {
  YAML::Node y = YAML::Load(render_machine_config(vfio_files()));
  YAML::Node files = y["spec"]["config"]["storage"]["files"];
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0]["path"].as<std::string>(), "/etc/modprobe.d/vfio.conf");
  EXPECT_EQ(files[0]["mode"].as<int>(), 420);
  EXPECT_EQ(files[0]["contents"]["source"].as<std::string>(),
            "data:,options%20vfio-pci%20ids%3D10de%3A1eb8%2C10de%3A1db6%0A");
  EXPECT_EQ(files[1]["contents"]["source"].as<std::string>(), "data:,vfio-pci%0A");
  EXPECT_FALSE(y["spec"]["kernelArguments"].IsDefined());
}

TEST(OpenShiftConfig, RoleValidation) {
  EXPECT_TRUE(validate_role("worker").ok());
  EXPECT_TRUE(validate_role("gpu-worker-2").ok());
  for (const char* bad : {"", "Worker", "-x", "x-", "a b", "w/x", "a:b"})
    EXPECT_FALSE(validate_role(bad).ok()) << bad;
}

}  // namespace
}  // namespace hostpass
