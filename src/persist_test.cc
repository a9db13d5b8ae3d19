// persist_test.cc — every format's exact files from the devices on vfio-pci (or an apply plan).
#include "persist.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "boot_hosts.h"
#include "faulty_host.h"
#include "fixture_tree.h"
#include "test_dirs.h"
#include "twin_devices_host.h"

namespace hostpass {
namespace {

PciAddress addr(const char* t) {
  return *PciAddress::parse(t);
}

class Persist : public ::testing::Test {
 protected:
  Persist() : tree_(dir_.path() + "/root"), host_(tree_.root()) {
    testing::build_standard_host(tree_);
    // 0000:04:00.0 (8086:5845, NVMe) is on vfio-pci; modules.alias says nvme claims it.
    tree_.set_kernel_release("6.1.0-13-amd64");
    tree_.write("/lib/modules/6.1.0-13-amd64/modules.alias",
                "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
                "alias pci:v000010DEd00001EB8sv*sd*bc03sc02i00* nvidia\n"
                "alias pci:v*d*sv*sd*bc01sc08i02* nvme\n");
  }
  PersistOutput render(PersistFormat f, std::vector<PersistDevice> devices = {}) {
    if (devices.empty()) devices = *devices_bound_to(host_);
    PersistOptions o;
    o.format = f;
    auto r = render_persist(host_, devices, o);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : PersistOutput{};
  }
  testing::ScratchDir dir_;
  testing::FixtureTree tree_;
  RealHost host_;
};

TEST_F(Persist, HostModuleFromModulesAlias) {
  EXPECT_EQ(host_module_for(host_, addr("0000:04:00.0")), "nvme");
  EXPECT_EQ(host_module_for(host_, addr("0000:01:00.0")), "nvidia");
  EXPECT_EQ(host_module_for(host_, addr("0000:00:04.0")), std::nullopt);
  auto bound = *devices_bound_to(host_);
  ASSERT_EQ(bound.size(), 1u);
  EXPECT_EQ(bound[0].address, addr("0000:04:00.0"));
  EXPECT_EQ(bound[0].host_module, "nvme");
}

// Found by fuzz/kernel_modules_fuzz: the rest of a damaged line ("nvid*bc01sc08i02* nvme") became
// the module name, and would have gone into a softdep line of /etc/modprobe.d.
TEST_F(Persist, ADamagedModulesAliasLineNamesNoModule) {
  tree_.write("/lib/modules/6.1.0-13-amd64/modules.alias",
              "alias pci:v000010DEd00001EB8sv*sd*bc03sc02i00* nvid*bc01sc08i02* nvme\n"
              "alias pci:v000010DEd00001EB8sv*sd*bc03sc02i00* \n"
              "alias pci:v000010DEd*sv*sd*bc03sc*i* nouveau\n");
  EXPECT_EQ(host_module_for(host_, addr("0000:01:00.0")), "nouveau");
}

TEST_F(Persist, ModprobeFilesWithSoftdepAndASharedIdWarning) {
  PersistOutput o = render(PersistFormat::Modprobe);
  ASSERT_EQ(o.files.size(), 2u);
  EXPECT_EQ(o.files[0].path, "/etc/modprobe.d/vfio.conf");
  EXPECT_EQ(o.files[0].contents,
            "# Written by hostpass persist: vfio-pci claims these devices at boot.\n"
            "options vfio-pci ids=8086:5845\n"
            "softdep nvme pre: vfio-pci\n");
  EXPECT_EQ(o.files[1].path, "/etc/modules-load.d/vfio-pci.conf");
  EXPECT_EQ(o.files[1].contents,
            "# Written by hostpass persist: load vfio-pci at boot.\nvfio-pci\n");
  ASSERT_EQ(o.warnings.size(), 1u);
  EXPECT_EQ(o.warnings[0],
            "ids=8086:5845 also gives 0000:03:00.0 (now on no driver) to vfio-pci at boot; use "
            "--format driverctl or systemd to persist by address");
}

TEST_F(Persist, SoftdepPerOriginalDriverFromAnApplyPlan) {
  auto c = parse_apply_config(
      "version: 1\ndevices:\n  - address: \"0000:01:00.0\"\n"
      "  - address: \"0000:00:04.0\"\n  - address: \"0000:04:00.0\"\n",
      "x.yaml");
  ASSERT_TRUE(c.ok());
  auto plan = plan_apply(host_, *c);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  auto devices = devices_from_plan(host_, *plan);
  ASSERT_TRUE(devices.ok()) << devices.error().message;
  PersistOutput o = render(PersistFormat::Modprobe, *devices);
  EXPECT_EQ(o.files[0].contents,
            "# Written by hostpass persist: vfio-pci claims these devices at boot.\n"
            "options vfio-pci ids=8086:10d3,10de:1eb8,8086:5845\n"
            "softdep e1000e pre: vfio-pci\n"
            "softdep nvidia pre: vfio-pci\n"
            "softdep nvme pre: vfio-pci\n");
}

TEST_F(Persist, DriverctlOverrideFiles) {
  PersistOutput o = render(PersistFormat::Driverctl);
  ASSERT_EQ(o.files.size(), 1u);
  EXPECT_EQ(o.files[0].path, "/etc/driverctl.d/pci-0000:04:00.0");
  EXPECT_EQ(o.files[0].contents, "vfio-pci\n");
}

TEST_F(Persist, SystemdUnitRunsApplyBeforeKubeletAndLibvirt) {
  PersistOutput o = render(PersistFormat::Systemd);
  ASSERT_EQ(o.files.size(), 2u);
  EXPECT_EQ(o.files[0].path, "/etc/systemd/system/hostpass.service");
  const std::string& unit = o.files[0].contents;
  EXPECT_NE(unit.find("\nBefore=kubelet.service libvirtd.service virtqemud.service\n"),
            std::string::npos)
      << unit;
  EXPECT_NE(unit.find("\nType=oneshot\n"), std::string::npos);
  EXPECT_NE(unit.find("\nExecStart=/usr/local/bin/hostpass apply -f /etc/hostpass/hostpass.yaml\n"),
            std::string::npos)
      << unit;
  EXPECT_NE(unit.find("\nWantedBy=multi-user.target\n"), std::string::npos);
  EXPECT_EQ(o.files[1].path, "/etc/hostpass/hostpass.yaml");
  auto c = parse_apply_config(o.files[1].contents, "generated");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->rules.size(), 1u);
  EXPECT_EQ(c->rules[0].address, addr("0000:04:00.0"));
}

TEST_F(Persist, ButaneAndMachineConfigLikeSeed000) {
  PersistOutput b = render(PersistFormat::Butane);
  EXPECT_TRUE(b.print_only());
  YAML::Node y = YAML::Load(b.text);
  EXPECT_EQ(y["variant"].as<std::string>(), "openshift");
  EXPECT_EQ(y["metadata"]["name"].as<std::string>(), "100-worker-vfiopci");
  EXPECT_EQ(y["storage"]["files"][0]["path"].as<std::string>(), "/etc/modprobe.d/vfio.conf");
  EXPECT_EQ(y["storage"]["files"][0]["contents"]["inline"].as<std::string>(),
            "# Written by hostpass persist: vfio-pci claims these devices at boot.\n"
            "options vfio-pci ids=8086:5845\nsoftdep nvme pre: vfio-pci\n");
  EXPECT_EQ(y["storage"]["files"][1]["path"].as<std::string>(),
            "/etc/modules-load.d/vfio-pci.conf");
  PersistOutput m = render(PersistFormat::MachineConfig);
  YAML::Node my = YAML::Load(m.text);
  EXPECT_EQ(my["kind"].as<std::string>(), "MachineConfig");
  EXPECT_EQ(my["spec"]["config"]["storage"]["files"][1]["contents"]["source"].as<std::string>(),
            "data:,%23%20Written%20by%20hostpass%20persist%3A%20load%20vfio-pci%20at%20boot.%0A"
            "vfio-pci%0A");
}

TEST_F(Persist, UdevRuleIsLeastPrivilegeUnlessAskedWithAWarning) {
  PersistOptions o;
  o.format = PersistFormat::Udev;
  auto r = render_persist(host_, {}, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->files.size(), 1u);
  EXPECT_EQ(r->files[0].path, "/etc/udev/rules.d/70-hostpass-vfio.rules");
  EXPECT_NE(r->files[0].contents.find("SUBSYSTEM==\"vfio\", GROUP=\"kvm\", MODE=\"0660\"\n"),
            std::string::npos);
  EXPECT_TRUE(r->warnings.empty());
  o.udev_world_writable = true;
  auto w = render_persist(host_, {}, o);
  ASSERT_TRUE(w.ok());
  EXPECT_NE(w->files[0].contents.find("MODE=\"0666\""), std::string::npos);
  ASSERT_EQ(w->warnings.size(), 1u);
}

TEST_F(Persist, CmdlineIsTheVfioIds) {
  PersistOutput o = render(PersistFormat::Cmdline);
  EXPECT_EQ(o.text, "vfio-pci.ids=8086:5845\n");
  EXPECT_EQ(o.notes, (std::vector<std::string>{
                         "add it with: hostpass kernel-args --vfio-ids 8086:5845 --format grub "
                         "--apply"}));
}

// A systemd-boot host reads /etc/kernel/cmdline, not /etc/default/grub: the note says so.
TEST_F(Persist, CmdlineOnASystemdBootHostNamesKernelCmdline) {
  testing::build_debian12_systemd_boot_host(tree_);
  EXPECT_EQ(render(PersistFormat::Cmdline).notes,
            (std::vector<std::string>{"add it with: hostpass kernel-args --vfio-ids 8086:5845 "
                                      "--format kernel-cmdline --apply"}));
}

TEST_F(Persist, WriteInstallsUnderTheRootAndPrintOnlyFormatsRefuse) {
  FaultyHost host(host_);
  PersistOutput o = render(PersistFormat::Driverctl);
  ASSERT_TRUE(write_persist(host, o).ok());
  EXPECT_EQ(host.write_count(), 1);
  EXPECT_EQ(*host_.read_file("/etc/driverctl.d/pci-0000:04:00.0"), "vfio-pci\n");
  auto s = write_persist(host, render(PersistFormat::Cmdline));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(host.write_count(), 1);
}

TEST_F(Persist, NothingBoundIsNotFound) {
  PersistOptions o;
  o.format = PersistFormat::Modprobe;
  auto r = render_persist(host_, {}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::NotFound);
  EXPECT_FALSE(parse_persist_format("yaml").ok());
}

// Two identical NVMe drives, 0000:04:00.0 holding "/" (twin_devices_host.h).
class PersistTwins : public ::testing::Test {
 protected:
  PersistTwins() : tree_(dir_.path() + "/root"), host_(tree_.root()) {
    testing::build_twin_devices_host(tree_);
  }
  // The devices of an apply file naming `address` (on vfio-pci).
  std::vector<PersistDevice> named(const std::string& address) {
    auto c =
        parse_apply_config("version: 1\ndevices:\n  - address: \"" + address + "\"\n", "nv.yaml");
    EXPECT_TRUE(c.ok());
    auto plan = plan_apply(host_, *c);
    EXPECT_TRUE(plan.ok()) << plan.error().message;
    auto d = devices_from_plan(host_, *plan);
    EXPECT_TRUE(d.ok());
    return d.ok() ? *d : std::vector<PersistDevice>{};
  }
  Result<PersistOutput> render(PersistFormat f, const std::vector<PersistDevice>& devices,
                               ForceSet force = {}) {
    PersistOptions o;
    o.format = f;
    o.force = force;
    return render_persist(host_, devices, o);
  }
  testing::ScratchDir dir_;
  testing::FixtureTree tree_;
  RealHost host_;
};

TEST_F(PersistTwins, EveryIdFormatRefusesTheRootDisksTwinEvenForced) {
  for (PersistFormat f : {PersistFormat::Modprobe, PersistFormat::Butane,
                          PersistFormat::MachineConfig, PersistFormat::Cmdline})
    for (bool force : {false, true}) {
      ForceSet fs;
      fs.all = force;
      auto r = render(f, named("0000:05:00.0"), fs);
      ASSERT_FALSE(r.ok()) << static_cast<int>(f);
      EXPECT_EQ(r.error().kind, ErrorKind::Refused);
      EXPECT_NE(r.error().message.find("refusing 0000:04:00.0: it holds the root filesystem"),
                std::string::npos)
          << r.error().message;
      EXPECT_NE(r.error().message.find("--format driverctl or systemd"), std::string::npos);
    }
}

TEST_F(PersistTwins, AnUpNicsTwinIsRefusedAndForcedByName) {
  auto r = render(PersistFormat::Modprobe, named("0000:00:1a.0"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("refusing 0000:00:19.0: the host uses it"), std::string::npos)
      << r.error().message;
  auto f = render(PersistFormat::Modprobe, named("0000:00:1a.0"),
                  *ForceSet::parse({"network-up,default-route"}));
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_NE(f->files[0].contents.find("options vfio-pci ids=8086:10d3\n"), std::string::npos);
  bool noted = false;
  for (const std::string& n : f->notes)
    noted |= n.rfind("--force=network-up: overriding for 0000:00:19.0", 0) == 0;
  EXPECT_TRUE(noted);
}

TEST_F(PersistTwins, ByAddressFormatsAreAcceptedAndRefuseTheRootDiskItself) {
  auto d = render(PersistFormat::Driverctl, named("0000:05:00.0"));
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->files.size(), 1u);
  EXPECT_EQ(d->files[0].path, "/etc/driverctl.d/pci-0000:05:00.0");
  auto s = render(PersistFormat::Systemd, named("0000:05:00.0"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  std::vector<PersistDevice> root = named("0000:05:00.0");
  ASSERT_EQ(root.size(), 1u);
  root[0].address = *PciAddress::parse("0000:04:00.0");
  auto r = render(PersistFormat::Driverctl, root, ForceSet{true, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("root filesystem"), std::string::npos);
}

TEST_F(PersistTwins, OpenShiftIdsRenderWithoutANodeAndSaySo) {
  PersistOptions o;
  o.format = PersistFormat::Butane;
  o.vfio_ids = {"8086:5845"};
  // No node to read: an empty root.
  testing::ScratchDir empty;
  RealHost nowhere(empty.path());
  auto r = render_persist(nowhere, {}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->text.find("options vfio-pci ids=8086:5845"), std::string::npos) << r->text;
  ASSERT_FALSE(r->notes.empty());
  EXPECT_NE(r->notes[0].find("not checked against any node"), std::string::npos);
  o.format = PersistFormat::Modprobe;
  auto m = render_persist(nowhere, {}, o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().kind, ErrorKind::InvalidInput);
}

TEST_F(PersistTwins, AnOperatorsModprobeFileIsRefusedWithADiffAndForceKeepsABackup) {
  const std::string mine = "options vfio-pci ids=10de:1eb8 disable_vga=1\n";
  tree_.write("/etc/modprobe.d/vfio.conf", mine);
  auto out = render(PersistFormat::Modprobe, named("0000:01:00.0"), *ForceSet::parse({""}));
  ASSERT_TRUE(out.ok()) << out.error().message;
  FaultyHost host(host_);
  auto w = write_persist(host, *out);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, ErrorKind::Refused);
  EXPECT_NE(w.error().message.find("-options vfio-pci ids=10de:1eb8 disable_vga=1"),
            std::string::npos)
      << w.error().message;
  EXPECT_EQ(host.write_count(), 0);
  auto f = write_persist(host, *out, ForceSet{true, {}});
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(*host_.read_file("/etc/modprobe.d/vfio.conf.hostpass.bak"), mine);
  EXPECT_TRUE(carries_marker(*host_.read_file("/etc/modprobe.d/vfio.conf")));
}

TEST_F(PersistTwins, AnotherModprobeFileSettingIdsRefusesTheWriteUnlessForced) {
  tree_.write("/etc/modprobe.d/gpu.conf", "# mine\noptions vfio_pci disable_vga=1 ids=10de:1eb8\n");
  tree_.write("/etc/modprobe.d/other.conf", "options vfio-pci disable_vga=1\n");
  auto out = render(PersistFormat::Modprobe, named("0000:01:00.0"), ForceSet{true, {}});
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->write_conflicts.size(), 1u);
  EXPECT_EQ(out->write_conflicts[0].rfind(
                "/etc/modprobe.d/gpu.conf:2: options vfio_pci disable_vga=1 ids=10de:1eb8: ", 0),
            0u)
      << out->write_conflicts[0];
  auto w = write_persist(host_, *out, *ForceSet::parse({"mounted"}));
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, ErrorKind::Refused);
  EXPECT_FALSE(host_.exists("/etc/modprobe.d/vfio.conf"));
  EXPECT_TRUE(write_persist(host_, *out, ForceSet{true, {}}).ok());
}

}  // namespace
}  // namespace hostpass
