#include "render.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>

#include "run_program.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

AssignableUnit pci_unit(const char* addr, uint16_t v, uint16_t d, uint32_t cls) {
  AssignableUnit u;
  u.kind = UnitKind::Pci;
  u.id = addr;
  PciMember m;
  m.address = *PciAddress::parse(addr);
  m.vendor = v;
  m.device = d;
  m.class_code = cls;
  u.pci.push_back(m);
  return u;
}

AssignableUnit mdev_unit() {
  AssignableUnit u;
  u.kind = UnitKind::Mdev;
  u.id = u.mdev_uuid = "c2177883-f1bb-47f0-914d-32a22e3a8804";
  u.mdev_device_api = "vfio-pci";
  u.mdev_parent = "0000:01:00.0";
  u.mdev_parent_class = 0x030200;
  return u;
}

AssignableUnit usb_unit(bool ambiguous) {
  AssignableUnit u;
  u.kind = UnitKind::Usb;
  u.id = "usb-1-2";
  UsbMember m;
  m.port_path = "1-2";
  m.vendor = 0x46f4;
  m.product = 0x0001;
  m.busnum = 1;
  m.devnum = 5;
  m.ambiguous = ambiguous;
  u.usb.push_back(m);
  return u;
}

// virt-xml-validate on a minimal domain holding `hostdevs`: libvirt's own schema decides.
testing::ProgramRun validate_domain(const std::string& hostdevs) {
  testing::ScratchDir dir;
  std::string path = dir.path() + "/domain.xml";
  std::ofstream(path)
      << "<domain type='kvm'>\n  <name>vm1</name>\n  <memory unit='KiB'>1048576</memory>\n"
         "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n"
         "  <devices>\n"
      << hostdevs << "  </devices>\n</domain>\n";
  return testing::run_program({"virt-xml-validate", path, "domain"});
}

TEST(RenderLibvirt, PciHostdevIsUnmanagedWithTheSourceAddress) {
  std::string xml = render_libvirt({pci_unit("0000:65:00.0", 0x10de, 0x1eb8, 0x030200)});
  EXPECT_EQ(xml,
            "<hostdev mode='subsystem' type='pci' managed='no'>\n"
            "  <driver name='vfio'/>\n"
            "  <source>\n"
            "    <address domain='0x0000' bus='0x65' slot='0x00' function='0x0'/>\n"
            "  </source>\n"
            "</hostdev>\n");
  std::string other = render_libvirt({pci_unit("10000:e1:1f.7", 0x8086, 0x5845, 0x010802)});
  EXPECT_NE(other.find("<address domain='0x10000' bus='0xe1' slot='0x1f' function='0x7'/>"),
            std::string::npos)
      << other;
}

TEST(RenderLibvirt, MdevAndUsbForms) {
  EXPECT_EQ(render_libvirt({mdev_unit()}),
            "<hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n"
            "  <source>\n"
            "    <address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/>\n"
            "  </source>\n"
            "</hostdev>\n");
  EXPECT_EQ(render_libvirt({usb_unit(false)}),
            "<hostdev mode='subsystem' type='usb'>\n"
            "  <source>\n"
            "    <vendor id='0x46f4'/>\n"
            "    <product id='0x0001'/>\n"
            "  </source>\n"
            "</hostdev>\n");
  EXPECT_NE(render_libvirt({usb_unit(true)}).find("    <address bus='1' device='5'/>\n"),
            std::string::npos);
}

TEST(RenderLibvirt, EveryFormValidatesAgainstLibvirtsSchema) {
  std::string all = render_libvirt({pci_unit("0000:65:00.0", 0x10de, 0x1eb8, 0x030200),
                                    pci_unit("0001:02:00.1", 0x8086, 0x6f54, 0x0b4000), mdev_unit(),
                                    usb_unit(false), usb_unit(true)});
  testing::ProgramRun r = validate_domain(all);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << all;
  // The validator can fail: a hostdev libvirt does not know is rejected.
  testing::ProgramRun bad = validate_domain(
      "<hostdev mode='subsystem' type='pci' managed='maybe'><source><address domain='0x0000' "
      "bus='0x65' slot='0x00' function='0x0'/></source></hostdev>\n");
  EXPECT_NE(bad.exit_code, 0);
}

