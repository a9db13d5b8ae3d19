// apply_config_test.cc — strict validation (exact messages with line numbers, zero writes), the
// plan, and convergence on the simulated kernel: re-running is a no-op with zero writes.
#include "apply_config.h"

#include <gtest/gtest.h>

#include "faulty_host.h"
#include "fixture_tree.h"
#include "pci_device.h"
#include "safety_spine.h"
#include "sim_kernel.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::ScratchDir;
using testing::SimKernelHost;

PciAddress addr(const char* t) {
  return *PciAddress::parse(t);
}

std::string error_of(const char* yaml) {
  auto r = parse_apply_config(yaml, "hostpass.yaml");
  if (r.ok()) return "ok";
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput) << yaml;
  return r.error().message;
}

TEST(ApplyConfigParse, AcceptsAddressesAndSelectors) {
  auto c = parse_apply_config(
      "version: 1\n"
      "devices:\n"
      "  - address: \"0000:65:00.0\"\n"
      "  - address: 0000:66:00.0\n"
      "    driver: host\n"
      "  - selector: \"10DE:1eb8\"\n"
      "    count: 2\n"
      "    numa_node: 1\n"
      "    driver: vfio-pci\n",
      "hostpass.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->rules.size(), 3u);
  EXPECT_EQ(c->rules[0].address, addr("0000:65:00.0"));
  EXPECT_EQ(c->rules[0].driver, "vfio-pci");
  EXPECT_EQ(c->rules[0].line, 3);
  EXPECT_EQ(c->rules[1].driver, "host");
  EXPECT_EQ(c->rules[2].vendor, 0x10de);
  EXPECT_EQ(c->rules[2].device, 0x1eb8);
  EXPECT_EQ(c->rules[2].count, 2);
  EXPECT_EQ(c->rules[2].numa_node, 1);
  EXPECT_EQ(c->rules[2].line, 6);
}

TEST(ApplyConfigParse, BadFilesNameTheLineAndTheProblem) {
  EXPECT_EQ(error_of("version: 1\ndevices:\n  - adress: \"0000:65:00.0\"\n"),
            "hostpass.yaml:3: unknown key 'adress' in devices[0] (expected address, selector, "
            "driver, count, numa_node)");
  EXPECT_EQ(error_of("version: 1\ndevices:\n  - address: \"65:00.0\"\n").substr(0, 16),
            "hostpass.yaml:3:");
  EXPECT_NE(error_of("version: 1\ndevices:\n  - address: \"65:00.0\"\n").find("65:00.0"),
            std::string::npos);
  EXPECT_EQ(error_of("version: 1\ndevices:\n  - selector: \"10de:1eb\"\n"),
            "hostpass.yaml:3: invalid selector '10de:1eb': expected vendor:device, 4 hex digits "
            "each, as in \"10de:1eb8\"");
  EXPECT_EQ(error_of("version: 1\ndevices:\n  - selector: 10de:1eb8\n    count: 0\n"),
            "hostpass.yaml:4: count must be a positive integer");
  EXPECT_EQ(error_of("version: 1\ndevices:\n  - address: \"0000:65:00.0\"\n    count: 1\n"),
            "hostpass.yaml:3: devices[0]: count and numa_node apply to a selector, not an address");
  EXPECT_EQ(
      error_of("version: 1\ndevices:\n  - address: \"0000:65:00.0\"\n    selector: 10de:1eb8\n"),
      "hostpass.yaml:3: devices[0] has both address and selector: use one per entry");
  EXPECT_EQ(error_of("version: 1\ndevices:\n  - driver: vfio-pci\n"),
            "hostpass.yaml:3: devices[0] needs address: or selector:");
  EXPECT_EQ(error_of("version: 2\ndevices: []\n"),
            "hostpass.yaml:1: unsupported version (expected 1)");
  EXPECT_EQ(error_of("devices: []\n"), "hostpass.yaml: missing version: 1");
  EXPECT_EQ(error_of("version: 1\n"), "hostpass.yaml: missing devices:");
  EXPECT_EQ(error_of("version: 1\ndevice: []\n"),
            "hostpass.yaml:2: unknown key 'device' (expected version, devices)");
  EXPECT_EQ(error_of("version: 1\ndevices:\n  - address: \"0000:65:00.0\"\n    driver: ../x\n")
                .substr(0, 36),
            "hostpass.yaml:4: invalid driver name");
  // A YAML syntax error carries the parser's line.
  std::string syntax = error_of("version: 1\ndevices:\n  - address: [\"0000:65:00.0\"\n");
  EXPECT_EQ(syntax.substr(0, 15), "hostpass.yaml:4") << syntax;
  EXPECT_NE(syntax.find("YAML error"), std::string::npos) << syntax;
  EXPECT_EQ(error_of("- a\n- b\n"),
            "hostpass.yaml: expected a mapping with version: 1 and devices:");
}

class Apply : public ::testing::Test {
 protected:
  Apply() : tree_(dir_.path() + "/root"), real_(tree_.root()) {
    testing::build_standard_host(tree_);
    sim_ = std::make_unique<SimKernelHost>(real_);
    host_ = std::make_unique<FaultyHost>(*sim_);
  }
  Result<ApplyReport> apply(const char* yaml, bool dry_run = false) {
    auto c = parse_apply_config(yaml, "hostpass.yaml");
    EXPECT_TRUE(c.ok()) << c.error().message;
    return run(*c, dry_run);
  }
  // apply as the CLI runs it: through the safety spine, which plans once.
  Result<ApplyReport> run(const ApplyConfig& c, bool dry_run = false) {
    SpineOptions o;
    o.dry_run = dry_run;
    SpineOpening opening;
    return spine_apply(*host_, o, c, nullptr, opening);
  }
  // Mutations other than the state lock's directory (which the spine creates when missing).
  int device_writes() const {
    int n = 0;
    for (const HostWrite& w : host_->writes()) n += w.op != "mkdir";
    return n;
  }
  std::optional<std::string> driver(const char* a) { return current_driver(real_, addr(a)); }
  ScratchDir dir_;
  FixtureTree tree_;
  RealHost real_;
  std::unique_ptr<SimKernelHost> sim_;
  std::unique_ptr<FaultyHost> host_;
};

TEST_F(Apply, ConvergesThenReRunningIsANoOpWithZeroWrites) {
  const char* yaml =
      "version: 1\ndevices:\n  - address: \"0000:00:04.0\"\n  - address: \"0000:03:00.0\"\n";
  auto r = apply(yaml);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(driver("0000:00:04.0"), "vfio-pci");
  EXPECT_EQ(driver("0000:03:00.0"), "vfio-pci");
  ASSERT_EQ(r->plan.items.size(), 2u);
  EXPECT_TRUE(r->plan.items[0].change);
  EXPECT_EQ(r->plan.items[0].current, "e1000e");
  EXPECT_EQ(r->steps.size(), 1u);
  int writes = device_writes();
  EXPECT_GT(writes, 0);
  auto again = apply(yaml);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->plan.changes());
  EXPECT_TRUE(again->steps.empty());
  EXPECT_EQ(device_writes(), writes);
}

