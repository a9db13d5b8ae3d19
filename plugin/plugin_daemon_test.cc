// The device-plugin daemon against a fake kubelet speaking the real v1beta1 gRPC API, on a
// kernel-shaped fixture root. Every wait is bounded and waits for a state, never for a time.
#include "plugin_daemon.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "device_plugin.h"
#include "fake_kubelet.h"
#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kT4 = "nvidia.com/TU104GL_Tesla_T4";
constexpr const char* kQat = "intel.com/qat";
constexpr const char* kGrid = "nvidia.com/GRID_T4-1Q";
constexpr const char* kUsb = "kubevirt.io/storage";
constexpr const char* kNvme = "example.com/nvme";  // not external: KubeVirt's to serve
constexpr const char* kUuid = "4b20d080-1b54-4048-85b3-a6a62d165c01";

PciAddress addr(const char* a) {
  return PciAddress::parse_full(a).value();
}

// A short real directory for the sockets (sun_path holds 107 bytes; scratch paths are long).
std::string short_dir() {
  char tmpl[] = "/tmp/hpk-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  return d ? d : "";
}

class PluginDaemonTest : public ::testing::Test {
 protected:
  PluginDaemonTest()
      : tree_(dir_.path() + "/root"),
        host_(tree_.root()),
        sockets_(short_dir()),
        kubelet_(sockets_) {
    build_standard_host(tree_);
    add_vfio_pci("0000:65:00.0", 30, 0);
    add_vfio_pci("0000:b3:00.0", 60, 1);
    add_vfio_pci("0000:b4:00.0", 61, 1);
    add_vfio_pci("0000:05:00.0", 9, 1, true);
    add_vfio_pci("0000:05:00.1", 9, 1);
    // An mdev instance of the T4 (its own IOMMU group, as vfio-mdev gives it) and a USB stick.
    std::string m = tree_.device_path("0000:01:00.0") + "/" + kUuid;
    tree_.mkdir(m);
    tree_.symlink(FixtureTree::relative("/sys/bus/mdev/devices/" + std::string(kUuid), m),
                  "/sys/bus/mdev/devices/" + std::string(kUuid));
    tree_.mkdir("/sys/kernel/iommu_groups/140/devices");
    tree_.symlink(FixtureTree::relative(m + "/iommu_group", "/sys/kernel/iommu_groups/140"),
                  m + "/iommu_group");
    tree_.write("/dev/vfio/140", "");
    tree_.mkdir("/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2");
    tree_.symlink("../../../devices/pci0000:00/0000:00:14.0/usb1/1-2", "/sys/bus/usb/devices/1-2");
    tree_.write("/dev/bus/usb/001/005", "");
    tree_.mkdir("/var/lib/kubelet");
    fs::create_directory_symlink(sockets_, tree_.path(kDevicePluginDir));
    tree_.write("/etc/hostpass/kubevirt-cr.yaml", "# policy v1\n");
    inventory_ = base_inventory();
    EXPECT_TRUE(kubelet_.start().ok());
  }

  ~PluginDaemonTest() override {
    stop_daemon();
    if (HasFailure())
      for (const std::string& l : logs_) std::cerr << "daemon log: " << l << "\n";
    kubelet_.stop();
    fs::remove_all(sockets_);
  }

  void add_vfio_pci(const char* a, int group, int numa, bool multifunction = false) {
    PciSpec s;
    s.address = a;
    s.vendor = 0x10de;
    s.device = 0x1eb8;
    s.class_code = 0x030200;
    s.driver = "vfio-pci";
    s.iommu_group = group;
    s.numa_node = numa;
    s.multifunction = multifunction;
    tree_.add_pci(s);
    tree_.write("/dev/vfio/" + std::to_string(group), "");
  }

  static Unit pci(std::vector<const char*> members, int group, int numa) {
    Unit u;
    u.id = std::string("pci-") + members.front();
    for (const char* m : members) u.pci.push_back(addr(m));
    u.iommu_group = group;
    u.numa_node = numa;
    return u;
  }

