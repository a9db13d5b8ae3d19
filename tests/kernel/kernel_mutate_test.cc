// kernel_mutate_test.cc — every mutating hostpass command on the real kernel (the real-kernel
// tier's promise: "every mutating command has at least one scenario on the real kernel"), beyond
// bind/unbind/recover (kernel_tier_test.cc):
//   KernelKmod     boot iommu: kmod's modprobe with a real modules.dep; `bind` loads vfio-pci
//                  when it is loadable and fails, changing nothing, when it is truly absent
//   KernelApply    boot iommu: `apply` converges, re-converges without a change, returns a device,
//                  refuses half a shared group
//   KernelLedger   boot iommu: `assign` / `release` / `assignments`, by address and by resource
//   KernelPersist  boot iommu: what `persist --write` installs (modprobe, driverctl, udev,
//                  systemd), and the ids= warning
//   KernelGrub     boot noiommu: `kernel-args --format grub --apply` on a Debian /etc/default/grub
//   KernelReboot   boot reboot: the machine booted on what those two left behind (the edited
//                  grub's command line, the persisted /etc), coldplugged with kmod like udev
// The guest scripts (guest/scenario_*.sh) act and capture; every judgement is here.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "transcript.h"

namespace {

using namespace hostpass::kernel_tier;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream f(s);
  std::vector<std::string> out;
  for (std::string w; f >> w;) out.push_back(w);
  return out;
}

class Mutate : public KernelTier {
 protected:
  // The driver of ADDR in a pci_state capture ("ADDR DRIVER GROUP" lines).
  std::string driver(const std::string& state_capture, const std::string& addr) {
    auto st = table(cap(state_capture));
    return st.count(addr) && !st[addr].empty() ? st[addr][0] : "(absent)";
  }
  int group(const std::string& state_capture, const std::string& addr) {
    auto st = table(cap(state_capture));
    return st.count(addr) && st[addr].size() == 2 && st[addr][1] != "none" ? std::stoi(st[addr][1])
                                                                           : -1;
  }
  bool has_line(const std::string& capture, const std::string& line) {
    const auto& l = cap(capture).lines;
    return std::find(l.begin(), l.end(), line) != l.end();
  }
  // Loaded module names from an `lsmod` capture.
  std::set<std::string> modules(const std::string& lsmod_capture) {
    std::set<std::string> out;
    const auto& l = cap(lsmod_capture).lines;
    for (size_t i = 1; i < l.size(); ++i)
      if (auto w = words(l[i]); !w.empty()) out.insert(w[0]);
    return out;
  }
};

class IommuBoot : public Mutate {
 protected:
  void SetUp() override { use("iommu"); }
};
using KernelKmod = IommuBoot;
using KernelApply = IommuBoot;
using KernelLedger = IommuBoot;
using KernelPersist = IommuBoot;
class KernelGrub : public Mutate {
 protected:
  void SetUp() override { use("noiommu"); }
};
class KernelReboot : public Mutate {
 protected:
  void SetUp() override { use("reboot"); }
};

// ---- kmod ----------------------------------------------------------------------------------

TEST_F(KernelKmod, ATrulyAbsentVfioPciIsNotLoadableAndBindChangesNothing) {
  // The object is gone from /lib/modules and from modules.dep: kmod finds no such module.
  const Capture& probe = cap("modprobe.nomodule");
  EXPECT_EQ(probe.rc, 1) << probe.text();
  EXPECT_TRUE(contains(probe.text(), "Module vfio-pci not found")) << probe.text();
  // bind's preflight gate reads the real modules.dep and stops before any write.
  const Capture& bind = cap("bind.nomodule");
  EXPECT_EQ(bind.rc, 1) << bind.text();
  EXPECT_TRUE(contains(bind.text(), "VFIO modules not available: vfio_pci")) << bind.text();
  EXPECT_TRUE(
      contains(bind.text(), "modules.dep: vfio loaded, vfio_iommu_type1 loaded, vfio_pci missing"))
      << bind.text();
  EXPECT_EQ(cap("state.nomodule").lines, cap("state.initial").lines);
}

