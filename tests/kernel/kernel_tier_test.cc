// kernel_tier_test.cc — the assertions of the real-kernel tier, one test per scenario.
//
// boot.sh runs each topology's guest scenario once (guest/scenario_<topology>.sh) and leaves its
// results channel in $HOSTPASS_KERNEL_OUT/<topology>/results.log (CMake passes the directory;
// the boot is a CTest fixture these tests require). The guest only acts and captures (commands'
// output and exit status, and the kernel's own state read from sysfs after each step); every
// assertion is here, so a failure shows exact values and the captures it compared, plus where
// the full guest console is.
//
// Results format (guest/hostpass-tier.sh): "@@HP out NAME", the lines "@@| ...", "@@HP rc NAME N";
// other "@@HP " lines are progress notes.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "transcript.h"

namespace {

using namespace hostpass::kernel_tier;

class KernelIommu : public KernelTier {
 protected:
  void SetUp() override { use("iommu"); }
};
class KernelNoIommu : public KernelTier {
 protected:
  void SetUp() override { use("noiommu"); }
};

// ---- the harness itself: the topology boot.sh promises is the one the kernel built ----------

TEST_F(KernelIommu, BootedWithIntelIommuOnAndEveryModuleLoaded) {
  bool booted = false;
  for (const std::string& n : t_->notes) {
    EXPECT_EQ(n.rfind("insmod-failed", 0), std::string::npos) << n << t_->where();
    if (n.rfind("boot ", 0) == 0) {
      booted = true;
      EXPECT_NE(n.find(" intel_iommu=on"), std::string::npos) << n;
    }
  }
  EXPECT_TRUE(booted) << t_->where();
}

TEST_F(KernelIommu, TopologyGivesOwnAndSharedIommuGroups) {
  auto g = groups_by_address(cap("groups"));
  ASSERT_TRUE(g.count(kOwn) && g.count(kHostNic) && g.count(kLegA) && g.count(kLegB) &&
              g.count(kBridge) && g.count(kMf0) && g.count(kMf1))
      << cap("groups").text() << t_->where();
  // A PCIe endpoint on its own root port is alone in its group.
  int own_members = 0, host_members = 0;
  for (const auto& [addr, group] : g) {
    own_members += group == g[kOwn];
    host_members += group == g[kHostNic];
  }
  EXPECT_EQ(own_members, 1);
  EXPECT_EQ(host_members, 1);
  // Conventional PCI behind a PCIe-to-PCI bridge: the bridge and both devices share a group.
  EXPECT_EQ(g[kLegA], g[kLegB]);
  EXPECT_EQ(g[kLegA], g[kBridge]);
  // Functions of one multifunction slot without ACS share a group.
  EXPECT_EQ(g[kMf0], g[kMf1]);
  EXPECT_NE(g[kMf0], g[kOwn]);
}

// ---- list: hostpass list --json agrees with lspci -Dnn and /sys/kernel/iommu_groups ---------

struct LspciLine {
  std::string class_name, class_id, name, vendor, device, revision;
};

// "ADDR CLASSNAME [cccc]: NAME [vvvv:dddd] (rev rr)" — parsed from the right, since names may
// hold brackets.
std::map<std::string, LspciLine> parse_lspci(const Capture& c) {
  static const std::regex re(
      R"(^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) (.*) \[([0-9a-f]{4})\]: (.*) \[([0-9a-f]{4}):([0-9a-f]{4})\]( \(rev ([0-9a-f]{2})\))?( \(prog-if .*\))?$)");
  std::map<std::string, LspciLine> out;
  for (const std::string& l : c.lines) {
    std::smatch m;
    if (!std::regex_match(l, m, re)) {
      ADD_FAILURE() << "unparsable lspci -Dnn line: " << l;
      continue;
    }
    out[m[1]] = LspciLine{m[2], m[3], m[4], m[5], m[6], m[8].matched ? m[8].str() : "00"};
  }
  return out;
}

TEST_F(KernelIommu, ListJsonAgreesWithLspciOnEveryDevice) {
  const Capture& lspci = cap("lspci");
  const Capture& list = cap("list.json");
  ASSERT_EQ(lspci.rc, 0) << lspci.text();
  ASSERT_EQ(list.rc, 0) << list.text();
  auto want = parse_lspci(lspci);
  nlohmann::json got = parse_json(list);
  ASSERT_TRUE(got.is_array()) << list.text();
  ASSERT_EQ(want.size(), 17u) << lspci.text();  // boot.sh's iommu topology, q35's own included
  std::set<std::string> seen;
  for (const auto& d : got) {
    std::string a = d.value("address", "");
    seen.insert(a);
    auto it = want.find(a);
    if (it == want.end()) {
      ADD_FAILURE() << "hostpass lists " << a << ", lspci does not";
      continue;
    }
    const LspciLine& w = it->second;
    EXPECT_EQ(d["class"], w.class_id) << a;
    EXPECT_EQ(d["vendor"], w.vendor) << a;
    EXPECT_EQ(d["device"], w.device) << a;
    EXPECT_EQ(d["revision"], w.revision) << a;
    EXPECT_EQ(d["class_name"], w.class_name) << a;
    // lspci prints "Device" for an id pci.ids does not know (the pcie-pci-bridge, 1b36:000e, in
    // bookworm's pci.ids); hostpass's JSON gives null for such a name (docs/json.md).
    std::string device_name =
        d["device_name"].is_null() ? std::string() : d["device_name"].get<std::string>();
    EXPECT_EQ(d["vendor_name"].get<std::string>() + " " +
                  (device_name.empty() ? std::string("Device") : device_name),
              w.name)
        << a;
  }
  for (const auto& [a, w] : want)
    EXPECT_TRUE(seen.count(a)) << "lspci lists " << a << ", hostpass does not";
}

TEST_F(KernelIommu, ListJsonAgreesWithKernelIommuGroupsAndDrivers) {
  nlohmann::json got = parse_json(cap("list.json"));
  ASSERT_TRUE(got.is_array());
  auto groups = groups_by_address(cap("groups"));
  auto state = table(cap("state.initial"));  // ADDR DRIVER GROUP, read from sysfs by the guest
  ASSERT_EQ(groups.size(), got.size()) << cap("groups").text();
  for (const auto& d : got) {
    std::string a = d["address"];
    ASSERT_TRUE(groups.count(a)) << a << " is in no /sys/kernel/iommu_groups/*/devices";
    EXPECT_EQ(d["iommu_group"], groups[a]) << a;
    ASSERT_EQ(state[a].size(), 2u) << a;
    std::string driver = state[a][0];
    if (driver == "none") {
      EXPECT_TRUE(d["driver"].is_null()) << a << ": " << d["driver"];
    } else {
      EXPECT_EQ(d["driver"], driver) << a;
    }
  }
  EXPECT_EQ(state[kOwn][0], "e1000e");
  EXPECT_EQ(state[kLegA][0], "e1000");
}

TEST_F(KernelIommu, ListTextLinesStartWithLspciLines) {
  const Capture& list = cap("list");
  const Capture& lspci = cap("lspci");
  ASSERT_EQ(list.rc, 0);
  ASSERT_EQ(list.lines.size(), lspci.lines.size()) << list.text() << lspci.text();
  for (size_t i = 0; i < lspci.lines.size(); ++i)
    EXPECT_EQ(list.lines[i].substr(0, lspci.lines[i].size()), lspci.lines[i]);
}

// ---- check ---------------------------------------------------------------------------------

std::map<std::string, nlohmann::json> checks_by_id(const nlohmann::json& j) {
  std::map<std::string, nlohmann::json> out;
  if (!j.contains("checks")) return out;
  for (const auto& c : j["checks"])
    if (c["device"].is_null()) out[c["id"]] = c;
  return out;
}

TEST_F(KernelIommu, CheckPassesTheIommuChecksWithIntelIommuOn) {
  const Capture& c = cap("check.json");
  nlohmann::json j = parse_json(c);
  ASSERT_TRUE(j.is_object()) << c.text();
  auto checks = checks_by_id(j);
  for (const char* id :
       {"iommu.active", "cmdline.iommu", "modules.vfio", "dev.vfio", "iommu.interrupt-remapping"}) {
    ASSERT_TRUE(checks.count(id)) << id << " missing\n" << c.text();
    EXPECT_EQ(checks[id]["status"], "pass") << id << ": " << checks[id].dump(2);
  }
  EXPECT_EQ(checks["cpu.vendor"]["summary"].get<std::string>().rfind("Intel", 0), 0u)
      << checks["cpu.vendor"].dump(2);
  EXPECT_NE(checks["iommu.active"]["observed"].get<std::string>().find("dmar"), std::string::npos);
}

// ---- verify --------------------------------------------------------------------------------

// The one verify report for `addr` in a `hostpass --json verify` capture.
nlohmann::json verify_report(const Capture& c, const std::string& addr) {
  nlohmann::json j = parse_json(c);
  if (!j.is_array()) return nullptr;
  for (const auto& r : j)
    if (r["address"] == addr) return r;
  return nullptr;
}

std::vector<std::string> step_names(const nlohmann::json& report) {
  std::vector<std::string> out;
  for (const auto& s : report["steps"]) out.push_back(s["step"]);
  return out;
}

TEST_F(KernelIommu, VerifyFailsAtTheGroupStepForADeviceOnItsHostDriver) {
  const Capture& c = cap("verify.host-driver");
  EXPECT_EQ(c.rc, 1) << c.text();
  int group = groups_by_address(cap("groups"))[kHostNic];
  EXPECT_NE(c.text().find("ok   container"), std::string::npos) << c.text();
  EXPECT_NE(c.text().find("FAIL group     /dev/vfio/" + std::to_string(group) +
                          " does not exist: " + kHostNic + " is bound to e1000e"),
            std::string::npos)
      << c.text();
  EXPECT_NE(c.text().find(std::string("failed at step 'group'")), std::string::npos);
}

TEST_F(KernelIommu, VerifySucceedsOnAViableGroupAndReportsWhatTheKernelSays) {
  auto state = table(cap("state.own-raw-bound"));
  ASSERT_EQ(state[kOwn][0], "vfio-pci") << cap("state.own-raw-bound").text();
  int group = groups_by_address(cap("groups"))[kOwn];
  // /dev/vfio/<group> appeared when the device was bound to vfio-pci.
  auto nodes = cap("devvfio.own-raw-bound").lines;
  EXPECT_NE(std::find(nodes.begin(), nodes.end(), std::to_string(group)), nodes.end());

  const Capture& text = cap("verify.viable");
  EXPECT_EQ(text.rc, 0) << text.text();
  EXPECT_NE(
      text.text().find(std::string("verified ") + kOwn + ": assignable with VFIO (type1v2, group " +
                       std::to_string(group) + ")"),
      std::string::npos)
      << text.text();

  const Capture& js = cap("verify.viable.json");
  EXPECT_EQ(js.rc, 0) << js.text();
  nlohmann::json r = verify_report(js, kOwn);
  ASSERT_TRUE(r.is_object()) << js.text();
  EXPECT_EQ(r["ok"], true);
  EXPECT_TRUE(r["failed_step"].is_null());
  EXPECT_EQ(r["iommu_group"], group);
  EXPECT_EQ(step_names(r), (std::vector<std::string>{"container", "group", "viable", "attach",
                                                     "iommu", "device", "info"}));
  ASSERT_TRUE(r["vfio_device"].is_object());
  EXPECT_EQ(r["vfio_device"]["is_pci"], true);
  // vfio-pci exposes 9 regions (BAR0-5, ROM, config, VGA) and 5 irq indexes on 6.1.
  EXPECT_EQ(r["vfio_device"]["num_regions"], 9);
  EXPECT_EQ(r["vfio_device"]["num_irqs"], 5);

  // The reset flag is the kernel's: VFIO_DEVICE_FLAGS_RESET iff the device has a reset method.
  const Capture& reset = cap("sysfs.own.reset_method");
  bool has_reset = reset.rc == 0 && !reset.lines.empty() && !reset.lines[0].empty();
  EXPECT_EQ(r["vfio_device"]["reset"], has_reset) << reset.text();

  // BAR sizes agree with the kernel's own resource file (start end flags, one line per BAR).
  const Capture& res = cap("sysfs.own.resource");
  std::map<std::string, uint64_t> want;
  for (size_t i = 0; i < res.lines.size() && i < 7; ++i) {
    std::istringstream f(res.lines[i]);
    std::string s, e;
    f >> s >> e;
    uint64_t start = std::stoull(s, nullptr, 16), end = std::stoull(e, nullptr, 16);
    if (end > start) want[i < 6 ? "BAR" + std::to_string(i) : "ROM"] = end - start + 1;
  }
  ASSERT_FALSE(want.empty()) << res.text();
  std::map<std::string, uint64_t> got;
  for (const auto& reg : r["vfio_device"]["regions"])
    if (reg["name"] != "config" && reg["name"] != "VGA") got[reg["name"]] = reg["size"];
  EXPECT_EQ(got, want) << res.text() << r.dump(2);
  // The config region is always there: 4 KiB on PCIe.
  bool config = false;
  for (const auto& reg : r["vfio_device"]["regions"])
    if (reg["name"] == "config") config = reg["size"] == 4096;
  EXPECT_TRUE(config) << r.dump(2);
}

TEST_F(KernelIommu, VerifyFailsAtViabilityWhenASiblingIsOnItsHostDriver) {
  auto state = table(cap("state.lega-bound"));
  ASSERT_EQ(state[kLegA][0], "vfio-pci");
  ASSERT_EQ(state[kLegB][0], "e1000");
  const Capture& text = cap("verify.nonviable");
  EXPECT_EQ(text.rc, 1) << text.text();
  int group = groups_by_address(cap("groups"))[kLegA];
  EXPECT_NE(text.text().find("FAIL viable    IOMMU group " + std::to_string(group) +
                             " is not viable: " + kLegB + " (on e1000) still on a host driver"),
            std::string::npos)
      << text.text();
  nlohmann::json r = verify_report(cap("verify.nonviable.json"), kLegA);
  ASSERT_TRUE(r.is_object()) << cap("verify.nonviable.json").text();
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["failed_step"], "viable");
  EXPECT_EQ(step_names(r), (std::vector<std::string>{"container", "group", "viable"}));
  EXPECT_TRUE(r["vfio_device"].is_null());
}