  static Inventory base_inventory() {
    Inventory inv;
    ResourceInventory t4{kT4, ResourceKind::Pci, true, 0, {}, {}};
    t4.units = {pci({"0000:65:00.0"}, 30, 0), pci({"0000:b3:00.0"}, 60, 1),
                pci({"0000:b4:00.0"}, 61, 1)};
    ResourceInventory qat{kQat, ResourceKind::Pci, true, 1, {}, {}};
    qat.units = {pci({"0000:05:00.0", "0000:05:00.1"}, 9, 1)};
    ResourceInventory grid{kGrid, ResourceKind::Mdev, true, 2, {}, {}};
    Unit m;
    m.id = kUuid;
    m.mdev_uuids = {kUuid};
    m.numa_node = 0;
    grid.units = {
        m};  // the IOMMU group is left for the daemon to find, as kubevirt_inventory.cc may
    ResourceInventory usb{kUsb, ResourceKind::Usb, true, 3, {}, {}};
    Unit u;
    u.id = "usb-1-2";
    u.usb = {UsbRef{"1-2", 1, 5, 0x0951, 0x1666}};
    usb.units = {u};
    ResourceInventory nvme{kNvme, ResourceKind::Pci, false, 4, {}, {}};
    nvme.units = {pci({"0000:04:00.0"}, 8, 1)};
    inv.resources = {t4, qat, grid, usb, nvme};
    return inv;
  }

  // What kubevirt_inventory.cc records when KubeVirt's own plugin serves a device of an external
  // resource: the base inventory, with kNvme's 0000:04:00.0 also served by hostpass.
  static Inventory served_twice() {
    Inventory inv = base_inventory();
    inv.double_served = {{ResourceKind::Pci, "0000:04:00.0 (8086:5845)", "example.com/nvme-fast", 4,
                          kNvme, 2,
                          "its pciVendorSelector 8086:5845 takes every 8086:5845 "
                          "device"}};
    return inv;
  }

  void set_inventory(Inventory inv) {
    std::lock_guard lock(mu_);
    inventory_ = std::move(inv);
  }

  void start_daemon() {
    Status s = create_and_start_daemon();
    ASSERT_TRUE(s.ok()) << s.error().message;
    loop_ = std::thread([this] { ASSERT_TRUE(daemon_->run().ok()); });
  }

  // The daemon, started but without its loop: start_daemon, or a test of a refused start.
  Status create_and_start_daemon() {
    PluginDaemonOptions o;
    o.serve_all = serve_all_;
    o.policy_path = "/etc/hostpass/kubevirt-cr.yaml";
    o.load_inventory = [this]() -> Result<Inventory> {
      std::lock_guard lock(mu_);
      if (fail_load_) return invalid_input("kubevirt-cr.yaml:1: not valid");
      return inventory_;
    };
    o.uevent_fd = uevent_fd_;
    o.backoff_initial = std::chrono::milliseconds(10);
    o.backoff_max = std::chrono::milliseconds(100);
    o.log = [this](const std::string& line) {
      {
        std::lock_guard lock(mu_);
        logs_.push_back(line);
      }
      log_cv_.notify_all();
    };
    daemon_ = std::make_unique<PluginDaemon>(host_, o);
    return daemon_->start();
  }

  void stop_daemon() {
    if (!daemon_) return;
    daemon_->stop();
    if (loop_.joinable()) loop_.join();
    daemon_.reset();
  }

  bool registered(const std::string& name, size_t times = 1) {
    size_t n = 0;
    for (const auto& r : kubelet_.registrations()) n += r.resource_name == name ? 1 : 0;
    return n >= times;
  }

  bool health_is(const std::string& resource, const std::string& id, const std::string& health) {
    auto list = kubelet_.devices(resource);
    if (!list) return false;
    for (const KubeletDevice& d : *list)
      if (d.id == id) return d.health == health;
    return false;
  }

  bool wait_logged(const std::string& needle) {
    std::unique_lock lock(mu_);
    return log_cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const std::string& l : logs_)
        if (l.find(needle) != std::string::npos) return true;
      return false;
    });
  }

  void touch_policy(const std::string& content) {
    // An editor's atomic save: write a temporary file, rename it over the policy.
    tree_.write("/etc/hostpass/.kubevirt-cr.yaml.swp", content);
    fs::rename(tree_.path("/etc/hostpass/.kubevirt-cr.yaml.swp"),
               tree_.path("/etc/hostpass/kubevirt-cr.yaml"));
  }

  ScratchDir dir_;
  FixtureTree tree_;
  RealHost host_;
  std::string sockets_;
  FakeKubelet kubelet_;
  std::mutex mu_;
  Inventory inventory_;
  std::vector<std::string> logs_;
  std::condition_variable log_cv_;
  bool fail_load_ = false;
  bool serve_all_ = false;
  int uevent_fd_ = -1;  // the daemon's end of the simulated kernel's uevent socket
  std::unique_ptr<PluginDaemon> daemon_;
  std::thread loop_;
};