TEST_F(KernelKmod, BindLoadsAnUnloadedButLoadableVfioPci) {
  EXPECT_EQ(modules("lsmod.loadable.before").count("vfio_pci"), 0u)
      << cap("lsmod.loadable.before").text();
  const Capture& bind = cap("bind.loadable");
  EXPECT_EQ(bind.rc, 0) << bind.text();
  EXPECT_TRUE(contains(bind.text(), "loaded module vfio-pci")) << bind.text();
  EXPECT_EQ(driver("state.loadable", kOwn), "vfio-pci") << cap("state.loadable").text();
  auto after = modules("lsmod.loadable.after");
  EXPECT_EQ(after.count("vfio_pci"), 1u) << cap("lsmod.loadable.after").text();
  EXPECT_EQ(after.count("vfio_pci_core"), 1u) << "modules.dep pulled in its dependency";
}

TEST_F(KernelKmod, ADriverKmodCannotFindFailsWithModprobesReasonAndChangesNothing) {
  const Capture& c = cap("bind.nodriver");
  EXPECT_EQ(c.rc, 1) << c.text();
  EXPECT_TRUE(contains(c.text(), "cannot load the igb_uio module")) << c.text();
  EXPECT_TRUE(contains(c.text(), "Module igb_uio not found")) << "kmod's own reason\n" << c.text();
  EXPECT_EQ(cap("state.nodriver").lines, cap("state.initial").lines);
}

// ---- apply ---------------------------------------------------------------------------------

TEST_F(KernelApply, ConvergesTheDeviceOntoVfioPci) {
  EXPECT_EQ(driver("state.apply.before", kOwn), "e1000e");
  const Capture& c = cap("apply.own");
  EXPECT_EQ(c.rc, 0) << c.text();
  EXPECT_TRUE(has_line("apply.own", std::string("  ") + kOwn + "  e1000e -> vfio-pci")) << c.text();
  EXPECT_TRUE(has_line("apply.own", "applied: 1 device(s) changed")) << c.text();
  EXPECT_EQ(driver("state.apply.own", kOwn), "vfio-pci") << cap("state.apply.own").text();
  int g = group("state.apply.own", kOwn);
  ASSERT_GE(g, 0);
  EXPECT_TRUE(has_line("devvfio.apply.own", std::to_string(g))) << cap("devvfio.apply.own").text();
  // Nothing else moved.
  auto before = table(cap("state.apply.before")), after = table(cap("state.apply.own"));
  for (const auto& [addr, v] : before)
    if (addr != kOwn) {
      EXPECT_EQ(after[addr], v) << addr;
    }
}

TEST_F(KernelApply, ASecondRunChangesNothingAndSaysSo) {
  const Capture& c = cap("apply.own.again");
  EXPECT_EQ(c.rc, 0) << c.text();
  EXPECT_TRUE(has_line("apply.own.again", std::string("  ") + kOwn + "  vfio-pci (no change)"))
      << c.text();
  EXPECT_TRUE(has_line("apply.own.again", "nothing to do: every device is on its wanted driver"))
      << c.text();
  EXPECT_FALSE(contains(c.text(), "applied:")) << c.text();
  EXPECT_EQ(cap("state.apply.own.again").lines, cap("state.apply.own").lines);
  EXPECT_EQ(cap("override.apply.own.again").lines, std::vector<std::string>{"vfio-pci"});
}

