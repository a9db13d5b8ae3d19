// The bind engine on the simulated kernel: every rule, the exact kernel sequence, dry-run,
// refusals with zero writes, rollback at every write point, crash + recover at every write point.
#include "vfio_bind.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "faulty_host.h"
#include "fixture_tree.h"
#include "pci_device.h"
#include "sim_kernel.h"
#include "test_dirs.h"

// GCC 12 reports the empty std::set inside BindOptions{...}'s ForceSet as "may be used
// uninitialized" once the designated initializers are inlined (a false positive of its
// -Wmaybe-uninitialized on _Rb_tree's header); the value-initialized set is empty.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::PciSpec;
using testing::ScratchDir;
using testing::SimKernelHost;

PciAddress addr(const char* text) {
  return *PciAddress::parse(text);
}

// driver (or "-") and driver_override of every device: the state that must never be lost.
using Snapshot = std::map<std::string, std::pair<std::string, std::string>>;

// One machine: a fixture tree with the simulated kernel, seen through a FaultyHost.
struct Machine {
  explicit Machine(const std::string& root, bool build = true) : tree(root, build) {
    real = std::make_unique<RealHost>(root);
    sim = std::make_unique<SimKernelHost>(*real);
    host = std::make_unique<FaultyHost>(*sim);
  }
  // A fresh process over the same tree (after a crash).
  void restart() { host = std::make_unique<FaultyHost>(*sim); }
  Snapshot snapshot() {
    Snapshot s;
    auto names = real->list_dir("/sys/bus/pci/devices");
    EXPECT_TRUE(names.ok());
    if (!names.ok()) return s;
    for (const std::string& a : *names) {
      auto d = current_driver(*real, addr(a.c_str()));
      auto o = real->read_file("/sys/bus/pci/devices/" + a + "/driver_override");
      s[a] = {d.value_or("-"), o.ok() ? std::string(trim(*o)) : "?"};
    }
    return s;
  }
  bool journal_exists() { return real->exists("/var/lib/hostpass/journal.json"); }

  struct Tree {
    Tree(const std::string& root, bool build) : t(root) {
      if (build) testing::build_standard_host(t);
    }
    FixtureTree t;
  } tree;
  std::unique_ptr<RealHost> real;
  std::unique_ptr<SimKernelHost> sim;
  std::unique_ptr<FaultyHost> host;
};

class VfioBind : public ::testing::Test {
 protected:
  VfioBind() : m_(dir_.path() + "/root") {}
  FixtureTree& tree() { return m_.tree.t; }
  FaultyHost& host() { return *m_.host; }
  std::optional<std::string> driver(const char* a) { return current_driver(*m_.real, addr(a)); }

  ScratchDir dir_;
  Machine m_;
};

std::vector<std::string> ops(const std::vector<HostWrite>& writes) {
  std::vector<std::string> out;
  for (const HostWrite& w : writes) out.push_back(w.op + " " + w.path + " <" + w.data + ">");
  return out;
}