TEST_F(PluginDaemonTest, RegistersEachExternalResourceWithVersionEndpointAndOptions) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return kubelet_.registrations().size() >= 4; }));
  auto regs = kubelet_.registrations();
  ASSERT_EQ(regs.size(), 4u);
  std::map<std::string, KubeletRegistration> by_name;
  for (const auto& r : regs) by_name[r.resource_name] = r;
  for (const char* name : {kT4, kQat, kGrid, kUsb}) {
    ASSERT_TRUE(by_name.count(name)) << name;
    EXPECT_EQ(by_name[name].version, "v1beta1");
    EXPECT_EQ(by_name[name].endpoint, plugin_socket_name(name));
    EXPECT_TRUE(by_name[name].preferred_allocation_available);
    struct stat st;
    ASSERT_EQ(::stat((sockets_ + "/" + plugin_socket_name(name)).c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  EXPECT_FALSE(by_name.count(kNvme)) << "a resource KubeVirt serves itself must not be served";
  EXPECT_TRUE(
      wait_logged("registered nvidia.com/TU104GL_Tesla_T4 (pci): 3 devices (3 healthy) with "
                  "the kubelet (v1beta1, endpoint hostpass-nvidia.com_TU104GL_Tesla_T4.sock)"));
}

// Every path in the log is the Host path the kubelet documents, never the real directory the
// sockets live in (a symlink to a /tmp directory here, <root>/var/lib/... under --root).
TEST_F(PluginDaemonTest, LogsNameSocketsByTheirKubeletPathOnly) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return kubelet_.registrations().size() >= 4; }));
  EXPECT_TRUE(wait_logged("serving " + std::string(kT4) + " (pci): 3 devices (3 healthy) on " +
                          kDevicePluginDir + "/" + plugin_socket_name(kT4)));
  std::lock_guard lock(mu_);
  for (const std::string& l : logs_) {
    EXPECT_EQ(l.find(sockets_), std::string::npos) << l;
    EXPECT_EQ(l.find(tree_.root()), std::string::npos) << l;
  }
}

// A served resource with no device says why (the inventory's reasons), once at start, not again
// on a reload that changes nothing about it, and again when its reason changes.
TEST_F(PluginDaemonTest, AResourceWithNoDevicesSaysWhyOnceAndAgainOnChange) {
  Inventory inv = base_inventory();
  inv.resources[1].units.clear();
  inv.resources[1].unusable = {
      {"0000:02:00.0", "on qat_c62x, not vfio-pci", "hostpass bind 0000:02:00.0"}};
  set_inventory(inv);
  start_daemon();
  const std::string first = std::string(kQat) +
                            " serves 0 devices: 0000:02:00.0: on qat_c62x, not vfio-pci (fix: "
                            "hostpass bind 0000:02:00.0)";
  ASSERT_TRUE(wait_logged(first));
  auto count = [&](const std::string& needle) {
    std::lock_guard lock(mu_);
    return std::count_if(logs_.begin(), logs_.end(),
                         [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  };
  // A reload that changes the T4 only: its "updated" line is the sign the reload was applied.
  inv.resources[0].units.pop_back();
  set_inventory(inv);
  touch_policy("# policy v2\n");
  ASSERT_TRUE(wait_logged("updated " + std::string(kT4)));
  EXPECT_EQ(count(" serves 0 devices"), 1);
  inv.resources[1].unusable = {{"0000:02:00.0", "its IOMMU group 3 also holds 0000:02:00.1", ""}};
  set_inventory(inv);
  touch_policy("# policy v3\n");
  ASSERT_TRUE(wait_logged(std::string(kQat) +
                          " serves 0 devices: 0000:02:00.0: its IOMMU group 3 also holds "
                          "0000:02:00.1"));
  EXPECT_EQ(count(" serves 0 devices"), 2);
  EXPECT_EQ(count(first), 1);
}

TEST_F(PluginDaemonTest, ListAndWatchStreamsTheInventoryWithTopology) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return kubelet_.devices(kT4) && kubelet_.devices(kUsb); }));
  EXPECT_EQ(*kubelet_.devices(kT4),
            (std::vector<KubeletDevice>{{"pci-0000:65:00.0", "Healthy", {0}},
                                        {"pci-0000:b3:00.0", "Healthy", {1}},
                                        {"pci-0000:b4:00.0", "Healthy", {1}}}));
  EXPECT_EQ(*kubelet_.devices(kUsb), (std::vector<KubeletDevice>{{"usb-1-2", "Healthy", {}}}));
}