TEST_F(KernelApply, AChangedFileReturnsTheDeviceToItsHostDriver) {
  const Capture& c = cap("apply.own.host");
  EXPECT_EQ(c.rc, 0) << c.text();
  EXPECT_TRUE(has_line("apply.own.host", std::string("  ") + kOwn + "  vfio-pci -> host"))
      << c.text();
  EXPECT_EQ(driver("state.apply.own.host", kOwn), "e1000e") << cap("state.apply.own.host").text();
  EXPECT_EQ(cap("override.apply.own.host").lines, std::vector<std::string>{"(null)"});
  EXPECT_TRUE(table(cap("netdevs.apply.own.host")).count(kOwn))
      << cap("netdevs.apply.own.host").text();
  EXPECT_EQ(cap("state.apply.own.host").lines, cap("state.apply.before").lines);
}

TEST_F(KernelApply, OneFunctionOfASharedGroupIsRefusedAndNothingChanges) {
  const Capture& c = cap("apply.mf0");
  EXPECT_EQ(c.rc, 2) << c.text();
  EXPECT_TRUE(contains(c.text(), std::string("refusing ") + kMf0 + ": IOMMU group " +
                                     std::to_string(group("state.apply.mf0.before", kMf0)) +
                                     " is not viable: " + kMf1 + " is on e1000e"))
      << c.text();
  // apply has no --group: the remedy is the file.
  EXPECT_TRUE(contains(c.text(), "name them too, in the apply file")) << c.text();
  EXPECT_FALSE(contains(c.text(), "--group")) << c.text();
  EXPECT_FALSE(contains(c.text(), "applied:")) << c.text();
  EXPECT_EQ(driver("state.apply.mf0.before", kMf0), "e1000e");
  EXPECT_EQ(cap("state.apply.mf0.after").lines, cap("state.apply.mf0.before").lines);
  for (const std::string& l : cap("statedir.apply.mf0").lines)
    EXPECT_FALSE(contains(l, "journal")) << "a refused apply left a journal: " << l;
}

// ---- the ledger ----------------------------------------------------------------------------

TEST_F(KernelLedger, AssignBindsAndRecordsTheDevice) {
  const Capture& c = cap("assign.own");
  EXPECT_EQ(c.rc, 0) << c.text();
  EXPECT_TRUE(
      has_line("assign.own", std::string("assigned ") + kOwn + " to VM 'vm1' (e1000e -> vfio-pci)"))
      << c.text();
  EXPECT_EQ(driver("state.assign.own", kOwn), "vfio-pci") << cap("state.assign.own").text();
  nlohmann::json rows = parse_json(cap("assignments.own.json"));
  ASSERT_TRUE(rows.is_array() && rows.size() == 1) << cap("assignments.own.json").text();
  EXPECT_EQ(rows[0]["device"], kOwn);
  EXPECT_EQ(rows[0]["kind"], "pci");
  EXPECT_EQ(rows[0]["vm"], "vm1");
  EXPECT_EQ(rows[0]["original_driver"], "e1000e");
  EXPECT_TRUE(rows[0]["original_override"].is_null()) << rows.dump(2);
}

TEST_F(KernelLedger, ASecondVmIsRefusedAndNothingChanges) {
  const Capture& c = cap("assign.own.vm2");
  EXPECT_EQ(c.rc, 2) << c.text();
  EXPECT_TRUE(contains(c.text(), std::string(kOwn) + " is already assigned to VM 'vm1'"))
      << c.text();
  EXPECT_EQ(cap("state.assign.own.vm2").lines, cap("state.assign.own").lines);
  EXPECT_EQ(parse_json(cap("assignments.own.vm2.json")), parse_json(cap("assignments.own.json")));
}

TEST_F(KernelLedger, ReleaseReturnsTheDeviceAndEmptiesTheLedger) {
  const Capture& c = cap("release.own");
  EXPECT_EQ(c.rc, 0) << c.text();
  EXPECT_TRUE(
      has_line("release.own", std::string("released ") + kOwn + " from VM 'vm1' (now on e1000e)"))
      << c.text();
  EXPECT_EQ(driver("state.release.own", kOwn), "e1000e");
  EXPECT_EQ(cap("state.release.own").lines, cap("state.apply.before").lines);
  EXPECT_TRUE(table(cap("netdevs.release.own")).count(kOwn)) << cap("netdevs.release.own").text();
  nlohmann::json rows = parse_json(cap("assignments.released.json"));
  EXPECT_EQ(rows, nlohmann::json::array()) << cap("assignments.released.json").text();
}

