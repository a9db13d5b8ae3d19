// End-to-end: `hostpass bind`, `unbind`, `recover` run as a user would, by the hostpass_sim
// binary (the CLI over the simulated kernel) on fixture roots. "Zero writes" is checked on the
// whole tree: every file's content and every link's target, before and after.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "faulty_host.h"
#include "fixture_tree.h"
#include "pci_device.h"
#include "run_program.h"
#include "sim_kernel.h"
#include "test_dirs.h"
#include "tree_digest.h"
#include "vfio_bind.h"

namespace fs = std::filesystem;

// GCC 12's false "may be used uninitialized" on the empty std::set of BindOptions{}'s ForceSet
// (see vfio_bind_test.cc).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace hostpass::testing {
namespace {

class BindCli : public ::testing::Test {
 protected:
  BindCli() : tree_(dir_.path() + "/root") {
    build_standard_host(tree_);
    real_ = std::make_unique<RealHost>(tree_.root());
    sim_ = std::make_unique<SimKernelHost>(*real_);  // records the native driver table
  }
  ProgramRun sim(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_sim_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  std::string driver(const char* a) {
    return current_driver(*real_, *PciAddress::parse(a)).value_or("-");
  }
  std::string override_of(const char* a) {
    auto v = real_->read_file(std::string("/sys/bus/pci/devices/") + a + "/driver_override");
    return v.ok() ? std::string(trim(*v)) : "?";
  }

  ScratchDir dir_;
  FixtureTree tree_;
  std::unique_ptr<RealHost> real_;
  std::unique_ptr<SimKernelHost> sim_;
};

TEST_F(BindCli, BindThenUnbindMovesTheDeviceAndBack) {
  ProgramRun b = sim({"bind", "00:04.0"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(b.out, "0000:00:04.0  e1000e -> vfio-pci\n");
  EXPECT_EQ(driver("0000:00:04.0"), "vfio-pci");
  EXPECT_TRUE(fs::exists(tree_.path("/dev/vfio/4")));
  // The read-only binary sees the same tree.
  ProgramRun l =
      run_program({hostpass_bin(), "--root", tree_.root(), "list", "--driver", "vfio-pci"});
  EXPECT_NE(l.out.find("0000:00:04.0"), std::string::npos) << l.out;
  ProgramRun u = sim({"unbind", "0000:00:04.0"});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(u.out, "0000:00:04.0  vfio-pci -> e1000e\n");
  EXPECT_EQ(driver("0000:00:04.0"), "e1000e");
  EXPECT_EQ(override_of("0000:00:04.0"), "(null)");
  EXPECT_FALSE(fs::exists(tree_.path("/dev/vfio/4")));
  EXPECT_FALSE(fs::exists(tree_.path("/var/lib/hostpass/journal.json")));
}

// "Nothing changed" leaves out the state lock file (state_lock.h): hostpass's own bookkeeping,
// created by any real (not --dry-run) bind, unbind or recover, whatever it then decides.
TEST_F(BindCli, BindingAnAlreadyBoundDeviceIsANoOp) {
  auto before = tree_digest(tree_.root(), std::vector<std::string>{kStateLockFile});
  ProgramRun r = sim({"bind", "04:00.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "0000:04:00.0  vfio-pci (no change)\nnote: 0000:04:00.0 is already on vfio-pci\n");
  EXPECT_EQ(tree_digest(tree_.root(), std::vector<std::string>{kStateLockFile}), before);
}

TEST_F(BindCli, GroupBindsTheWholeGroup) {
  ProgramRun r = sim({"bind", "--group", "02:00.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0000:02:00.0  qat_c62x -> vfio-pci\n0000:02:00.1  qat_c62x -> vfio-pci\n");
  EXPECT_EQ(driver("0000:02:00.1"), "vfio-pci");
}

TEST_F(BindCli, DryRunPrintsTheExactWritesAndChangesNothing) {
  auto before = tree_digest(tree_.root());
  ProgramRun r = sim({"bind", "--dry-run", "00:04.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "0000:00:04.0  e1000e -> vfio-pci (planned)\n"
            "dry run: these writes would be made, in order (nothing was changed):\n"
            "   1. journal /var/lib/hostpass/journal.json  (each device's entry driver and "
            "driver_override)\n"
            "   2. write   /sys/bus/pci/devices/0000:00:04.0/driver_override  \"vfio-pci\"\n"
            "   3. write   /sys/bus/pci/drivers/e1000e/unbind  \"0000:00:04.0\"\n"
            "   4. write   /sys/bus/pci/drivers_probe  \"0000:00:04.0\"\n"
            "   5. remove  /var/lib/hostpass/journal.json\n");
  EXPECT_EQ(tree_digest(tree_.root()), before);
}

TEST_F(BindCli, DryRunJsonListsTheWrites) {
  ProgramRun r = sim({"bind", "--dry-run", "--json", "00:04.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["operation"], "bind");
  EXPECT_EQ(j["dry_run"], true);
  EXPECT_EQ(j["driver"], "vfio-pci");
  ASSERT_EQ(j["writes"].size(), 5u);
  EXPECT_EQ(j["writes"][1]["op"], "write");
  EXPECT_EQ(j["writes"][1]["path"], "/sys/bus/pci/devices/0000:00:04.0/driver_override");
  EXPECT_EQ(j["writes"][1]["data"], "vfio-pci");
  EXPECT_EQ(j["devices"][0]["address"], "0000:00:04.0");
  EXPECT_EQ(j["devices"][0]["driver_before"], "e1000e");
  EXPECT_EQ(j["devices"][0]["iommu_group"], 4);
  EXPECT_TRUE(j["recovered"].is_null());
}

struct Refusal {
  std::vector<std::string> args;
  std::string reason;
};

TEST_F(BindCli, RefusalsExitTwoWithTheReasonAndWriteNothing) {
  PciSpec s;
  s.address = "0000:06:00.0";
  s.vendor = 0x1002;
  s.device = 0x67df;
  s.class_code = 0x030000;
  s.driver = "amdgpu";
  s.iommu_group = 9;
  s.boot_vga = true;
  tree_.add_pci(s);
  auto before = tree_digest(tree_.root(), std::vector<std::string>{kStateLockFile});
  for (const Refusal& c : std::vector<Refusal>{
           {{"bind", "00:02.0"},
            "hostpass: refusing 0000:00:02.0: it holds the root filesystem (/dev/vda1 on /); "
            "--force does not override this\n"},
           {{"bind", "--force", "00:02.0"},
            "hostpass: refusing 0000:00:02.0: it holds the root filesystem (/dev/vda1 on /); "
            "--force does not override this\n"},
           {{"bind", "00:03.0"},
            "hostpass: refusing 0000:00:03.0: the host uses it: network interface eth0 is up "
            "(free it first, or --force=network-up to take it anyway)\n"
            "refusing 0000:00:03.0: the host uses it: default route via eth0 (free it first, or "
            "--force=default-route to take it anyway)\n"},
           {{"bind", "06:00.0"},
            "hostpass: refusing 0000:06:00.0: the host uses it: boot display (boot_vga=1) (free "
            "it first, or --force=boot-vga to take it anyway)\n"},
           {{"bind", "02:00.1"},
            "hostpass: refusing 0000:02:00.1: IOMMU group 6 is not viable: 0000:02:00.0 is on "
            "qat_c62x (a VM gets the whole group, so every endpoint must be on vfio-pci or "
            "unbound); name them too, or use --group\n"},
       }) {
    ProgramRun r = sim(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args.back() << ": " << r.err;
    EXPECT_EQ(r.err.substr(0, c.reason.size()), c.reason) << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(tree_digest(tree_.root(), std::vector<std::string>{kStateLockFile}), before);
}

TEST_F(BindCli, ForceSaysWhatItOverrides) {
  ProgramRun r = sim({"bind", "--force", "00:03.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "0000:00:03.0  virtio-pci -> vfio-pci\n"
            "note: --force=network-up: overriding for 0000:00:03.0: the host uses it: network "
            "interface eth0 is up\n"
            "note: --force=default-route: overriding for 0000:00:03.0: the host uses it: default "
            "route via eth0\n");
  EXPECT_EQ(driver("0000:00:03.0"), "vfio-pci");
}

TEST_F(BindCli, UnbindDryRunChangesNothing) {
  auto before = tree_digest(tree_.root());
  ProgramRun r = sim({"unbind", "--dry-run", "04:00.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("   3. write   /sys/bus/pci/drivers/vfio-pci/unbind  \"0000:04:00.0\"\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(tree_digest(tree_.root()), before);
}

TEST_F(BindCli, JsonRefusalCarriesTheKindAndMessage) {
  ProgramRun r = sim({"bind", "--json", "00:02.0"});
  EXPECT_EQ(r.exit_code, 2);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["error"]["kind"], "refused");
  EXPECT_EQ(j["error"]["message"],
            "refusing 0000:00:02.0: it holds the root filesystem (/dev/vda1 on /); --force does "
            "not override this\nrefusing 0000:00:02.0: the host uses it: swap (/dev/vda2) "
            "(--force=swap would override this, but not its root-filesystem blocker: this device "
            "cannot be taken)");
  EXPECT_TRUE(j["recovered"].is_null());
}

TEST_F(BindCli, BadInputExitsTwoAndWritesNothing) {
  auto before = tree_digest(tree_.root());
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"bind", "06:00"},
           {"bind", "0000:06:00.8"},
           {"bind", "../x"},
           {"bind", "0000:06:00.0/../.."},
           {"bind", ""},
           {"bind", std::string(300, '0')},
           {"bind", "0000:00:04.0", "zz:00.0"},
           {"bind"},
           {"bind", "--driver", "../x", "00:04.0"},
           {"bind", "--driver", "vfio pci", "00:04.0"},
           {"bind", "--driver", "", "00:04.0"},
           {"bind", "--state-dir", "relative", "00:04.0"},
           {"bind", "--state-dir", "/var/../etc", "00:04.0"},
           {"bind", "--no-such-flag", "00:04.0"},
           {"unbind", "0000:04:00"},
           {"unbind"},
           {"recover", "--state-dir", "x/y"},
       }) {
    ProgramRun r = sim(args);
    std::string shown;
    for (const std::string& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, 2) << shown << ": " << r.err;
  }
  EXPECT_EQ(tree_digest(tree_.root()), before);
}

TEST_F(BindCli, AFailedBindRollsBackAndExitsOne) {
  sim_->refuse_probe("vfio-pci", "0000:02:00.1");
  ProgramRun r = sim({"bind", "--group", "02:00.0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("hostpass: binding 0000:02:00.1 to vfio-pci failed: after drivers_probe "
                       "it is on no driver (the driver refused it; see `dmesg`)\nrolled back: "
                       "every device is back: 0000:02:00.1 on qat_c62x (driver_override (null)), "
                       "0000:02:00.0 on qat_c62x (driver_override (null))"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(driver("0000:02:00.0"), "qat_c62x");
  EXPECT_EQ(driver("0000:02:00.1"), "qat_c62x");
  EXPECT_EQ(override_of("0000:02:00.0"), "(null)");
  EXPECT_EQ(override_of("0000:02:00.1"), "(null)");
  EXPECT_FALSE(fs::exists(tree_.path("/var/lib/hostpass/journal.json")));
}

TEST_F(BindCli, AMissingModuleIsLoadedOrTheFailureIsClear) {
  fs::remove(tree_.path("/sys/bus/pci/devices/0000:04:00.0/driver"));
  sim_->remove_driver("vfio-pci");
  sim_->set_modprobe_fails(true);
  ProgramRun bad = sim({"bind", "00:04.0"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("hostpass: cannot load the vfio-pci module: 'modprobe vfio-pci' exited "
                         "with status 1"),
            std::string::npos)
      << bad.err;
  EXPECT_EQ(driver("0000:00:04.0"), "e1000e");
  sim_->set_modprobe_fails(false);
  ProgramRun good = sim({"bind", "00:04.0"});
  ASSERT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(driver("0000:00:04.0"), "vfio-pci");
}

// --driver auto: a ConnectX-5 VF, whose variant driver is in modules.alias (the line a 6.8
// kernel's depmod writes for mlx5_vfio_pci) but not loaded, goes to mlx5_vfio_pci, loaded by
// modprobe as a missing vfio-pci would be; a device without a variant entry goes to vfio-pci.
TEST_F(BindCli, DriverAutoPicksTheVariantDriverOrVfioPci) {
  PciSpec vf;
  vf.address = "0000:00:0e.0";
  vf.vendor = 0x15b3;
  vf.device = 0x101e;
  vf.driver = "mlx5_core";
  vf.iommu_group = 40;
  tree_.add_pci(vf);
  sim_ = std::make_unique<SimKernelHost>(*real_);
  sim_->set_native_driver("0000:00:0e.0", "mlx5_core");
  tree_.set_kernel_release("6.1.0-13-amd64");
  tree_.write("/lib/modules/6.1.0-13-amd64/modules.alias",
              "alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core\n"
              "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
              "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n");
  ASSERT_FALSE(fs::exists(tree_.path("/sys/bus/pci/drivers/mlx5_vfio_pci")));

  ProgramRun show = run_program({hostpass_bin(), "--root", tree_.root(), "show", "00:0e.0"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("vfio driver:      mlx5_vfio_pci (bind --driver auto; alias "
                          "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci (2 of 7 "
                          "fields exact))"),
            std::string::npos)
      << show.out;

  ProgramRun b = sim({"bind", "--driver", "auto", "00:0e.0"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.out.find("driver: mlx5_vfio_pci (--driver auto)\n"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("0000:00:0e.0  mlx5_core -> mlx5_vfio_pci\n"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("note: loaded module mlx5_vfio_pci"), std::string::npos) << b.out;
  EXPECT_EQ(driver("0000:00:0e.0"), "mlx5_vfio_pci");
  EXPECT_TRUE(fs::exists(tree_.path("/dev/vfio/40")));

  ProgramRun plain = sim({"bind", "--driver", "auto", "--json", "00:04.0"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  auto j = nlohmann::json::parse(plain.out);
  EXPECT_EQ(j["driver"], "vfio-pci");
  EXPECT_EQ(j["driver_requested"], "auto");
  EXPECT_EQ(driver("0000:00:04.0"), "vfio-pci");
}

TEST_F(BindCli, EveryMutatingCommandRecoversAnInterruptedOperationFirst) {
  // A bind of group 6 that "crashed" after its journal and two writes.
  FaultyHost crashing(*sim_);
  crashing.crash_after_writes(3);
  ASSERT_FALSE(
      bind_devices(crashing, {*PciAddress::parse("02:00.0")}, BindOptions{.whole_group = true})
          .ok());
  ASSERT_TRUE(fs::exists(tree_.path("/var/lib/hostpass/journal.json")));
  EXPECT_EQ(driver("0000:02:00.0"), "-");  // stranded: exactly what recover is for
  ProgramRun r = sim({"bind", "00:04.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("hostpass: recovered an interrupted bind first:\n"
                       "hostpass:   restored 0000:02:00.1 on qat_c62x (driver_override (null))\n"
                       "hostpass:   restored 0000:02:00.0 on qat_c62x (driver_override (null))\n"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(driver("0000:02:00.0"), "qat_c62x");
  EXPECT_EQ(driver("0000:02:00.1"), "qat_c62x");
  EXPECT_EQ(driver("0000:00:04.0"), "vfio-pci");
  EXPECT_FALSE(fs::exists(tree_.path("/var/lib/hostpass/journal.json")));
}

TEST_F(BindCli, RecoverSaysWhatItDid) {
  ProgramRun none = sim({"recover"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out,
            "nothing to recover: no interrupted operation (/var/lib/hostpass/journal.json does "
            "not exist)\n");
  FaultyHost crashing(*sim_);
  crashing.crash_after_writes(2);  // journal + driver_override of 00:04.0
  ASSERT_FALSE(bind_devices(crashing, {*PciAddress::parse("00:04.0")}, BindOptions{}).ok());
  EXPECT_EQ(override_of("0000:00:04.0"), "vfio-pci");
  ProgramRun r = sim({"recover", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["journal_found"], true);
  EXPECT_EQ(j["operation"], "bind");
  EXPECT_EQ(j["devices"][0]["address"], "0000:00:04.0");
  EXPECT_EQ(j["devices"][0]["driver_after"], "e1000e");
  EXPECT_TRUE(j["devices"][0]["driver_override_after"].is_null());
  EXPECT_EQ(override_of("0000:00:04.0"), "(null)");
  EXPECT_EQ(driver("0000:00:04.0"), "e1000e");
}

TEST_F(BindCli, UnbindWithoutAHostDriverSaysSo) {
  ProgramRun r = sim({"unbind", "04:00.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0000:04:00.0  vfio-pci -> (no driver)\nnote: 0000:04:00.0 has no driver "
                       "now: no loaded host driver matches it"),
            std::string::npos)
      << r.out;
}

TEST_F(BindCli, UnbindRefusesADeviceAVmIsUsing) {
  tree_.symlink("/dev/vfio/8", "/proc/4242/fd/17");
  tree_.write("/proc/4242/comm", "qemu-system-x86\n");
  auto before = tree_digest(tree_.root(), std::vector<std::string>{kStateLockFile});
  ProgramRun r = sim({"unbind", "04:00.0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "hostpass: refusing 0000:04:00.0: /dev/vfio/8 is open by process 4242 "
            "(qemu-system-x86) (a VM is using it; unbinding would hang until it lets go): stop "
            "the VM or detach the device first\n");
  EXPECT_EQ(tree_digest(tree_.root(), std::vector<std::string>{kStateLockFile}), before);
}

TEST_F(BindCli, TheSimulatorRefusesTheRealRoot) {
  ProgramRun r = run_program({hostpass_sim_bin(), "list"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("refusing to simulate a kernel over the real /"), std::string::npos);
}

}  // namespace
}  // namespace hostpass::testing