TEST_F(PluginDaemonTest, AllocateGivesKubeVirtsEnvAndDeviceNodes) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return kubelet_.registrations().size() >= 4; }));
  auto pci = kubelet_.allocate(kT4, {"pci-0000:b3:00.0"});
  ASSERT_TRUE(pci.ok()) << pci.error().message;
  EXPECT_EQ(pci->envs, (std::map<std::string, std::string>{
                           {"PCI_RESOURCE_NVIDIA_COM_TU104GL_TESLA_T4", "0000:b3:00.0"}}));
  EXPECT_EQ(pci->devices, (std::vector<DeviceNode>{{"/dev/vfio/vfio", "/dev/vfio/vfio", "mrw"},
                                                   {"/dev/vfio/60", "/dev/vfio/60", "mrw"}}));

  auto mdev = kubelet_.allocate(kGrid, {kUuid});
  ASSERT_TRUE(mdev.ok()) << mdev.error().message;
  EXPECT_EQ(
      mdev->envs,
      (std::map<std::string, std::string>{{"MDEV_PCI_RESOURCE_NVIDIA_COM_GRID_T4-1Q", kUuid}}));
  EXPECT_EQ(mdev->devices, (std::vector<DeviceNode>{{"/dev/vfio/vfio", "/dev/vfio/vfio", "mrw"},
                                                    {"/dev/vfio/140", "/dev/vfio/140", "mrw"}}));

  auto usb = kubelet_.allocate(kUsb, {"usb-1-2"});
  ASSERT_TRUE(usb.ok()) << usb.error().message;
  EXPECT_EQ(usb->envs,
            (std::map<std::string, std::string>{{"USB_RESOURCE_KUBEVIRT_IO_STORAGE", "1:5"}}));
  EXPECT_EQ(usb->devices,
            (std::vector<DeviceNode>{{"/dev/bus/usb/001/005", "/dev/bus/usb/001/005", "mrw"}}));
}

TEST_F(PluginDaemonTest, GroupOfTwoIsAllocatedWhole) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return registered(kQat); }));
  auto a = kubelet_.allocate(kQat, {"pci-0000:05:00.0"});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->envs.at("PCI_RESOURCE_INTEL_COM_QAT"), "0000:05:00.0,0000:05:00.1");
  EXPECT_EQ(a->devices, (std::vector<DeviceNode>{{"/dev/vfio/vfio", "/dev/vfio/vfio", "mrw"},
                                                 {"/dev/vfio/9", "/dev/vfio/9", "mrw"}}));
}

TEST_F(PluginDaemonTest, UnknownIdIsRejectedWithAClearError) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return registered(kT4); }));
  auto a = kubelet_.allocate(kT4, {"pci-0000:99:00.0"});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message.rfind("NOT_FOUND: allocate nvidia.com/TU104GL_Tesla_T4: no device "
                                    "'pci-0000:99:00.0' in this resource (it has: "
                                    "pci-0000:65:00.0, pci-0000:b3:00.0, pci-0000:b4:00.0)",
                                    0),
            0u)
      << a.error().message;
}

TEST_F(PluginDaemonTest, PreferredAllocationKeepsToOneNumaNode) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return registered(kT4); }));
  auto p =
      kubelet_.preferred(kT4, {"pci-0000:65:00.0", "pci-0000:b3:00.0", "pci-0000:b4:00.0"}, {}, 2);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, (std::vector<std::string>{"pci-0000:b3:00.0", "pci-0000:b4:00.0"}));
  p = kubelet_.preferred(kT4, {"pci-0000:65:00.0", "pci-0000:b3:00.0", "pci-0000:b4:00.0"},
                         {"pci-0000:65:00.0"}, 1);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"pci-0000:65:00.0"}));
}