TEST_F(KernelIommu, VerifySucceedsForEveryMemberOnceTheWholeGroupIsOnVfio) {
  auto state = table(cap("state.leg-both-bound"));
  ASSERT_EQ(state[kLegA][0], "vfio-pci");
  ASSERT_EQ(state[kLegB][0], "vfio-pci");
  // The bridge has no driver: it does not stand in the way.
  EXPECT_EQ(state[kBridge][0], "none");
  const Capture& text = cap("verify.group-viable");
  EXPECT_EQ(text.rc, 0) << text.text();
  EXPECT_NE(text.text().find(std::string("verified ") + kLegA), std::string::npos) << text.text();
  EXPECT_NE(text.text().find(std::string("verified ") + kLegB), std::string::npos) << text.text();
}

TEST_F(KernelIommu, GuestPreparationRestoredEveryDeviceAndInterface) {
  // Not a hostpass behaviour: proves the raw sysfs preparation undid itself, so later scenarios
  // in the same boot start from the initial state.
  EXPECT_EQ(cap("state.restored").lines, cap("state.initial").lines);
  EXPECT_EQ(table(cap("netdevs.restored")).size(), table(cap("netdevs.initial")).size())
      << cap("netdevs.restored").text();
}

// ---- USB ---------------------------------------------------------------------------------