TEST_F(VfioBind, BindsWithTheKernelSequenceAndVerifies) {
  auto r = bind_devices(host(), {addr("00:04.0")}, BindOptions{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<std::string> expected = {
      "replace /var/lib/hostpass/journal.json <",
      "write /sys/bus/pci/devices/0000:00:04.0/driver_override <vfio-pci>",
      "write /sys/bus/pci/drivers/e1000e/unbind <0000:00:04.0>",
      "write /sys/bus/pci/drivers_probe <0000:00:04.0>",
      "remove /var/lib/hostpass/journal.json <>",
  };
  auto got = ops(host().writes());
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_EQ(got[0].substr(0, expected[0].size()), expected[0]);  // journal content varies
  for (size_t i = 1; i < expected.size(); ++i) EXPECT_EQ(got[i], expected[i]);
  EXPECT_EQ(driver("0000:00:04.0"), "vfio-pci");
  EXPECT_TRUE(m_.real->exists("/dev/vfio/4"));
  EXPECT_FALSE(m_.journal_exists());
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_EQ(r->devices[0].driver_before, "e1000e");
  EXPECT_EQ(r->devices[0].driver_after, "vfio-pci");
  EXPECT_EQ(r->devices[0].override_after, "vfio-pci");
  EXPECT_TRUE(r->devices[0].changed);
}

TEST_F(VfioBind, JournalHoldsEveryDevicesEntryStateBeforeTheFirstWrite) {
  m_.host->crash_after_writes(1);  // the journal goes through, nothing after it
  auto r = bind_devices(host(), {addr("02:00.0")}, BindOptions{.whole_group = true});
  ASSERT_FALSE(r.ok());
  auto j = m_.real->read_file("/var/lib/hostpass/journal.json");
  ASSERT_TRUE(j.ok());
  EXPECT_NE(j->find("\"operation\": \"bind\""), std::string::npos) << *j;
  EXPECT_NE(j->find("\"address\": \"0000:02:00.1\""), std::string::npos) << *j;
  EXPECT_NE(j->find("\"driver\": \"qat_c62x\""), std::string::npos) << *j;
  EXPECT_NE(j->find("\"driver_override\": null"), std::string::npos) << *j;
}

TEST_F(VfioBind, DryRunPlansExactlyTheWritesTheRealRunMakesAndMakesNone) {
  BindOptions o{.whole_group = true, .dry_run = true};
  auto plan = bind_devices(host(), {addr("02:00.0")}, o);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(host().write_count(), 0);
  EXPECT_EQ(driver("0000:02:00.0"), "qat_c62x");
  o.dry_run = false;
  auto real = bind_devices(host(), {addr("02:00.0")}, o);
  ASSERT_TRUE(real.ok()) << real.error().message;
  auto made = host().writes();
  ASSERT_EQ(plan->writes.size(), made.size());
  for (size_t i = 0; i < made.size(); ++i) {
    EXPECT_EQ(plan->writes[i].op, made[i].op) << i;
    EXPECT_EQ(plan->writes[i].path, made[i].path) << i;
    if (made[i].op == "write") {
      EXPECT_EQ(plan->writes[i].data, made[i].data) << i;
    }
  }
  EXPECT_EQ(plan->writes.size(), 8u);  // journal, 3 writes x 2 functions, journal removal
  EXPECT_EQ(driver("0000:02:00.1"), "vfio-pci");
}

TEST_F(VfioBind, AlreadyBoundIsANoOpWithZeroWrites) {
  auto r = bind_devices(host(), {addr("0000:04:00.0")}, BindOptions{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(host().write_count(), 0);
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_FALSE(r->devices[0].changed);
  EXPECT_EQ(r->notes, std::vector<std::string>{"0000:04:00.0 is already on vfio-pci"});
}

TEST_F(VfioBind, RefusesAGroupWithASiblingOnAHostDriver) {
  auto r = bind_devices(host(), {addr("02:00.0")}, BindOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Refused);
  EXPECT_EQ(r.error().message,
            "refusing 0000:02:00.0: IOMMU group 6 is not viable: 0000:02:00.1 is on qat_c62x (a "
            "VM gets the whole group, so every endpoint must be on vfio-pci or unbound); name "
            "them too");
  EXPECT_EQ(host().write_count(), 0);
}

// The engine names no flag of its own: each caller phrases how to include the siblings.
TEST_F(VfioBind, TheGroupRemedyIsTheCallersWithTheSiblingsNamed) {
  BindOptions o;
  std::vector<std::string> given;
  o.group_remedy = [&given](const std::vector<std::string>& siblings) {
    given = siblings;
    return "add " + join(siblings, ", ") + " to pci_devices";
  };
  auto r = bind_devices(host(), {addr("02:00.0")}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(given, std::vector<std::string>{"0000:02:00.1"});
  EXPECT_NE(r.error().message.find("or unbound); add 0000:02:00.1 to pci_devices"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("--group"), std::string::npos) << r.error().message;
}

TEST_F(VfioBind, NamingEverySiblingIsAsGoodAsGroup) {
  auto r = bind_devices(host(), {addr("02:00.1"), addr("02:00.0")}, BindOptions{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(driver("0000:02:00.0"), "vfio-pci");
  EXPECT_EQ(driver("0000:02:00.1"), "vfio-pci");
  EXPECT_TRUE(m_.real->exists("/dev/vfio/6"));
}

TEST_F(VfioBind, LeavesBridgesInTheGroupAlone) {
  auto r = bind_devices(host(), {addr("01:00.0")}, BindOptions{.whole_group = true});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(driver("0000:01:00.0"), "vfio-pci");
  EXPECT_EQ(driver("0000:00:01.0"), "pcieport");
  EXPECT_EQ(r->devices.size(), 1u);
  EXPECT_NE(std::find(r->notes.begin(), r->notes.end(),
                      "left bridge 0000:00:01.0 of IOMMU group 1 alone"),
            r->notes.end());
}

TEST_F(VfioBind, RefusesTheRootFilesystemEvenWithForce) {
  for (bool force : {false, true}) {
    auto r = bind_devices(host(), {addr("00:02.0")}, BindOptions{.force = ForceSet{.all = force}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::Refused);
    EXPECT_NE(r.error().message.find("refusing 0000:00:02.0: it holds the root filesystem "
                                     "(/dev/vda1 on /); --force does not override this"),
              std::string::npos)
        << r.error().message;
  }
  EXPECT_EQ(host().write_count(), 0);
  EXPECT_EQ(driver("0000:00:02.0"), "virtio-pci");
}

TEST_F(VfioBind, RefusesAnUpNicUnlessForcedAndSaysWhatForceOverrode) {
  auto r = bind_devices(host(), {addr("00:03.0")}, BindOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "refusing 0000:00:03.0: the host uses it: network interface eth0 is up (free it "
            "first, or --force=network-up to take it anyway)\n"
            "refusing 0000:00:03.0: the host uses it: default route via eth0 (free it first, or "
            "--force=default-route to take it anyway)");
  EXPECT_EQ(host().write_count(), 0);
  auto forced =
      bind_devices(host(), {addr("00:03.0")}, BindOptions{.force = ForceSet{.all = true}});
  ASSERT_TRUE(forced.ok()) << forced.error().message;
  EXPECT_NE(std::find(forced->notes.begin(), forced->notes.end(),
                      "--force=network-up: overriding for 0000:00:03.0: the host uses it: "
                      "network interface eth0 is up"),
            forced->notes.end());
  EXPECT_EQ(driver("0000:00:03.0"), "vfio-pci");
}

TEST_F(VfioBind, RefusesTheBootDisplay) {
  PciSpec s;
  s.address = "0000:06:00.0";
  s.vendor = 0x1002;
  s.device = 0x67df;
  s.class_code = 0x030000;
  s.driver = "amdgpu";
  s.iommu_group = 9;
  s.boot_vga = true;
  tree().add_pci(s);
  auto r = bind_devices(host(), {addr("06:00.0")}, BindOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "refusing 0000:06:00.0: the host uses it: boot display (boot_vga=1) (free it first, "
            "or --force=boot-vga to take it anyway)");
  EXPECT_EQ(host().write_count(), 0);
}

TEST_F(VfioBind, RefusesBridgesAndDevicesWithoutAGroup) {
  PciSpec s;
  s.address = "0000:05:00.0";
  s.driver = "e1000e";
  tree().add_pci(s);
  auto r = bind_devices(host(), {addr("00:01.0"), addr("05:00.0")},
                        BindOptions{.force = ForceSet{.all = true}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Refused);
  EXPECT_NE(r.error().message.find("refusing 0000:00:01.0: it is a PCI bridge"), std::string::npos);
  EXPECT_NE(r.error().message.find("refusing 0000:05:00.0: it has no IOMMU group (the IOMMU is "
                                   "off, or the device is not behind it); run `hostpass check`"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(host().write_count(), 0);
}

TEST_F(VfioBind, RefusesAPhysicalFunctionWithVirtualFunctionsEnabled) {
  PciSpec pf;
  pf.address = "0000:07:00.0";
  pf.vendor = 0x8086;
  pf.device = 0x1572;
  pf.driver = "i40e";
  pf.iommu_group = 10;
  pf.sriov_totalvfs = 8;
  pf.sriov_numvfs = 2;
  tree().add_pci(pf);
  auto r = bind_devices(host(), {addr("07:00.0")}, BindOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("it is an SR-IOV physical function with 2 virtual functions "
                                   "enabled, which unbinding i40e destroys"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(host().write_count(), 0);
}

TEST_F(VfioBind, BindsAVirtualFunctionInItsOwnGroup) {
  PciSpec pf;
  pf.address = "0000:07:00.0";
  pf.vendor = 0x8086;
  pf.device = 0x1572;
  pf.driver = "i40e";
  pf.iommu_group = 10;
  pf.sriov_totalvfs = 8;
  pf.sriov_numvfs = 1;
  tree().add_pci(pf);
  PciSpec vf;
  vf.address = "0000:07:02.0";
  vf.vendor = 0x8086;
  vf.device = 0x154c;
  vf.driver = "iavf";
  vf.iommu_group = 11;
  vf.physfn = "0000:07:00.0";
  tree().add_pci(vf);
  // The native table was recorded before the VF existed: iavf's id table claims it.
  m_.sim->set_native_driver("0000:07:02.0", "iavf");
  auto r = bind_devices(host(), {addr("07:02.0")}, BindOptions{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(driver("0000:07:02.0"), "vfio-pci");
  EXPECT_EQ(driver("0000:07:00.0"), "i40e");
  ASSERT_TRUE(unbind_devices(host(), {addr("07:02.0")}, BindOptions{}).ok());
  EXPECT_EQ(driver("0000:07:02.0"), "iavf");
}

TEST_F(VfioBind, LoadsTheModuleWhenTheDriverIsMissing) {
  std::filesystem::remove(tree().path("/sys/bus/pci/devices/0000:04:00.0/driver"));
  m_.sim->remove_driver("vfio-pci");
  auto r = bind_devices(host(), {addr("00:04.0")}, BindOptions{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(host().writes()[0].op, "run");
  EXPECT_EQ(host().writes()[0].path, "modprobe vfio-pci");
  EXPECT_EQ(driver("0000:00:04.0"), "vfio-pci");
}

TEST_F(VfioBind, FailsClearlyWhenTheModuleCannotBeLoaded) {
  std::filesystem::remove(tree().path("/sys/bus/pci/devices/0000:04:00.0/driver"));
  m_.sim->remove_driver("vfio-pci");
  m_.sim->set_modprobe_fails(true);
  Snapshot before = m_.snapshot();
  auto r = bind_devices(host(), {addr("00:04.0")}, BindOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Io);
  EXPECT_EQ(r.error().message,
            "cannot load the vfio-pci module: 'modprobe vfio-pci' exited with status 1: "
            "modprobe: FATAL: Module vfio-pci not found in directory "
            "/lib/modules/6.1.0-13-amd64 (is it built for this kernel? `modinfo vfio-pci`)");
  ASSERT_EQ(host().write_count(), 1);  // the modprobe, and no sysfs write
  EXPECT_EQ(m_.snapshot(), before);
  EXPECT_FALSE(m_.journal_exists());
}

TEST_F(VfioBind, ARefusedProbeRollsEveryDeviceBack) {
  m_.sim->refuse_probe("vfio-pci", "0000:02:00.1");
  Snapshot before = m_.snapshot();
  auto r = bind_devices(host(), {addr("02:00.0")}, BindOptions{.whole_group = true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Io);
  EXPECT_NE(r.error().message.find("binding 0000:02:00.1 to vfio-pci failed: after drivers_probe "
                                   "it is on no driver"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("rolled back: every device is back: 0000:02:00.1 on qat_c62x "
                                   "(driver_override (null)), 0000:02:00.0 on qat_c62x"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(m_.snapshot(), before);
  EXPECT_FALSE(m_.real->exists("/dev/vfio/6"));
  EXPECT_FALSE(m_.journal_exists());
}

TEST_F(VfioBind, AKernelErrorOnUnbindIsReportedWithTheRollback) {
  host().fail_write_matching("/drivers/qat_c62x/unbind", "Device or resource busy");
  Snapshot before = m_.snapshot();
  auto r = bind_devices(host(), {addr("02:00.0"), addr("02:00.1")}, BindOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "unbinding 0000:02:00.0 from qat_c62x: write of '0000:02:00.0' failed on "
            "/sys/bus/pci/drivers/qat_c62x/unbind: Device or resource busy\n"
            "rolled back: every device is back: 0000:02:00.1 on qat_c62x (driver_override "
            "(null)), 0000:02:00.0 on qat_c62x (driver_override (null))");
  EXPECT_EQ(m_.snapshot(), before);
}

TEST_F(VfioBind, AnIncompleteRollbackKeepsTheJournalForRecover) {
  host().fail_write_matching("/sys/bus/pci/drivers_probe", "No such device");  // every probe
  Snapshot before = m_.snapshot();
  auto r = bind_devices(host(), {addr("00:04.0")}, BindOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("\nROLLBACK INCOMPLETE: could not return 0000:00:04.0 on "
                                   "e1000e (driver_override (null)): write of '0000:00:04.0' "
                                   "failed on /sys/bus/pci/drivers_probe: No such device\nthe "
                                   "journal /var/lib/hostpass/journal.json is kept: run "
                                   "`hostpass recover` to finish the rollback"),
            std::string::npos)
      << r.error().message;
  EXPECT_TRUE(m_.journal_exists());
  m_.restart();  // the kernel error went away
  auto rec = recover(host());
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  EXPECT_EQ(m_.snapshot(), before);
  EXPECT_FALSE(m_.journal_exists());
}

TEST_F(VfioBind, RefusesToStartOverAnInterruptedOperation) {
  ASSERT_TRUE(m_.real->replace_file("/var/lib/hostpass/journal.json", "{}").ok());
  auto r = bind_devices(host(), {addr("00:04.0")}, BindOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Refused);
  EXPECT_NE(r.error().message.find("run `hostpass recover` first"), std::string::npos);
  EXPECT_EQ(host().write_count(), 0);
}

TEST_F(VfioBind, BadDriverNamesAndStateDirsAreInvalidInput) {
  for (const char* d : {"", "../x", "vfio pci", "a/b", ".."}) {
    auto r = bind_devices(host(), {addr("00:04.0")}, BindOptions{.driver = d});
    ASSERT_FALSE(r.ok()) << d;
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput) << d;
  }
  for (const char* s : {"", "relative", "/var/../etc", "/a/./b"}) {
    auto r = bind_devices(host(), {addr("00:04.0")}, BindOptions{.state_dir = s});
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput) << s;
  }
  EXPECT_EQ(host().write_count(), 0);
}

TEST_F(VfioBind, UnbindReturnsTheDeviceToItsHostDriver) {
  ASSERT_TRUE(bind_devices(host(), {addr("00:04.0")}, BindOptions{}).ok());
  FaultyHost fresh(*m_.sim);
  auto r = unbind_devices(fresh, {addr("00:04.0")}, BindOptions{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto got = ops(fresh.writes());
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[1], "write /sys/bus/pci/devices/0000:00:04.0/driver_override <\n>");
  EXPECT_EQ(got[2], "write /sys/bus/pci/drivers/vfio-pci/unbind <0000:00:04.0>");
  EXPECT_EQ(got[3], "write /sys/bus/pci/drivers_probe <0000:00:04.0>");
  EXPECT_EQ(driver("0000:00:04.0"), "e1000e");
  EXPECT_FALSE(m_.real->exists("/dev/vfio/4"));
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_EQ(r->devices[0].driver_after, "e1000e");
  EXPECT_EQ(r->devices[0].override_after, std::nullopt);
}

TEST_F(VfioBind, UnbindReportsWhenNoHostDriverExists) {
  auto r = unbind_devices(host(), {addr("04:00.0")}, BindOptions{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(driver("0000:04:00.0"), std::nullopt);
  EXPECT_FALSE(m_.real->exists("/dev/vfio/8"));
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("0000:04:00.0 has no driver now: no loaded host driver matches it"),
            std::string::npos);
}

TEST_F(VfioBind, UnbindRefusesADeviceAVmHolds) {
  tree().symlink("/dev/vfio/8", "/proc/4242/fd/17");
  tree().symlink("/dev/null", "/proc/4242/fd/0");
  tree().write("/proc/4242/comm", "qemu-system-x86\n");
  tree().symlink("/dev/vfio/vfio", "/proc/77/fd/3");  // the container alone holds no group
  auto r = unbind_devices(host(), {addr("04:00.0")}, BindOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Refused);
  EXPECT_EQ(r.error().message,
            "refusing 0000:04:00.0: /dev/vfio/8 is open by process 4242 (qemu-system-x86) (a VM "
            "is using it; unbinding would hang until it lets go): stop the VM or detach the "
            "device first");
  EXPECT_EQ(host().write_count(), 0);
  EXPECT_EQ(driver("0000:04:00.0"), "vfio-pci");
}

TEST_F(VfioBind, RecoverDiscardsAJournalFromAnEarlierBoot) {
  tree().write("/proc/sys/kernel/random/boot_id", "1111-aaaa\n");
  m_.host->crash_after_writes(3);  // journal, driver_override, unbind: 00:04.0 left unbound
  ASSERT_FALSE(bind_devices(host(), {addr("00:04.0")}, BindOptions{}).ok());
  auto j = m_.real->read_file("/var/lib/hostpass/journal.json");
  ASSERT_TRUE(j.ok());
  EXPECT_NE(j->find("\"boot_id\": \"1111-aaaa\""), std::string::npos) << *j;
  tree().write("/proc/sys/kernel/random/boot_id", "2222-bbbb\n");  // the machine rebooted
  m_.restart();
  auto r = recover(host());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->journal_found);
  EXPECT_EQ(r->notes, std::vector<std::string>{
                          "discarded /var/lib/hostpass/journal.json: it is from an earlier boot "
                          "(boot_id 1111-aaaa), whose device bindings the reboot replaced"});
  ASSERT_EQ(host().write_count(), 1);
  EXPECT_EQ(host().writes()[0].op, "remove");
  EXPECT_FALSE(m_.journal_exists());
}

TEST_F(VfioBind, UnbindRescuesADeviceAFailedOverrideLeftWithoutDriver) {
  // What driverctl set-override leaves when vfio-pci refuses the device: override set, unbound.
  m_.sim->refuse_probe("vfio-pci", "0000:00:04.0");
  ASSERT_TRUE(m_.sim->write_attribute("/sys/bus/pci/drivers/e1000e/unbind", "0000:00:04.0").ok());
  ASSERT_TRUE(
      m_.sim->write_attribute("/sys/bus/pci/devices/0000:00:04.0/driver_override", "vfio-pci")
          .ok());
  ASSERT_TRUE(m_.sim->write_attribute("/sys/bus/pci/drivers_probe", "0000:00:04.0").ok());
  ASSERT_EQ(driver("0000:00:04.0"), std::nullopt);
  auto r = unbind_devices(host(), {addr("00:04.0")}, BindOptions{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(driver("0000:00:04.0"), "e1000e");
  auto got = ops(host().writes());
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[1], "write /sys/bus/pci/devices/0000:00:04.0/driver_override <\n>");
  EXPECT_EQ(got[2], "write /sys/bus/pci/drivers_probe <0000:00:04.0>");
}

TEST_F(VfioBind, UnbindOfAHostDeviceIsANoOp) {
  auto r = unbind_devices(host(), {addr("00:04.0")}, BindOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(host().write_count(), 0);
  EXPECT_FALSE(r->devices[0].changed);
}

TEST_F(VfioBind, RecoverWithoutAJournalDoesNothing) {
  auto r = recover(host());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->journal_found);
  EXPECT_EQ(host().write_count(), 0);
}

TEST_F(VfioBind, RecoverRefusesACorruptJournalAndKeepsIt) {
  ASSERT_TRUE(m_.real->replace_file("/var/lib/hostpass/journal.json", "{not json").ok());
  auto r = recover(host());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("the journal /var/lib/hostpass/journal.json is unreadable"),
            std::string::npos);
  EXPECT_TRUE(m_.journal_exists());
  EXPECT_EQ(host().write_count(), 0);
}

TEST(VfioBindJournal, ATamperedJournalCannotSteerWritesOutsideSysfs) {
  for (const char* text : {
           R"({"version":1,"devices":[{"address":"0000:01:00.0","driver":"../../x"}]})",
           R"({"version":1,"devices":[{"address":"0000:01:00.0/../..","driver":"nvidia"}]})",
           R"({"version":1,"devices":[{"address":"01:00.0","driver":"nvidia"}]})",
           R"({"version":1,"devices":[{"address":"0000:01:00.0","driver_override":7}]})",
           R"({"version":2,"devices":[]})",
           R"([1,2,3])",
       }) {
    auto j = parse_journal("/var/lib/hostpass/journal.json", text);
    ASSERT_FALSE(j.ok()) << text;
    EXPECT_EQ(
        j.error().message.rfind("the journal /var/lib/hostpass/journal.json is unreadable", 0), 0u)
        << j.error().message;
  }
  auto good = parse_journal("/j", R"({"version":1,"operation":"bind","boot_id":"b",
      "devices":[{"address":"0000:0A:00.0","driver":"nvidia","driver_override":null,
                  "iommu_group":3}]})");
  ASSERT_TRUE(good.ok()) << good.error().message;
  ASSERT_EQ(good->devices.size(), 1u);
  EXPECT_EQ(good->devices[0].address.to_string(), "0000:0a:00.0");
  EXPECT_EQ(good->devices[0].driver, "nvidia");
  EXPECT_EQ(good->devices[0].driver_override, std::nullopt);
  EXPECT_EQ(good->devices[0].iommu_group, 3);
  EXPECT_EQ(good->boot_id, "b");
}

// ---- every write point ----
//
// Each sweep first runs its case cleanly and counts the writes FaultyHost logs, then fails (or
// crashes after) each one of them in turn: a new write in the engine is swept without editing the
// test, and the clean run's log must hold every step of the kernel sequence, so a sweep that
// silently shrank would fail.

// A group bind with a non-default entry override on one member, so rollback must restore it.
struct GroupCase {
  static void prepare(Machine& m) {
    std::ofstream(m.tree.t.path("/sys/bus/pci/devices/0000:02:00.1/driver_override"))
        << "qat_c62x\n";
  }
  static Result<BindReport> run(Host& h) {
    return bind_devices(h, {addr("02:00.0")}, BindOptions{.whole_group = true});
  }
};

// Unbinding a device that a previous process bound to vfio-pci (its entry driver is e1000e).
struct UnbindCase {
  static void prepare(Machine& m) {
    ASSERT_TRUE(bind_devices(*m.host, {addr("00:04.0")}, BindOptions{}).ok());
    m.restart();
  }
  static Result<BindReport> run(Host& h) {
    return unbind_devices(h, {addr("00:04.0")}, BindOptions{});
  }
};

// The writes a clean run of the case makes, in order: the sweep's plan.
template <class Case>
std::vector<HostWrite> clean_run_writes(const std::string& root) {
  Machine m(root);
  Case::prepare(m);
  auto r = Case::run(*m.host);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return m.host->writes();
}

// Every step (a path fragment, as in "driver_override") is written at least once in `writes`.
void expect_every_step(const std::vector<HostWrite>& writes,
                       const std::vector<std::string>& steps) {
  for (const std::string& step : steps) {
    bool seen = std::any_of(writes.begin(), writes.end(), [&](const HostWrite& w) {
      return w.path.find(step) != std::string::npos;
    });
    EXPECT_TRUE(seen) << "no write of step " << step << " in "
                      << ::testing::PrintToString(ops(writes));
  }
}

// The write that failed in `writes` is the `n`th (1-based) of the clean run: the sweep hit it.
void expect_failed_write_is(const std::vector<HostWrite>& writes,
                            const std::vector<HostWrite>& clean, int n) {
  ASSERT_GE(writes.size(), static_cast<size_t>(n)) << "write " << n;
  const HostWrite& w = writes[static_cast<size_t>(n - 1)];
  EXPECT_TRUE(w.failed) << "write " << n;
  EXPECT_EQ(w.op + " " + w.path,
            clean[static_cast<size_t>(n - 1)].op + " " + clean[static_cast<size_t>(n - 1)].path)
      << "write " << n;
}

TEST(VfioBindFaults, EveryFailedWriteLeavesEveryDeviceAsItWas) {
  ScratchDir dir;
  auto clean = clean_run_writes<GroupCase>(dir.path() + "/count");
  int total = static_cast<int>(clean.size());
  // journal, then per member override + unbind + probe, then the journal's removal.
  EXPECT_EQ(total, 8);
  expect_every_step(clean, {"journal.json", "driver_override", "/unbind", "drivers_probe"});
  for (int n = 1; n <= total; ++n) {
    Machine m(dir.path() + "/n" + std::to_string(n));
    GroupCase::prepare(m);
    Snapshot before = m.snapshot();
    m.host->fail_nth_write(n);
    auto r = GroupCase::run(*m.host);
    ASSERT_FALSE(r.ok()) << "write " << n;
    expect_failed_write_is(m.host->writes(), clean, n);
    EXPECT_EQ(m.snapshot(), before) << "write " << n << ": " << r.error().message;
    EXPECT_FALSE(m.journal_exists()) << "write " << n;
    EXPECT_FALSE(m.real->exists("/dev/vfio/6")) << "write " << n;
    // The journal is the first write: failing it changes nothing; any later one rolls back.
    EXPECT_NE(r.error().message.find(n == 1 ? "nothing was changed" : "\nrolled back: "),
              std::string::npos)
        << r.error().message;
  }
}

TEST(VfioBindFaults, ACrashAfterAnyWriteIsRepairedByRecover) {
  ScratchDir dir;
  int total = static_cast<int>(clean_run_writes<GroupCase>(dir.path() + "/count").size());
  ASSERT_GT(total, 0);
  for (int n = 0; n <= total; ++n) {
    Machine m(dir.path() + "/n" + std::to_string(n));
    GroupCase::prepare(m);
    Snapshot before = m.snapshot();
    m.host->crash_after_writes(n);
    auto r = GroupCase::run(*m.host);
    EXPECT_EQ(r.ok(), n == total) << "crash after " << n;
    m.restart();
    auto rec = recover(*m.host);
    ASSERT_TRUE(rec.ok()) << "crash after " << n << ": " << rec.error().message;
    EXPECT_FALSE(m.journal_exists());
    Snapshot after = m.snapshot();
    if (n == total) {
      // The journal's removal was the commit: the bind is complete and stays.
      EXPECT_FALSE(rec->journal_found);
      EXPECT_EQ(after["0000:02:00.0"].first, "vfio-pci");
      EXPECT_EQ(after["0000:02:00.1"].first, "vfio-pci");
    } else {
      EXPECT_EQ(rec->journal_found, n >= 1) << "crash after " << n;
      EXPECT_EQ(after, before) << "crash after " << n;
    }
  }
}

TEST(VfioBindFaults, EveryFailedWriteOfAnUnbindLeavesTheDeviceOnVfio) {
  ScratchDir dir;
  auto clean = clean_run_writes<UnbindCase>(dir.path() + "/count");
  int total = static_cast<int>(clean.size());
  // journal, override cleared, unbind from vfio-pci, probe, the journal's removal.
  EXPECT_EQ(total, 5);
  expect_every_step(clean, {"journal.json", "driver_override", "vfio-pci/unbind", "drivers_probe"});
  for (int n = 1; n <= total; ++n) {
    Machine m(dir.path() + "/n" + std::to_string(n));
    UnbindCase::prepare(m);
    Snapshot before = m.snapshot();
    m.host->fail_nth_write(n);
    auto r = UnbindCase::run(*m.host);
    ASSERT_FALSE(r.ok()) << n;
    expect_failed_write_is(m.host->writes(), clean, n);
    EXPECT_EQ(m.snapshot(), before) << n << ": " << r.error().message;
    EXPECT_TRUE(m.real->exists("/dev/vfio/4")) << n;
    EXPECT_FALSE(m.journal_exists()) << n;
  }
}

TEST(VfioBindFaults, ACrashDuringUnbindIsRepairedByRecover) {
  ScratchDir dir;
  int total = static_cast<int>(clean_run_writes<UnbindCase>(dir.path() + "/count").size());
  ASSERT_GT(total, 0);
  for (int n = 0; n <= total; ++n) {
    Machine m(dir.path() + "/n" + std::to_string(n));
    UnbindCase::prepare(m);
    Snapshot before = m.snapshot();
    m.host->crash_after_writes(n);
    auto r = UnbindCase::run(*m.host);
    EXPECT_EQ(r.ok(), n == total) << "crash after " << n;
    m.restart();
    auto rec = recover(*m.host);
    ASSERT_TRUE(rec.ok()) << "crash after " << n << ": " << rec.error().message;
    EXPECT_FALSE(m.journal_exists()) << "crash after " << n;
    if (n == total) {
      // The journal's removal was the commit: the device is back on its entry driver.
      EXPECT_FALSE(rec->journal_found);
      EXPECT_EQ(m.snapshot()["0000:00:04.0"].first, "e1000e");
    } else {
      EXPECT_EQ(rec->journal_found, n >= 1) << "crash after " << n;
      EXPECT_EQ(m.snapshot(), before) << "crash after " << n;
    }
  }
}

}  // namespace
}  // namespace hostpass
