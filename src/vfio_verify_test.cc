// vfio_verify_test.cc — verify's steps on fixture roots (where it must stop cleanly at the first
// step) and over a scripted VFIO (the ioctl answers of drivers/vfio/*.c, including their errnos),
// for the logic between the ioctls. The real ioctls run in the kernel tier (tests/kernel).
#include "vfio_verify.h"

#include <gtest/gtest.h>
#include <linux/vfio.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "faulty_host.h"
#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::MdevTypeSpec;
using testing::PciSpec;
using testing::ScratchDir;

// The kernel's answers, as the test scripts them.
struct FakeVfio {
  int api_version = VFIO_API_VERSION;
  bool type1v2 = true;
  std::map<int, uint32_t> group_flags = {{9, VFIO_GROUP_FLAGS_VIABLE},
                                         {10, VFIO_GROUP_FLAGS_VIABLE}};
  int set_iommu_errno = 0;
  uint32_t device_flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
  std::map<uint32_t, uint64_t> region_sizes = {{0, 128 << 10}, {3, 16 << 10}, {7, 4096}};
  std::map<uint32_t, uint32_t> irq_counts = {{0, 1}, {1, 1}, {2, 5}};
  int live_handles = 0;
  std::vector<std::string> calls;
  std::set<int> group_nodes = {9, 10};  // /dev/vfio/<N> that exist
  // Names VFIO_GROUP_GET_DEVICE_FD accepts (the kernel matches dev_name()).
  std::set<std::string> device_names = {"0000:05:00.0", "0000:05:00.1"};
  std::vector<std::string> device_fd_requests;
};

class FakeHandle : public DeviceHandle {
 public:
  FakeHandle(FakeVfio& k, std::string what, int fd) : k_(k), what_(std::move(what)), fd_(fd) {
    ++k_.live_handles;
  }
  ~FakeHandle() override { --k_.live_handles; }
  int fd() const override { return fd_; }

  IoctlResult ioctl(unsigned long request, void* arg) override {
    k_.calls.push_back(what_ + ":" + std::to_string(request));
    if (what_ == "container") {
      if (request == VFIO_GET_API_VERSION) return {k_.api_version, 0};
      if (request == VFIO_CHECK_EXTENSION) {
        auto type = reinterpret_cast<uintptr_t>(arg);
        return {(type == VFIO_TYPE1v2_IOMMU && k_.type1v2) || type == VFIO_TYPE1_IOMMU ? 1 : 0, 0};
      }
      if (request == VFIO_SET_IOMMU) return {0, k_.set_iommu_errno};
    } else if (what_.rfind("group", 0) == 0) {
      int g = std::stoi(what_.substr(5));
      if (request == VFIO_GROUP_GET_STATUS) {
        static_cast<vfio_group_status*>(arg)->flags = k_.group_flags[g];
        return {0, 0};
      }
      if (request == VFIO_GROUP_SET_CONTAINER) {
        // group.c: vfio_group_ioctl_set_container → -EPERM unless viable.
        if (!(k_.group_flags[g] & VFIO_GROUP_FLAGS_VIABLE)) return {0, EPERM};
        return {0, 0};
      }
    } else if (what_ == "device") {
      if (request == VFIO_DEVICE_GET_INFO) {
        auto* di = static_cast<vfio_device_info*>(arg);
        di->flags = k_.device_flags;
        di->num_regions = 9;
        di->num_irqs = 5;
        return {0, 0};
      }
      if (request == VFIO_DEVICE_GET_REGION_INFO) {
        auto* ri = static_cast<vfio_region_info*>(arg);
        // vfio_pci_core_ioctl: the VGA region of a device that is not VGA is EINVAL, as the real
        // kernel answers for an e1000e (seen in the kernel tier).
        if (ri->index == VFIO_PCI_VGA_REGION_INDEX) return {0, EINVAL};
        ri->size = k_.region_sizes.count(ri->index) ? k_.region_sizes[ri->index] : 0;
        ri->flags = ri->size ? VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE : 0;
        return {0, 0};
      }
      if (request == VFIO_DEVICE_GET_IRQ_INFO) {
        auto* ii = static_cast<vfio_irq_info*>(arg);
        ii->count = k_.irq_counts.count(ii->index) ? k_.irq_counts[ii->index] : 0;
        return {0, 0};
      }
    }
    return {0, ENOTTY};
  }

