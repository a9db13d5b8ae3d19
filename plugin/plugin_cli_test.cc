// End-to-end: the built `hostpass plugin` on the inventory fixture node
// (tests/support/inventory_fixture.h), with a real KubeVirt CR, against the fake kubelet:
// registration, Allocate, a live CR edit, SIGTERM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "device_plugin.h"
#include "fake_kubelet.h"
#include "fixture_tree.h"
#include "inventory_fixture.h"
#include "run_program.h"
#include "test_dirs.h"

extern char** environ;

namespace hostpass::testing {
namespace {

namespace fs = std::filesystem;

const char* kCr = R"(apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata:
  name: kubevirt
  namespace: kubevirt
spec:
  configuration:
    permittedHostDevices:
      pciHostDevices:
      - pciVendorSelector: "10DE:1EB8"
        resourceName: "nvidia.com/TU104GL_Tesla_T4"
        externalResourceProvider: true
      - pciVendorSelector: "8086:6F54"
        resourceName: "intel.com/qat"
      mediatedDevices:
      - mdevNameSelector: "GRID T4-1Q"
        resourceName: "nvidia.com/GRID_T4-1Q"
        externalResourceProvider: true
      usb:
      - resourceName: "kubevirt.io/storage"
        externalResourceProvider: true
        selectors:
        - vendor: "46f4"
          product: "0001"
)";

std::string read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class PluginCli : public ::testing::Test {
 protected:
  PluginCli() : tree_(dir_.path() + "/root") {
    build_inventory_node(tree_);
    char tmpl[] = "/tmp/hpc-XXXXXX";
    sockets_ = ::mkdtemp(tmpl);
    tree_.mkdir("/var/lib/kubelet");
    fs::create_directory_symlink(sockets_, tree_.path(kDevicePluginDir));
    cr_ = dir_.path() + "/kubevirt-cr.yaml";
    std::ofstream(cr_) << kCr;
    log_ = dir_.path() + "/plugin.log";
  }
  ~PluginCli() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(sockets_);
  }

  void spawn(const std::vector<std::string>& args) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
  }

  // The daemon's log is a file: polled (bounded) until it holds `needle`.
  bool wait_logged(const std::string& needle) {
    for (int i = 0; i < 500; ++i) {
      if (read(log_).find(needle) != std::string::npos) return true;
      ::usleep(20 * 1000);
    }
    return false;
  }

  ScratchDir dir_;
  FixtureTree tree_;
  std::string sockets_;
  std::string cr_, log_;
  pid_t pid_ = -1;
};