TEST_F(KernelLedger, AResourceUnitIsItsWholeIommuGroupOnceBoundAndHasOneOwner) {
  // intel.com/82540EM selects 8086:100e: the two e1000 behind the bridge, one IOMMU group. On
  // e1000 they are no healthy unit (KubeVirt's device plugin counts devices on vfio-pci).
  const Capture& unbound = cap("assign.resource.unbound");
  EXPECT_EQ(unbound.rc, 2) << unbound.text();
  EXPECT_TRUE(contains(unbound.text(), "no free unit of intel.com/82540EM (0 healthy units"))
      << unbound.text();
  EXPECT_EQ(cap("state.assign.resource.unbound").lines, cap("state.initial").lines);

  EXPECT_EQ(cap("bind.resource").rc, 0) << cap("bind.resource").text();
  const Capture& c = cap("assign.resource");
  EXPECT_EQ(c.rc, 0) << c.text();
  EXPECT_TRUE(contains(c.text(), std::string("assigned ") + kLegA +
                                     " to VM 'vm3' as intel.com/82540EM (on vfio-pci)"))
      << c.text();
  EXPECT_EQ(driver("state.assign.resource", kLegA), "vfio-pci")
      << cap("state.assign.resource").text();
  EXPECT_EQ(driver("state.assign.resource", kLegB), "vfio-pci");
  EXPECT_EQ(driver("state.assign.resource", kOwn), "e1000e");
  nlohmann::json rows = parse_json(cap("assignments.resource.json"));
  ASSERT_TRUE(rows.is_array()) << cap("assignments.resource.json").text();
  std::set<std::string> devices;
  for (const auto& r : rows) {
    devices.insert(r["device"].get<std::string>());
    EXPECT_EQ(r["vm"], "vm3");
    EXPECT_EQ(r["resource"], "intel.com/82540EM");
    EXPECT_EQ(r["unit"], kLegA);
    EXPECT_EQ(r["original_driver"], "vfio-pci");
  }
  EXPECT_EQ(devices, (std::set<std::string>{kLegA, kLegB}));
  // The only unit is taken: a second VM gets none.
  const Capture& vm4 = cap("assign.resource.vm4");
  EXPECT_EQ(vm4.rc, 2) << vm4.text();
  EXPECT_TRUE(contains(vm4.text(), "no free unit of intel.com/82540EM")) << vm4.text();
  EXPECT_EQ(cap("verify.assign.resource").rc, 0) << cap("verify.assign.resource").text();

  EXPECT_EQ(cap("release.resource").rc, 0) << cap("release.resource").text();
  EXPECT_EQ(driver("state.release.resource", kLegA), "vfio-pci") << "it was on vfio-pci before";
  EXPECT_EQ(driver("state.release.resource", kLegB), "vfio-pci");
  EXPECT_EQ(parse_json(cap("assignments.resource.released.json")), nlohmann::json::array());
}

// ---- persist -------------------------------------------------------------------------------

TEST_F(KernelPersist, ModprobeIdsWarnsNamingEveryOtherDeviceWithTheId) {
  // 01:00.0 is an 82574L (8086:10d3) like 02:00.0, 05:00.0 and 05:00.1: `options vfio-pci
  // ids=8086:10d3` would give all four to vfio-pci at boot. docs/persist.md promises a warning
  // naming each of the others.
  const Capture& c = cap("persist.own.modprobe");
  EXPECT_EQ(c.rc, 0) << c.text();
  EXPECT_TRUE(has_line("persist.own.modprobe", "options vfio-pci ids=8086:10d3")) << c.text();
  EXPECT_TRUE(has_line("persist.own.modprobe", "softdep e1000e pre: vfio-pci")) << c.text();
  std::string err = cap("persist.own.modprobe.stderr").text();
  for (const char* other : {kHostNic, kMf0, kMf1})
    EXPECT_TRUE(contains(err, std::string("warning: ids=8086:10d3 also gives ") + other +
                                  " (now on e1000e) to vfio-pci at boot"))
        << other << "\n"
        << err;
  EXPECT_FALSE(contains(err, std::string("also gives ") + kOwn)) << err;
  EXPECT_FALSE(contains(err, std::string("also gives ") + kLegA)) << err;
}