TEST_F(Apply, DryRunPlansAndWritesNothing) {
  auto r = apply("version: 1\ndevices:\n  - address: \"0000:00:04.0\"\n", true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(host_->write_count(), 0);
  ASSERT_EQ(r->steps.size(), 1u);
  EXPECT_FALSE(r->steps[0].writes.empty());
  EXPECT_EQ(driver("0000:00:04.0"), "e1000e");
}

TEST_F(Apply, SelectorWithCountPrefersDevicesAlreadyBound) {
  // 8086:5845: 03:00.0 unbound, 04:00.0 already on vfio-pci. count 1 keeps 04:00.0: no change.
  auto r = apply("version: 1\ndevices:\n  - selector: \"8086:5845\"\n    count: 1\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->plan.items.size(), 1u);
  EXPECT_EQ(r->plan.items[0].address, addr("0000:04:00.0"));
  EXPECT_FALSE(r->plan.changes());
  EXPECT_EQ(device_writes(), 0);
  auto both = apply("version: 1\ndevices:\n  - selector: \"8086:5845\"\n");
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(driver("0000:03:00.0"), "vfio-pci");
}

TEST_F(Apply, SelectorNumaNodeAndCountShortfall) {
  auto r = apply("version: 1\ndevices:\n  - selector: \"8086:5845\"\n    numa_node: 0\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->plan.items.size(), 1u);
  EXPECT_EQ(r->plan.items[0].address, addr("0000:03:00.0"));
  auto c = parse_apply_config("version: 1\ndevices:\n  - selector: \"8086:5845\"\n    count: 3\n",
                              "hostpass.yaml");
  int before = device_writes();
  auto short_ = run(*c);
  ASSERT_FALSE(short_.ok());
  EXPECT_EQ(short_.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(short_.error().message,
            "hostpass.yaml:3: selector 8086:5845 wants 3 devices, 2 available");
  EXPECT_EQ(device_writes(), before);
}

TEST_F(Apply, SelectorsSkipDevicesTheHostUses) {
  // 1af4:1041 is the virtio NIC carrying the default route.
  auto r = apply("version: 1\ndevices:\n  - selector: \"1af4:1041\"\n", true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->plan.items.empty());
  ASSERT_FALSE(r->plan.notes.empty());
  EXPECT_NE(r->plan.notes[0].find("skipped 0000:00:03.0"), std::string::npos) << r->plan.notes[0];
}

TEST_F(Apply, HostDriverReturnsADevice) {
  auto r = apply("version: 1\ndevices:\n  - address: \"0000:00:04.0\"\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto back = apply("version: 1\ndevices:\n  - address: \"0000:00:04.0\"\n    driver: host\n");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(driver("0000:00:04.0"), "e1000e");
}

TEST_F(Apply, MissingDeviceAndConflictingRulesChangeNothing) {
  auto c = parse_apply_config(
      "version: 1\ndevices:\n  - address: \"0000:00:04.0\"\n  - address: \"0000:99:00.0\"\n",
      "hostpass.yaml");
  auto r = run(*c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "hostpass.yaml:4: no PCI device 0000:99:00.0 on this host (hostpass list)");
  auto c2 = parse_apply_config(
      "version: 1\ndevices:\n  - address: \"0000:03:00.0\"\n  - selector: \"8086:5845\"\n"
      "    driver: host\n",
      "hostpass.yaml");
  auto r2 = run(*c2);
  ASSERT_TRUE(r2.ok()) << r2.error().message;  // the selector leaves 03:00.0 to the address rule
  auto c3 = parse_apply_config(
      "version: 1\ndevices:\n  - address: \"0000:03:00.0\"\n  - address: \"0000:03:00.0\"\n"
      "    driver: host\n",
      "hostpass.yaml");
  auto r3 = run(*c3);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(r3.error().message,
            "hostpass.yaml:4: 0000:03:00.0 is wanted on host here and on vfio-pci at line 3");
  EXPECT_EQ(driver("0000:00:04.0"), "e1000e");
}

TEST_F(Apply, RefusalsFromTheEngineComeThrough) {
  auto r = apply("version: 1\ndevices:\n  - address: \"0000:00:02.0\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Refused);
  EXPECT_NE(r.error().message.find("root filesystem"), std::string::npos) << r.error().message;
}

TEST(ApplyConfigRender, RoundTrips) {
  std::string text = render_apply_config({addr("0000:04:00.0"), addr("0000:65:00.1")}, "vfio-pci");
  auto c = parse_apply_config(text, "x.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->rules.size(), 2u);
  EXPECT_EQ(c->rules[1].address, addr("0000:65:00.1"));
  EXPECT_TRUE(parse_apply_config(render_apply_config({}, "vfio-pci"), "x").ok());
}

}  // namespace
}  // namespace hostpass
