// safety_spine_cli_test.cc — the safety spine's table: every mutating entry point × every guard
// that applies to it, run in-process through run_cli (the real flag parsing and exit codes) on a
// FaultyHost over one fixture root, asserting exit 2, the reason in the message, and no write
// under /sys or /etc (the state lock's directory and file aside).
//
// Extending it: a row is {entry point name, guard name, argv, the reason expected in stderr}.
// Add rows to kRows (say persist/kernel-args/opennebula ones) and, when a guard needs a device
// the fixture lacks, add it in SpineTable's constructor.
//
// Guards that do not apply to an entry point have no row, on purpose:
//   unbind, release   give devices back to the host: host use (root filesystem, mounted, swap,
//                     network, boot VGA) cannot be hurt by them.
//   release           undoes an assignment: the ledger guard is what it clears.
//   mdev create       the parent stays on its host driver: only host-unseen.
//   mdev remove/apply remove instances: the ledger guard (an instance a VM owns); host use and
//                     the parent's own mdevs are not what they change.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "faulty_host.h"
#include "fixture_tree.h"
#include "forwarding_host.h"
#include "ledger.h"
#include "mdev.h"
#include "test_dirs.h"

namespace fs = std::filesystem;

namespace hostpass::testing {
namespace {

constexpr const char* kLiveUuid = "4b20d080-1b54-4048-85b3-a6a62d165c01";     // on 01:00.0
constexpr const char* kDefinedUuid = "9a1c1e3e-5b7e-4a44-9a0e-0d7c1f3e2b10";  // on 0a:00.0

// Wants nvidia-222 only: the live nvidia-230 instance on 01:00.0 is undesired, so removed.
constexpr const char* kCr = R"(apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata:
  name: kubevirt
  namespace: kubevirt
spec:
  configuration:
    mediatedDevicesConfiguration:
      mediatedDeviceTypes:
      - nvidia-222
)";

struct Row {
  const char* entry;  // the entry point
  const char* guard;  // guard_name()
  std::vector<std::string> args;
  std::string reason;  // a substring of stderr
};

class SpineTable : public ::testing::Test {
 protected:
  SpineTable() : tree_(dir_.path() + "/root") {
    build_standard_host(tree_);
    PciSpec s;
    // mounted: an NVMe drive holding /data.
    s.address = "0000:05:00.0";
    s.vendor = 0x144d;
    s.device = 0xa808;
    s.class_code = 0x010802;
    s.driver = "nvme";
    s.iommu_group = 21;
    tree_.add_pci(s);
    tree_.add_disk("0000:05:00.0", "nvme/nvme0", "nvme0n1", 259, 0, {"nvme0n1p1"});
    tree_.add_mount("/dev/nvme0n1p1", "259:1", "/data");
    // swap: a SATA controller whose disk is active swap.
    s = {};
    s.address = "0000:08:00.0";
    s.vendor = 0x8086;
    s.device = 0xa102;
    s.class_code = 0x010601;
    s.driver = "ahci";
    s.iommu_group = 22;
    tree_.add_pci(s);
    tree_.add_disk("0000:08:00.0", "ata1/host0/target0:0:0/0:0:0:0", "sdb", 8, 16, {"sdb1"});
    tree_.add_swap("/dev/sdb1");
    // network-up: a second NIC that is up without the default route.
    s = {};
    s.address = "0000:09:00.0";
    s.vendor = 0x8086;
    s.device = 0x10d3;
    s.class_code = 0x020000;
    s.driver = "e1000e";
    s.iommu_group = 23;
    tree_.add_pci(s);
    tree_.add_net("0000:09:00.0", "", "eth1", true);
    // boot-vga: the firmware's display.
    s = {};
    s.address = "0000:06:00.0";
    s.vendor = 0x1002;
    s.device = 0x67df;
    s.class_code = 0x030000;
    s.driver = "amdgpu";
    s.iommu_group = 9;
    s.boot_vga = true;
    tree_.add_pci(s);
    // mdev-live: the standard host's T4 at 01:00.0 gets a GRID T4-1Q instance.
    tree_.add_mdev_instance("0000:01:00.0", "nvidia-230", kLiveUuid);
    // mdev-defined: a second T4 with an mdevctl definition only.
    s = {};
    s.address = "0000:0a:00.0";
    s.vendor = 0x10de;
    s.device = 0x1eb8;
    s.class_code = 0x030200;
    s.driver = "nvidia";
    s.iommu_group = 24;
    tree_.add_pci(s);
    tree_.add_mdev_type("0000:0a:00.0",
                        MdevTypeSpec{"nvidia-222", "GRID T4-1B", "vfio-pci", 16, "num_heads=4"});
    MdevDefinition d{kDefinedUuid, "0000:0a:00.0", "nvidia-222", true, {}};
    tree_.write(mdevctl_config_path(d), mdevctl_config_text(d));
    // assigned: the ledger gives the live mdev and the NVMe on vfio-pci (04:00.0) to vm1.
    RealHost real(tree_.root());
    for (const char* unit : {kLiveUuid, "0000:04:00.0"}) {
      AssignRequest r;
      r.device = unit;
      r.vm = "vm1";
      auto a = assign_device(real, r, nullptr);
      EXPECT_TRUE(a.ok()) << unit << ": " << a.error().message;
    }
    cr_ = dir_.path() + "/kubevirt.yaml";
    std::ofstream(cr_) << kCr;
  }

