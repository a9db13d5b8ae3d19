// fixture_tree.h — writes directory trees shaped exactly like the kernel's sysfs and procfs.
//
// Every test and benchmark that needs a machine builds one here. The layout follows the kernel
// (drivers/pci/pci-sysfs.c, drivers/base/core.c, drivers/iommu/iommu.c), with the same relative
// symlink targets the kernel creates:
//   sys/devices/pci<DDDD>:<BB>/<bridge>/.../<addr>/      attribute files
//   sys/bus/pci/devices/<addr>      -> ../../../devices/pci0000:00/<addr>
//   <dev>/driver                    -> ../../../bus/pci/drivers/<name>   (depth-adjusted)
//   <dev>/iommu_group               -> ../../../kernel/iommu_groups/<n>  (depth-adjusted)
//   <dev>/subsystem                 -> ../../../bus/pci
//   sys/bus/pci/drivers/<name>/<addr> -> ../../../../devices/pci0000:00/<addr>
//   sys/kernel/iommu_groups/<n>/devices/<addr> -> ../../../../devices/pci0000:00/<addr>
//   sys/class/block/<name>, sys/dev/block/<maj:min>, sys/class/net/<if>
//   proc/self/mountinfo, proc/swaps, proc/net/route, proc/cmdline, proc/cpuinfo, proc/modules
// Config space (256 bytes, or 4096 with real capability lists: PcieSpec) is consistent with the
// attribute files, so lspci reads the same facts through -A linux-sysfs as hostpass does.
//
// Writes happen through std::filesystem directly: this is test support that creates the world,
// not a module of the library under test.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hostpass::testing {

// A function's PCI Express side, for fixtures that opt in to a real 4096-byte config space (the
// size sysfs shows root for a PCIe function, drivers/pci/pci-sysfs.c): the PCI Express capability
// at 0x40 (ID 0x10, version 2, the device/port type in bits 7:4 of its capabilities register,
// PCIe r6.0 7.5.3.2), and in extended space an AER capability at 0x100 (ID 0x0001) followed,
// when `acs_capability` is set, by an ACS extended capability at 0x148 (ID 0x000D, 7.7.8:
// capability register at +4, control register at +6).
struct PcieSpec {
  // PCI_EXP_TYPE_*: 0 endpoint, 4 root port, 5 switch upstream port, 6 switch downstream port,
  // 7 PCIe-to-PCI/PCI-X bridge, 9 root complex integrated endpoint.
  uint8_t port_type = 0;
  std::optional<uint16_t> acs_capability;  // none: no ACS extended capability
  uint16_t acs_control = 0;
  // false: a conventional PCI function (behind a PCIe-to-PCI bridge): 256 bytes of config space
  // and no PCI Express capability at all, as the kernel shows one.
  bool pcie = true;
};

// ACS capability/control bits (include/uapi/linux/pci_regs.h PCI_ACS_*).
inline constexpr uint16_t kAcsSv = 0x01, kAcsTb = 0x02, kAcsRr = 0x04, kAcsCr = 0x08, kAcsUf = 0x10,
                          kAcsEc = 0x20, kAcsDt = 0x40;
// What QEMU's pcie-root-port implements and Linux enables: SV, RR, CR, UF (and TB, DT off).
inline constexpr uint16_t kAcsKernelBits = kAcsSv | kAcsRr | kAcsCr | kAcsUf;

struct PciSpec {
  std::string address;  // "0000:65:00.0"
  std::string parent;   // bridge address it sits behind; "" = root bus
  uint16_t vendor = 0x8086;
  uint16_t device = 0x1234;
  uint16_t subsystem_vendor = 0;   // 0: same as vendor
  uint16_t subsystem_device = 0;   // 0: same as device
  uint32_t class_code = 0x020000;  // 24 bits
  uint8_t revision = 0;
  std::optional<std::string> driver;
  std::optional<int> iommu_group;
  int numa_node = -1;
  bool boot_vga = false;
  std::optional<std::string> reset_method = "flr bus";  // none: attribute absent (old kernel)
  int sriov_totalvfs = 0;                               // > 0: an SR-IOV physical function
  int sriov_numvfs = 0;
  std::string physfn;                   // set on virtual functions: the PF's address
  bool multifunction = false;           // header type bit 7
  std::optional<uint8_t> header_type;   // config byte 0x0e without bit 7; none: 1 for class 0604
                                        // (a PCI-PCI bridge), 0 for anything else
  std::vector<std::string> mdev_types;  // mdev_supported_types/<type> directories
  // none: the 256-byte config space every fixture had before (a PCI Express capability of type
  // 0 at 0x40, nothing beyond), byte for byte; set: see PcieSpec.
  std::optional<PcieSpec> pcie;
};

