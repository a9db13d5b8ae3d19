// End-to-end: `hostpass list` and `hostpass show` run as a user would, on fixture roots.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <filesystem>
#include <map>
#include <sstream>

#include "fixture_tree.h"
#include "host.h"
#include "run_program.h"
#include "test_dirs.h"

namespace hostpass::testing {
namespace {

class ListCli : public ::testing::Test {
 protected:
  ListCli() : tree_(dir_.path() + "/root") { build_standard_host(tree_); }
  ProgramRun hostpass(std::vector<std::string> args) {
    args.insert(args.begin(), {hostpass_bin(), "--root", tree_.root()});
    return run_program(args);
  }
  ScratchDir dir_;
  FixtureTree tree_;
};

// Every line of `hostpass list` starts with exactly the line lspci prints for the same tree.
// Returns the number of devices compared.
int expect_agrees_with_lspci(const std::string& root) {
  ProgramRun ours = run_program({hostpass_bin(), "--root", root, "list"});
  EXPECT_EQ(ours.exit_code, 0) << ours.err;
  ProgramRun lspci = run_program(
      {"lspci", "-A", "linux-sysfs", "-O", "sysfs.path=" + root + "/sys/bus/pci", "-Dnn"});
  EXPECT_EQ(lspci.exit_code, 0) << lspci.err;
  std::istringstream a(ours.out), b(lspci.out);
  std::string la, lb;
  int lines = 0;
  while (std::getline(b, lb)) {
    if (!std::getline(a, la)) {
      ADD_FAILURE() << "hostpass printed fewer lines than lspci; missing: " << lb;
      break;
    }
    EXPECT_EQ(la.substr(0, lb.size()), lb);
    ++lines;
  }
  EXPECT_FALSE(std::getline(a, la)) << "hostpass printed more lines than lspci: " << la;
  return lines;
}

TEST_F(ListCli, ListAgreesWithLspciOnEveryAddressIdClassAndName) {
  EXPECT_EQ(expect_agrees_with_lspci(tree_.root()), 13);
}

TEST(ListCliTricky, AgreesWithLspciOnMultifunctionSriovUnknownIdsAndDomains) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  build_tricky_host(tree);
  EXPECT_EQ(expect_agrees_with_lspci(tree.root()), 11);
}

// Classes pci.ids names only in part: a subclass it does not list (0b50), the class ff with no
// subclasses at all (ffff, ff00), a class it does not know (20). The text agrees with lspci -Dnn
// (which shows the name, then the number); JSON's class_name is the name alone (null when
// pci.ids has none), the number is `class`.
TEST(ListCliClasses, UnlistedSubclassesAgreeWithLspciAndJsonHasTheNameOnly) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  struct Case {
    const char* address;
    uint32_t class_code;
    const char* class_hex;
    const char* name;
  };
  const Case cases[] = {{"0000:00:01.0", 0x0b5000, "0b50", "Processor"},
                        {"0000:00:02.0", 0xffff00, "ffff", "Unassigned class"},
                        {"0000:00:03.0", 0xff0000, "ff00", "Unassigned class"},
                        {"0000:00:04.0", 0x200000, "2000", nullptr},
                        {"0000:00:05.0", 0x030200, "0302", "3D controller"}};
  for (const Case& c : cases) {
    PciSpec s;
    s.address = c.address;
    s.vendor = 0x10de;
    s.device = 0x1eb8;
    s.class_code = c.class_code;
    s.revision = 0xa1;
    tree.add_pci(s);
  }
  EXPECT_EQ(expect_agrees_with_lspci(tree.root()), 5);
  ProgramRun r = run_program({hostpass_bin(), "--root", tree.root(), "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::map<std::string, nlohmann::json> by;
  for (const auto& d : j) by[d["address"]] = d;
  for (const Case& c : cases) {
    EXPECT_EQ(by[c.address]["class"], c.class_hex) << c.address;
    EXPECT_EQ(by[c.address]["class_name"], c.name ? nlohmann::json(c.name) : nlohmann::json())
        << c.address;
  }
  ProgramRun text = run_program({hostpass_bin(), "--root", tree.root(), "list"});
  EXPECT_NE(text.out.find("0000:00:01.0 Processor [0b50]: NVIDIA"), std::string::npos) << text.out;
}

// tests/fixtures/firecracker-vm was captured from a real machine (capture-sysfs.sh): a VM whose
// virtio disk holds / and whose virtio NIC carries the default route.
TEST(ListCliCaptured, RealMachineTreeAgreesWithLspciAndShowsWhatTheHostUses) {
  std::string root = std::string(HOSTPASS_SOURCE_DIR) + "/tests/fixtures/firecracker-vm";
  EXPECT_EQ(expect_agrees_with_lspci(root), 6);
  ProgramRun r = run_program({hostpass_bin(), "--root", root, "list", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  auto j = nlohmann::json::parse(r.out);
  std::map<std::string, nlohmann::json> by;
  for (const auto& d : j) by[d["address"]] = d;
  EXPECT_EQ(by["0000:00:02.0"]["in_use"], nlohmann::json({"root filesystem (/dev/vda on /)"}));
  EXPECT_EQ(by["0000:00:03.0"]["in_use"],
            nlohmann::json({"network interface eth0 is up", "default route via eth0"}));
  EXPECT_TRUE(by["0000:00:04.0"]["in_use"].empty());
  EXPECT_TRUE(by["0000:00:02.0"]["iommu_group"].is_null());
}

TEST_F(ListCli, MarksTheRootDiskAndTheUplinkInUse) {
  ProgramRun r = hostpass({"list"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("0000:00:02.0"), std::string::npos);
  EXPECT_NE(r.out.find("in use: root filesystem (/dev/vda1 on /); swap (/dev/vda2)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("in use: network interface eth0 is up; default route via eth0"),
            std::string::npos)
      << r.out;
}

TEST_F(ListCli, JsonHasTheDocumentedKeys) {
  ProgramRun r = hostpass({"list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 13u);
  const auto* t4 = &j[0];
  for (const auto& d : j)
    if (d["address"] == "0000:01:00.0") t4 = &d;
  EXPECT_EQ((*t4)["vendor"], "10de");
  EXPECT_EQ((*t4)["device"], "1eb8");
  EXPECT_EQ((*t4)["class"], "0302");
  EXPECT_EQ((*t4)["revision"], "a1");
  EXPECT_EQ((*t4)["vendor_name"], "NVIDIA Corporation");
  EXPECT_EQ((*t4)["class_name"], "3D controller");
  EXPECT_EQ((*t4)["driver"], "nvidia");
  EXPECT_EQ((*t4)["iommu_group"], 1);
  EXPECT_EQ((*t4)["numa_node"], 0);
  EXPECT_TRUE((*t4)["in_use"].empty());
  for (const char* key :
       {"address", "vendor", "device", "class", "revision", "vendor_name", "device_name",
        "class_name", "driver", "iommu_group", "numa_node", "in_use"})
    EXPECT_TRUE(t4->contains(key)) << key;
}

TEST_F(ListCli, FiltersSelectDevices) {
  auto count = [](const std::string& s) { return std::count(s.begin(), s.end(), '\n'); };
  EXPECT_EQ(count(hostpass({"list", "--device", "8086:5845"}).out), 2);
  EXPECT_EQ(count(hostpass({"list", "--vendor", "10de"}).out), 1);
  EXPECT_EQ(count(hostpass({"list", "--class", "06"}).out), 3);
  EXPECT_EQ(count(hostpass({"list", "--class", "0604"}).out), 1);
  EXPECT_EQ(count(hostpass({"list", "--driver", "none"}).out), 2);
  EXPECT_EQ(count(hostpass({"list", "--group", "5"}).out), 3);
  EXPECT_EQ(count(hostpass({"list", "--driver", "vfio-pci"}).out), 1);
}

TEST_F(ListCli, BadFiltersAndAddressesExitTwo) {
  for (std::vector<std::string> args : {std::vector<std::string>{"list", "--device", "10de"},
                                        {"list", "--vendor", "xyz1"},
                                        {"list", "--class", "3"},
                                        {"list", "--group", "-1"},
                                        {"show", "06:00"},
                                        {"show", "0000:06:00.8"},
                                        {"show", "../x"},
                                        {"show", "0000:06:00.0/../.."},
                                        {"show", ""},
                                        {"list", "--no-such-flag"}}) {
    ProgramRun r = hostpass(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args.back() << ": " << r.err;
  }
}

TEST_F(ListCli, ShowExplainsTheGroupAndWhatPassthroughNeeds) {
  ProgramRun r = hostpass({"show", "02:00.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0000:02:00.1  qat_c62x"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bind the whole IOMMU group 6"), std::string::npos) << r.out;
  ProgramRun ready = hostpass({"show", "0000:04:00.0"});
  EXPECT_NE(ready.out.find("passthrough:      ready"), std::string::npos) << ready.out;
  ProgramRun root = hostpass({"show", "0000:00:02.0", "--json"});
  auto j = nlohmann::json::parse(root.out);
  EXPECT_TRUE(j["passthrough"]["blocked"].get<bool>());
  EXPECT_EQ(j["in_use"][0], "root filesystem (/dev/vda1 on /)");
}

// A chroot without the host's /proc: its mount table has no "/" entry, so host use is unknown.
TEST_F(ListCli, ChrootShapedRootReportsHostUseUnknownNotNothing) {
  tree_.write("/proc/self/mountinfo",
              "40 1 0:5 / /proc rw,relatime shared:1 - proc proc rw\n"
              "41 1 254:1 /srv/jail/data /data rw,relatime shared:1 - ext4 /dev/vda1 rw\n");
  ProgramRun text = hostpass({"list"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  std::string unknown =
      "in use: unknown (the host's mounts cannot be seen from here: "
      "/proc/self/mountinfo has no entry for \"/\"";
  size_t at = text.err.find(unknown);
  ASSERT_NE(at, std::string::npos) << text.err;
  EXPECT_EQ(text.err.find("in use: unknown", at + 1), std::string::npos) << "said once";
  EXPECT_NE(text.err.find("hostPID: true"), std::string::npos) << text.err;
  EXPECT_EQ(text.out.find("root filesystem"), std::string::npos) << text.out;

  ProgramRun json = hostpass({"list", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j.size(), 13u);
  for (const auto& d : j) EXPECT_TRUE(d["in_use"].is_null()) << d["address"];

  ProgramRun show = hostpass({"show", "0000:00:02.0", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  auto s = nlohmann::json::parse(show.out);
  EXPECT_TRUE(s["in_use"].is_null());
  for (const auto& m : s["iommu_group_members"]) EXPECT_TRUE(m["in_use"].is_null());
  EXPECT_TRUE(s["passthrough"]["blocked"].get<bool>());
  EXPECT_FALSE(s["passthrough"]["ready"].get<bool>());
  ProgramRun ready = hostpass({"show", "0000:04:00.0"});  // ready on a seen host
  EXPECT_NE(ready.out.find("in use:           unknown (the host's mounts"), std::string::npos)
      << ready.out;
  EXPECT_EQ(ready.out.find("passthrough:      ready"), std::string::npos) << ready.out;
  EXPECT_NE(ready.out.find("- host use is unknown: "), std::string::npos) << ready.out;
}

// A pod with hostPID: /proc/1/mountinfo is the host's view, /proc/self/mountinfo the container's.
TEST_F(ListCli, PodShapedRootFindsTheHostsRootDiskThroughPid1) {
  tree_.write("/proc/1/mountinfo", *RealHost(tree_.root()).read_file("/proc/self/mountinfo"));
  tree_.write("/proc/self/mountinfo",
              "900 800 0:120 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containerd/1\n"
              "901 900 0:121 / /proc rw,relatime - proc proc rw\n");
  tree_.symlink("mnt:[4026533001]", "/proc/self/ns/mnt");
  tree_.symlink("mnt:[4026531841]", "/proc/1/ns/mnt");
  ProgramRun r = hostpass({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("in use: root filesystem (/dev/vda1 on /); swap (/dev/vda2)"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.err.find("unknown"), std::string::npos) << r.err;
  // Without hostPID its /proc/1 is the container's own init: unknown, not "not in use".
  tree_.write("/proc/1/mountinfo", *RealHost(tree_.root()).read_file("/proc/self/mountinfo"));
  tree_.symlink("mnt:[4026533001]", "/proc/1/ns/mnt");
  ProgramRun pod = hostpass({"list", "--json"});
  ASSERT_EQ(pod.exit_code, 0) << pod.err;
  EXPECT_NE(pod.err.find("in use: unknown (the host's mounts cannot be seen from here: \"/\" is "
                         "overlay in /proc/1/mountinfo"),
            std::string::npos)
      << pod.err;
  for (const auto& d : nlohmann::json::parse(pod.out)) EXPECT_TRUE(d["in_use"].is_null());
}

// The kernel prints mount points raw except " \t\n\\" (\ooo): invalid UTF-8 reaches the JSON.
TEST_F(ListCli, InvalidUtf8InAMountPointOrInterfaceNameIsReplacedNotACrash) {
  tree_.add_mount("/dev/vda1", "254:1", "/srv/caf\xff\xfe\\040x\\012y");
  tree_.add_net("0000:00:04.0", "", "en\xffp", true);
  const std::string fffd = "\xef\xbf\xbd";
  ProgramRun list = hostpass({"list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto j = nlohmann::json::parse(list.out);  // valid UTF-8 throughout, or this throws
  std::map<std::string, nlohmann::json> by;
  for (const auto& d : j) by[d["address"]] = d;
  EXPECT_EQ(by["0000:00:02.0"]["in_use"][1],
            "mounted (/dev/vda1 on /srv/caf" + fffd + fffd + " x\\012y)");
  EXPECT_EQ(by["0000:00:04.0"]["in_use"][0], "network interface en" + fffd + "p is up");
  ProgramRun show = hostpass({"show", "0000:00:02.0", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("/srv/caf" + fffd + fffd + " x\\\\012y"), std::string::npos) << show.out;
  // Text keeps the bytes as they are, one line per device: the decoded newline stays \012.
  ProgramRun text = hostpass({"list"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(std::count(text.out.begin(), text.out.end(), '\n'), 13);
  EXPECT_NE(text.out.find("mounted (/dev/vda1 on /srv/caf\xff\xfe x\\012y)"), std::string::npos)
      << text.out;
}

// An address no device of this host has is the user's input to fix (pci_address_resolve.h).
TEST_F(ListCli, ShowOfAMissingDeviceIsBadInput) {
  ProgramRun r = hostpass({"show", "0000:99:00.0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "hostpass: no PCI device 0000:99:00.0 on this host\n");
}

}  // namespace
}  // namespace hostpass::testing

namespace hostpass::testing {
namespace {

TEST(GlobalFlags, HostpassRootEnvironmentStandsInForRoot) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  build_standard_host(tree);
  ProgramRun r =
      run_program({hostpass_bin(), "list", "--vendor", "10de"}, {{"HOSTPASS_ROOT", tree.root()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("0000:01:00.0 3D controller [0302]: NVIDIA Corporation TU104GL [Tesla T4] "
                        "[10de:1eb8] (rev a1)  driver=nvidia group=1 numa=0\n",
                        0),
            0u)
      << r.out;
  // --root wins over the environment (and a root that does not exist is refused, exit 2).
  ProgramRun r2 = run_program({hostpass_bin(), "--root", dir.path() + "/none", "list"},
                              {{"HOSTPASS_ROOT", tree.root()}});
  EXPECT_EQ(r2.exit_code, 2);
  EXPECT_EQ(r2.err, "hostpass: --root " + dir.path() + "/none: no such directory\n");
}

TEST(GlobalFlags, NoCommandIsBadInputAndHelpIsFine) {
  EXPECT_EQ(run_program({hostpass_bin()}).exit_code, 2);
  ProgramRun help = run_program({hostpass_bin(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--root"), std::string::npos);
}

// lspci -t's tree as parent links: "0000:04:00.0" → "0000:03:00.0" ("" on a root bus). Device
// tokens "dd.f" hang below the nearest bus label "[bb]" (or "[dddd:bb]") to their left that is
// still open: a label closes when a device or label starts at or left of its column.
std::map<std::string, std::string> lspci_tree_parents(const std::string& text) {
  struct Level {
    size_t column;
    std::string domain, bus, bridge;
  };
  std::vector<Level> stack;
  std::map<std::string, std::string> parents;
  std::istringstream in(text);
  std::string line;
  std::string last_device;
  while (std::getline(in, line)) {
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '[') {
        size_t close = line.find(']', i);
        std::string label = line.substr(i + 1, close - i - 1);
        while (!stack.empty() && stack.back().column >= i) stack.pop_back();
        Level l{i, stack.empty() ? "0000" : stack.back().domain, "", last_device};
        if (label.size() == 7 && label[4] == ':') {  // [dddd:bb]: a root bus
          l.domain = label.substr(0, 4);
          l.bus = label.substr(5, 2);
          l.bridge = "";
        } else {
          l.bus = label.substr(0, 2);  // [bb] or [bb-ss]
        }
        stack.push_back(l);
        i = close;
      } else if (i + 4 <= line.size() && std::isxdigit(line[i]) && std::isxdigit(line[i + 1]) &&
                 line[i + 2] == '.' && (i == 0 || line[i - 1] == '-')) {
        while (!stack.empty() && stack.back().column >= i) stack.pop_back();
        if (stack.empty()) break;
        std::string a = stack.back().domain + ":" + stack.back().bus + ":" + line.substr(i, 4);
        parents[a] = stack.back().bridge;
        last_device = a;
        i += 3;
      }
    }
  }
  return parents;
}

void json_tree_parents(const nlohmann::json& children, const std::string& parent,
                       std::map<std::string, std::string>& out) {
  for (const auto& c : children) {
    out[c["address"]] = parent;
    json_tree_parents(c["children"], c["address"], out);
  }
}

// The tree `list --tree` draws is the one lspci -t draws from the bridges' bus numbers.
TEST(ListCliTree, TreeAgreesWithLspciT) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  build_acs_host(tree);
  ProgramRun lspci = run_program(
      {"lspci", "-A", "linux-sysfs", "-O", "sysfs.path=" + tree.root() + "/sys/bus/pci", "-t"});
  ASSERT_EQ(lspci.exit_code, 0) << lspci.err;
  std::map<std::string, std::string> theirs = lspci_tree_parents(lspci.out);
  ProgramRun r = run_program({hostpass_bin(), "--root", tree.root(), "list", "--tree", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["root_bus"], "0000:00");
  std::map<std::string, std::string> ours;
  json_tree_parents(j[0]["children"], "", ours);
  EXPECT_EQ(ours.size(), 18u);
  EXPECT_EQ(ours, theirs) << lspci.out;
  EXPECT_EQ(ours["0000:04:00.0"], "0000:03:00.0");

  ProgramRun text = run_program({hostpass_bin(), "--root", tree.root(), "list", "--tree"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out.rfind("[0000:00]\n+-0000:00:00.0 ", 0), 0u) << text.out;
  EXPECT_NE(text.out.find("\n| \\-0000:02:00.0 "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\n|   \\-0000:03:00.0 "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\n|     \\-0000:04:00.0 Ethernet controller [0200]: "),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("driver=e1000e group=5 numa=-"), std::string::npos);
}

// lspci -k's "Kernel modules" and a driver_override left by a half-done manual bind.
TEST_F(ListCli, ListShowsDriverOverrideWhenSetAndTheModulesThatCanDriveTheDevice) {
  tree_.set_kernel_release("6.1.0-13-amd64");
  tree_.write("/lib/modules/6.1.0-13-amd64/modules.alias",
              "alias pci:v*d*sv*sd*bc01sc08i02* nvme\n"
              "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n");
  tree_.write(tree_.device_path("0000:03:00.0") + "/driver_override", "vfio-pci\n");
  ProgramRun r = hostpass({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("driver=- group=7 numa=0 override=vfio-pci modules=nvme\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("driver=e1000e group=4 numa=- modules=e1000e\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("override=", r.out.find("0000:04:00.0")), std::string::npos);
  ProgramRun j = hostpass({"list", "--json"});
  ASSERT_EQ(j.exit_code, 0);
  std::map<std::string, nlohmann::json> by;
  for (const auto& d : nlohmann::json::parse(j.out)) by[d["address"]] = d;
  EXPECT_EQ(by["0000:03:00.0"]["driver_override"], "vfio-pci");
  EXPECT_EQ(by["0000:03:00.0"]["kernel_modules"], nlohmann::json({"nvme"}));
  EXPECT_TRUE(by["0000:04:00.0"]["driver_override"].is_null());
  EXPECT_EQ(by["0000:01:00.0"]["kernel_modules"], nlohmann::json::array());
  // Without modules.alias the modules are unknown, not none.
  std::filesystem::remove(tree_.path("/lib/modules/6.1.0-13-amd64/modules.alias"));
  ProgramRun u = hostpass({"list", "--json"});
  EXPECT_TRUE(nlohmann::json::parse(u.out)[0]["kernel_modules"].is_null());
}

TEST(ShowCliGroup, ShowExplainsASharedGroupFromConfigSpace) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  build_acs_host(tree);
  ProgramRun r = run_program({hostpass_bin(), "--root", tree.root(), "show", "04:00.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  why shared:       group 5 is shared because switch downstream port "
                       "0000:03:00.0 has no ACS capability; a slot behind a port with ACS would "
                       "isolate it.\n    The ACS-override patch"),
            std::string::npos)
      << r.out;
  ProgramRun j = run_program({hostpass_bin(), "--root", tree.root(), "--json", "show", "04:00.0"});
  ASSERT_EQ(j.exit_code, 0);
  auto e = nlohmann::json::parse(j.out)["group_explanation"];
  EXPECT_EQ(e["iommu_group"], 5);
  EXPECT_EQ(e["complete"], true);
  EXPECT_EQ(e["reasons"][0]["kind"], "no-acs");
  EXPECT_EQ(e["reasons"][0]["responsible"], "0000:03:00.0");
  EXPECT_EQ(e["predicted_members"], nlohmann::json({"0000:03:00.0", "0000:04:00.0"}));
  EXPECT_TRUE(e["quirk"].is_null());
  // A device alone in its group has nothing to explain.
  ProgramRun alone = run_program({hostpass_bin(), "--root", tree.root(), "show", "01:00.0"});
  EXPECT_EQ(alone.out.find("why shared:"), std::string::npos) << alone.out;
  ProgramRun aj = run_program({hostpass_bin(), "--root", tree.root(), "--json", "show", "01:00.0"});
  EXPECT_TRUE(nlohmann::json::parse(aj.out)["group_explanation"].is_null());
}

TEST_F(ListCli, ShowSaysWhenConfigSpaceIsTooShortToExplainTheGroup) {
  ProgramRun r = hostpass({"show", "01:00.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("why shared:       group 1 is shared. This explanation cannot be complete: "
                       "0000:00:01.0: config space reads 256 bytes"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace hostpass::testing