  struct Run {
    int exit_code = -1;
    std::string err;
    std::vector<HostWrite> writes;
  };
  Run run(std::vector<std::string> args) {
    RealHost real(tree_.root());
    FaultyHost faulty(real);
    args.insert(args.begin(), {"hostpass", "--root", tree_.root()});
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    std::ostringstream err;
    std::streambuf* old = std::cerr.rdbuf(err.rdbuf());
    Run r;
    r.exit_code = run_cli(static_cast<int>(argv.size()), argv.data(), [&](const std::string&) {
      return std::unique_ptr<Host>(std::make_unique<ForwardingHost>(static_cast<Host&>(faulty)));
    });
    std::cerr.rdbuf(old);
    std::fflush(stdout);
    r.err = err.str();
    r.writes = faulty.writes();
    return r;
  }
  // Writes that touch devices or configuration: under /sys or /etc.
  static std::vector<std::string> device_writes(const std::vector<HostWrite>& writes) {
    std::vector<std::string> out;
    for (const HostWrite& w : writes)
      if (w.path.rfind("/sys", 0) == 0 || w.path.rfind("/etc", 0) == 0 || w.op == "run")
        out.push_back(w.op + " " + w.path);
    return out;
  }
  void expect_refused(const Row& row) {
    SCOPED_TRACE(std::string(row.entry) + " x " + row.guard);
    Run r = run(row.args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(row.reason), std::string::npos) << r.err;
    EXPECT_EQ(device_writes(r.writes), std::vector<std::string>{});
  }

  ScratchDir dir_;
  FixtureTree tree_;
  std::string cr_;
};

// An apply file naming one address, in the tree (apply reads it under --root).
std::string apply_file(FixtureTree& tree, const std::string& address) {
  std::string path = "/etc/hostpass/apply-" + address + ".yaml";
  tree.write(path, "version: 1\ndevices:\n  - address: \"" + address + "\"\n");
  return tree.path(path);  // -f is read from the real filesystem (cli/user_file.h)
}

TEST_F(SpineTable, EveryEntryPointRefusesEveryGuardThatAppliesToIt) {
  auto apply = [&](const char* a) {
    return std::vector<std::string>{"apply", "-f", apply_file(tree_, a)};
  };
  const std::string root = "it holds the root filesystem (/dev/vda1 on /)";
  const std::string mounted = "/data";
  const std::string swap = "swap (/dev/sdb1)";
  const std::string up = "network interface eth1 is up";
  const std::string route = "default route via eth0";
  const std::string vga = "boot display (boot_vga=1)";
  const std::string live = std::string("live mediated device (") + kLiveUuid;
  const std::string defined =
      std::string("mdevctl defines 1 mediated device on it (") + kDefinedUuid;
  const std::string mdev_assigned =
      std::string("its mdev ") + kLiveUuid + " is assigned to VM 'vm1'";
  std::vector<Row> rows = {
      {"bind", "root-filesystem", {"bind", "0000:00:02.0"}, root},
      {"bind", "mounted", {"bind", "0000:05:00.0"}, mounted},
      {"bind", "swap", {"bind", "0000:08:00.0"}, swap},
      {"bind", "network-up", {"bind", "0000:09:00.0"}, up},
      {"bind", "default-route", {"bind", "0000:00:03.0"}, route},
      {"bind", "boot-vga", {"bind", "0000:06:00.0"}, vga},
      {"bind", "mdev-live", {"bind", "0000:01:00.0"}, live},
      {"bind", "mdev-defined", {"bind", "0000:0a:00.0"}, defined},
      {"bind", "assigned", {"bind", "0000:01:00.0"}, mdev_assigned},
      {"bind --dry-run", "root-filesystem", {"bind", "--dry-run", "0000:00:02.0"}, root},
      {"bind --force", "root-filesystem", {"bind", "--force", "0000:00:02.0"}, root},
      {"bind --force=swap", "mdev-live", {"bind", "--force=swap", "0000:01:00.0"}, live},
      {"apply", "root-filesystem", apply("0000:00:02.0"), root},
      {"apply", "mounted", apply("0000:05:00.0"), mounted},
      {"apply", "swap", apply("0000:08:00.0"), swap},
      {"apply", "network-up", apply("0000:09:00.0"), up},
      {"apply", "default-route", apply("0000:00:03.0"), route},
      {"apply", "boot-vga", apply("0000:06:00.0"), vga},
      {"apply", "mdev-live", apply("0000:01:00.0"), live},
      {"apply", "mdev-defined", apply("0000:0a:00.0"), defined},
      {"apply", "assigned", apply("0000:01:00.0"), mdev_assigned},
      {"assign", "root-filesystem", {"assign", "0000:00:02.0", "--vm", "vm2"}, root},
      {"assign", "mounted", {"assign", "0000:05:00.0", "--vm", "vm2"}, mounted},
      {"assign", "swap", {"assign", "0000:08:00.0", "--vm", "vm2"}, swap},
      {"assign", "network-up", {"assign", "0000:09:00.0", "--vm", "vm2"}, up},
      {"assign", "default-route", {"assign", "0000:00:03.0", "--vm", "vm2"}, route},
      {"assign", "boot-vga", {"assign", "0000:06:00.0", "--vm", "vm2"}, vga},
      {"assign", "mdev-live", {"assign", "0000:01:00.0", "--vm", "vm2"}, live},
      {"assign", "mdev-defined", {"assign", "0000:0a:00.0", "--vm", "vm2"}, defined},
      {"assign", "assigned", {"assign", "0000:01:00.0", "--vm", "vm2"}, mdev_assigned},
      {"unbind", "mdev-live", {"unbind", "0000:01:00.0"}, live},
      {"unbind", "mdev-defined", {"unbind", "0000:0a:00.0"}, defined},
      {"unbind", "assigned", {"unbind", "0000:04:00.0"}, "it is assigned to VM 'vm1'"},
      {"unbind --dry-run",
       "assigned",
       {"unbind", "--dry-run", "0000:04:00.0"},
       "it is assigned to VM 'vm1'"},
      {"mdev remove", "assigned", {"mdev", "remove", kLiveUuid}, "it is assigned to VM 'vm1'"},
      {"mdev apply", "assigned", {"mdev", "apply", "-f", cr_}, "it is assigned to VM 'vm1'"},
      {"mdev apply --dry-run",
       "assigned",
       {"mdev", "apply", "--dry-run", "-f", cr_},
       "it is assigned to VM 'vm1'"},
  };
  for (const Row& row : rows) expect_refused(row);
}

TEST_F(SpineTable, TheLedgerGuardYieldsToForceAssigned) {
  // Not refused: the removal itself is tried (and fails here, with no mdev core behind the tree).
  Run r = run({"mdev", "remove", "--force=assigned", "--keep-definition", kLiveUuid});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.find("refusing"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::string("/sys/bus/mdev/devices/") + kLiveUuid + "/remove"),
            std::string::npos)
      << r.err;
}

