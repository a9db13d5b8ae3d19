// vfio_verify.cc — the container → group → device walk of vfio_verify.h, one step at a time.
//
// Every ioctl is issued through DeviceHandle (host.h); this file never calls open() or ioctl()
// itself. The errno meanings quoted next to each step are those of drivers/vfio/container.c and
// drivers/vfio/group.c (Linux 6.1), which the kernel tier (tests/kernel) observes for real.
#include "vfio_verify.h"

#include <linux/vfio.h>

#include <cstring>
#include <memory>

#include "iommu_group.h"
#include "mdev.h"
#include "pci_device.h"
#include "pci_id.h"
#include "vfio_rules.h"

namespace hostpass {

namespace {

class Walk {
 public:
  Walk(Host& host, VerifyReport& report) : host_(host), r_(report) {}

  bool pass(const char* step, std::string detail) {
    r_.steps.push_back(VerifyStep{step, true, std::move(detail)});
    return true;
  }
  bool fail(const char* step, std::string detail) {
    r_.steps.push_back(VerifyStep{step, false, std::move(detail)});
    return false;
  }

  bool container();
  bool group();
  bool viable();
  bool attach();
  bool iommu();
  bool device();
  bool info();

 private:
  std::string addr() const { return r_.device_name; }
  std::string group_node() const { return "/dev/vfio/" + std::to_string(*r_.iommu_group); }
  // Group members whose driver keeps the group from being viable, as "ADDR (on DRIVER)".
  std::vector<std::string> blocking_members();