TEST_F(KernelPersist, ModprobeIdsCatchingTheUpTwinNicAreRefusedAndDriverctlIsAccepted) {
  // 02:00.0 was set up (IFF_UP) while 01:00.0, the same 82574L, sat on vfio-pci: ids=8086:10d3
  // would give the host's up NIC to vfio-pci at boot.
  ASSERT_EQ(std::stoul(cap("netflags.hostnic.up").text(), nullptr, 16) & 1u, 1u)
      << cap("netflags.hostnic.up").text();
  const Capture& m = cap("persist.twin.modprobe");
  EXPECT_EQ(m.rc, 2) << m.text();
  EXPECT_TRUE(contains(m.text(), std::string("refusing ") + kHostNic + ": the host uses it"))
      << m.text();
  EXPECT_TRUE(contains(m.text(), "--force=network-up")) << m.text();
  EXPECT_TRUE(contains(m.text(), "--format driverctl or systemd")) << m.text();
  EXPECT_FALSE(contains(m.text(), "options vfio-pci")) << m.text();
  const Capture& d = cap("persist.twin.driverctl");
  EXPECT_EQ(d.rc, 0) << d.text();
  EXPECT_TRUE(
      has_line("persist.twin.driverctl", std::string("==> /etc/driverctl.d/pci-") + kOwn + " <=="))
      << d.text();
}

TEST_F(KernelPersist, WriteInstallsEveryFormatsFiles) {
  EXPECT_EQ(driver("state.persist", kLegA), "vfio-pci") << cap("state.persist").text();
  EXPECT_EQ(driver("state.persist", kLegB), "vfio-pci");
  for (const char* step :
       {"persist.modprobe", "persist.driverctl", "persist.udev", "persist.systemd"})
    EXPECT_EQ(cap(step).rc, 0) << step << ": " << cap(step).text();
  // ids= of the e1000 group only: no other device has 8086:100e, so no warning.
  EXPECT_FALSE(contains(cap("persist.modprobe").text(), "warning"))
      << cap("persist.modprobe").text();
  EXPECT_EQ(cap("persisted:/etc/modprobe.d/vfio.conf").lines,
            (std::vector<std::string>{
                "# Written by hostpass persist: vfio-pci claims these devices at boot.",
                "options vfio-pci ids=8086:100e", "softdep e1000 pre: vfio-pci"}));
  EXPECT_EQ(cap("persisted:/etc/modules-load.d/vfio-pci.conf").lines,
            (std::vector<std::string>{"# Written by hostpass persist: load vfio-pci at boot.",
                                      "vfio-pci"}));
  EXPECT_EQ(cap(std::string("persisted:/etc/driverctl.d/pci-") + kLegA).lines,
            std::vector<std::string>{"vfio-pci"});
  EXPECT_EQ(cap(std::string("persisted:/etc/driverctl.d/pci-") + kLegB).lines,
            std::vector<std::string>{"vfio-pci"});
  EXPECT_TRUE(has_line("persisted:/etc/udev/rules.d/70-hostpass-vfio.rules",
                       "SUBSYSTEM==\"vfio\", GROUP=\"kvm\", MODE=\"0660\""))
      << cap("persisted:/etc/udev/rules.d/70-hostpass-vfio.rules").text();
  EXPECT_TRUE(has_line("persisted:/etc/systemd/system/hostpass.service",
                       "ExecStart=/usr/bin/hostpass apply -f /etc/hostpass/hostpass.yaml"))
      << cap("persisted:/etc/systemd/system/hostpass.service").text();
  EXPECT_EQ(cap("persisted:/etc/hostpass/hostpass.yaml").lines,
            (std::vector<std::string>{
                "# Written by hostpass persist --format systemd (from the apply file given): "
                "hostpass.service applies it at boot.",
                "version: 1", "devices:", std::string("  - address: \"") + kOwn + "\""}));
  // Exactly these files, nothing else under the directories persist writes to.
  EXPECT_EQ(
      cap("persist.files").lines,
      (std::vector<std::string>{
          std::string("/etc/driverctl.d/pci-") + kLegA,
          std::string("/etc/driverctl.d/pci-") + kLegB, "/etc/hostpass/hostpass.yaml",
          "/etc/modprobe.d/vfio.conf", "/etc/modules-load.d/vfio-pci.conf",
          "/etc/systemd/system/hostpass.service", "/etc/udev/rules.d/70-hostpass-vfio.rules"}));
  // persist binds nothing: the state is the bind's.
  EXPECT_EQ(driver("state.mutate.end", kLegA), "e1000");
  EXPECT_EQ(cap("state.mutate.end").lines, cap("state.initial").lines);
}