  Result<std::unique_ptr<DeviceHandle>> ioctl_open(unsigned long request, void* arg) override {
    k_.calls.push_back(what_ + ":" + std::to_string(request));
    if (what_.rfind("group", 0) == 0 && request == VFIO_GROUP_GET_DEVICE_FD) {
      std::string name = static_cast<const char*>(arg);
      k_.device_fd_requests.push_back(name);
      if (k_.device_names.count(name))
        return std::unique_ptr<DeviceHandle>(new FakeHandle(k_, "device", 40));
      return io_error("ioctl on /dev/vfio/9: " + std::string(std::strerror(ENODEV)));
    }
    return io_error("ioctl: " + std::string(std::strerror(ENOTTY)));
  }

 private:
  FakeVfio& k_;
  std::string what_;
  int fd_;
};

// A fixture host whose /dev/vfio nodes answer like the kernel's (FaultyHost forwards the rest).
class FakeVfioHost : public FaultyHost {
 public:
  FakeVfioHost(Host& inner, FakeVfio& k) : FaultyHost(inner), k_(k) {}
  Result<std::unique_ptr<DeviceHandle>> open_device(std::string_view path) override {
    if (path == "/dev/vfio/vfio")
      return std::unique_ptr<DeviceHandle>(new FakeHandle(k_, "container", 30));
    // /dev/vfio/<N> exists while a member of group N is on vfio-pci (for an mdev: while its
    // vendor driver has it registered).
    if (path.rfind("/dev/vfio/", 0) == 0 && path.size() > 10 &&
        std::isdigit(static_cast<unsigned char>(path[10])) &&
        k_.group_nodes.count(std::stoi(std::string(path.substr(10)))))
      return std::unique_ptr<DeviceHandle>(
          new FakeHandle(k_, "group" + std::string(path.substr(10)), 31));
    return not_found("cannot open " + std::string(path) + ": No such file or directory");
  }

 private:
  FakeVfio& k_;
};

PciAddress addr(const char* s) {
  return *PciAddress::parse(s);
}

class VfioVerify : public ::testing::Test {
 protected:
  VfioVerify() : tree_(dir_.path() + "/root") {
    // Two functions of one slot sharing group 9, and a NIC alone in group 11 on e1000e.
    tree_.add_pci(PciSpec{.address = "0000:05:00.0",
                          .device = 0x10d3,
                          .driver = "vfio-pci",
                          .iommu_group = 9,
                          .multifunction = true});
    tree_.add_pci(PciSpec{.address = "0000:05:00.1",
                          .device = 0x10d3,
                          .driver = "e1000e",
                          .iommu_group = 9,
                          .multifunction = true});
    tree_.add_pci(PciSpec{
        .address = "0000:06:00.0", .device = 0x10d3, .driver = "e1000e", .iommu_group = 11});
    tree_.add_pci(PciSpec{.address = "0000:07:00.0", .device = 0x10d3});  // no IOMMU group
  }
  VerifyReport run(const char* a) {
    RealHost real(tree_.root());
    FakeVfioHost host(real, k_);
    VerifyReport r = verify_assignable(host, addr(a));
    EXPECT_EQ(k_.live_handles, 0) << "verify left a VFIO descriptor open";
    EXPECT_EQ(host.write_count(), 0) << "verify must never write";
    return r;
  }
  std::vector<std::string> names(const VerifyReport& r) {
    std::vector<std::string> out;
    for (const VerifyStep& s : r.steps) out.push_back(s.name);
    return out;
  }
  ScratchDir dir_;
  FixtureTree tree_;
  FakeVfio k_;
};