  Host& host_;
  VerifyReport& r_;
  std::unique_ptr<DeviceHandle> container_;
  std::unique_ptr<DeviceHandle> group_;
  std::unique_ptr<DeviceHandle> device_;
  unsigned long iommu_type_ = 0;
};

std::string errno_text(int err) {
  return std::strerror(err);
}

bool Walk::container() {
  auto c = host_.open_device("/dev/vfio/vfio");
  if (!c.ok()) {
    if (c.error().kind == ErrorKind::NotFound)
      return fail("container",
                  "no /dev/vfio/vfio character device: the vfio module is not loaded "
                  "(modprobe vfio-pci; `hostpass check` tells what else is missing)");
    return fail("container", "cannot open the VFIO container: " + c.error().message);
  }
  container_ = std::move(*c);
  IoctlResult version = container_->ioctl(VFIO_GET_API_VERSION, nullptr);
  if (!version.ok())
    return fail("container",
                "VFIO_GET_API_VERSION failed on /dev/vfio/vfio: " + errno_text(version.error));
  if (version.value != VFIO_API_VERSION)
    return fail("container", "/dev/vfio/vfio speaks VFIO API version " +
                                 std::to_string(version.value) + ", hostpass and QEMU speak " +
                                 std::to_string(VFIO_API_VERSION));
  // type1v2 is what QEMU prefers (vfio_get_iommu_type); type1 is the fallback.
  for (unsigned long type : {static_cast<unsigned long>(VFIO_TYPE1v2_IOMMU),
                             static_cast<unsigned long>(VFIO_TYPE1_IOMMU)}) {
    // vfio.h: "VFIO_CHECK_EXTENSION - _IOW(VFIO_TYPE, VFIO_BASE + 1, __u32)": the extension is
    // passed by value in ioctl(2)'s argument slot, not through a pointer.
    // NOLINTNEXTLINE(performance-no-int-to-ptr): the kernel reads the argument as an integer.
    IoctlResult ext = container_->ioctl(VFIO_CHECK_EXTENSION, reinterpret_cast<void*>(type));
    if (ext.ok() && ext.value > 0) {
      iommu_type_ = type;
      r_.iommu_type = type == VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1";
      return pass("container", "/dev/vfio/vfio: API version " + std::to_string(version.value) +
                                   ", " + r_.iommu_type + " IOMMU supported");
    }
  }
  return fail("container",
              "the VFIO container offers no type1 IOMMU backend: load vfio_iommu_type1 "
              "(modprobe vfio_iommu_type1)");
}

bool Walk::group() {
  std::string dir =
      r_.mdev ? join_path(kMdevDevicesDir, r_.device_name) : pci_device_dir(r_.address);
  if (!host_.exists(dir))
    return fail("group", r_.mdev ? "no mediated device " + addr() + " (" + dir +
                                       " does not exist; see `hostpass mdev list`)"
                                 : "no PCI device " + addr() + " (" + dir + " does not exist)");
  auto link = host_.read_link(join_path(dir, "iommu_group"));
  if (!link.ok())
    return fail("group",
                r_.mdev ? addr() +
                              " has no IOMMU group: its vendor driver did not register it "
                              "with VFIO (is the vendor's mdev driver loaded? device_api: " +
                              (r_.mdev_device_api.empty() ? "unknown" : r_.mdev_device_api) + ")"
                        : addr() +
                              " has no IOMMU group: the IOMMU is off (enable VT-d/AMD-Vi in the "
                              "firmware and add intel_iommu=on or keep amd_iommu on; see "
                              "`hostpass check`)");
  auto number = parse_sysfs_int(base_name(*link));
  if (!number || *number < 0)
    return fail("group",
                "unreadable IOMMU group link " + join_path(dir, "iommu_group") + " -> " + *link);
  r_.iommu_group = *number;
  auto g = host_.open_device(group_node());
  if (!g.ok()) {
    if (g.error().kind == ErrorKind::NotFound && r_.mdev)
      return fail("group", group_node() + " does not exist: the VFIO group of " + addr() +
                               " was not registered (its vendor driver has not bound it)");
    if (g.error().kind == ErrorKind::NotFound) {
      auto driver = current_driver(host_, r_.address);
      return fail("group",
                  group_node() + " does not exist: " + addr() + " is " +
                      (driver ? "bound to " + *driver : std::string("not bound to any driver")) +
                      ", not to a VFIO driver (hostpass bind " + addr() + ")");
    }
    std::string why = g.error().message;
    if (why.find(std::strerror(EBUSY)) != std::string::npos)
      why += " (a VM or another process holds group " + std::to_string(*number) + ")";
    return fail("group", "cannot open " + group_node() + ": " + why);
  }
  group_ = std::move(*g);
  return pass("group", group_node() + " opened (IOMMU group " + std::to_string(*number) + ")");
}

std::vector<std::string> Walk::blocking_members() {
  std::vector<std::string> out;
  if (r_.mdev) return out;  // an emulated group holds the instance alone
  // The kernel's answer came from DMA ownership (vfio_rules.h, viability): name the members
  // whose drivers claim it.
  auto members = read_group_members(host_, *r_.iommu_group);
  if (!members.ok()) return out;
  for (const GroupMember& m : viability_blockers(*members, {}))
    out.push_back(m.address.to_string() + " (on " + m.driver.value_or("no driver") + ")");
  return out;
}

bool Walk::viable() {
  vfio_group_status status;
  std::memset(&status, 0, sizeof status);
  status.argsz = sizeof status;
  IoctlResult st = group_->ioctl(VFIO_GROUP_GET_STATUS, &status);
  if (!st.ok())
    return fail("viable",
                "VFIO_GROUP_GET_STATUS failed on " + group_node() + ": " + errno_text(st.error));
  std::string g = std::to_string(*r_.iommu_group);
  if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
    std::vector<std::string> blockers = blocking_members();
    std::string list;
    for (const std::string& b : blockers) list += (list.empty() ? "" : ", ") + b;
    return fail("viable", "IOMMU group " + g + " is not viable: " +
                              (list.empty() ? std::string("a member is bound to a host driver")
                                            : list + " still on a host driver") +
                              "; every device of the group must be on vfio-pci, pci-stub, "
                              "pcieport or no driver (hostpass bind --group " +
                              addr() + ")");
  }
  return pass("viable",
              "IOMMU group " + g + " is viable: every member is on a VFIO driver or on none");
}

bool Walk::attach() {
  int container_fd = container_->fd();
  IoctlResult r = group_->ioctl(VFIO_GROUP_SET_CONTAINER, &container_fd);
  if (!r.ok()) {
    std::string why = errno_text(r.error);
    if (r.error == EPERM) why += " (the group is not viable)";
    if (r.error == EINVAL) why += " (the group is already attached to a container)";
    return fail("attach", "VFIO_GROUP_SET_CONTAINER refused group " +
                              std::to_string(*r_.iommu_group) + ": " + why);
  }
  return pass("attach", "group " + std::to_string(*r_.iommu_group) + " attached to a container");
}

bool Walk::iommu() {
  // NOLINTNEXTLINE(performance-no-int-to-ptr): VFIO_SET_IOMMU takes the type as an integer.
  IoctlResult r = container_->ioctl(VFIO_SET_IOMMU, reinterpret_cast<void*>(iommu_type_));
  if (!r.ok()) {
    std::string why = errno_text(r.error);
    // vfio_iommu_type1_attach_group: -EPERM when neither the platform remaps interrupts nor
    // allow_unsafe_interrupts is set ("No interrupt remapping support" in the kernel log).
    if (r.error == EPERM)
      why +=
          ": no interrupt remapping (enable it in the firmware/hypervisor, e.g. "
          "intel-iommu,intremap=on; allow_unsafe_interrupts=1 of vfio_iommu_type1 works but "
          "lets the device forge interrupts)";
    return fail("iommu", "VFIO_SET_IOMMU (" + r_.iommu_type + ") failed: " + why);
  }
  return pass("iommu", r_.iommu_type + " IOMMU set on the container");
}

bool Walk::device() {
  std::string name = addr();
  auto d = group_->ioctl_open(VFIO_GROUP_GET_DEVICE_FD, name.data());
  if (!d.ok())
    return fail("device", "VFIO_GROUP_GET_DEVICE_FD(" + name + ") failed: " + d.error().message);
  device_ = std::move(*d);
  return pass("device", "device fd for " + name + " obtained");
}

std::string region_name(uint32_t index) {
  if (index <= VFIO_PCI_BAR5_REGION_INDEX) return "BAR" + std::to_string(index);
  if (index == VFIO_PCI_ROM_REGION_INDEX) return "ROM";
  if (index == VFIO_PCI_CONFIG_REGION_INDEX) return "config";
  if (index == VFIO_PCI_VGA_REGION_INDEX) return "VGA";
  return "region " + std::to_string(index);
}

std::string irq_name(uint32_t index) {
  switch (index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
      return "INTx";
    case VFIO_PCI_MSI_IRQ_INDEX:
      return "MSI";
    case VFIO_PCI_MSIX_IRQ_INDEX:
      return "MSI-X";
    case VFIO_PCI_ERR_IRQ_INDEX:
      return "ERR";
    case VFIO_PCI_REQ_IRQ_INDEX:
      return "REQ";
  }
  return "irq " + std::to_string(index);
}

bool Walk::info() {
  vfio_device_info di;
  std::memset(&di, 0, sizeof di);
  di.argsz = sizeof di;
  IoctlResult r = device_->ioctl(VFIO_DEVICE_GET_INFO, &di);
  if (!r.ok()) return fail("info", "VFIO_DEVICE_GET_INFO failed: " + errno_text(r.error));
  VfioDeviceInfo info;
  info.flags = di.flags;
  info.pci = di.flags & VFIO_DEVICE_FLAGS_PCI;
  info.reset = di.flags & VFIO_DEVICE_FLAGS_RESET;
  info.num_regions = di.num_regions;
  info.num_irqs = di.num_irqs;
  for (uint32_t i = 0; i < di.num_regions && i < 64; ++i) {
    vfio_region_info ri;
    std::memset(&ri, 0, sizeof ri);
    ri.argsz = sizeof ri;
    ri.index = i;
    IoctlResult rr = device_->ioctl(VFIO_DEVICE_GET_REGION_INFO, &ri);
    // vfio_pci_core_ioctl answers EINVAL for an index the device does not implement (the VGA
    // region of anything that is not a VGA device): the region is absent, as QEMU treats it.
    if (!rr.ok() && rr.error == EINVAL) continue;
    if (!rr.ok())
      return fail("info", "VFIO_DEVICE_GET_REGION_INFO(" + region_name(i) +
                              ") failed: " + errno_text(rr.error));
    if (ri.size > 0) info.regions.push_back(VfioRegion{i, region_name(i), ri.size, ri.flags});
  }
  for (uint32_t i = 0; i < di.num_irqs && i < 64; ++i) {
    vfio_irq_info ii;
    std::memset(&ii, 0, sizeof ii);
    ii.argsz = sizeof ii;
    ii.index = i;
    IoctlResult ir = device_->ioctl(VFIO_DEVICE_GET_IRQ_INFO, &ii);
    if (!ir.ok() && ir.error == EINVAL) continue;  // an index this device does not implement
    if (!ir.ok())
      return fail("info",
                  "VFIO_DEVICE_GET_IRQ_INFO(" + irq_name(i) + ") failed: " + errno_text(ir.error));
    if (ii.count > 0) info.irqs.push_back(VfioIrq{i, irq_name(i), ii.count});
  }
  auto hex_flags = [&] { return hex_digits(di.flags, 1); };
  if (r_.mdev) {
    // The device fd must be what the type's device_api promises (vfio_device_info flags).
    struct Api {
      const char* name;
      uint32_t flag;
    };
    static const Api apis[] = {{"vfio-pci", VFIO_DEVICE_FLAGS_PCI},
                               {"vfio-platform", VFIO_DEVICE_FLAGS_PLATFORM},
                               {"vfio-amba", VFIO_DEVICE_FLAGS_AMBA},
                               {"vfio-ccw", VFIO_DEVICE_FLAGS_CCW},
                               {"vfio-ap", VFIO_DEVICE_FLAGS_AP}};
    for (const Api& api : apis)
      if (r_.mdev_device_api == api.name && !(di.flags & api.flag))
        return fail("info", "the device fd of " + addr() + " is not a " + api.name +
                                " device as its type's device_api says (flags 0x" + hex_flags() +
                                ")");
  } else if (!info.pci) {
    return fail("info", "the device fd is not a PCI device (flags 0x" + hex_flags() + ")");
  }
  std::string detail = plural(info.num_regions, "region", "regions") + ", " +
                       plural(info.num_irqs, "irq index", "irq indexes") + ", reset " +
                       (info.reset ? "supported"
                        : r_.mdev  ? "not advertised (the vendor driver resets the instance)"
                                   : "NOT supported (the device cannot be reset between VMs)");
  std::string regions;
  for (const VfioRegion& reg : info.regions)
    regions += (regions.empty() ? "" : ", ") + reg.name + " " + format_size(reg.size);
  if (!regions.empty()) detail += "; " + regions;
  std::string irqs;
  for (const VfioIrq& irq : info.irqs)
    irqs += (irqs.empty() ? "" : ", ") + irq.name + " " + std::to_string(irq.count);
  if (!irqs.empty()) detail += "; irqs: " + irqs;
  r_.device = std::move(info);
  return pass("info", detail);
}

}  // namespace