TEST_F(PluginDaemonTest, LeavingVfioMakesTheDeviceUnhealthyAndRebindingHealthyAgain) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kT4, "pci-0000:b4:00.0", "Healthy"); }));
  size_t lists = kubelet_.lists_received(kT4);
  // Unbind: the driver's entry and the device's driver link go. The device's link goes first
  // here because only the driver's directory is watched: its event must come once both are
  // gone, as the kernel's unbind uevent comes after both (else the daemon may re-check between
  // the two, still see the link, and never hear of the device again).
  std::string dev = tree_.device_path("0000:b4:00.0");
  fs::remove(tree_.path(dev + "/driver"));
  fs::remove(tree_.path("/sys/bus/pci/drivers/vfio-pci/0000:b4:00.0"));
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kT4, "pci-0000:b4:00.0", "Unhealthy"); }));
  EXPECT_TRUE(health_is(kT4, "pci-0000:b3:00.0", "Healthy"));
  EXPECT_EQ(kubelet_.devices(kT4)->size(), 3u) << "ListAndWatch sends the full list";
  EXPECT_GT(kubelet_.lists_received(kT4), lists);
  auto refused = kubelet_.allocate(kT4, {"pci-0000:b4:00.0"});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("FAILED_PRECONDITION"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("0000:b4:00.0 left vfio-pci (now unbound)"),
            std::string::npos)
      << refused.error().message;

  tree_.symlink(FixtureTree::relative(dev + "/driver", "/sys/bus/pci/drivers/vfio-pci"),
                dev + "/driver");
  tree_.symlink(FixtureTree::relative("/sys/bus/pci/drivers/vfio-pci/0000:b4:00.0", dev),
                "/sys/bus/pci/drivers/vfio-pci/0000:b4:00.0");
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kT4, "pci-0000:b4:00.0", "Healthy"); }));
}

// A GPU whose IOMMU group also holds its audio function: the resource selects the GPU only,
// the audio function must stay on vfio-pci for the group to be viable.
class SiblingTest : public PluginDaemonTest {
 protected:
  SiblingTest() {
    add_vfio_pci("0000:66:00.0", 31, 0, true);
    PciSpec audio;
    audio.address = "0000:66:00.1";
    audio.vendor = 0x10de;
    audio.device = 0x10f8;
    audio.class_code = 0x040300;
    audio.driver = "vfio-pci";
    audio.iommu_group = 31;
    audio.numa_node = 0;
    tree_.add_pci(audio);
    tree_.add_driver("snd_hda_intel");
    Inventory inv = base_inventory();
    inv.resources[0].units.push_back(pci({"0000:66:00.0"}, 31, 0));
    set_inventory(inv);
  }
  ~SiblingTest() override {
    for (int fd : kernel_)
      if (fd >= 0) ::close(fd);
  }
  // The kernel's side of a uevent socket; the daemon gets the other end.
  void open_uevent_socket() {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, kernel_), 0);
    uevent_fd_ = kernel_[1];
  }
  void send_uevent(const std::string& datagram) {
    ASSERT_EQ(::send(kernel_[0], datagram.data(), datagram.size(), 0),
              static_cast<ssize_t>(datagram.size()));
  }
  // What the kernel changes in sysfs when the audio function moves to `driver`: the device's
  // driver link, and (unless `quiet`, where sysfs gives no inotify event anyway) the entries in
  // the old and new driver's directories.
  void rebind_audio(const std::string& from, const std::string& to, bool quiet) {
    std::string dev = tree_.device_path("0000:66:00.1");
    fs::remove(tree_.path(dev + "/driver"));
    tree_.symlink(FixtureTree::relative(dev + "/driver", "/sys/bus/pci/drivers/" + to),
                  dev + "/driver");
    if (quiet) return;
    fs::remove(tree_.path("/sys/bus/pci/drivers/" + from + "/0000:66:00.1"));
    tree_.symlink(FixtureTree::relative("/sys/bus/pci/drivers/" + to + "/0000:66:00.1", dev),
                  "/sys/bus/pci/drivers/" + to + "/0000:66:00.1");
  }
  int kernel_[2] = {-1, -1};
};