struct MdevTypeSpec {
  std::string id;    // "nvidia-222"
  std::string name;  // "GRID T4-1Q"
  std::string device_api = "vfio-pci";
  int available_instances = 16;
  std::string description;
};

// A USB device (drivers/usb/core/sysfs.c attributes). The bus comes from the port path; the
// bus's root hub (usbN) is created on first use.
struct UsbSpec {
  std::string port_path;  // "1-2", "1-2.4" (the parent "1-2" must have been added first)
  uint16_t vendor = 0;
  uint16_t product = 0;
  uint16_t bcd_device = 0x0100;
  int devnum = 2;
  std::string speed = "12";        // Mb/s as the kernel prints it: "1.5", "12", "480", "5000"
  uint8_t device_class = 0x00;     // 0: per interface
  uint8_t interface_class = 0x03;  // bInterfaceClass of interface <port>:1.0
  std::optional<std::string> manufacturer, product_name, serial;  // none: attribute absent
};

class FixtureTree {
 public:
  // Creates (or empties) `root`. The tree is left on disk for the test to inspect.
  explicit FixtureTree(std::string root);

  const std::string& root() const { return root_; }
  // root + path ("/sys/bus/pci") → "<root>/sys/bus/pci"
  std::string path(const std::string& p) const;

  // A PCI function. Bridges (class 0604) get header type 1 unless spec.header_type says
  // otherwise. Parents must be added first. When the parent was added with spec.pcie, its
  // config space (and its ancestors') gets primary, secondary and subordinate bus numbers that
  // cover the new function's bus, as firmware leaves them; other fixtures stay byte for byte.
  void add_pci(const PciSpec& spec);
  // Mediated device types of a parent (creates mdev_supported_types/<id>/...).
  void add_mdev_type(const std::string& parent, const MdevTypeSpec& type);
  // An existing mediated device of `type` on `parent` (both added before), as the mdev core
  // leaves it after a write to `create`: see mdev_instance_dirs(). Decrements the type's
  // available_instances.
  void add_mdev_instance(const std::string& parent, const std::string& type,
                         const std::string& uuid);
  // The kernel-shaped entries of one instance under `root` (drivers/vfio/mdev/mdev_core.c,
  // mdev_sysfs.c): <parent_dev>/<uuid>/ with mdev_type -> ../mdev_supported_types/<type>,
  // remove, uevent (MDEV_TYPE=), subsystem -> bus/mdev, driver -> bus/mdev/drivers/vfio_mdev;
  // <type>/devices/<uuid> -> ../../../<uuid>; /sys/bus/mdev/devices/<uuid> -> the instance.
  // `parent_dev` is the /sys/devices path. Used by add_mdev_instance and the simulated mdev core
  // (sim_mdev.h); it does not touch available_instances.
  static void write_mdev_instance(const std::string& root, const std::string& parent_dev,
                                  const std::string& type, const std::string& uuid);
  // Removes what write_mdev_instance created.
  static void erase_mdev_instance(const std::string& root, const std::string& parent_dev,
                                  const std::string& type, const std::string& uuid);

  // A driver directory with bind, unbind, new_id, remove_id (created for every driver used).
  void add_driver(const std::string& name);
  // /sys/class/iommu/<name> (dmar0 or ivhd0), which `check` reads to tell the IOMMU is on.
  void add_iommu(const std::string& name = "dmar0");
  // /sys/class/iommu/<name> for an AMD-Vi unit (ivhd0): amd-iommu/cap and features, no ecap.
  void add_amd_iommu(const std::string& name = "ivhd0");
  // /sys/firmware/acpi/tables/<signature>: the firmware describes an IOMMU ("DMAR": Intel VT-d,
  // "IVRS": AMD-Vi). Present whatever the kernel command line says.
  void add_acpi_table(const std::string& signature);
  // /boot/config-<release>: the kernel's build configuration (Kconfig lines).
  void set_kernel_config(const std::string& release, const std::string& config);
  // /proc/sys/kernel/osrelease (uname -r).
  void set_kernel_release(const std::string& release);
  // /lib/modules/<release>/: modules.dep lists `loadable` (paths such as
  // "kernel/drivers/vfio/pci/vfio-pci.ko", each file created), modules.builtin lists `builtin`.
  void add_kernel_modules(const std::string& release, const std::vector<std::string>& loadable,
                          const std::vector<std::string>& builtin = {});
  // /proc/sys/kernel/hostname.
  void set_hostname(const std::string& hostname);