TEST_F(SpineTable, ForceNeverTakesTheNextArgument) {
  // `--force 0000:06:00.0` is the bare flag and an address, not --force=0000:06:00.0.
  Run r = run({"bind", "--dry-run", "--force", "0000:06:00.0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Run bad = run({"bind", "--force=everything", "0000:06:00.0"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown --force name 'everything'"), std::string::npos) << bad.err;
}

// On a host without an IOMMU, the root disk is named first, then readiness.
TEST_F(SpineTable, WithoutAnIommuTheRootDiskIsRefusedFirstThenTheIommu) {
  fs::remove_all(tree_.path("/sys/class/iommu"));
  fs::remove_all(tree_.path("/sys/kernel/iommu_groups"));
  fs::remove(tree_.path(tree_.device_path("0000:00:02.0") + "/iommu_group"));
  tree_.set_cmdline("BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/vda1 ro quiet");
  for (bool dry : {false, true}) {
    std::vector<std::string> args = {"bind", "0000:00:02.0"};
    if (dry) args.insert(args.begin() + 1, "--dry-run");
    Run r = run(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("hostpass: refusing 0000:00:02.0: it holds the root filesystem", 0), 0u)
        << r.err;
    size_t root = r.err.find("root filesystem"), iommu = r.err.find("the host is not ready: VT-d");
    EXPECT_NE(iommu, std::string::npos) << r.err;
    EXPECT_LT(root, iommu) << r.err;
    EXPECT_EQ(device_writes(r.writes), std::vector<std::string>{});
  }
}

// Host mounts not visible (a chroot: /proc/self/mountinfo without "/"): every mutation refused.
// detect_host_use reports it from branch `hostuse` on (HostUseMap::unseen); the spine refuses
// every entry point on it with Guard::HostUnseen.
TEST_F(SpineTable, EveryEntryPointRefusesWhenTheHostCannotBeSeen) {
  tree_.write("/proc/self/mountinfo",
              "30 1 259:1 / /data rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw\n");
  std::vector<std::vector<std::string>> runs = {
      {"bind", "0000:00:04.0"},
      {"unbind", "0000:04:00.0"},
      {"apply", "-f", apply_file(tree_, "0000:00:04.0")},
      {"assign", "0000:00:04.0", "--vm", "vm2"},
      {"release", "0000:04:00.0"},
      {"mdev", "create", "--parent", "0000:0a:00.0", "--type", "nvidia-222"},
      {"mdev", "remove", kDefinedUuid},
      {"mdev", "apply", "-f", cr_},
  };
  for (const auto& args : runs) {
    SCOPED_TRACE(args[0] + " x host-unseen");
    Run r = run(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--force does not override this"), std::string::npos) << r.err;
    EXPECT_EQ(device_writes(r.writes), std::vector<std::string>{});
  }
}

}  // namespace
}  // namespace hostpass::testing