TEST_F(KernelIommu, ListUsbJsonAgreesWithTheKernelsUsbDevices) {
  const Capture& sys = cap("usb.sysfs");
  const Capture& js = cap("usb.json");
  ASSERT_EQ(js.rc, 0) << js.text() << cap("usb.json.stderr").text();
  nlohmann::json got = parse_json(js);
  ASSERT_TRUE(got.is_array()) << js.text();
  // NAME BUSNUM DEVNUM IDVENDOR IDPRODUCT BCDDEVICE CLASS SPEED, from /sys/bus/usb/devices.
  auto want = table(sys);
  ASSERT_EQ(got.size(), want.size()) << sys.text() << js.text();
  std::set<std::string> ids;
  int root_hubs = 0;
  for (const auto& d : got) {
    const std::vector<std::string>* w = nullptr;
    std::string name;
    for (const auto& [n, fields] : want)
      if (fields.size() == 7 && std::stoi(fields[0]) == d["busnum"] &&
          std::stoi(fields[1]) == d["devnum"]) {
        w = &fields;
        name = n;
      }
    ASSERT_NE(w, nullptr) << "hostpass lists bus " << d["busnum"] << " device " << d["devnum"]
                          << ", the kernel does not\n"
                          << sys.text();
    EXPECT_EQ(d["vendor"], (*w)[2]) << name;
    EXPECT_EQ(d["device"], (*w)[3]) << name;
    EXPECT_EQ(d["bcd_device"], (*w)[4]) << name;
    EXPECT_EQ(d["device_class"], (*w)[5]) << name;
    EXPECT_EQ(d["speed"], (*w)[6]) << name;
    if (d["root_hub"] == true) {
      ++root_hubs;
    } else {
      EXPECT_EQ(d["port_path"], name);
    }
    ids.insert(d["vendor"].get<std::string>() + ":" + d["device"].get<std::string>());
  }
  // qemu-xhci has a USB 2 and a USB 3 root hub; QEMU's usb-kbd is 0627:0001, usb-storage 46f4:0001.
  EXPECT_EQ(root_hubs, 2);
  EXPECT_TRUE(ids.count("0627:0001")) << js.text();
  EXPECT_TRUE(ids.count("46f4:0001")) << js.text();
}