TEST_F(PluginCli, ServesTheExternalResourcesOfARealCrUntilSigterm) {
  FakeKubelet kubelet(sockets_);
  ASSERT_TRUE(kubelet.start().ok());
  spawn({hostpass_bin(), "--root", tree_.root(), "plugin", "-f", cr_});
  ASSERT_TRUE(kubelet.wait_for([&] { return kubelet.registrations().size() >= 3; })) << read(log_);
  std::set<std::string> names;
  for (const auto& r : kubelet.registrations()) names.insert(r.resource_name);
  EXPECT_EQ(names, (std::set<std::string>{"nvidia.com/TU104GL_Tesla_T4", "nvidia.com/GRID_T4-1Q",
                                          "kubevirt.io/storage"}));

  ASSERT_TRUE(
      kubelet.wait_for([&] { return kubelet.devices("nvidia.com/TU104GL_Tesla_T4").has_value(); }));
  EXPECT_EQ(*kubelet.devices("nvidia.com/TU104GL_Tesla_T4"),
            (std::vector<KubeletDevice>{{"pci-0000:65:00.0", "Healthy", {1}}}));
  auto a = kubelet.allocate("nvidia.com/TU104GL_Tesla_T4", {"pci-0000:65:00.0"});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->envs, (std::map<std::string, std::string>{
                         {"PCI_RESOURCE_NVIDIA_COM_TU104GL_TESLA_T4", "0000:65:00.0"}}));
  EXPECT_EQ(a->devices, (std::vector<DeviceNode>{{"/dev/vfio/vfio", "/dev/vfio/vfio", "mrw"},
                                                 {"/dev/vfio/10", "/dev/vfio/10", "mrw"}}));
  auto m = kubelet.allocate("nvidia.com/GRID_T4-1Q", {kGridInstanceUuid});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->envs.at("MDEV_PCI_RESOURCE_NVIDIA_COM_GRID_T4-1Q"), kGridInstanceUuid);
  EXPECT_EQ(m->devices.back(), (DeviceNode{"/dev/vfio/20", "/dev/vfio/20", "mrw"}));
  ASSERT_TRUE(kubelet.wait_for([&] { return kubelet.devices("kubevirt.io/storage").has_value(); }));
  auto usb_id = kubelet.devices("kubevirt.io/storage")->at(0).id;
  auto u = kubelet.allocate("kubevirt.io/storage", {usb_id});
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->envs,
            (std::map<std::string, std::string>{{"USB_RESOURCE_KUBEVIRT_IO_STORAGE", "1:2"}}));

  // OpenShift Virtualization's removal procedure, live: the USB entry leaves the CR.
  std::string edited = kCr;
  edited = edited.substr(0, edited.find("      usb:"));
  std::ofstream(cr_ + ".new") << edited;
  fs::rename(cr_ + ".new", cr_);
  ASSERT_TRUE(kubelet.wait_for([&] {
    auto d = kubelet.devices("kubevirt.io/storage");
    return d && d->empty();
  })) << read(log_);
  EXPECT_FALSE(kubelet.stream_ended("nvidia.com/TU104GL_Tesla_T4"));

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(status)) << read(log_);
  EXPECT_EQ(WEXITSTATUS(status), 0) << read(log_);
  EXPECT_FALSE(fs::exists(sockets_ + "/" + plugin_socket_name("nvidia.com/TU104GL_Tesla_T4")));
  std::string log = read(log_);
  EXPECT_NE(log.find("hostpass plugin: registered nvidia.com/TU104GL_Tesla_T4 (pci): 1 device "
                     "(1 healthy) with the kubelet (v1beta1, endpoint "
                     "hostpass-nvidia.com_TU104GL_Tesla_T4.sock)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("hostpass plugin: stopped kubevirt.io/storage: no longer in the policy"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("hostpass plugin: received SIGTERM: stopping"), std::string::npos) << log;
  kubelet.stop();
}

TEST_F(PluginCli, AnInvalidCrIsRefusedAtStartWithExitCode2) {
  std::ofstream(cr_)
      << "spec:\n  configuration:\n    permittedHostDevices:\n      pciHostDevices:\n"
         "      - pciVendorSelector: \"10DE\"\n        resourceName: \"nvidia.com/x\"\n";
  ProgramRun r = run_program({hostpass_bin(), "--root", tree_.root(), "plugin", "-f", cr_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("kubevirt-cr.yaml:5"), std::string::npos) << r.err;
}

// Two identical NVMe drives on the fixture node (0000:03:00.0 unbound, 0000:04:00.0 on
// vfio-pci): the address resource is hostpass's, the vendor resource KubeVirt's, whose plugin
// takes 0000:04:00.0 as well.
const char* kNvmeEntries = R"(      - pciVendorSelector: 8086:5845
        resourceName: devices.kubevirt.io/nvme
      - pciAddressSelector: ["0000:04:00.0"]
        resourceName: example.com/nvme-fast
        externalResourceProvider: true
)";

std::string with_nvme(const std::string& entries) {
  std::string cr = kCr;
  cr.insert(cr.find("      mediatedDevices:"), entries);
  return cr;
}

// hostpass serves both NVMe resources: 0000:04:00.0 once, in the address resource (0000:03:00.0,
// the vendor resource's other drive, is unbound).
void expect_both_nvme_resources_serve_each_device_once(FakeKubelet& kubelet) {
  ASSERT_TRUE(kubelet.wait_for([&] {
    return kubelet.devices("example.com/nvme-fast").has_value() &&
           kubelet.devices("devices.kubevirt.io/nvme").has_value();
  }));
  EXPECT_EQ(*kubelet.devices("example.com/nvme-fast"),
            (std::vector<KubeletDevice>{{"pci-0000:04:00.0", "Healthy", {1}}}));
  EXPECT_TRUE(kubelet.devices("devices.kubevirt.io/nvme")->empty());
}

TEST_F(PluginCli, ACrThatServesADeviceTwiceIsRefusedAtStartWithExitCode2) {
  FakeKubelet kubelet(sockets_);
  ASSERT_TRUE(kubelet.start().ok());
  std::ofstream(cr_) << with_nvme(kNvmeEntries);
  ProgramRun r = run_program({hostpass_bin(), "--root", tree_.root(), "plugin", "-f", cr_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("hostpass: refusing the policy: 1 device would be served twice, by "
                       "hostpass and by KubeVirt's own device plugin, so two VMs could get the "
                       "same device:\n"
                       "hostpass:   0000:04:00.0 (8086:5845): hostpass serves it as "
                       "example.com/nvme-fast (externalResourceProvider: true, line 17); KubeVirt "
                       "serves it as devices.kubevirt.io/nvme (line 15), whose entry is not "
                       "external"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("hostpass: fix: mark devices.kubevirt.io/nvme (line 15) "
                       "externalResourceProvider: true as well"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(kubelet.registrations().empty());
  EXPECT_FALSE(fs::exists(sockets_ + "/" + plugin_socket_name("nvidia.com/TU104GL_Tesla_T4")));
  kubelet.stop();
}

TEST_F(PluginCli, WithAllTheSameCrServesEveryResourceAndEachDeviceOnce) {
  FakeKubelet kubelet(sockets_);
  ASSERT_TRUE(kubelet.start().ok());
  std::ofstream(cr_) << with_nvme(kNvmeEntries);
  spawn({hostpass_bin(), "--root", tree_.root(), "plugin", "-f", cr_, "--all"});
  expect_both_nvme_resources_serve_each_device_once(kubelet);
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read(log_);
  kubelet.stop();
}

TEST_F(PluginCli, ALiveCrEditThatServesADeviceTwiceIsRefusedAndTheRunningPolicyStays) {
  FakeKubelet kubelet(sockets_);
  ASSERT_TRUE(kubelet.start().ok());
  spawn({hostpass_bin(), "--root", tree_.root(), "plugin", "-f", cr_});
  ASSERT_TRUE(kubelet.wait_for([&] { return kubelet.registrations().size() >= 3; })) << read(log_);
  auto replace_cr = [&](const std::string& text) {
    std::ofstream(cr_ + ".new") << text;
    fs::rename(cr_ + ".new", cr_);
  };
  replace_cr(with_nvme(kNvmeEntries));
  ASSERT_TRUE(
      wait_logged("hostpass plugin: policy change refused, keeping the current "
                  "resources: fix: mark devices.kubevirt.io/nvme (line 15)"))
      << read(log_);
  std::string log = read(log_);
  EXPECT_NE(log.find("hostpass plugin: policy change refused, keeping the current resources: "
                     "refusing the policy: 1 device would be served twice"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("hostpass plugin: policy change refused, keeping the current resources:   "
                     "0000:04:00.0 (8086:5845): hostpass serves it as example.com/nvme-fast"),
            std::string::npos)
      << log;
  EXPECT_FALSE(kubelet.devices("example.com/nvme-fast").has_value());
  EXPECT_FALSE(kubelet.stream_ended("nvidia.com/TU104GL_Tesla_T4"));
  EXPECT_EQ(kubelet.registrations().size(), 3u);

  // The fix the refusal names: both external. hostpass serves both, 0000:04:00.0 once.
  std::string both = kNvmeEntries;
  both.insert(both.find("      - pciAddressSelector"), "        externalResourceProvider: true\n");
  replace_cr(with_nvme(both));
  expect_both_nvme_resources_serve_each_device_once(kubelet);
  kubelet.stop();
}

}  // namespace
}  // namespace hostpass::testing