TEST_F(SiblingTest, SiblingLeavingVfioMakesTheGroupUnhealthyThoughItsNodeStays) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kT4, "pci-0000:66:00.0", "Healthy"); }));
  rebind_audio("vfio-pci", "snd_hda_intel", false);
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kT4, "pci-0000:66:00.0", "Unhealthy"); }));
  EXPECT_TRUE(fs::exists(tree_.path("/dev/vfio/31"))) << "the group's node stays";
  EXPECT_TRUE(health_is(kT4, "pci-0000:65:00.0", "Healthy"));
  auto refused = kubelet_.allocate(kT4, {"pci-0000:66:00.0"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "FAILED_PRECONDITION: allocate nvidia.com/TU104GL_Tesla_T4: device "
            "'pci-0000:66:00.0' is unhealthy: 0000:66:00.1 in the same IOMMU group 31 left "
            "vfio-pci (now on snd_hda_intel): the group is not viable until it is back on "
            "vfio-pci");
  rebind_audio("snd_hda_intel", "vfio-pci", false);
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kT4, "pci-0000:66:00.0", "Healthy"); }));
}

TEST_F(SiblingTest, KernelUeventCarriesASiblingRebindThatSysfsDoesNotAnnounce) {
  open_uevent_socket();
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kT4, "pci-0000:66:00.0", "Healthy"); }));
  // As on a real kernel: sysfs changes without an inotify event; the uevents say it.
  rebind_audio("vfio-pci", "snd_hda_intel", true);
  const std::string devpath = "/devices/pci0000:00/0000:66:00.1";
  using namespace std::string_literals;
  send_uevent("unbind@" + devpath + "\0ACTION=unbind\0DEVPATH=" + devpath +
              "\0SUBSYSTEM=pci\0PCI_SLOT_NAME=0000:66:00.1\0SEQNUM=801\0"s);
  send_uevent("bind@" + devpath + "\0ACTION=bind\0DEVPATH=" + devpath +
              "\0SUBSYSTEM=pci\0DRIVER=snd_hda_intel\0PCI_SLOT_NAME=0000:66:00.1\0SEQNUM=802\0"s);
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kT4, "pci-0000:66:00.0", "Unhealthy"); }));
  EXPECT_TRUE(
      wait_logged("nvidia.com/TU104GL_Tesla_T4: pci-0000:66:00.0 is Unhealthy: "
                  "0000:66:00.1 in the same IOMMU group 31 left vfio-pci (now on "
                  "snd_hda_intel)"));
  rebind_audio("snd_hda_intel", "vfio-pci", true);
  send_uevent("bind@" + devpath + "\0ACTION=bind\0DEVPATH=" + devpath +
              "\0SUBSYSTEM=pci\0DRIVER=vfio-pci\0PCI_SLOT_NAME=0000:66:00.1\0SEQNUM=804\0"s);
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kT4, "pci-0000:66:00.0", "Healthy"); }));
}

TEST_F(PluginDaemonTest, VanishedVfioNodeMakesTheDeviceUnhealthyUntilItIsBack) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kQat, "pci-0000:05:00.0", "Healthy"); }));
  fs::remove(tree_.path("/dev/vfio/9"));
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kQat, "pci-0000:05:00.0", "Unhealthy"); }));
  tree_.write("/dev/vfio/9", "");
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kQat, "pci-0000:05:00.0", "Healthy"); }));
  // USB: the node goes with the device.
  fs::remove(tree_.path("/dev/bus/usb/001/005"));
  ASSERT_TRUE(kubelet_.wait_for([&] { return health_is(kUsb, "usb-1-2", "Unhealthy"); }));
  EXPECT_TRUE(
      wait_logged("kubevirt.io/storage: usb-1-2 is Unhealthy: /dev/bus/usb/001/005 is missing"));
}