// ---- the bind engine on the real kernel ---------------------------------------------------

class KernelBind : public KernelIommu {
 protected:
  void SetUp() override {
    KernelIommu::SetUp();
    if (HasFatalFailure()) return;
    bool have = std::find(t_->notes.begin(), t_->notes.end(), "have bind") != t_->notes.end();
    ASSERT_TRUE(have) << "the guest's hostpass has no `bind` command" << t_->where();
  }
  std::string driver(const std::string& state_capture, const std::string& addr) {
    auto st = table(cap(state_capture));
    return st.count(addr) && !st[addr].empty() ? st[addr][0] : "(absent)";
  }
};

TEST_F(KernelBind, BindANicAloneInItsGroupThenUnbindBringsItsInterfaceBack) {
  const Capture& bind = cap("bind.own");
  EXPECT_EQ(bind.rc, 0) << bind.text();
  EXPECT_EQ(driver("state.bind.own", kOwn), "vfio-pci") << cap("state.bind.own").text();
  int group = groups_by_address(cap("groups"))[kOwn];
  auto nodes = cap("devvfio.bind.own").lines;
  EXPECT_NE(std::find(nodes.begin(), nodes.end(), std::to_string(group)), nodes.end())
      << "/dev/vfio/" << group << " missing after bind: " << cap("devvfio.bind.own").text();
  EXPECT_EQ(cap("verify.bind.own").rc, 0) << cap("verify.bind.own").text();

  const Capture& unbind = cap("unbind.own");
  EXPECT_EQ(unbind.rc, 0) << unbind.text();
  EXPECT_EQ(driver("state.unbind.own", kOwn), "e1000e") << cap("state.unbind.own").text();
  EXPECT_EQ(cap("override.unbind.own").lines, std::vector<std::string>{"(null)"});
  EXPECT_TRUE(table(cap("netdevs.unbind.own")).count(kOwn))
      << "no network interface on " << kOwn
      << " after unbind: " << cap("netdevs.unbind.own").text();
}