// ---- kernel-args --format grub --apply -----------------------------------------------------

// GRUB_CMDLINE_LINUX / _DEFAULT's value in a grub file capture (the last assignment).
std::string grub_var(const Capture& c, const std::string& var) {
  std::string v;
  for (const std::string& l : c.lines)
    if (l.rfind(var + "=\"", 0) == 0 && l.size() > var.size() + 2 && l.back() == '"')
      v = l.substr(var.size() + 2, l.size() - var.size() - 3);
  return v;
}

TEST_F(KernelGrub, ApplyMovesIntelIommuOffOutOfDefaultAndTurnsTheIommuOn) {
  const Capture& before = cap("grub.before");
  EXPECT_EQ(grub_var(before, "GRUB_CMDLINE_LINUX_DEFAULT"), "quiet intel_iommu=off");
  // The diff alone writes nothing.
  EXPECT_EQ(cap("kernel-args.diff").rc, 0) << cap("kernel-args.diff").text();
  EXPECT_TRUE(contains(cap("kernel-args.diff").text(),
                       "(not written: add --apply, then run: update-grub && reboot)"))
      << cap("kernel-args.diff").text();
  EXPECT_EQ(cap("grub.after-diff").lines, before.lines);

  const Capture& apply = cap("kernel-args.apply");
  EXPECT_EQ(apply.rc, 0) << apply.text();
  EXPECT_TRUE(contains(apply.text(), "now run: update-grub && reboot")) << apply.text();
  const Capture& after = cap("persisted:/etc/default/grub");
  EXPECT_EQ(grub_var(after, "GRUB_CMDLINE_LINUX_DEFAULT"), "quiet");
  EXPECT_EQ(grub_var(after, "GRUB_CMDLINE_LINUX"),
            grub_var(before, "GRUB_CMDLINE_LINUX") + " intel_iommu=on iommu=pt");
  // Every other line is byte for byte the same; the backup is the original.
  ASSERT_EQ(after.lines.size(), before.lines.size()) << after.text();
  for (size_t i = 0; i < before.lines.size(); ++i)
    if (before.lines[i].rfind("GRUB_CMDLINE_LINUX", 0) != 0) {
      EXPECT_EQ(after.lines[i], before.lines[i]);
    }
  EXPECT_EQ(cap("grub.backup").lines, before.lines);

  const Capture& again = cap("kernel-args.apply.again");
  EXPECT_EQ(again.rc, 0) << again.text();
  EXPECT_TRUE(contains(again.text(), "already has intel_iommu=on iommu=pt; nothing to do"))
      << again.text();
  EXPECT_EQ(cap("grub.after-again").lines, after.lines);
}