TEST_F(PluginDaemonTest, KubeletRestartIsDetectedAndEveryResourceReRegisters) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return kubelet_.registrations().size() >= 4; }));
  kubelet_.restart();  // deletes every socket, serves a new kubelet.sock
  ASSERT_TRUE(kubelet_.wait_for([&] {
    return registered(kT4, 2) && registered(kQat, 2) && registered(kGrid, 2) && registered(kUsb, 2);
  }));
  for (const char* name : {kT4, kQat, kGrid, kUsb})
    EXPECT_TRUE(fs::exists(sockets_ + "/" + plugin_socket_name(name))) << name;
  ASSERT_TRUE(kubelet_.wait_for([&] { return kubelet_.devices(kT4).has_value(); }));
  EXPECT_EQ(kubelet_.devices(kT4)->size(), 3u);
  auto a = kubelet_.allocate(kT4, {"pci-0000:65:00.0"});
  EXPECT_TRUE(a.ok()) << a.error().message;
}

// The loop looks each served name up in its map of resources; apply() keeps the two equal. With
// the invariant broken by hand, every action on that resource is skipped with a log line, the
// others go on, and the next policy reload serves it again.
TEST_F(PluginDaemonTest, ABrokenServedSetInvariantIsLoggedAndSkippedNotFatal) {
  Status s = create_and_start_daemon();
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(kubelet_.wait_for([&] { return kubelet_.registrations().size() >= 4; }));
  daemon_->forget_resource_for_testing(kQat);
  loop_ = std::thread([this] { ASSERT_TRUE(daemon_->run().ok()); });
  kubelet_.restart();  // every served name is registered again: kQat is looked up and missing
  EXPECT_TRUE(wait_logged(std::string(kQat) +
                          " is in the serving order but not served; skipped until the next "
                          "policy reload"));
  ASSERT_TRUE(kubelet_.wait_for(
      [&] { return registered(kT4, 2) && registered(kGrid, 2) && registered(kUsb, 2); }));
  EXPECT_FALSE(registered(kQat, 2));
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(std::count_if(logs_.begin(), logs_.end(),
                            [](const std::string& l) {
                              return l.find("is in the serving order") != std::string::npos;
                            }),
              1)
        << "reported once, not at every wake-up";
  }
  touch_policy("# policy v2\n");  // the reload finds kQat missing from the map and serves it
  EXPECT_TRUE(wait_logged("serving " + std::string(kQat)));
  ASSERT_TRUE(kubelet_.wait_for([&] { return registered(kQat, 2); }));
  auto a = kubelet_.allocate(kT4, {"pci-0000:65:00.0"});
  EXPECT_TRUE(a.ok()) << a.error().message;
  stop_daemon();  // run() returned ok: the daemon lived through it
}

TEST_F(PluginDaemonTest, RegistrationErrorsAreRetriedWithBackoff) {
  kubelet_.fail_next_registrations(6);  // four first attempts, then two retries
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return kubelet_.registrations().size() >= 4; }));
  EXPECT_TRUE(wait_logged("fake kubelet: told to fail; retrying in 10 ms"));
  EXPECT_TRUE(wait_logged("; retrying in 20 ms"));
}

TEST_F(PluginDaemonTest, PolicyEditAddsRemovesAndResizesWithoutTouchingTheRest) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] {
    return kubelet_.devices(kT4) && kubelet_.devices(kQat) && kubelet_.devices(kGrid) &&
           kubelet_.devices(kUsb);
  }));
  Inventory inv = base_inventory();
  inv.resources[0].units.pop_back();               // T4: 3 → 2
  inv.resources.erase(inv.resources.begin() + 3);  // USB removed
  inv.resources.back().external = true;            // NVMe now ours
  set_inventory(inv);
  touch_policy("# policy v2\n");

  ASSERT_TRUE(kubelet_.wait_for([&] { return registered(kNvme); }));
  ASSERT_TRUE(kubelet_.wait_for([&] {
    return kubelet_.devices(kT4) && kubelet_.devices(kT4)->size() == 2 && kubelet_.devices(kUsb) &&
           kubelet_.devices(kUsb)->empty();
  }));
  EXPECT_FALSE(fs::exists(sockets_ + "/" + plugin_socket_name(kUsb)));
  // Unchanged and resized resources keep their first stream and their one registration.
  for (const char* name : {kT4, kQat, kGrid}) {
    EXPECT_EQ(kubelet_.streams_opened(name), 1u) << name;
    EXPECT_FALSE(kubelet_.stream_ended(name)) << name;
    EXPECT_FALSE(registered(name, 2)) << name;
  }
  EXPECT_EQ(kubelet_.lists_received(kQat), 1u) << "an unchanged resource gets no new list";
  EXPECT_EQ(daemon_->served(), (std::vector<std::string>{kT4, kQat, kGrid, kNvme}));
}