  // A disk (and its partitions) below PCI function `pci`, with sysfs block entries.
  // `subdir` is what sits between the function and the block dir ("virtio1", "nvme/nvme0").
  void add_disk(const std::string& pci, const std::string& subdir, const std::string& disk,
                int major, int minor, const std::vector<std::string>& partitions = {});
  // A network interface below PCI function `pci`. `up` sets IFF_UP in flags.
  void add_net(const std::string& pci, const std::string& subdir, const std::string& ifname,
               bool up);
  // A virtual interface (bridge) with lower_* links to interfaces already added.
  void add_virtual_net(const std::string& ifname, const std::vector<std::string>& lowers, bool up);

  // /proc/self/mountinfo lines, one per mount: device node, major:minor, mountpoint, fstype.
  // A new tree already has rootfs on "/" (and /proc, /sys), so its host is seen (host_use.h).
  void add_mount(const std::string& source, const std::string& majmin, const std::string& point,
                 const std::string& fstype = "ext4");
  void add_swap(const std::string& source);
  void set_default_route(const std::string& ifname);
  void set_cmdline(const std::string& cmdline);
  void set_cpuinfo(const std::string& vendor_id, const std::string& flags);
  void set_modules(const std::vector<std::string>& loaded);  // /proc/modules

  // A USB host controller's root hub: /sys/devices/pci0000:00/<controller>/usb<bus> (the
  // controller need not have been added with add_pci), with /sys/bus/usb/devices/usb<bus>, its
  // hub interface <bus>-0:1.0 and /dev/bus/usb/<bus>/001. Linux Foundation 1d6b:0002 (USB 2)
  // or 1d6b:0003 when speed is 5000 or more.
  void add_usb_bus(int bus, const std::string& controller = "0000:00:14.0",
                   const std::string& speed = "480");
  // A USB device below its bus's root hub or hub, kernel-shaped: attribute files, the
  // `descriptors` blob (device + one configuration with one interface), uevent, the
  // subsystem link, interface <port>:1.0, /sys/bus/usb/devices/<port> ->
  // ../../../devices/pci0000:00/0000:00:14.0/usb1/<...>/<port>, and /dev/bus/usb/BBB/DDD.
  void add_usb(const UsbSpec& spec);
  // The /sys/devices path of a USB device or root hub ("usb1", "1-2").
  std::string usb_path(const std::string& port_path) const;

  // A file with content (parents created), for anything else a test needs.
  void write(const std::string& path, const std::string& content);
  void symlink(const std::string& target, const std::string& link_path);
  void mkdir(const std::string& path);
  // Writes the /proc files accumulated by add_mount, add_swap, set_default_route.
  void flush_proc();

  // The /sys/devices path of an added function ("/sys/devices/pci0000:00/0000:00:02.0").
  std::string device_path(const std::string& address) const;

  // Relative link target from the directory holding `link` to `target` (both absolute, in-tree).
  static std::string relative(const std::string& link, const std::string& target);

  // A config space consistent with `spec`: 256 bytes, or 4096 when spec.pcie says so.
  static std::string config_space(const PciSpec& spec);

 private:
  FixtureTree() = default;
  // A FixtureTree over an existing root, without emptying it (for the static helpers).
  static FixtureTree attach(std::string root);
  void link_driver(const std::string& address, const std::string& driver);
  void link_group(const std::string& address, int group);

  std::string root_;
  void write_usb_device(const std::string& dir, const std::string& name, const UsbSpec& spec,
                        int bus);
  std::map<std::string, std::string> device_paths_;  // address → /sys/devices/... path
  std::map<std::string, std::string> parents_;       // address → the bridge it sits behind
  std::map<std::string, bool> extended_;             // address → added with spec.pcie
  std::map<std::string, std::string> usb_paths_;     // port path → /sys/devices/... path
  std::vector<std::string> mountinfo_;
  std::vector<std::string> swaps_;
  std::vector<std::string> routes_;
  int next_mount_id_ = 20;
};