TEST_F(KernelGrub, CmdlineFormatNamesWhatTheRunningKernelMustLose) {
  const Capture& c = cap("kernel-args.cmdline");
  EXPECT_EQ(c.rc, 0) << c.text();
  EXPECT_TRUE(has_line("kernel-args.cmdline", "intel_iommu=on iommu=pt")) << c.text();
  EXPECT_TRUE(contains(c.text(), "remove from the command line: intel_iommu=off")) << c.text();
}

// ---- the reboot ----------------------------------------------------------------------------

TEST_F(KernelReboot, BootedOnTheCommandLineTheEditedGrubGives) {
  std::vector<std::string> args = words(cap("cmdline").text());
  auto has = [&](const std::string& a) {
    return std::find(args.begin(), args.end(), a) != args.end();
  };
  EXPECT_TRUE(has("intel_iommu=on")) << cap("cmdline").text();
  EXPECT_TRUE(has("iommu=pt")) << cap("cmdline").text();
  EXPECT_FALSE(has("intel_iommu=off")) << cap("cmdline").text();
  EXPECT_TRUE(has("quiet")) << "GRUB_CMDLINE_LINUX_DEFAULT kept its quiet";
  // update-grub order: GRUB_CMDLINE_LINUX first, then GRUB_CMDLINE_LINUX_DEFAULT.
  EXPECT_EQ(args.back(), "quiet") << cap("cmdline").text();

  const Capture& c = cap("check.json");
  nlohmann::json j = parse_json(c);
  ASSERT_TRUE(j.is_object()) << c.text();
  std::map<std::string, nlohmann::json> checks;
  for (const auto& ch : j["checks"])
    if (ch["device"].is_null()) checks[ch["id"]] = ch;
  for (const char* id :
       {"cmdline.iommu", "cmdline.iommu-pt", "iommu.active", "modules.vfio", "dev.vfio"}) {
    ASSERT_TRUE(checks.count(id)) << id << "\n" << c.text();
    EXPECT_EQ(checks[id]["status"], "pass") << id << ": " << checks[id].dump(2);
  }
}

TEST_F(KernelReboot, TheUpNicTheNextBootGuardProtectedStayedOnE1000e) {
  // Boot iommu refused ids=8086:10d3 while 02:00.0 was up (KernelPersist above): kmod's view of
  // the persisted modprobe.d gives vfio-pci the e1000 group's id only, and after coldplug,
  // modules-load.d and the unit 02:00.0 is still on e1000e while its twin 01:00.0, persisted by
  // address, is on vfio-pci.
  EXPECT_TRUE(contains(cap("show-depends.e1000").text(), "ids=8086:100e"))
      << cap("show-depends.e1000").text();
  EXPECT_FALSE(contains(cap("show-depends.e1000").text(), "8086:10d3"))
      << cap("show-depends.e1000").text();
  EXPECT_EQ(driver("state.coldplug", kHostNic), "e1000e") << cap("state.coldplug").text();
  EXPECT_EQ(driver("state.unit", kHostNic), "e1000e") << cap("state.unit").text();
  EXPECT_EQ(driver("state.unit", kOwn), "vfio-pci") << cap("state.unit").text();
}

TEST_F(KernelReboot, TheGuestsEtcHoldsWhatPersistAndKernelArgsWrote) {
  for (const char* f :
       {"/etc/modprobe.d/vfio.conf", "/etc/modules-load.d/vfio-pci.conf",
        "/etc/systemd/system/hostpass.service", "/etc/hostpass/hostpass.yaml", "/etc/default/grub"})
    EXPECT_TRUE(has_line("etc.files", f)) << f << "\n" << cap("etc.files").text();
  // Nothing was loaded before the coldplug.
  EXPECT_TRUE(modules("lsmod.initial").empty()) << cap("lsmod.initial").text();
}

