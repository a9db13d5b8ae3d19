// End-to-end: assign / release / assignments / render / list --expect, run as a user would on
// fixture roots. Binding runs through hostpass_sim (the CLI over the simulated kernel); the
// parallel test runs the real hostpass binary, 8 processes at once, on units already on vfio-pci.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "fixture_tree.h"
#include "inventory_fixture.h"
#include "run_program.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

constexpr const char* kCr = R"(apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata:
  name: kubevirt
  namespace: kubevirt
spec:
  configuration:
    permittedHostDevices:
      pciHostDevices:
      - pciVendorSelector: "8086:5845"
        resourceName: "devices.kubevirt.io/nvme"
      - pciVendorSelector: "10DE:1EB8"
        resourceName: "nvidia.com/TU104GL_Tesla_T4"
      mediatedDevices:
      - mdevNameSelector: "GRID T4-1Q"
        resourceName: "nvidia.com/GRID_T4-1Q"
    developerConfiguration:
      featureGates: ["GPU","HostDevices"]
)";

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class LedgerCli : public ::testing::Test {
 protected:
  LedgerCli() : tree_(dir_.path() + "/root") {
    build_inventory_node(tree_);
    PciSpec s;
    s.vendor = 0x8086;
    s.device = 0x5845;
    s.class_code = 0x010802;
    s.revision = 0x02;
    s.driver = "vfio-pci";
    s.address = "0000:05:00.0";
    s.iommu_group = 21;
    s.numa_node = 0;
    tree_.add_pci(s);
    tree_.write("/dev/vfio/21", "");
    s.address = "0000:06:00.0";
    s.iommu_group = 22;
    s.numa_node = 1;
    tree_.add_pci(s);
    tree_.write("/dev/vfio/22", "");
    cr_ = dir_.path() + "/kubevirt-cr.yaml";
    std::ofstream(cr_) << kCr;
  }
  ProgramRun hostpass(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  ProgramRun sim(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_sim_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  std::string driver(const std::string& a) {
    std::error_code ec;
    auto t = std::filesystem::read_symlink(tree_.path("/sys/bus/pci/devices/" + a + "/driver"), ec);
    return ec ? "-" : t.filename().string();
  }
  ScratchDir dir_;
  FixtureTree tree_;
  std::string cr_;
};

TEST_F(LedgerCli, AssignBindsRecordsAndReleaseReturnsTheDevice) {
  // 01:00.0 is the GRID parent with a live instance (inventory_fixture.h): moving it is refused
  // by the mdev-live guard (safety_spine_cli_test.cc), so the ledger's tests name that override.
  ProgramRun a = sim({"assign", "0000:01:00.0", "--vm", "vm1", "--force=mdev-live"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, "assigned 0000:01:00.0 to VM 'vm1' (nvidia -> vfio-pci)\n");
  EXPECT_EQ(driver("0000:01:00.0"), "vfio-pci");
  ProgramRun l = sim({"assignments"});
  ASSERT_EQ(l.exit_code, 0);
  EXPECT_NE(l.out.find("vm1              0000:01:00.0                           pci   -    "),
            std::string::npos)
      << l.out;
  ProgramRun j = sim({"--json", "assignments"});
  auto rows = nlohmann::json::parse(j.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["device"], "0000:01:00.0");
  EXPECT_EQ(rows[0]["vm"], "vm1");
  EXPECT_EQ(rows[0]["kind"], "pci");
  EXPECT_EQ(rows[0]["original_driver"], "nvidia");
  EXPECT_TRUE(rows[0]["resource"].is_null());
  EXPECT_EQ(rows[0]["numa_node"], 0);

  ProgramRun r = sim({"release", "0000:01:00.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "released 0000:01:00.0 from VM 'vm1' (now on nvidia)\n");
  EXPECT_EQ(driver("0000:01:00.0"), "nvidia");
  EXPECT_EQ(sim({"assignments"}).out, "no devices are assigned\n");
}

TEST_F(LedgerCli, ASecondOwnerExits2AndTheFirstKeepsTheDevice) {
  ASSERT_EQ(sim({"assign", "0000:03:00.0", "--vm", "vm1"}).exit_code, 0);
  ProgramRun b = sim({"assign", "0000:03:00.0", "--vm", "vm2"});
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_EQ(b.err.rfind("hostpass: 0000:03:00.0 is already assigned to VM 'vm1' (since ", 0), 0u)
      << b.err;
  ProgramRun same = sim({"assign", "0000:03:00.0", "--vm", "vm1"});
  EXPECT_EQ(same.exit_code, 0);
  EXPECT_EQ(same.out, "0000:03:00.0 is already assigned to VM 'vm1': nothing to do\n");
  ProgramRun r = sim({"release", "--vm", "vm1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ProgramRun c = sim({"assign", "0000:03:00.0", "--vm", "vm2"});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  ProgramRun unassigned = sim({"release", "0000:04:00.0"});  // on the host, in no VM
  EXPECT_EQ(unassigned.exit_code, 1) << unassigned.err;      // NotFound
  ProgramRun absent = sim({"release", "0000:0b:00.0"});      // neither on the host nor recorded
  EXPECT_EQ(absent.exit_code, 2) << absent.err;
  EXPECT_EQ(absent.err.rfind("hostpass: no PCI device 0000:0b:00.0", 0), 0u) << absent.err;
}

TEST_F(LedgerCli, EightParallelProcessesNeverDoubleAssign) {
  // Three NVMe units are on vfio-pci (04:00.0, 05:00.0, 06:00.0); eight VMs ask at once.
  std::vector<ProgramRun> runs(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      runs[i] = hostpass(
          {"assign", "devices.kubevirt.io/nvme", "--vm", "vm" + std::to_string(i), "-f", cr_});
    });
  for (std::thread& t : threads) t.join();
  int ok = 0, refused = 0;
  for (const ProgramRun& r : runs) {
    if (r.exit_code == 0) ++ok;
    if (r.exit_code == 2) {
      ++refused;
      EXPECT_NE(r.err.find("no free unit of devices.kubevirt.io/nvme"), std::string::npos) << r.err;
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(refused, 5);
  auto rows = nlohmann::json::parse(hostpass({"--json", "assignments"}).out);
  ASSERT_EQ(rows.size(), 3u);
  std::set<std::string> devices, vms;
  for (const auto& r : rows) {
    devices.insert(r["device"].get<std::string>());
    vms.insert(r["vm"].get<std::string>());
  }
  EXPECT_EQ(devices, (std::set<std::string>{"0000:04:00.0", "0000:05:00.0", "0000:06:00.0"}));
  EXPECT_EQ(vms.size(), 3u);

  // The same single device, eight VMs at once: exactly one owner.
  threads.clear();
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      runs[i] = hostpass({"assign", "0000:65:00.0", "--vm", "other" + std::to_string(i)});
    });
  for (std::thread& t : threads) t.join();
  ok = 0;
  for (const ProgramRun& r : runs) {
    if (r.exit_code == 0)
      ++ok;
    else
      EXPECT_EQ(r.exit_code, 2) << r.err;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(nlohmann::json::parse(hostpass({"--json", "assignments"}).out).size(), 4u);
}

TEST_F(LedgerCli, NumaAwareResourceAssignment) {
  ProgramRun a =
      hostpass({"assign", "devices.kubevirt.io/nvme", "--vm", "vm1", "--numa", "0", "-f", cr_});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, "assigned 0000:05:00.0 to VM 'vm1' as devices.kubevirt.io/nvme (on vfio-pci)\n");
  ProgramRun b =
      hostpass({"assign", "devices.kubevirt.io/nvme", "--vm", "vm2", "--numa", "0", "-f", cr_});
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_EQ(b.err,
            "hostpass: no free unit of devices.kubevirt.io/nvme on NUMA node 0 (3 healthy "
            "units, 1 assigned, 2 free on other NUMA nodes (1))\n");
}

// A resource name longer than the RESOURCE column's 24 characters pushes the columns after it
// along in every row alike (text_table.h), instead of shifting its own row out of line.
TEST_F(LedgerCli, AssignmentsColumnsAlignWithLongResourceNames) {
  std::string cr = dir_.path() + "/long-cr.yaml";
  std::string longname = "storage.example.com/nvme-namespaced-for-the-team-with-a-long-name";
  std::ofstream(cr) << "spec:\n  configuration:\n    permittedHostDevices:\n"
                       "      pciHostDevices:\n      - pciVendorSelector: \"8086:5845\"\n"
                       "        resourceName: \""
                    << longname << "\"\n";
  ASSERT_EQ(hostpass({"assign", longname, "--vm", "vm1", "-f", cr}).exit_code, 0);
  ASSERT_EQ(hostpass({"assign", "0000:65:00.0", "--vm", "vm2"}).exit_code, 0);
  ProgramRun a = hostpass({"assignments"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  std::vector<std::string> lines;
  std::istringstream text(a.out);
  for (std::string l; std::getline(text, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 3u) << a.out;
  EXPECT_NE(lines[1].find(longname), std::string::npos) << a.out;
  for (const char* column : {"RESOURCE", "NUMA", "WAS ON", "SINCE"}) {
    size_t at = lines[0].find(column);
    ASSERT_NE(at, std::string::npos) << column;
    for (size_t i = 1; i < lines.size(); ++i) {
      ASSERT_GT(lines[i].size(), at) << a.out;
      EXPECT_EQ(lines[i][at - 1], ' ') << column << " in\n" << a.out;
      EXPECT_NE(lines[i][at], ' ') << column << " in\n" << a.out;
    }
  }
}

TEST_F(LedgerCli, ACorruptLedgerExits2AndIsLeftAsItWas) {
  tree_.write("/var/lib/hostpass/ledger.db", "garbage, not SQLite\n" + std::string(4096, 'z'));
  std::string before = slurp(tree_.path("/var/lib/hostpass/ledger.db"));
  ProgramRun a = sim({"assign", "0000:03:00.0", "--vm", "vm1"});
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_NE(a.err.find("refusing the ledger /var/lib/hostpass/ledger.db: it is not a SQLite "
                       "database"),
            std::string::npos)
      << a.err;
  EXPECT_EQ(sim({"assignments"}).exit_code, 2);
  EXPECT_EQ(driver("0000:03:00.0"), "-");
  EXPECT_EQ(slurp(tree_.path("/var/lib/hostpass/ledger.db")), before);
}

TEST_F(LedgerCli, ANewerSchemaExits2AndIsLeftAsItWas) {
  std::string path = tree_.path("/var/lib/hostpass/ledger.db");
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "CREATE TABLE assignments (device TEXT); PRAGMA user_version = 9;", nullptr,
               nullptr, nullptr);
  sqlite3_close(db);
  std::string before = slurp(path);
  ProgramRun a = hostpass({"assignments"});
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_NE(a.err.find("written by a newer hostpass (schema version 9"), std::string::npos)
      << a.err;
  EXPECT_EQ(slurp(path), before);
}

TEST_F(LedgerCli, RenderAVmsDevicesForLibvirtValidatesAgainstTheSchema) {
  // The parent with a live instance: the mdev-live guard is overridden by name.
  ASSERT_EQ(sim({"assign", "0000:01:00.0", "--vm", "vm1", "--force=mdev-live"}).exit_code, 0);
  ASSERT_EQ(sim({"assign", kGridInstanceUuid, "--vm", "vm1"}).exit_code, 0);
  ASSERT_EQ(sim({"assign", "usb-1-1", "--vm", "vm1"}).exit_code, 0);
  ProgramRun r = hostpass({"render", "--vm", "vm1", "--format", "libvirt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>"),
            std::string::npos);
  EXPECT_NE(r.out.find(std::string("<address uuid='") + kGridInstanceUuid + "'/>"),
            std::string::npos);
  EXPECT_NE(r.out.find("<vendor id='0x46f4'/>"), std::string::npos) << r.out;
  std::string xml = dir_.path() + "/vm1.xml";
  std::ofstream(xml) << "<domain type='kvm'><name>vm1</name><memory>1048576</memory><os><type "
                        "arch='x86_64'>hvm</type></os><devices>\n"
                     << r.out << "</devices></domain>\n";
  ProgramRun v = run_program({"virt-xml-validate", xml, "domain"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  ProgramRun q = hostpass({"render", "--vm", "vm1", "--format", "qemu"});
  EXPECT_EQ(q.out, std::string("-device vfio-pci,host=0000:01:00.0 \\\n-device "
                               "vfio-pci,sysfsdev=/sys/bus/mdev/devices/") +
                       kGridInstanceUuid + " \\\n-device usb-host,hostbus=1,hostaddr=2\n")
      << q.err;
  EXPECT_EQ(hostpass({"render", "--vm", "nobody", "--format", "qemu"}).exit_code, 1);
}

TEST_F(LedgerCli, RenderKubevirtFromResourcesAndDevices) {
  ProgramRun r = hostpass({"render", "nvidia.com/TU104GL_Tesla_T4", "devices.kubevirt.io/nvme",
                           "--format", "kubevirt", "-f", cr_, "--node", "node03"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "spec:\n  nodeSelector:\n    kubernetes.io/hostname: node03\n  domain:\n    devices:\n"
      "      gpus:\n      - deviceName: nvidia.com/TU104GL_Tesla_T4\n        name: gpu1\n"
      "      hostDevices:\n      - deviceName: devices.kubevirt.io/nvme\n        name: nvme1\n");
  ProgramRun d = hostpass({"render", "0000:65:00.0", "--format", "kubevirt", "-f", cr_});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_NE(d.out.find("      gpus:\n      - deviceName: nvidia.com/TU104GL_Tesla_T4\n"),
            std::string::npos);
  ProgramRun none = hostpass({"render", "0000:65:00.0", "--format", "kubevirt"});
  EXPECT_EQ(none.exit_code, 2);
  ProgramRun one = hostpass({"render", "0000:65:00.0", "--format", "opennebula"});
  EXPECT_EQ(one.out, "PCI = [ SHORT_ADDRESS = \"65:00.0\" ]\n");
  ProgramRun ty = hostpass(
      {"render", "nvidia.com/TU104GL_Tesla_T4", "--format", "opennebula", "--by-type", "-f", cr_});
  EXPECT_EQ(ty.out, "PCI = [ VENDOR = \"10de\", DEVICE = \"1eb8\", CLASS = \"0302\" ]\n") << ty.err;
}

// A ledger VM is rendered as the VirtualMachine it stands for (spec.template.spec...), unless
// --kind vmi asks for a VMI's spec.domain.
TEST_F(LedgerCli, RenderKubevirtForALedgerVmIsAVirtualMachinesTemplate) {
  ASSERT_EQ(hostpass({"assign", "devices.kubevirt.io/nvme", "--vm", "vm1", "-f", cr_}).exit_code,
            0);
  ProgramRun vm = hostpass({"render", "--vm", "vm1", "--format", "kubevirt", "--node", "node03"});
  ASSERT_EQ(vm.exit_code, 0) << vm.err;
  EXPECT_EQ(vm.out,
            "spec:\n  template:\n    spec:\n"
            "      nodeSelector:\n        kubernetes.io/hostname: node03\n"
            "      domain:\n        devices:\n          hostDevices:\n"
            "          - deviceName: devices.kubevirt.io/nvme\n            name: nvme1\n");
  ProgramRun vmi = hostpass({"render", "--vm", "vm1", "--format", "kubevirt", "--kind", "vmi"});
  ASSERT_EQ(vmi.exit_code, 0) << vmi.err;
  EXPECT_EQ(vmi.out,
            "spec:\n  domain:\n    devices:\n      hostDevices:\n"
            "      - deviceName: devices.kubevirt.io/nvme\n        name: nvme1\n");
  ProgramRun as_vm = hostpass({"render", "devices.kubevirt.io/nvme", "--format", "kubevirt",
                               "--host-device", "--kind", "vm"});
  ASSERT_EQ(as_vm.exit_code, 0) << as_vm.err;
  EXPECT_EQ(as_vm.out.rfind("spec:\n  template:\n    spec:\n      domain:\n", 0), 0u) << as_vm.out;
  ProgramRun bad = hostpass({"render", "--vm", "vm1", "--format", "kubevirt", "--kind", "pod"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.out, "");
  EXPECT_NE(bad.err.find("unknown --kind 'pod'"), std::string::npos) << bad.err;
  ProgramRun other = hostpass({"render", "--vm", "vm1", "--format", "qemu", "--kind", "vm"});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_EQ(other.out, "");
}

// Each device is rendered once, however it is named twice: by address in two forms, by --vm and
// by address; a resource named twice is two different units, and no third one is invented.
TEST_F(LedgerCli, RenderShowsEachDeviceOnce) {
  ProgramRun two = hostpass({"render", "0000:65:00.0", "65:00.0", "--format", "libvirt"});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(two.out,
            "<hostdev mode='subsystem' type='pci' managed='no'>\n  <driver name='vfio'/>\n"
            "  <source>\n    <address domain='0x0000' bus='0x65' slot='0x00' "
            "function='0x0'/>\n  </source>\n</hostdev>\n");
  EXPECT_EQ(two.err, "hostpass: 0000:65:00.0 is named more than once: rendered once\n");

  ASSERT_EQ(hostpass({"assign", "0000:05:00.0", "--vm", "vm1"}).exit_code, 0);
  ProgramRun vm = hostpass({"render", "--vm", "vm1", "05:00.0", "--format", "qemu"});
  ASSERT_EQ(vm.exit_code, 0) << vm.err;
  EXPECT_EQ(vm.out, "-device vfio-pci,host=0000:05:00.0\n");
  ProgramRun k = hostpass({"render", "--vm", "vm1", "0000:05:00.0", "--format", "kubevirt",
                           "--resource", "devices.kubevirt.io/nvme"});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  EXPECT_EQ(k.out.find("deviceName"), k.out.rfind("deviceName")) << k.out;

  // Two free NVMe units are left (04:00.0, 06:00.0): named twice, both are shown; three times, the
  // third is refused, though each alone is free.
  ProgramRun res = hostpass({"render", "devices.kubevirt.io/nvme", "devices.kubevirt.io/nvme",
                             "--format", "qemu", "-f", cr_});
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out, "-device vfio-pci,host=0000:04:00.0 \\\n-device vfio-pci,host=0000:06:00.0\n");
  ProgramRun three = hostpass({"render", "devices.kubevirt.io/nvme", "devices.kubevirt.io/nvme",
                               "devices.kubevirt.io/nvme", "--format", "qemu", "-f", cr_});
  EXPECT_EQ(three.exit_code, 2);
  EXPECT_EQ(three.out, "");
  EXPECT_NE(three.err.find("no other free unit of devices.kubevirt.io/nvme: every free one is "
                           "rendered already"),
            std::string::npos)
      << three.err;
}

// Seed 002's VMI (KubeVirt's host-devices page) in one call: the T4 and the GRID vGPU in gpus, the
// QAT (class 0b40, still on qat_c62x, so in no inventory unit yet) in hostDevices by its class.
TEST_F(LedgerCli, RenderSeed002sVmiInOneCall) {
  std::string cr = dir_.path() + "/seed-002-cr.yaml";
  std::ofstream(cr) << "apiVersion: kubevirt.io/v1\nkind: KubeVirt\nmetadata:\n  name: kubevirt\n"
                       "spec:\n  configuration:\n    permittedHostDevices:\n"
                       "      pciHostDevices:\n"
                       "      - pciVendorSelector: \"10DE:1EB8\"\n"
                       "        resourceName: \"nvidia.com/TU104GL_Tesla_T4\"\n"
                       "        externalResourceProvider: true\n"
                       "      - pciVendorSelector: \"8086:6F54\"\n"
                       "        resourceName: \"intel.com/qat\"\n"
                       "      mediatedDevices:\n"
                       "      - mdevNameSelector: \"GRID T4-1Q\"\n"
                       "        resourceName: \"nvidia.com/GRID_T4-1Q\"\n";
  ProgramRun r = hostpass({"render", "nvidia.com/TU104GL_Tesla_T4", "nvidia.com/GRID_T4-1Q",
                           "intel.com/qat", "--format", "kubevirt", "-f", cr});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "spec:\n  domain:\n    devices:\n      gpus:\n"
            "      - deviceName: nvidia.com/TU104GL_Tesla_T4\n        name: gpu1\n"
            "      - deviceName: nvidia.com/GRID_T4-1Q\n        name: gpu2\n"
            "      hostDevices:\n      - deviceName: intel.com/qat\n        name: qat1\n");
  // The QAT by its address: its resource from the CR's selector, though it is not on vfio-pci.
  ProgramRun d = hostpass({"render", "02:00.0", "--format", "kubevirt", "-f", cr});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out,
            "spec:\n  domain:\n    devices:\n      hostDevices:\n"
            "      - deviceName: intel.com/qat\n        name: qat1\n");
}

// A resource the CR lacks is named with the CR file that was passed, exit 2; the message does not
// ask for the CR again.
TEST_F(LedgerCli, RenderNamesTheResourceAndTheCrThatLacksIt) {
  std::string lacks = "hostpass: no resource intel.com/qat in " + cr_ +
                      "'s permittedHostDevices (resources: devices.kubevirt.io/nvme, "
                      "nvidia.com/TU104GL_Tesla_T4, nvidia.com/GRID_T4-1Q)\n";
  for (const char* format : {"kubevirt", "libvirt"}) {
    ProgramRun r = hostpass({"render", "intel.com/qat", "--format", format, "-f", cr_});
    EXPECT_EQ(r.exit_code, 2) << format;
    EXPECT_EQ(r.out, "") << format;
    EXPECT_EQ(r.err, lacks) << format;
  }
  ProgramRun d = hostpass({"render", "0000:02:00.0", "--format", "kubevirt", "-f", cr_});
  EXPECT_EQ(d.exit_code, 2);
  EXPECT_EQ(d.err, "hostpass: 0000:02:00.0 is in no resource of " + cr_ +
                       "'s permittedHostDevices: KubeVirt assigns devices by resource; add a "
                       "selector for it there, or give --resource NAME\n");
  EXPECT_EQ(d.err.find(" with -f"), std::string::npos) << d.err;
  // assign says the same of a resource the CR lacks: bad input, exit 2, nothing assigned.
  ProgramRun a = sim({"assign", "intel.com/qat", "--vm", "vm1", "-f", cr_});
  EXPECT_EQ(a.exit_code, 2) << a.err;
  EXPECT_EQ(a.err.rfind("hostpass: no resource intel.com/qat in the CR (resources: ", 0), 0u)
      << a.err;
}

// render and assign pick a resource's unit by the ledger's one rule (first_free_unit): the X710
// unit (0000:67:00.0 and .1) is not free once 67:00.1 alone is assigned, though no row names
// unit 0000:67:00.0.
TEST_F(LedgerCli, RenderShowsNoUnitWhoseMemberIsAssignedAlone) {
  std::string cr = dir_.path() + "/x710-cr.yaml";
  std::ofstream(cr) << "spec:\n  configuration:\n    permittedHostDevices:\n"
                       "      pciHostDevices:\n      - pciVendorSelector: \"8086:1572\"\n"
                       "        resourceName: \"intel.com/x710\"\n";
  ProgramRun before = hostpass({"render", "intel.com/x710", "--format", "qemu", "-f", cr});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_EQ(before.out,
            "-device vfio-pci,host=0000:67:00.0 \\\n-device vfio-pci,host=0000:67:00.1\n");
  EXPECT_NE(before.err.find("rendering 0000:67:00.0, its first free healthy unit"),
            std::string::npos)
      << before.err;
  ASSERT_EQ(sim({"assign", "0000:67:00.1", "--vm", "vm1"}).exit_code, 0);
  ProgramRun after = hostpass({"render", "intel.com/x710", "--format", "qemu", "-f", cr});
  EXPECT_EQ(after.exit_code, 2) << after.out;
  EXPECT_EQ(after.err, "hostpass: no free unit of intel.com/x710 (1 healthy unit, 1 assigned)\n");
  ProgramRun assign = sim({"assign", "intel.com/x710", "--vm", "vm2", "-f", cr});
  EXPECT_EQ(assign.exit_code, 2);
  EXPECT_NE(assign.err.find("no free unit of intel.com/x710 (1 healthy unit, 1 assigned)"),
            std::string::npos)
      << assign.err;
}

TEST_F(LedgerCli, RenderThisNodeNamesTheNodeAsTheKubeletDoes) {
  tree_.write("/proc/sys/kernel/hostname", "Worker-7\n");
  tree_.write("/etc/hostname", "installer-name\n");
  ProgramRun r = hostpass(
      {"render", "nvidia.com/TU104GL_Tesla_T4", "--format", "kubevirt", "--gpu", "--this-node"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  nodeSelector:\n    kubernetes.io/hostname: worker-7\n"),
            std::string::npos)
      << r.out;
}

TEST_F(LedgerCli, RenderCapkEditsTheWorkerTemplateInPlace) {
  std::string manifest = dir_.path() + "/cluster.yaml";
  std::filesystem::copy_file(
      std::string(HOSTPASS_SOURCE_DIR) + "/tests/fixtures/capk/clusterctl-kubevirt-cl.yaml",
      manifest);
  std::string before = slurp(manifest);
  ProgramRun r = hostpass(
      {"render", "nvidia.com/TU104GL_Tesla_T4", "--format", "capk", "-f", manifest, "--cr", cr_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find(", ")),
            "added gpus entry gpu1 (nvidia.com/TU104GL_Tesla_T4) in KubevirtMachineTemplate "
            "kubevirt-cl-md-0");
  std::string after = slurp(manifest);
  EXPECT_EQ(
      after.size(),
      before.size() + std::string("                  gpus:\n"
                                  "                    - deviceName: nvidia.com/TU104GL_Tesla_T4\n"
                                  "                      name: gpu1\n")
                          .size());
  // The control plane's template is the third document; it is byte-identical.
  auto doc = [](const std::string& s, int n) {
    size_t p = 0;
    for (int i = 0; i < n; ++i) p = s.find("\n---\n", p) + 5;
    return s.substr(p, s.find("\n---\n", p) - p);
  };
  EXPECT_EQ(doc(after, 3), doc(before, 3));
  EXPECT_NE(doc(before, 3).find("kubevirt-cl-control-plane"), std::string::npos);
  ProgramRun again = hostpass(
      {"render", "nvidia.com/TU104GL_Tesla_T4", "--format", "capk", "-f", manifest, "--gpu"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(again.out.substr(0, 16), "already present:");
  EXPECT_EQ(slurp(manifest), after);
  ProgramRun cp = hostpass({"render", "nvidia.com/x", "--gpu", "--format", "capk", "-f", manifest,
                            "--template", "kubevirt-cl-control-plane"});
  EXPECT_EQ(cp.exit_code, 2);
  EXPECT_EQ(slurp(manifest), after);
}

// --stdout writes nothing, so it does not say "added ... cluster.yaml:N": stdout is the edited
// manifest alone (so `> file` works), stderr what it would add and where in the printed text.
TEST_F(LedgerCli, RenderCapkStdoutSaysWhatItWouldAddAndWritesNothing) {
  std::string manifest = dir_.path() + "/cluster.yaml";
  std::filesystem::copy_file(
      std::string(HOSTPASS_SOURCE_DIR) + "/tests/fixtures/capk/clusterctl-kubevirt-cl.yaml",
      manifest);
  std::string before = slurp(manifest);
  ProgramRun p = hostpass({"render", "nvidia.com/TU104GL_Tesla_T4", "--gpu", "--format", "capk",
                           "-f", manifest, "--stdout"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(slurp(manifest), before);
  std::string head =
      "hostpass: would add gpus entry gpu1 (nvidia.com/TU104GL_Tesla_T4) in "
      "KubevirtMachineTemplate kubevirt-cl-md-0, at line ";
  ASSERT_EQ(p.err.rfind(head, 0), 0u) << p.err;
  EXPECT_EQ(p.err.find("added"), std::string::npos) << p.err;
  EXPECT_NE(p.err.find(" of the manifest printed (" + manifest + " is not changed)\n"),
            std::string::npos)
      << p.err;
  // The line it names is the entry's line in what was printed.
  int line = std::stoi(p.err.substr(head.size()));
  std::istringstream text(p.out);
  std::string l;
  for (int i = 0; i < line; ++i) std::getline(text, l);
  EXPECT_EQ(l.substr(l.find_first_not_of(' ')), "- deviceName: nvidia.com/TU104GL_Tesla_T4");
  // What it prints is what the in-place edit writes.
  ProgramRun w = hostpass(
      {"render", "nvidia.com/TU104GL_Tesla_T4", "--gpu", "--format", "capk", "-f", manifest});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(slurp(manifest), p.out);
  ProgramRun again = hostpass({"render", "nvidia.com/TU104GL_Tesla_T4", "--gpu", "--format", "capk",
                               "-f", manifest, "--stdout"});
  EXPECT_EQ(again.err.rfind("hostpass: already present: gpus entry gpu1", 0), 0u) << again.err;
  EXPECT_EQ(again.out, p.out);
}

TEST_F(LedgerCli, TheNextCommandRollsBackAnAssignThatCrashedBeforeItsCommit) {
  // The state a crash between the bind and the commit leaves: the device bound, its intent on
  // disk, no record (a ledger exists from an earlier assignment).
  ASSERT_EQ(sim({"assign", "0000:03:00.0", "--vm", "vm0"}).exit_code, 0);
  ASSERT_EQ(sim({"bind", "--force=mdev-live", "0000:01:00.0"}).exit_code, 0);
  ASSERT_EQ(driver("0000:01:00.0"), "vfio-pci");
  tree_.write("/var/lib/hostpass/ledger-intent.json",
              R"({"operation": "assign", "vm": "vm1", "members": [{"device": "0000:01:00.0",
                  "kind": "pci", "unit": "0000:01:00.0", "original_driver": "nvidia",
                  "original_override": null}]})");
  ProgramRun a = sim({"assign", "0000:65:00.0", "--vm", "vm2"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  // The safety spine finishes it before the assign starts, and says so as for every command.
  EXPECT_EQ(a.err,
            "hostpass: finished an interrupted assign first:\n"
            "hostpass:   rolled back the interrupted assign of 0000:01:00.0 to VM 'vm1': "
            "returned 0000:01:00.0 to the host\n");
  EXPECT_EQ(driver("0000:01:00.0"), "nvidia");
  EXPECT_FALSE(std::filesystem::exists(tree_.path("/var/lib/hostpass/ledger-intent.json")));
  auto rows = nlohmann::json::parse(sim({"--json", "assignments"}).out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["vm"], "vm0");
  EXPECT_EQ(rows[1]["vm"], "vm2");
}

TEST_F(LedgerCli, ListExpectFailsWhenADeviceIsMissing) {
  ProgramRun ok = hostpass({"list", "--expect", "10de:1eb8,8086:5845"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  ProgramRun missing = hostpass({"list", "--expect", "10de:1eb8,10de:20f1"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "hostpass: expected device 10de:20f1 is missing\n");
  ProgramRun bad = hostpass({"list", "--expect", "10de"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.out, "");
}

}  // namespace
}  // namespace hostpass::testing