TEST_F(VfioVerify, OnAFixtureRootWithoutDeviceNodesStopsAtTheContainerStep) {
  RealHost host(tree_.root());
  VerifyReport r = verify_assignable(host, addr("0000:05:00.0"));
  ASSERT_EQ(r.steps.size(), 1u);
  EXPECT_EQ(r.steps[0].name, "container");
  EXPECT_FALSE(r.steps[0].ok);
  EXPECT_EQ(r.steps[0].detail,
            "no /dev/vfio/vfio character device: the vfio module is not loaded (modprobe "
            "vfio-pci; `hostpass check` tells what else is missing)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.failure(), &r.steps[0]);
}

TEST_F(VfioVerify, APlainFileWhereTheContainerShouldBeIsNotOpened) {
  tree_.write("/dev/vfio/vfio", "");
  RealHost host(tree_.root());
  VerifyReport r = verify_assignable(host, addr("0000:05:00.0"));
  ASSERT_EQ(r.steps.size(), 1u);
  EXPECT_EQ(r.steps[0].detail,
            "cannot open the VFIO container: /dev/vfio/vfio is not a character "
            "device (under --root " +
                tree_.root() + ")");
}

TEST_F(VfioVerify, TheDefaultHostHasNoDeviceNodes) {
  RealHost real(tree_.root());
  FaultyHost host(real);  // forwards open_device to RealHost
  EXPECT_EQ(host.open_device("/dev/vfio/vfio").error().kind, ErrorKind::NotFound);
  EXPECT_EQ(host.read_count(), 1);
}

TEST_F(VfioVerify, AViableGroupPassesEveryStepAndReportsRegionsIrqsAndReset) {
  k_.group_flags[9] = VFIO_GROUP_FLAGS_VIABLE;
  VerifyReport r = run("0000:05:00.0");
  ASSERT_TRUE(r.ok()) << (r.failure() ? r.failure()->detail : "");
  EXPECT_EQ(names(r), (std::vector<std::string>{"container", "group", "viable", "attach", "iommu",
                                                "device", "info"}));
  EXPECT_EQ(r.iommu_group, 9);
  EXPECT_EQ(r.iommu_type, "type1v2");
  ASSERT_TRUE(r.device);
  EXPECT_TRUE(r.device->pci);
  EXPECT_TRUE(r.device->reset);
  ASSERT_EQ(r.device->regions.size(), 3u);
  EXPECT_EQ(r.device->regions[1].name, "BAR3");
  EXPECT_EQ(r.device->regions[1].size, 16u << 10);
  EXPECT_EQ(r.steps[0].detail, "/dev/vfio/vfio: API version 0, type1v2 IOMMU supported");
  EXPECT_EQ(r.steps[6].detail,
            "9 regions, 5 irq indexes, reset supported; BAR0 128 KiB, BAR3 16 KiB, config 4 KiB; "
            "irqs: INTx 1, MSI 1, MSI-X 5");
}

TEST_F(VfioVerify, FallsBackToType1WhenType1v2IsMissing) {
  k_.type1v2 = false;
  VerifyReport r = run("0000:06:00.0");
  EXPECT_EQ(r.iommu_type, "type1");
  EXPECT_EQ(r.steps[0].detail, "/dev/vfio/vfio: API version 0, type1 IOMMU supported");
}

TEST_F(VfioVerify, ANonViableGroupFailsAtViabilityNamingTheSiblingAndItsDriver) {
  k_.group_flags[9] = 0;
  VerifyReport r = run("0000:05:00.0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(names(r), (std::vector<std::string>{"container", "group", "viable"}));
  EXPECT_EQ(r.failure()->name, "viable");
  EXPECT_EQ(r.failure()->detail,
            "IOMMU group 9 is not viable: 0000:05:00.1 (on e1000e) still on a host driver; every "
            "device of the group must be on vfio-pci, pci-stub, pcieport or no driver (hostpass "
            "bind --group 0000:05:00.0)");
  EXPECT_FALSE(r.device);
}

TEST_F(VfioVerify, ADeviceOnItsHostDriverHasNoGroupNode) {
  VerifyReport r = run("0000:06:00.0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure()->name, "group");
  EXPECT_EQ(r.iommu_group, 11);
  EXPECT_EQ(r.failure()->detail,
            "/dev/vfio/11 does not exist: 0000:06:00.0 is bound to e1000e, "
            "not to a VFIO driver (hostpass bind 0000:06:00.0)");
}

TEST_F(VfioVerify, ADeviceWithoutAnIommuGroupFailsAtTheGroupStep) {
  VerifyReport r = run("0000:07:00.0");
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_EQ(r.failure()->name, "group");
  EXPECT_EQ(r.failure()->detail.rfind("0000:07:00.0 has no IOMMU group: the IOMMU is off", 0), 0u)
      << r.failure()->detail;
}

TEST_F(VfioVerify, AMissingDeviceIsNamed) {
  VerifyReport r = run("0000:42:00.0");
  EXPECT_EQ(r.failure()->detail,
            "no PCI device 0000:42:00.0 (/sys/bus/pci/devices/0000:42:00.0 does not exist)");
}

TEST_F(VfioVerify, UnsafeInterruptsRefusalExplainsInterruptRemapping) {
  k_.group_flags[9] = VFIO_GROUP_FLAGS_VIABLE;
  k_.set_iommu_errno = EPERM;
  VerifyReport r = run("0000:05:00.0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure()->name, "iommu");
  EXPECT_EQ(r.failure()->detail.rfind("VFIO_SET_IOMMU (type1v2) failed: Operation not permitted: "
                                      "no interrupt remapping",
                                      0),
            0u)
      << r.failure()->detail;
}

TEST_F(VfioVerify, AWrongApiVersionStopsAtTheContainer) {
  k_.api_version = 1;
  VerifyReport r = run("0000:05:00.0");
  ASSERT_EQ(r.steps.size(), 1u);
  EXPECT_EQ(r.steps[0].detail,
            "/dev/vfio/vfio speaks VFIO API version 1, hostpass and QEMU speak 0");
}

// ---- mediated devices ----

constexpr const char* kMdevUuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";

// A vGPU parent with one instance in its own (emulated) IOMMU group 12, as Linux 6.1 gives it.
class VfioVerifyMdev : public ::testing::Test {
 protected:
  VfioVerifyMdev() : tree_(dir_.path() + "/root") {
    tree_.add_pci(PciSpec{.address = "0000:81:00.0",
                          .vendor = 0x10de,
                          .device = 0x1eb8,
                          .class_code = 0x030200,
                          .driver = "nvidia",
                          .iommu_group = 20});
    tree_.add_mdev_type("0000:81:00.0",
                        MdevTypeSpec{"nvidia-230", "GRID T4-1Q", "vfio-pci", 16, "num_heads=4"});
    tree_.add_mdev_instance("0000:81:00.0", "nvidia-230", kMdevUuid);
    tree_.mkdir("/sys/kernel/iommu_groups/12/devices");
    tree_.symlink("../../../../../../kernel/iommu_groups/12",
                  std::string("/sys/bus/mdev/devices/") + kMdevUuid + "/iommu_group");
    k_.group_nodes = {12};
    k_.group_flags = {{12, VFIO_GROUP_FLAGS_VIABLE}};
    k_.device_names = {kMdevUuid};
    k_.device_flags = VFIO_DEVICE_FLAGS_PCI;  // no reset flag, as mtty and vGPUs report
    k_.region_sizes = {{0, 8}, {7, 255}};
  }
  VerifyReport run(std::string_view uuid) {
    RealHost real(tree_.root());
    FakeVfioHost host(real, k_);
    VerifyReport r = verify_mdev_assignable(host, uuid);
    EXPECT_EQ(k_.live_handles, 0) << "verify left a VFIO descriptor open";
    EXPECT_EQ(host.write_count(), 0) << "verify must never write";
    return r;
  }
  ScratchDir dir_;
  FixtureTree tree_;
  FakeVfio k_;
};

TEST_F(VfioVerifyMdev, AnInstancePassesEveryStepWithItsUuidAsTheDeviceName) {
  VerifyReport r = run(kMdevUuid);
  ASSERT_TRUE(r.ok()) << (r.failure() ? r.failure()->detail : "");
  EXPECT_TRUE(r.mdev);
  EXPECT_EQ(r.device_name, kMdevUuid);
  EXPECT_EQ(r.mdev_parent, "0000:81:00.0");
  EXPECT_EQ(r.mdev_type, "nvidia-230");
  EXPECT_EQ(r.mdev_device_api, "vfio-pci");
  EXPECT_EQ(r.iommu_group, 12);
  EXPECT_EQ(k_.device_fd_requests, (std::vector<std::string>{kMdevUuid}));
  EXPECT_EQ(r.steps[1].detail, "/dev/vfio/12 opened (IOMMU group 12)");
  EXPECT_EQ(r.steps[5].detail, std::string("device fd for ") + kMdevUuid + " obtained");
  EXPECT_EQ(r.steps[6].detail,
            "9 regions, 5 irq indexes, reset not advertised (the vendor driver resets the "
            "instance); BAR0 8 B, config 255 B; irqs: INTx 1, MSI 1, MSI-X 5");
}

TEST_F(VfioVerifyMdev, AnUpperCaseUuidIsAskedForInTheKernelsLowerCase) {
  VerifyReport r = run("83B8F4F2-509F-382F-3C1E-E6BFE0FA1001");
  EXPECT_TRUE(r.ok()) << (r.failure() ? r.failure()->detail : "");
  EXPECT_EQ(k_.device_fd_requests, (std::vector<std::string>{kMdevUuid}));
}

TEST_F(VfioVerifyMdev, AnUnknownInstanceFailsAtTheGroupStep) {
  VerifyReport r = run("00000000-0000-4000-8000-000000000001");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure()->name, "group");
  EXPECT_EQ(r.failure()->detail,
            "no mediated device 00000000-0000-4000-8000-000000000001 "
            "(/sys/bus/mdev/devices/00000000-0000-4000-8000-000000000001 does not exist; see "
            "`hostpass mdev list`)");
}

TEST_F(VfioVerifyMdev, AnInstanceWithoutAGroupNamesItsVendorDriver) {
  std::filesystem::remove(tree_.root() + "/sys/bus/mdev/devices/" + kMdevUuid + "/iommu_group");
  VerifyReport r = run(kMdevUuid);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure()->detail,
            std::string(kMdevUuid) +
                " has no IOMMU group: its vendor driver did not register it with VFIO (is the "
                "vendor's mdev driver loaded? device_api: vfio-pci)");
}

TEST_F(VfioVerifyMdev, AMissingGroupNodeIsTheVendorDriversMatter) {
  k_.group_nodes.clear();
  VerifyReport r = run(kMdevUuid);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure()->detail, std::string("/dev/vfio/12 does not exist: the VFIO group of ") +
                                     kMdevUuid +
                                     " was not registered (its vendor driver has not bound it)");
}

TEST_F(VfioVerifyMdev, TheDeviceFdMustBeWhatTheTypesDeviceApiSays) {
  tree_.write("/sys/class/mdev_bus/0000:81:00.0/mdev_supported_types/nvidia-230/device_api",
              "vfio-ccw\n");
  VerifyReport r = run(kMdevUuid);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure()->name, "info");
  EXPECT_EQ(r.failure()->detail, std::string("the device fd of ") + kMdevUuid +
                                     " is not a vfio-ccw device as its type's device_api says "
                                     "(flags 0x2)");
}

TEST_F(VfioVerifyMdev, AMalformedUuidIsRefusedBeforeAnythingIsOpened) {
  VerifyReport r = run("83b8f4f2-509f-382f-3c1e-e6bfe0fa100");
  ASSERT_EQ(r.steps.size(), 1u);
  EXPECT_EQ(r.steps[0].name, "group");
  EXPECT_TRUE(k_.calls.empty());
}

TEST(FormatSize, UsesTheLargestExactUnit) {
  EXPECT_EQ(format_size(131072), "128 KiB");
  EXPECT_EQ(format_size(4096), "4 KiB");
  EXPECT_EQ(format_size(32), "32 B");
  EXPECT_EQ(format_size(3 << 20), "3 MiB");
  EXPECT_EQ(format_size(1536), "1536 B");
}

}  // namespace
}  // namespace hostpass