// The standard small machine most tests start from: a q35-like host with
//   0000:00:00.0 host bridge                    (group 0)
//   0000:00:01.0 PCIe root port (bridge)        (group 1)
//   0000:01:00.0 NVIDIA T4 3D controller 10de:1eb8 on nvidia, behind 00:01.0 (group 1)
//   0000:00:02.0 virtio block, root disk vda on /           (group 2)
//   0000:00:03.0 virtio net eth0, up, default route          (group 3)
//   0000:00:04.0 Intel 82574L NIC 8086:10d3 on e1000e, down   (group 4)
//   0000:00:1f.0 ISA bridge, 0000:00:1f.2 SATA, 0000:00:1f.3 SMBus  (group 5, multifunction)
//   0000:02:00.0 + 0000:02:00.1 QAT 8086:6f54 pair on qat_c62x  (group 6, two functions)
//   0000:03:00.0 NVMe 8086:5845 unbound            (group 7)
//   0000:04:00.0 NVMe 8086:5845 on vfio-pci        (group 8)
// with an IOMMU (dmar0, ACPI DMAR table), intel_iommu=on, vmx, vfio modules loaded and
// /dev/vfio/vfio.
void build_standard_host(FixtureTree& tree);

// The shapes that break naive tools: a GPU + audio function behind a root port sharing one
// group (boot VGA), an SR-IOV PF with two VFs (VF config space reads 0xffff), a device with ids
// pci.ids does not know and an empty reset_method, a second domain with no IOMMU groups, and a
// five-digit (VMD) domain.
void build_tricky_host(FixtureTree& tree);

// QEMU q35 shapes with real 4096-byte config spaces (PcieSpec), grouped as Linux 6.1 groups them
// on QEMU 7.2 (each bridge's bus numbers set, so lspci -t draws the same tree):
//   0000:00:00.0 host bridge (group 0)
//   0000:00:01.0 pcie-root-port, ACS SV|RR|CR|UF on (1) > 0000:01:00.0 endpoint (2)
//   0000:00:02.0 pcie-root-port with ACS (3) > 0000:02:00.0 x3130 upstream port, no ACS (4)
//     > 0000:03:00.0 xio3130 downstream port, no ACS (5) > 0000:04:00.0 e1000e (5)
//   0000:00:03.0 root port, ACS with RR and UF off (6) > 0000:05:00.0 endpoint (6)
//   0000:00:04.0 pcie-root-port with ACS (8) > 0000:06:00.0 pcie-pci-bridge (9)
//     > 0000:07:01.0, 0000:07:02.0 conventional PCI NICs (9)
//   0000:00:05.0 root port whose ACS offers no Upstream Forwarding (10) > 0000:08:00.0 (11)
//   0000:00:1f.0, 1f.2, 1f.3 multifunction integrated endpoints without ACS (7)
void build_acs_host(FixtureTree& tree);
// A QEMU PCIe port (1b36:000c, pcieport) of the given PCIe port type (4 root port, 5 upstream,
// 6 downstream), with an ACS capability offering `acs_cap` (none: no ACS) and enabling `acs_ctrl`.
PciSpec acs_port(const char* address, const char* parent, uint8_t type,
                 std::optional<uint16_t> acs_cap, uint16_t acs_ctrl, int group);

// `count` functions, 8 per slot, 32 slots per bus, cycling through eight real device kinds;
// every fifth function unbound; one IOMMU group per slot. For benchmarks.
void build_large_host(FixtureTree& tree, int count);

// USB devices of KubeVirt's host-devices selectors on bus 1 (xHCI 0000:00:14.0, USB 2 root hub
// usb1):
//   1-1    46f4:0001 QEMU USB HARDDRIVE (usb-storage; usb.ids knows the vendor, not the product)
//   1-2    05e3:0608 Genesys Logic hub
//   1-2.1  045e:07a5 Microsoft Wireless Receiver 1461C
//   1-2.2  062a:4102 MosArt Wireless Mouse
//   1-2.3  072f:b100 Advanced Card Systems ACR39U smart card reader
//   devnums 2..6 in that order.
void add_seed002_usb_devices(FixtureTree& tree);

}  // namespace hostpass::testing