// The property names QEMU lists for a device type (`-device TYPE,help`).
std::string qemu_help(const std::string& type) {
  testing::ProgramRun r = testing::run_program({"qemu-system-x86_64", "-device", type + ",help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out + r.err;
}

TEST(RenderQemu, DeviceArgumentsUseThePropertiesQemuKnows) {
  std::string args = render_qemu(
      {pci_unit("0000:65:00.0", 0x10de, 0x1eb8, 0x030200), mdev_unit(), usb_unit(false)});
  EXPECT_EQ(
      args,
      "-device vfio-pci,host=0000:65:00.0 \\\n"
      "-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/c2177883-f1bb-47f0-914d-32a22e3a8804 \\\n"
      "-device usb-host,hostbus=1,hostaddr=5\n");
  std::regex device_re("-device ([a-z-]+),([^ \\n]+)");
  int checked = 0;
  for (auto it = std::sregex_iterator(args.begin(), args.end(), device_re);
       it != std::sregex_iterator(); ++it) {
    std::string type = (*it)[1], props = (*it)[2];
    std::string help = qemu_help(type);
    size_t pos = 0;
    while (pos < props.size()) {
      size_t comma = props.find(',', pos);
      if (comma == std::string::npos) comma = props.size();
      std::string name = props.substr(pos, props.find('=', pos) - pos);
      EXPECT_NE(help.find("  " + name + "=<"), std::string::npos)
          << type << " has no property " << name;
      ++checked;
      pos = comma + 1;
    }
  }
  EXPECT_EQ(checked, 4);
  EXPECT_EQ(qemu_help("vfio-pci").find("  hostx=<"), std::string::npos);  // the check can fail
}

TEST(RenderKubevirt, GpusAndHostDevicesFieldByField) {
  auto y = render_kubevirt({{"nvidia.com/TU104GL_Tesla_T4", true, ""},
                            {"nvidia.com/GRID_T4-1Q", true, ""},
                            {"intel.com/qat", false, "quickaccess1"},
                            {"devices.kubevirt.io/nvme", false, ""}},
                           {});
  ASSERT_TRUE(y.ok());
  YAML::Node n = YAML::Load(*y);
  EXPECT_FALSE(n["spec"]["nodeSelector"]);
  YAML::Node gpus = n["spec"]["domain"]["devices"]["gpus"];
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0]["deviceName"].as<std::string>(), "nvidia.com/TU104GL_Tesla_T4");
  EXPECT_EQ(gpus[0]["name"].as<std::string>(), "gpu1");
  EXPECT_EQ(gpus[1]["deviceName"].as<std::string>(), "nvidia.com/GRID_T4-1Q");
  EXPECT_EQ(gpus[1]["name"].as<std::string>(), "gpu2");
  YAML::Node hd = n["spec"]["domain"]["devices"]["hostDevices"];
  ASSERT_EQ(hd.size(), 2u);
  EXPECT_EQ(hd[0]["deviceName"].as<std::string>(), "intel.com/qat");
  EXPECT_EQ(hd[0]["name"].as<std::string>(), "quickaccess1");
  EXPECT_EQ(hd[1]["deviceName"].as<std::string>(), "devices.kubevirt.io/nvme");
  EXPECT_EQ(hd[1]["name"].as<std::string>(), "nvme1");
}

TEST(RenderKubevirt, NodeSelectorPinsTheNodeThatHoldsTheDevice) {
  auto y = render_kubevirt({{"devices.kubevirt.io/nvme", false, "nvme"}}, {"node03"});
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(*y,
            "spec:\n"
            "  nodeSelector:\n"
            "    kubernetes.io/hostname: node03\n"
            "  domain:\n"
            "    devices:\n"
            "      hostDevices:\n"
            "      - deviceName: devices.kubevirt.io/nvme\n"
            "        name: nvme\n");
  auto none = render_kubevirt({{"", false, ""}}, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, ErrorKind::InvalidInput);
}

// A VirtualMachine carries the VMI spec under spec.template.spec (VirtualMachineSpec.template), the
// node selector beside its domain.
TEST(RenderKubevirt, AVirtualMachineHoldsTheDevicesUnderItsTemplate) {
  std::vector<KubevirtRequest> requests = {{"nvidia.com/TU104GL_Tesla_T4", true, ""},
                                           {"intel.com/qat", false, ""}};
  auto vm = render_kubevirt(requests, {"node03", KubevirtKind::Vm});
  ASSERT_TRUE(vm.ok());
  YAML::Node n = YAML::Load(*vm);
  EXPECT_FALSE(n["spec"]["domain"]);
  YAML::Node t = n["spec"]["template"]["spec"];
  EXPECT_EQ(t["nodeSelector"]["kubernetes.io/hostname"].as<std::string>(), "node03");
  ASSERT_EQ(t["domain"]["devices"]["gpus"].size(), 1u);
  EXPECT_EQ(t["domain"]["devices"]["gpus"][0]["deviceName"].as<std::string>(),
            "nvidia.com/TU104GL_Tesla_T4");
  ASSERT_EQ(t["domain"]["devices"]["hostDevices"].size(), 1u);
  EXPECT_EQ(t["domain"]["devices"]["hostDevices"][0]["name"].as<std::string>(), "qat1");
  auto vmi = render_kubevirt(requests, {"node03", KubevirtKind::Vmi});
  ASSERT_TRUE(vmi.ok());
  YAML::Node i = YAML::Load(*vmi);
  EXPECT_FALSE(i["spec"]["template"]);
  EXPECT_EQ(i["spec"]["domain"]["devices"]["hostDevices"][0]["deviceName"].as<std::string>(),
            "intel.com/qat");
}

TEST(RenderKubevirt, KindIsVmOrVmi) {
  EXPECT_EQ(*parse_kubevirt_kind("vm"), KubevirtKind::Vm);
  EXPECT_EQ(*parse_kubevirt_kind("vmi"), KubevirtKind::Vmi);
  auto bad = parse_kubevirt_kind("VirtualMachine");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidInput);
}

TEST(RenderOpenNebula, ShortAddressOrVendorDeviceClass) {
  auto a = render_opennebula({pci_unit("0000:65:00.0", 0x10de, 0x1eb8, 0x030200)}, {});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, "PCI = [ SHORT_ADDRESS = \"65:00.0\" ]\n");
  auto t = render_opennebula({pci_unit("0000:65:00.0", 0x10de, 0x1eb8, 0x030200)}, {true});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "PCI = [ VENDOR = \"10de\", DEVICE = \"1eb8\", CLASS = \"0302\" ]\n");
  auto m = render_opennebula({mdev_unit()}, {});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().kind, ErrorKind::Unsupported);
}

TEST(RenderFormatName, KnownFormatsOnly) {
  EXPECT_EQ(*parse_render_format("capk"), RenderFormat::Capk);
  EXPECT_FALSE(parse_render_format("virsh").ok());
}

}  // namespace
}  // namespace hostpass