bool VerifyReport::ok() const {
  return steps.size() == std::size(kVerifySteps) && failure() == nullptr;
}

const VerifyStep* VerifyReport::failure() const {
  for (const VerifyStep& s : steps)
    if (!s.ok) return &s;
  return nullptr;
}

VerifyReport verify_assignable(Host& host, const PciAddress& address) {
  VerifyReport report;
  report.address = address;
  report.device_name = address.to_string();
  Walk w(host, report);
  // Short-circuits at the first failed step; the handles close (in reverse order) on return.
  (void)(w.container() && w.group() && w.viable() && w.attach() && w.iommu() && w.device() &&
         w.info());
  return report;
}

VerifyReport verify_mdev_assignable(Host& host, std::string_view uuid) {
  VerifyReport report;
  report.mdev = true;
  auto parsed = parse_mdev_uuid(uuid);
  report.device_name = parsed.ok() ? *parsed : std::string(uuid);
  Walk w(host, report);
  if (!parsed.ok()) {
    w.fail("group", parsed.error().message);
    return report;
  }
  // Its parent and type, for the report (the group step says when the instance is missing).
  std::string dir = join_path(kMdevDevicesDir, report.device_name);
  if (auto type = host.read_link(join_path(dir, "mdev_type")); type.ok())
    report.mdev_type = base_name(*type);
  if (auto target = host.read_link(dir); target.ok())
    report.mdev_parent = base_name(dir_name(resolve_link(dir, *target)));
  if (auto api = host.read_file(join_path(join_path(dir, "mdev_type"), "device_api"), 256);
      api.ok())
    report.mdev_device_api = std::string(trim(*api));
  (void)(w.container() && w.group() && w.viable() && w.attach() && w.iommu() && w.device() &&
         w.info());
  return report;
}

std::string format_size(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (u < 4 && bytes >= 1024 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++u;
  }
  return std::to_string(bytes) + " " + units[u];
}

}  // namespace hostpass