TEST_F(KernelBind, OneFunctionOfASharedGroupWithoutGroupIsRefusedAndNothingChanges) {
  const Capture& c = cap("bind.shared.nogroup");
  EXPECT_EQ(c.rc, 2) << c.text();
  EXPECT_NE(c.text().find(kMf1), std::string::npos) << "the refusal must name the sibling\n"
                                                    << c.text();
  EXPECT_EQ(cap("state.shared.nogroup").lines, cap("state.before.shared").lines);
}

TEST_F(KernelBind, WithGroupEveryMemberIsBoundAndTheGroupIsViable) {
  const Capture& c = cap("bind.shared.group");
  EXPECT_EQ(c.rc, 0) << c.text();
  EXPECT_EQ(driver("state.shared.group", kMf0), "vfio-pci");
  EXPECT_EQ(driver("state.shared.group", kMf1), "vfio-pci");
  const Capture& v = cap("verify.shared.group");
  EXPECT_EQ(v.rc, 0) << v.text();
  EXPECT_NE(v.text().find(std::string("verified ") + kMf1), std::string::npos) << v.text();
  EXPECT_EQ(cap("unbind.shared.group").rc, 0) << cap("unbind.shared.group").text();
  EXPECT_EQ(driver("state.shared.unbound", kMf0), "e1000e");
  EXPECT_EQ(driver("state.shared.unbound", kMf1), "e1000e");
}