TEST_F(PluginDaemonTest, AnUnreadablePolicyKeepsTheCurrentResources) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return kubelet_.devices(kUsb).has_value(); }));
  {
    std::lock_guard lock(mu_);
    fail_load_ = true;
  }
  touch_policy("not: [valid\n");
  ASSERT_TRUE(
      wait_logged("policy change not applied, keeping the current resources: "
                  "kubevirt-cr.yaml:1: not valid"));
  EXPECT_EQ(daemon_->served(), (std::vector<std::string>{kT4, kQat, kGrid, kUsb}));
  EXPECT_EQ(kubelet_.devices(kUsb)->size(), 1u);
  EXPECT_FALSE(kubelet_.stream_ended(kUsb));
}

TEST_F(PluginDaemonTest, APolicyThatServesADeviceTwiceIsRefusedAtStart) {
  set_inventory(served_twice());
  Status s = create_and_start_daemon();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::Refused);
  EXPECT_EQ(s.error().message.rfind("refusing the policy: 1 device would be served twice", 0), 0u)
      << s.error().message;
  EXPECT_TRUE(daemon_->served().empty());
  EXPECT_FALSE(fs::exists(sockets_ + "/" + plugin_socket_name(kT4)));
  EXPECT_TRUE(kubelet_.registrations().empty());
  daemon_.reset();
}

TEST_F(PluginDaemonTest, WithServeAllTheSamePolicyIsServedWhole) {
  // --all: hostpass serves the resource KubeVirt would have served too, so nothing is twice.
  serve_all_ = true;
  set_inventory(served_twice());
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return registered(kNvme); }));
  EXPECT_EQ(daemon_->served(), (std::vector<std::string>{kT4, kQat, kGrid, kUsb, kNvme}));
}

TEST_F(PluginDaemonTest, APolicyEditThatServesADeviceTwiceIsRefusedAndTheCurrentOneStays) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return kubelet_.devices(kUsb).has_value(); }));
  Inventory inv = served_twice();
  inv.resources.erase(inv.resources.begin() + 3);  // would remove USB, were it accepted
  set_inventory(inv);
  touch_policy("# policy v2\n");
  ASSERT_TRUE(
      wait_logged("policy change refused, keeping the current resources: refusing the "
                  "policy: 1 device would be served twice"));
  ASSERT_TRUE(
      wait_logged("policy change refused, keeping the current resources:   "
                  "0000:04:00.0 (8086:5845): hostpass serves it as example.com/nvme-fast"));
  ASSERT_TRUE(wait_logged("policy change refused, keeping the current resources: fix: mark " +
                          std::string(kNvme) + " (line 2) externalResourceProvider: true"));
  EXPECT_EQ(daemon_->served(), (std::vector<std::string>{kT4, kQat, kGrid, kUsb}));
  EXPECT_EQ(kubelet_.devices(kUsb)->size(), 1u);
  EXPECT_FALSE(kubelet_.stream_ended(kUsb));

  // The fixed policy (nothing served twice) is applied.
  inv.double_served.clear();
  set_inventory(inv);
  touch_policy("# policy v3\n");
  ASSERT_TRUE(kubelet_.wait_for([&] {
    auto d = kubelet_.devices(kUsb);
    return d && d->empty();
  }));
  // The empty list reaches the kubelet before the daemon drops the resource's server.
  const std::vector<std::string> fixed{kT4, kQat, kGrid};
  ASSERT_TRUE(kubelet_.wait_for([&] { return daemon_->served() == fixed; }));
}

TEST_F(PluginDaemonTest, StopEndsStreamsAndRemovesSockets) {
  start_daemon();
  ASSERT_TRUE(kubelet_.wait_for([&] { return kubelet_.devices(kT4).has_value(); }));
  stop_daemon();
  for (const char* name : {kT4, kQat, kGrid, kUsb})
    EXPECT_FALSE(fs::exists(sockets_ + "/" + plugin_socket_name(name))) << name;
  ASSERT_TRUE(kubelet_.wait_for([&] { return kubelet_.stream_ended(kT4); }));
}

}  // namespace
}  // namespace hostpass::testing
