// kernel_mdev_test.cc — `hostpass mdev ...`, `verify <uuid>` and `inventory` on the real kernel's
// mdev core, with the kernel's own sample parent mtty (boot "mdev": topologies/mdev.sh,
// guest/scenario_mdev.sh; mtty.ko built by build_mtty.sh for exactly the booted kernel).
//
// mtty (samples/vfio-mdev/mtty.c, Linux 6.1): parent device "mtty" (/sys/devices/virtual/mtty/
// mtty), types mtty-1 "Single port serial" (1 port) and mtty-2 "Dual port serial" (2 ports)
// sharing a pool of 24 ports (available_instances = free ports / ports per instance), vfio-pci
// device API, no description attribute; each instance is a vfio-pci device with an emulated
// IOMMU group, regions config (255 B), BAR0 (8 B) and for mtty-2 BAR1 (8 B), irqs INTx, MSI, REQ.
// Every assertion compares hostpass with what the guest's sysfs said at the same point.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "transcript.h"

namespace hostpass::kernel_tier {
namespace {

constexpr const char* kU1 = "11111111-2222-4333-8444-555555555501";
constexpr const char* kU2 = "11111111-2222-4333-8444-555555555502";
constexpr const char* kU3 = "11111111-2222-4333-8444-555555555503";

struct SysType {
  std::string parent, id, name, device_api, description;
  int available = -1;
};

// "PARENT|TYPE|NAME|DEVICE_API|AVAILABLE|DESCRIPTION" lines (mdev_types_sysfs).
std::map<std::string, SysType> sys_types(const Capture& c) {
  std::map<std::string, SysType> out;
  for (const std::string& l : c.lines) {
    std::vector<std::string> f;
    std::stringstream ss(l);
    std::string part;
    while (std::getline(ss, part, '|')) f.push_back(part);
    if (f.size() != 6) continue;
    out[f[0] + "/" + f[1]] = SysType{f[0], f[1], f[2], f[3], f[5], std::stoi(f[4])};
  }
  return out;
}

struct SysInstance {
  std::string parent, type, group;
  bool node = false;
};

// "UUID PARENT TYPE GROUP yes|no" lines (mdev_instances_sysfs).
std::map<std::string, SysInstance> sys_instances(const Capture& c) {
  std::map<std::string, SysInstance> out;
  for (const auto& [uuid, f] : table(c))
    if (f.size() == 4) out[uuid] = SysInstance{f[0], f[1], f[2], f[3] == "yes"};
  return out;
}

// mdevctl_files: "PATH", its bytes, "|EOF" → PATH → bytes.
std::map<std::string, std::string> mdevctl_files(const Capture& c) {
  std::map<std::string, std::string> out;
  std::string path, body;
  for (const std::string& l : c.lines) {
    if (path.empty()) {
      path = l;
      body.clear();
      continue;
    }
    size_t eof = l.rfind("|EOF");
    if (eof != std::string::npos && eof + 4 == l.size()) {
      body += l.substr(0, eof);
      out[path] = body;
      path.clear();
      continue;
    }
    body += l + "\n";
  }
  return out;
}

// What mdevctl writes for a definition (mdevctl src/mdev.rs write_config(): serde_json
// to_string_pretty with preserved key order, two-space indent, no final newline).
std::string mdevctl_text(const std::string& type) {
  return "{\n  \"mdev_type\": \"" + type + "\",\n  \"start\": \"auto\",\n  \"attrs\": []\n}";
}

int tainted(const Capture& c) {
  return c.lines.empty() ? -1 : std::stoi(c.lines[0]);
}

class KernelMdev : public KernelTier {
 protected:
  void SetUp() override { use("mdev"); }
};

TEST_F(KernelMdev, MttyBuiltForThisKernelLoadsUnsignedAndTaintsIt) {
  EXPECT_EQ(cap("mtty.insmod").rc, 0) << cap("mtty.insmod").text() << t_->where();
  EXPECT_NE(cap("mtty.lsmod").text().find("\nmtty "), std::string::npos)
      << cap("mtty.lsmod").text();
  // Debian's kernel: MODULE_SIG on, MODULE_SIG_FORCE off. An unsigned (E, bit 13) out-of-tree
  // (O, bit 12) module loads and taints the kernel.
  int before = tainted(cap("mtty.tainted.before"));
  int after = tainted(cap("mtty.tainted.after"));
  EXPECT_EQ(before & 0x3000, 0) << before;
  EXPECT_EQ(after & 0x3000, 0x3000) << after;
  const std::string dmesg = cap("mtty.dmesg").text();
  EXPECT_NE(dmesg.find("mtty: loading out-of-tree module taints kernel."), std::string::npos)
      << dmesg;
  EXPECT_NE(dmesg.find("mtty: module verification failed: signature and/or required key missing "
                       "- tainting kernel"),
            std::string::npos)
      << dmesg;
  EXPECT_EQ(cap("mtty.parent").text(), "/sys/devices/virtual/mtty/mtty\n");
}

TEST_F(KernelMdev, TheKernelOffersMttysTwoTypes) {
  auto types = sys_types(cap("types.sysfs.initial"));
  ASSERT_EQ(types.size(), 2u) << cap("types.sysfs.initial").text();
  EXPECT_EQ(types["mtty/mtty-1"].name, "Single port serial");
  EXPECT_EQ(types["mtty/mtty-1"].device_api, "vfio-pci");
  EXPECT_EQ(types["mtty/mtty-1"].available, 24);
  EXPECT_EQ(types["mtty/mtty-1"].description, "-");  // mtty has no show_description
  EXPECT_EQ(types["mtty/mtty-2"].name, "Dual port serial");
  EXPECT_EQ(types["mtty/mtty-2"].available, 12);
}

TEST_F(KernelMdev, TypesJsonAgreesWithMdevSupportedTypes) {
  auto sys = sys_types(cap("types.sysfs.initial"));
  ASSERT_EQ(cap("types.json").rc, 0) << cap("types.json.stderr").text();
  nlohmann::json j = parse_json(cap("types.json"));
  ASSERT_TRUE(j.is_array()) << cap("types.json").text();
  ASSERT_EQ(j.size(), sys.size()) << cap("types.json").text();
  for (const auto& t : j) {
    std::string key = t["parent"].get<std::string>() + "/" + t["id"].get<std::string>();
    ASSERT_TRUE(sys.count(key)) << key << " is not in sysfs";
    const SysType& s = sys[key];
    EXPECT_EQ(t["name"], s.name) << key;
    EXPECT_EQ(t["device_api"], s.device_api) << key;
    EXPECT_EQ(t["available_instances"], s.available) << key;
    EXPECT_TRUE(t["description"].is_null()) << key << ": the kernel has no description file";
  }
  EXPECT_EQ(parse_json(cap("types.parent.json")), j);  // --parent mtty: all of them
}

TEST_F(KernelMdev, TypesTextIsMdevctlsLayoutOfTheKernelsValues) {
  std::string expected = "mtty\n";
  for (const auto& [key, s] : sys_types(cap("types.sysfs.initial")))
    expected += "  " + s.id + "\n    Available instances: " + std::to_string(s.available) +
                "\n    Device API: " + s.device_api + "\n    Name: " + s.name + "\n";
  EXPECT_EQ(cap("types.text").rc, 0);
  EXPECT_EQ(cap("types.text").text(), expected);
}

TEST_F(KernelMdev, CreateByTypeIdMakesTheDeviceOnItsParentAndTheCountDrops) {
  const Capture& c = cap("create.u1");
  ASSERT_EQ(c.rc, 0) << c.text();
  EXPECT_EQ(c.text(), std::string(kU1) + "\n");  // the UUID, as mdevctl start prints it
  auto inst = sys_instances(cap("instances.after-u1"));
  ASSERT_EQ(inst.size(), 1u) << cap("instances.after-u1").text();
  EXPECT_EQ(inst[kU1].parent, "mtty");
  EXPECT_EQ(inst[kU1].type, "mtty-1");
  EXPECT_NE(inst[kU1].group, "none") << "an mdev has an (emulated) IOMMU group on 6.1";
  EXPECT_TRUE(inst[kU1].node) << "/dev/vfio/" << inst[kU1].group;
  EXPECT_EQ(cap("type-devices.after-u1").text(), std::string(kU1) + "\n");
  auto before = sys_types(cap("types.sysfs.initial"));
  auto after = sys_types(cap("types.sysfs.after-u1"));
  EXPECT_EQ(after["mtty/mtty-1"].available, before["mtty/mtty-1"].available - 1);
  EXPECT_EQ(after["mtty/mtty-2"].available, (before["mtty/mtty-1"].available - 1) / 2)
      << "mtty's types share one pool of ports";
}

TEST_F(KernelMdev, CreateByTypeNameAndItsJson) {
  const Capture& c = cap("create.u2.json");
  ASSERT_EQ(c.rc, 0) << c.text() << cap("create.u2.json.stderr").text();
  EXPECT_EQ(parse_json(c), (nlohmann::json{{"uuid", kU2},
                                           {"parent", "mtty"},
                                           {"type", "mtty-2"},
                                           {"type_name", "Dual port serial"},
                                           {"persistent", true}}));
  auto inst = sys_instances(cap("instances.after-u2"));
  ASSERT_EQ(inst.size(), 2u) << cap("instances.after-u2").text();
  EXPECT_EQ(inst[kU2].parent, "mtty");
  EXPECT_EQ(inst[kU2].type, "mtty-2");
  EXPECT_NE(inst[kU2].group, inst[kU1].group) << "every mdev has a group of its own";
  auto before = sys_types(cap("types.sysfs.after-u1"));
  auto after = sys_types(cap("types.sysfs.after-u2"));
  EXPECT_EQ(after["mtty/mtty-2"].available, before["mtty/mtty-2"].available - 1);
  EXPECT_EQ(after["mtty/mtty-1"].available, before["mtty/mtty-1"].available - 2);
}

TEST_F(KernelMdev, DefinitionsAreTheBytesMdevctlWrites) {
  auto files = mdevctl_files(cap("mdevctl.after-u2"));
  EXPECT_EQ(files, (std::map<std::string, std::string>{
                       {std::string("/etc/mdevctl.d/mtty/") + kU1, mdevctl_text("mtty-1")},
                       {std::string("/etc/mdevctl.d/mtty/") + kU2, mdevctl_text("mtty-2")}}))
      << cap("mdevctl.after-u2").text();
}

TEST_F(KernelMdev, ListShowsTheKernelsInstancesAndTheirDefinitions) {
  EXPECT_EQ(cap("list.text").rc, 0);
  EXPECT_EQ(cap("list.text").text(),
            std::string(kU1) +
                " mtty mtty-1 (Single port serial)  active, defined (start: auto)\n" + kU2 +
                " mtty mtty-2 (Dual port serial)  active, defined (start: auto)\n");
  nlohmann::json j = parse_json(cap("list.json"));
  ASSERT_TRUE(j.is_array() && j.size() == 2u) << cap("list.json").text();
  auto inst = sys_instances(cap("instances.after-u2"));
  for (const auto& e : j) {
    std::string uuid = e["uuid"];
    ASSERT_TRUE(inst.count(uuid)) << uuid;
    EXPECT_EQ(e["parent"], inst[uuid].parent);
    EXPECT_EQ(e["type"], inst[uuid].type);
    EXPECT_EQ(e["active"], true);
    EXPECT_EQ(e["definition"]["start"], "auto");
    EXPECT_EQ(e["definition"]["path"], "/etc/mdevctl.d/mtty/" + uuid);
  }
}

TEST_F(KernelMdev, CreatingBeyondAvailableInstancesIsRefusedAndNothingChanges) {
  EXPECT_EQ(cap("full.filled").text(), "10\n") << "raw creates until mtty-2 had none left";
  auto full = sys_types(cap("types.sysfs.full"));
  ASSERT_EQ(full["mtty/mtty-2"].available, 0) << cap("types.sysfs.full").text();
  const Capture& c = cap("create.full");
  EXPECT_EQ(c.rc, 2) << c.text();
  EXPECT_EQ(c.text(),
            "hostpass: no available instances of mtty-2 (Dual port serial) on mtty: remove an "
            "instance first (`hostpass mdev list`)\n");
  EXPECT_EQ(cap("instances.full.after").text(), cap("instances.full.before").text());
  EXPECT_EQ(sys_instances(cap("instances.full.after")).count(kU3), 0u);
  EXPECT_EQ(cap("types.sysfs.full.after").text(), cap("types.sysfs.full").text());
  EXPECT_EQ(cap("mdevctl.full.after").text(), cap("mdevctl.full.before").text());
  EXPECT_EQ(cap("instances.unfilled").text(), cap("instances.after-u2").text());
}

TEST_F(KernelMdev, VerifyOpensARealMdevThroughVfio) {
  auto inst = sys_instances(cap("instances.after-u2"));
  const Capture& c = cap("verify.u1");
  ASSERT_EQ(c.rc, 0) << c.text();
  const std::string g = inst[kU1].group;
  EXPECT_EQ(c.lines[0], std::string(kU1) + "  mdev mtty-1 on mtty  iommu group " + g);
  for (const char* step : {"container", "group", "viable", "attach", "iommu", "device", "info"}) {
    bool found = false;
    for (const std::string& l : c.lines)
      found = found || l.rfind(std::string("  ok   ") + step, 0) == 0;
    EXPECT_TRUE(found) << step << "\n" << c.text();
  }
  EXPECT_NE(c.text().find(std::string("device fd for ") + kU1 + " obtained"), std::string::npos);
  EXPECT_EQ(c.lines.back(),
            std::string("verified ") + kU1 + ": assignable with VFIO (type1v2, group " + g + ")");
}

TEST_F(KernelMdev, VerifyJsonReportsWhatMttyOffers) {
  auto inst = sys_instances(cap("instances.after-u2"));
  const Capture& c = cap("verify.u2.json");
  ASSERT_EQ(c.rc, 0) << c.text() << cap("verify.u2.json.stderr").text();
  nlohmann::json j = parse_json(c);
  ASSERT_EQ(j.size(), 1u) << c.text();
  const auto& r = j[0];
  EXPECT_EQ(r["address"], kU2);
  EXPECT_EQ(r["kind"], "mdev");
  EXPECT_EQ(r["mdev_parent"], "mtty");
  EXPECT_EQ(r["mdev_type"], "mtty-2");
  EXPECT_EQ(r["ok"], true);
  EXPECT_EQ(r["iommu_group"], std::stoi(inst[kU2].group));
  EXPECT_EQ(r["iommu_type"], "type1v2");
  const auto& d = r["vfio_device"];
  EXPECT_EQ(d["is_pci"], true);
  EXPECT_EQ(d["reset"], false);
  EXPECT_EQ(d["num_regions"], 9);  // VFIO_PCI_NUM_REGIONS
  EXPECT_EQ(d["num_irqs"], 5);     // VFIO_PCI_NUM_IRQS
  // mtty_get_region_info: config 0xff bytes, an 8-byte I/O BAR per port.
  std::map<std::string, uint64_t> regions;
  for (const auto& reg : d["regions"]) regions[reg["name"]] = reg["size"];
  EXPECT_EQ(regions, (std::map<std::string, uint64_t>{{"BAR0", 8}, {"BAR1", 8}, {"config", 255}}));
  // mtty_get_irq_info: INTx, MSI and REQ, one each; MSI-X and ERR are EINVAL (absent).
  std::map<std::string, int> irqs;
  for (const auto& irq : d["irqs"]) irqs[irq["name"]] = irq["count"];
  EXPECT_EQ(irqs, (std::map<std::string, int>{{"INTx", 1}, {"MSI", 1}, {"REQ", 1}}));
}

TEST_F(KernelMdev, VerifyOfAnUnknownUuidFailsAtTheGroupStep) {
  const Capture& c = cap("verify.unknown");
  EXPECT_EQ(c.rc, 1);
  EXPECT_NE(c.text().find("  FAIL group     no mediated device "
                          "11111111-2222-4333-8444-5555555555ff"),
            std::string::npos)
      << c.text();
}

TEST_F(KernelMdev, RemoveDeletesTheDeviceAndItsDefinitionAndGivesTheInstanceBack) {
  const Capture& c = cap("remove.u2");
  ASSERT_EQ(c.rc, 0) << c.text();
  EXPECT_EQ(c.text(), std::string("removed ") + kU2 + " and its mdevctl definition\n");
  auto inst = sys_instances(cap("instances.after-remove"));
  EXPECT_EQ(inst.count(kU2), 0u);
  EXPECT_EQ(inst.count(kU1), 1u);
  EXPECT_EQ(cap("types.sysfs.after-remove").text(), cap("types.sysfs.after-u1").text());
  EXPECT_EQ(mdevctl_files(cap("mdevctl.after-remove")),
            (std::map<std::string, std::string>{
                {std::string("/etc/mdevctl.d/mtty/") + kU1, mdevctl_text("mtty-1")}}));
  EXPECT_EQ(cap("remove.u1").rc, 0);
  EXPECT_EQ(cap("instances.empty").text(), "");
  EXPECT_EQ(cap("mdevctl.empty").text(), "");
}

TEST_F(KernelMdev, ApplyCreatesWhatKubeVirtWouldThenReapplyIsANoOp) {
  auto before = sys_types(cap("types.sysfs.before-apply"));
  const int n = before["mtty/mtty-2"].available;
  ASSERT_EQ(n, 12);
  const Capture& c = cap("apply.first");
  ASSERT_EQ(c.rc, 0) << c.text();
  EXPECT_EQ(c.text(),
            "desired types: mtty-2\n"
            "mtty: create 12 x mtty-2 (Dual port serial)\n"
            "created 12 mediated devices (mdevctl definitions written)\n");
  auto inst = sys_instances(cap("instances.apply.first"));
  ASSERT_EQ(static_cast<int>(inst.size()), n) << cap("instances.apply.first").text();
  std::set<std::string> groups;
  for (const auto& [uuid, m] : inst) {
    EXPECT_EQ(m.parent, "mtty") << uuid;
    EXPECT_EQ(m.type, "mtty-2") << uuid;
    EXPECT_TRUE(m.node) << uuid;
    groups.insert(m.group);
  }
  EXPECT_EQ(groups.size(), inst.size());
  auto after = sys_types(cap("types.sysfs.apply.first"));
  EXPECT_EQ(after["mtty/mtty-2"].available, 0);
  EXPECT_EQ(after["mtty/mtty-1"].available, 0);
  auto files = mdevctl_files(cap("mdevctl.apply.first"));
  ASSERT_EQ(files.size(), inst.size());
  for (const auto& [uuid, m] : inst)
    EXPECT_EQ(files["/etc/mdevctl.d/mtty/" + uuid], mdevctl_text("mtty-2")) << uuid;

  const Capture& again = cap("apply.second");
  EXPECT_EQ(again.rc, 0);
  EXPECT_EQ(again.text(),
            "desired types: mtty-2\n"
            "mtty: already has mediated devices: left as it is\n"
            "created 0 mediated devices\n");
  EXPECT_EQ(cap("instances.apply.second").text(), cap("instances.apply.first").text());
  nlohmann::json j = parse_json(cap("apply.second.json"));
  EXPECT_EQ(j["configured_parents"], (nlohmann::json{"mtty"}));
  EXPECT_EQ(j["creates"], nlohmann::json::array());
  EXPECT_EQ(j["removes"], nlohmann::json::array());
}

TEST_F(KernelMdev, InventoryCountsTheRealInstancesByTheTypesName) {
  auto inst = sys_instances(cap("instances.apply.second"));
  ASSERT_EQ(cap("inventory.json").rc, 0) << cap("inventory.json.stderr").text();
  nlohmann::json j = parse_json(cap("inventory.json"));
  ASSERT_TRUE(j.contains("resources")) << cap("inventory.json").text();
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& r : j["resources"]) by_name[r["name"]] = r;
  ASSERT_TRUE(by_name.count("example.org/mtty-dual")) << cap("inventory.json").text();
  const auto& dual = by_name["example.org/mtty-dual"];
  EXPECT_EQ(dual["kind"], "mdev");
  EXPECT_EQ(dual["capacity"], static_cast<int>(inst.size()));
  EXPECT_EQ(dual["allocatable"], static_cast<int>(inst.size()));
  std::set<std::string> ids;
  for (const auto& u : dual["units"]) {
    std::string id = u["id"];
    ids.insert(id);
    ASSERT_TRUE(inst.count(id)) << id;
    EXPECT_EQ(u["mdev_parent"], "mtty");
    EXPECT_EQ(u["mdev_type"], "mtty-2");
    EXPECT_EQ(u["iommu_group"], std::stoi(inst[id].group)) << id;
    EXPECT_EQ(u["healthy"], true) << id;
  }
  EXPECT_EQ(ids.size(), inst.size());
  ASSERT_TRUE(by_name.count("example.org/mtty-single"));
  EXPECT_EQ(by_name["example.org/mtty-single"]["capacity"], 0);
}

TEST_F(KernelMdev, ApplyRemovesInstancesOfATypeNoLongerDesiredButNotOneInUse) {
  auto inst = sys_instances(cap("instances.apply.second"));
  std::istringstream held_line(cap("held.instance").text());
  std::string held, group, pid;
  held_line >> held >> group >> pid;
  ASSERT_TRUE(inst.count(held)) << cap("held.instance").text();

  const Capture& c = cap("apply.switch.held.json");
  ASSERT_EQ(c.rc, 0) << c.text() << cap("apply.switch.held.json.stderr").text();
  nlohmann::json j = parse_json(c);
  EXPECT_EQ(j["desired"], (nlohmann::json{"mtty-1"}));
  ASSERT_EQ(j["kept"].size(), 1u) << c.text();
  EXPECT_EQ(j["kept"][0]["uuid"], held);
  EXPECT_EQ(j["kept"][0]["reason"], "not desired but in use by " + pid + " (sleep) through " +
                                        "/dev/vfio/" + group + "; stop that VM first");
  EXPECT_EQ(j["removed"].size(), inst.size() - 1);
  EXPECT_EQ(j["configured_parents"], (nlohmann::json{"mtty"}));
  EXPECT_EQ(j["created"], nlohmann::json::array()) << "the parent still has the held instance";
  EXPECT_EQ(j["errors"], nlohmann::json::array());
  auto left = sys_instances(cap("instances.switch.held"));
  ASSERT_EQ(left.size(), 1u) << cap("instances.switch.held").text();
  EXPECT_EQ(left.count(held), 1u);
  EXPECT_EQ(mdevctl_files(cap("mdevctl.switch.held")),
            (std::map<std::string, std::string>{
                {"/etc/mdevctl.d/mtty/" + held, mdevctl_text("mtty-2")}}));
}

TEST_F(KernelMdev, OnceReleasedTheLastUndesiredInstanceGoesAndTheParentGetsTheNewType) {
  std::istringstream held_line(cap("held.instance").text());
  std::string held;
  held_line >> held;
  const Capture& c = cap("apply.switch");
  ASSERT_EQ(c.rc, 0) << c.text();
  EXPECT_EQ(c.text(),
            "desired types: mtty-1\n"
            "remove " +
                held +
                " mtty mtty-2 (Dual port serial): type not desired\n"
                "mtty: create mtty-1 (Single port serial), as many as it offers once its "
                "undesired instances are removed\n"
                "removed 1 mediated device\n"
                "created 24 mediated devices (mdevctl definitions written)\n");
  auto inst = sys_instances(cap("instances.switch"));
  EXPECT_EQ(inst.size(), 24u);
  for (const auto& [uuid, m] : inst) EXPECT_EQ(m.type, "mtty-1") << uuid;
  auto types = sys_types(cap("types.sysfs.switch"));
  EXPECT_EQ(types["mtty/mtty-1"].available, 0);
  EXPECT_EQ(cap("mdevctl.switch.count").text(), "24\n");
  EXPECT_EQ(cap("apply.switch.again").text(),
            "desired types: mtty-1\n"
            "mtty: already has mediated devices: left as it is\n"
            "created 0 mediated devices\n");
  EXPECT_EQ(cap("instances.switch.again").text(), cap("instances.switch").text());
}

}  // namespace
}  // namespace hostpass::kernel_tier