TEST_F(KernelBind, AFailedBindRollsBackToTheOriginalDriverForReal) {
  const Capture& c = cap("bind.rollback");
  EXPECT_EQ(c.rc, 1) << c.text();
  EXPECT_NE(c.text().find("roll"), std::string::npos) << "the failure must report the rollback\n"
                                                      << c.text();
  EXPECT_EQ(driver("state.rollback", kHostNic), "e1000e") << cap("state.rollback").text();
  EXPECT_EQ(cap("override.rollback").lines, std::vector<std::string>{"(null)"});
  EXPECT_TRUE(table(cap("netdevs.rollback")).count(kHostNic)) << cap("netdevs.rollback").text();
}

TEST_F(KernelBind, AnAbsentUnloadableVfioModuleFailsAndChangesNothing) {
  const Capture& c = cap("bind.nomodule");
  EXPECT_NE(c.rc, 0) << c.text();
  EXPECT_EQ(driver("state.nomodule", kOwn), "e1000e") << c.text() << cap("state.nomodule").text();
}

TEST_F(KernelBind, AKilledBindIsRepairedByRecoverWhereverTheKillLands) {
  int recovered_a_journal = 0;
  for (const char* point : {"journal", "override"}) {
    std::string p = std::string("crash.") + point;
    const Capture& rec = cap(p + ".recover");
    EXPECT_EQ(rec.rc, 0) << p << ": " << rec.text();
    if (rec.text().find("recovered the interrupted bind") != std::string::npos)
      ++recovered_a_journal;
    std::string after = driver(p + ".recovered", kOwn);
    // Never driverless: either rolled back to the host driver or the bind had completed.
    EXPECT_TRUE(after == "e1000e" || after == "vfio-pci")
        << p << ": after recover " << kOwn << " is on " << after << "\nkilled state:\n"
        << cap(p + ".killed").text() << "recover said:\n"
        << rec.text();
    // Rolled back means rolled back completely: no override left behind.
    if (after == "e1000e") {
      EXPECT_EQ(cap(p + ".override").lines, std::vector<std::string>{"(null)"}) << p;
    }
    for (const std::string& l : cap(p + ".journal-after").lines)
      EXPECT_EQ(l.find("journal.json"), std::string::npos) << p << ": journal left behind";
  }
  // The kills are triggered by the journal's and the override's appearance, so at least one
  // landed mid-operation and recover had a journal to replay.
  EXPECT_GE(recovered_a_journal, 1)
      << cap("crash.journal.recover").text() << cap("crash.override.recover").text();
  EXPECT_EQ(driver("state.crash.end", kOwn), "e1000e");
}

// ---- the same kernel with intel_iommu=off --------------------------------------------------

TEST_F(KernelNoIommu, NoIommuGroupsExist) {
  EXPECT_TRUE(cap("groups").lines.empty()) << cap("groups").text();
  bool off = false;
  for (const std::string& n : t_->notes)
    if (n.rfind("boot ", 0) == 0) off = n.find(" intel_iommu=off") != std::string::npos;
  EXPECT_TRUE(off);
}

TEST_F(KernelNoIommu, CheckFailsTheIommuChecksWithTheRemedy) {
  const Capture& c = cap("check.json");
  nlohmann::json j = parse_json(c);
  ASSERT_TRUE(j.is_object()) << c.text();
  EXPECT_EQ(cap("check").rc, 1) << cap("check").text();
  auto checks = checks_by_id(j);
  EXPECT_EQ(checks["iommu.active"]["status"], "fail") << checks["iommu.active"].dump(2);
  EXPECT_EQ(checks["cmdline.iommu"]["status"], "fail") << checks["cmdline.iommu"].dump(2);
  EXPECT_NE(checks["cmdline.iommu"]["remedy"].get<std::string>().find("intel_iommu=on"),
            std::string::npos)
      << checks["cmdline.iommu"].dump(2);
}

TEST_F(KernelNoIommu, VerifyFailsAtTheGroupStepWithoutAnIommu) {
  const Capture& c = cap("verify");
  EXPECT_EQ(c.rc, 1) << c.text();
  EXPECT_NE(c.text().find(std::string("FAIL group     ") + kOwn + " has no IOMMU group"),
            std::string::npos)
      << c.text();
}

}  // namespace