TEST_F(KernelReboot, ColdplugPutsThePersistedIdsOnVfioPciAndEveryOtherDeviceOnItsHostDriver) {
  // modprobe.d's "softdep e1000 pre: vfio-pci" loaded vfio-pci (with ids=8086:100e) before e1000
  // when udev's coldplug asked for e1000: both e1000 are on vfio-pci before modules-load.d ran.
  EXPECT_EQ(driver("state.coldplug", kLegA), "vfio-pci") << cap("coldplug").text();
  EXPECT_EQ(driver("state.coldplug", kLegB), "vfio-pci") << cap("coldplug").text();
  for (const char* nic : {kOwn, kHostNic, kMf0, kMf1})
    EXPECT_EQ(driver("state.coldplug", nic), "e1000e") << nic << "\n" << cap("coldplug").text();
  EXPECT_EQ(driver("state.coldplug", "0000:06:00.0"), "xhci_hcd") << cap("state.coldplug").text();
  // kmod's plan for e1000, read from the persisted modprobe.d: vfio-pci (with the ids) first.
  const auto& dep = cap("show-depends.e1000").lines;
  auto vfio = std::find_if(dep.begin(), dep.end(), [](const std::string& l) {
    return contains(l, "/vfio-pci.ko") && contains(l, "ids=8086:100e");
  });
  auto e1000 = std::find_if(dep.begin(), dep.end(),
                            [](const std::string& l) { return contains(l, "/e1000.ko"); });
  EXPECT_TRUE(vfio != dep.end() && e1000 != dep.end() && vfio < e1000)
      << cap("show-depends.e1000").text();
  auto loaded = modules("lsmod.boot");
  for (const char* m : {"vfio_pci", "vfio_iommu_type1", "e1000", "e1000e", "xhci_pci"})
    EXPECT_EQ(loaded.count(m), 1u) << m << "\n" << cap("lsmod.boot").text();
  EXPECT_TRUE(contains(cap("modules-load").text(), "vfio-pci.conf: vfio-pci rc=0"))
      << cap("modules-load").text();
}

TEST_F(KernelReboot, TheSystemdUnitsApplyBindsThePersistedAddressOnly) {
  const Capture& u = cap("unit");
  EXPECT_EQ(u.rc, 0) << u.text();
  EXPECT_TRUE(has_line("unit", "ExecStart=/usr/bin/hostpass apply -f /etc/hostpass/hostpass.yaml"))
      << u.text();
  EXPECT_TRUE(has_line("unit", std::string("  ") + kOwn + "  e1000e -> vfio-pci")) << u.text();
  EXPECT_EQ(driver("state.unit", kOwn), "vfio-pci") << cap("state.unit").text();
  EXPECT_EQ(driver("state.unit", kLegA), "vfio-pci");
  EXPECT_EQ(driver("state.unit", kLegB), "vfio-pci");
  for (const char* nic : {kHostNic, kMf0, kMf1})
    EXPECT_EQ(driver("state.unit", nic), "e1000e") << nic;
  EXPECT_TRUE(table(cap("netdevs")).count(kHostNic)) << cap("netdevs").text();
  EXPECT_FALSE(table(cap("netdevs")).count(kOwn)) << cap("netdevs").text();
  // Every persisted device is usable by a VM: its group node exists and verify passes.
  for (const char* a : {kOwn, kLegA}) {
    int g = group("state.unit", a);
    EXPECT_TRUE(has_line("devvfio", std::to_string(g))) << a << " group " << g << "\n"
                                                        << cap("devvfio").text();
  }
  const Capture& v = cap("verify");
  EXPECT_EQ(v.rc, 0) << v.text();
  for (const char* a : {kOwn, kLegA, kLegB})
    EXPECT_TRUE(contains(v.text(), std::string("verified ") + a)) << a << "\n" << v.text();
}

}  // namespace
