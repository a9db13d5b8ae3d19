// kubevirt_policy_test.cc — the CRs users already have load unchanged; bad ones say file:line:
// field.
#include "kubevirt_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <vector>

namespace hostpass {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream f(std::string(HOSTPASS_SOURCE_DIR) + "/tests/fixtures/policy/" + name);
  std::stringstream s;
  s << f.rdbuf();
  EXPECT_FALSE(s.str().empty()) << name;
  return s.str();
}

Policy load_ok(const std::string& name) {
  auto p = parse_policy(fixture(name), name);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return p.ok() ? *p : Policy{};
}

std::string load_error(const std::string& yaml, const std::string& name = "cr.yaml") {
  auto p = parse_policy(yaml, name);
  EXPECT_FALSE(p.ok()) << "accepted:\n" << yaml;
  if (p.ok()) return "";
  EXPECT_EQ(p.error().kind, ErrorKind::InvalidInput);
  return p.error().message;
}

// Found by fuzz/kubevirt_policy_fuzz: yaml-cpp 0.7's LoadAll never returns on these (a null
// document for ever, jbeder/yaml-cpp#1319), eating memory; parse_policy must answer instead.
TEST(Policy, InputThatStallsYamlCppsLoadAllIsASyntaxError) {
  for (const char* text : {",\n", ",configuration:\n  permit"}) {
    std::string message = load_error(text);
    EXPECT_NE(message.find("cr.yaml:1: YAML syntax error"), std::string::npos) << message;
  }
}

TEST(Policy, Seed001FullKubeVirtCrLoadsAsIs) {
  Policy p = load_ok("seed001_kubevirt_cr.yaml");
  EXPECT_EQ(p.format, "KubeVirt CR");
  ASSERT_EQ(p.pci.size(), 1u);
  ASSERT_TRUE(p.pci[0].selector);
  EXPECT_EQ(p.pci[0].selector->vendor, 0x10de);
  EXPECT_EQ(p.pci[0].selector->device, 0x20f1);
  EXPECT_EQ(p.pci[0].resource_name, "nvidia.com/dev1");
  EXPECT_FALSE(p.pci[0].external);
  EXPECT_EQ(p.pci[0].line, 12);
  EXPECT_TRUE(p.mdev.empty());
  EXPECT_TRUE(p.usb.empty());
}

TEST(Policy, Seed001FragmentLoadsAsIs) {
  Policy p = load_ok("seed001_fragment.yaml");
  EXPECT_EQ(p.format, "permittedHostDevices mapping");
  ASSERT_EQ(p.pci.size(), 1u);
  EXPECT_EQ(p.pci[0].resource_name, "nvidia.com/gpu_dev1");
  EXPECT_EQ(p.pci[0].line, 3);
}

TEST(Policy, Seed002PermittedBlockLoadsAsIs) {
  Policy p = load_ok("seed002_permitted.yaml");
  ASSERT_EQ(p.pci.size(), 2u);
  EXPECT_EQ(p.pci[0].resource_name, "nvidia.com/TU104GL_Tesla_T4");
  EXPECT_TRUE(p.pci[0].external);
  EXPECT_EQ(p.pci[1].resource_name, "intel.com/qat");
  EXPECT_EQ(p.pci[1].selector->vendor, 0x8086);
  EXPECT_EQ(p.pci[1].selector->device, 0x6f54);
  EXPECT_FALSE(p.pci[1].external);
  ASSERT_EQ(p.mdev.size(), 1u);
  EXPECT_EQ(p.mdev[0].name_selector, "GRID T4-1Q");
  EXPECT_EQ(p.mdev[0].resource_name, "nvidia.com/GRID_T4-1Q");
  EXPECT_EQ(p.mdev[0].line, 10);
}

TEST(Policy, Seed002UnquotedNvmeSelectorLoads) {
  Policy p = load_ok("seed002_nvme.yaml");
  ASSERT_EQ(p.pci.size(), 1u);
  EXPECT_EQ(p.pci[0].selector->vendor, 0x8086);
  EXPECT_EQ(p.pci[0].selector->device, 0x5845);
  EXPECT_EQ(p.pci[0].resource_name, "devices.kubevirt.io/nvme");
}

TEST(Policy, Seed002UsbBlocksLoad) {
  Policy storage = load_ok("seed002_usb_storage.yaml");
  ASSERT_EQ(storage.usb.size(), 1u);
  EXPECT_EQ(storage.usb[0].resource_name, "kubevirt.io/storage");
  ASSERT_EQ(storage.usb[0].selectors.size(), 1u);
  EXPECT_EQ(storage.usb[0].selectors[0].vendor, 0x46f4);
  EXPECT_EQ(storage.usb[0].selectors[0].product, 0x0001);

  Policy bundle = load_ok("seed002_usb_bundle.yaml");
  ASSERT_EQ(bundle.usb.size(), 1u);
  ASSERT_EQ(bundle.usb[0].selectors.size(), 3u);
  EXPECT_EQ(bundle.usb[0].selectors[0].vendor, 0x045e);
  EXPECT_EQ(bundle.usb[0].selectors[0].product, 0x07a5);
  EXPECT_EQ(bundle.usb[0].selectors[2].vendor, 0x072f);
  EXPECT_EQ(bundle.usb[0].selectors[2].product, 0xb100);
}

TEST(Policy, HyperConvergedCrLoadsWithPciDeviceSelector) {
  Policy p = load_ok("hco_seed000.yaml");
  EXPECT_EQ(p.format, "HyperConverged CR");
  ASSERT_EQ(p.pci.size(), 3u);
  EXPECT_EQ(p.pci[0].resource_name, "nvidia.com/GV100GL_Tesla_V100");
  EXPECT_EQ(p.pci[0].selector->device, 0x1db6);
  EXPECT_EQ(p.pci[2].resource_name, "intel.com/qat");
  EXPECT_TRUE(p.pci[2].external);
}

TEST(Policy, HyperConvergedDisabledEntriesAreLeftOut) {
  Policy p = parse_policy(R"(kind: HyperConverged
spec:
  permittedHostDevices:
    pciHostDevices:
    - pciDeviceSelector: "10DE:1EB8"
      resourceName: "nvidia.com/TU104GL_Tesla_T4"
      disabled: true
    usbHostDevices:
    - resourceName: kubevirt.io/storage
      selectors:
      - vendor: "46f4"
        product: "0001"
)",
                          "hco.yaml")
                 .value();
  EXPECT_TRUE(p.pci.empty());
  ASSERT_EQ(p.disabled.size(), 1u);
  EXPECT_EQ(p.disabled[0].resource_name, "nvidia.com/TU104GL_Tesla_T4");
  EXPECT_EQ(p.disabled[0].line, 5);
  ASSERT_EQ(p.usb.size(), 1u);
}

TEST(Policy, MediatedDevicesConfigurationWithNodeTypesAndDeprecatedSpelling) {
  Policy p = parse_policy(R"(apiVersion: kubevirt.io/v1
kind: KubeVirt
spec:
  configuration:
    mediatedDevicesConfiguration:
      mediatedDevicesTypes:
      - nvidia-222
      mediatedDeviceTypes:
      - nvidia-230
      nodeMediatedDeviceTypes:
      - nodeSelector:
          kubernetes.io/hostname: node01
        mediatedDeviceTypes:
        - nvidia-223
    permittedHostDevices:
      mediatedDevices:
      - mdevNameSelector: GRID T4-1Q
        resourceName: nvidia.com/GRID_T4-1Q
)",
                          "kv.yaml")
                 .value();
  EXPECT_EQ(p.mdev_config.types, (std::vector<std::string>{"nvidia-222", "nvidia-230"}));
  ASSERT_EQ(p.mdev_config.node_types.size(), 1u);
  EXPECT_EQ(p.mdev_config.node_types[0].node_selector.at("kubernetes.io/hostname"), "node01");
  EXPECT_EQ(p.mdev_config.node_types[0].types, std::vector<std::string>{"nvidia-223"});
  EXPECT_EQ(p.mdev_config.node_types[0].line, 11);
}

TEST(Policy, PciAddressSelectorExtension) {
  Policy p = parse_policy(R"(pciHostDevices:
- pciAddressSelector: ["0000:04:00.0"]
  resourceName: example.com/nvme-fast
- pciVendorSelector: 8086:5845
  resourceName: devices.kubevirt.io/nvme
)",
                          "p.yaml")
                 .value();
  ASSERT_EQ(p.pci.size(), 2u);
  EXPECT_FALSE(p.pci[0].selector);
  ASSERT_EQ(p.pci[0].addresses.size(), 1u);
  EXPECT_EQ(p.pci[0].addresses[0].to_string(), "0000:04:00.0");
}

// A mapping's keys have no order: every order of an entry's keys reads the same. (The vendor
// selector and the address selector once shared one "seen" flag, so pciAddressSelector before
// pciVendorSelector was refused as "both pciVendorSelector and pciDeviceSelector given".)
TEST(Policy, PciEntryKeysReadTheSameInEveryOrder) {
  for (const char* spelling : {"pciVendorSelector", "pciDeviceSelector"}) {
    std::vector<std::string> keys = {
        std::string(spelling) + ": 8086:5845", "pciAddressSelector: [\"0000:04:00.0\"]",
        "resourceName: example.com/nvme-fast", "externalResourceProvider: true"};
    std::sort(keys.begin(), keys.end());
    int orders = 0;
    do {
      std::string yaml = "pciHostDevices:\n";
      for (size_t i = 0; i < keys.size(); ++i) yaml += (i ? "  " : "- ") + keys[i] + "\n";
      auto p = parse_policy(yaml, "p.yaml");
      ASSERT_TRUE(p.ok()) << yaml << (p.ok() ? "" : p.error().message);
      ASSERT_EQ(p->pci.size(), 1u) << yaml;
      const PolicyPciDevice& d = p->pci[0];
      ASSERT_TRUE(d.selector) << yaml;
      EXPECT_EQ(d.selector->vendor, 0x8086) << yaml;
      EXPECT_EQ(d.selector->device, 0x5845) << yaml;
      ASSERT_EQ(d.addresses.size(), 1u) << yaml;
      EXPECT_EQ(d.addresses[0].to_string(), "0000:04:00.0") << yaml;
      EXPECT_EQ(d.resource_name, "example.com/nvme-fast") << yaml;
      EXPECT_TRUE(d.external) << yaml;
      ++orders;
    } while (std::next_permutation(keys.begin(), keys.end()));
    EXPECT_EQ(orders, 24);
  }
}

TEST(Policy, BothVendorSpellingsAreRefusedInEveryOrder) {
  std::vector<std::string> keys = {"pciAddressSelector: [\"0000:04:00.0\"]",
                                   "pciDeviceSelector: 8086:5845", "pciVendorSelector: 8086:5845",
                                   "resourceName: example.com/nvme-fast"};
  int orders = 0;
  do {
    std::string yaml = "pciHostDevices:\n";
    for (size_t i = 0; i < keys.size(); ++i) yaml += (i ? "  " : "- ") + keys[i] + "\n";
    std::string m = load_error(yaml);
    EXPECT_NE(m.find("both pciVendorSelector and pciDeviceSelector given; use one"),
              std::string::npos)
        << yaml << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << "one error only:\n" << m;
    ++orders;
  } while (std::next_permutation(keys.begin(), keys.end()));
  EXPECT_EQ(orders, 24);
}

TEST(Policy, ShortAddressIsRefused) {
  std::string m = load_error(R"(pciHostDevices:
- pciAddressSelector:
  - "04:00.0"
  resourceName: example.com/nvme-fast
)");
  EXPECT_EQ(m.rfind("cr.yaml:3: pciHostDevices[0].pciAddressSelector[0] (hostpass extension): ", 0),
            0u)
      << m;
  EXPECT_EQ(m,
            "cr.yaml:3: pciHostDevices[0].pciAddressSelector[0] (hostpass extension): "
            "\"04:00.0\" is a short address: give the full form with the domain, 0000:04:00.0 "
            "(short addresses are ambiguous across PCI domains)");
  m = load_error(
      "pciHostDevices:\n- pciAddressSelector: [\"0000:04:00\"]\n"
      "  resourceName: example.com/nvme-fast\n");
  EXPECT_EQ(m,
            "cr.yaml:2: pciHostDevices[0].pciAddressSelector[0] (hostpass extension): "
            "\"0000:04:00\" is not a PCI address: expected the full form DDDD:BB:DD.F, as in "
            "0000:04:00.0");
}

TEST(Policy, SyntaxErrorNamesTheLine) {
  std::string m = load_error("configuration:\n  permittedHostDevices:\n    pciHostDevices: [\n");
  EXPECT_EQ(m.rfind("cr.yaml:4: YAML syntax error: ", 0), 0u) << m;
}

TEST(Policy, InvalidResourceNames) {
  struct Case {
    const char* name;
    const char* why;
  } cases[] = {
      {"qat", "it needs a domain prefix"},
      {"kubernetes.io/qat", "reserved for Kubernetes' own resources"},
      {"Intel.com/qat", "must be a DNS-1123 subdomain"},
      {"intel.com/q at", "must consist of letters, digits"},
      {"intel.com/a/b", "only one '/'"},
      {"intel.com/", "the name after '/' is empty"},
      {"requests.intel.com/qat", "reserved for resource quotas"},
  };
  for (const Case& c : cases) {
    std::string m = load_error(std::string("pciHostDevices:\n- pciVendorSelector: 8086:6f54\n"
                                           "  resourceName: \"") +
                               c.name + "\"\n");
    EXPECT_EQ(m.rfind("cr.yaml:3: pciHostDevices[0].resourceName: \"" + std::string(c.name) +
                          "\" is not a valid extended resource name: ",
                      0),
              0u)
        << m;
    EXPECT_NE(m.find(c.why), std::string::npos) << m;
  }
  std::string long_name = "intel.com/" + std::string(64, 'a');
  std::string why;
  EXPECT_FALSE(is_extended_resource_name(long_name, &why));
  EXPECT_EQ(why, "the name after '/' is 64 characters long; at most 63 are allowed");
  EXPECT_TRUE(is_extended_resource_name("intel.com/" + std::string(63, 'a')));
  EXPECT_TRUE(is_extended_resource_name("nvidia.com/TU104GL_Tesla_T4"));
  EXPECT_TRUE(is_extended_resource_name("devices.kubevirt.io/nvme"));
}

TEST(Policy, BadSelectors) {
  std::string m = load_error(
      "pciHostDevices:\n- pciVendorSelector: \"10de-1eb8\"\n"
      "  resourceName: nvidia.com/t4\n");
  EXPECT_EQ(m.rfind("cr.yaml:2: pciHostDevices[0].pciVendorSelector: \"10de-1eb8\" is not a "
                    "vendor:device selector",
                    0),
            0u)
      << m;
  m = load_error(
      "usb:\n- resourceName: kubevirt.io/storage\n  selectors:\n"
      "  - vendor: \"46g4\"\n    product: \"0001\"\n");
  EXPECT_EQ(m.rfind("cr.yaml:4: usb[0].selectors[0].vendor: \"46g4\" is not a USB id", 0), 0u) << m;
}

TEST(Policy, WrongTypes) {
  std::string m = load_error(
      "pciHostDevices:\n- pciVendorSelector: 8086:6f54\n"
      "  resourceName: intel.com/qat\n  externalResourceProvider: \"yes\"\n");
  EXPECT_EQ(m,
            "cr.yaml:4: pciHostDevices[0].externalResourceProvider: expected true or false, "
            "got the string \"yes\"");
  m = load_error(
      "usb:\n- resourceName: kubevirt.io/storage\n  selectors:\n"
      "  - vendor: \"46f4\"\n    product: 0001\n");
  EXPECT_EQ(m,
            "cr.yaml:5: usb[0].selectors[0].product: expected a string, got the number 0001 "
            "(quote it: \"0001\")");
  m = load_error("pciHostDevices:\n  pciVendorSelector: 8086:6f54\n");
  EXPECT_EQ(m, "cr.yaml:2: pciHostDevices: expected a list, got a mapping");
}

TEST(Policy, MisspeltFieldIsAnError) {
  std::string m = load_error(
      "pciHostDevices:\n- pciVendorSelecter: 8086:6f54\n"
      "  resourceName: intel.com/qat\n");
  EXPECT_NE(m.find("cr.yaml:2: pciHostDevices[0].pciVendorSelecter: unknown field"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("cr.yaml:2: pciHostDevices[0]: missing pciVendorSelector"), std::string::npos)
      << m;
}

TEST(Policy, DuplicatesAreReported) {
  std::string m = load_error(R"(pciHostDevices:
- pciVendorSelector: 8086:6F54
  resourceName: intel.com/qat
- pciVendorSelector: 8086:6f54
  resourceName: intel.com/qat2
- pciAddressSelector: ["0000:04:00.0"]
  resourceName: example.com/a
- pciAddressSelector: ["0000:04:00.0"]
  resourceName: example.com/b
mediatedDevices:
- mdevNameSelector: GRID T4-1Q
  resourceName: intel.com/qat
)");
  EXPECT_NE(m.find("cr.yaml:4: pciHostDevices: duplicate: selector 8086:6f54 is already listed at "
                   "line 2 (for intel.com/qat)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("cr.yaml:8: pciHostDevices.pciAddressSelector (hostpass extension): duplicate: "
                   "0000:04:00.0 is already claimed at line 6 (for example.com/a)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("cr.yaml:11: mediatedDevices.resourceName: resource intel.com/qat is already a "
                   "pci resource (line 2)"),
            std::string::npos)
      << m;
}

// One run reports everything: a duplicate selector is not held back until the other errors are
// fixed.
TEST(Policy, DuplicatesAreReportedWithTheOtherErrorsInOnePass) {
  std::string m = load_error(R"(pciHostDevices:
- pciVendorSelector: 8086:6F54
  resourceName: intel.com/qat
- pciVendorSelector: 8086:6f54
  resourceName: intel.com/qat2
- pciVendorSelector: 10de:1eb8
  resourceName: q
mediatedDevices:
- resourceName: nvidia.com/a
- resourceName: nvidia.com/b
)");
  EXPECT_NE(m.find("cr.yaml:7: pciHostDevices[2].resourceName: \"q\" is not a valid extended "
                   "resource name"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("cr.yaml:4: pciHostDevices: duplicate: selector 8086:6f54 is already listed at "
                   "line 2 (for intel.com/qat)"),
            std::string::npos)
      << m;
  // Two entries that both lack a selector are each "missing", not duplicates of "".
  EXPECT_EQ(m.find("duplicate: mdevNameSelector"), std::string::npos) << m;
}

TEST(Policy, SameResourceNameForTwoSelectorsMerges) {
  // KubeVirt maps each selector to a resource name; two models under one name are one resource.
  Policy p = parse_policy(
                 "pciHostDevices:\n- pciVendorSelector: 10de:1eb8\n"
                 "  resourceName: nvidia.com/gpu\n- pciVendorSelector: 10de:1db6\n"
                 "  resourceName: nvidia.com/gpu\n",
                 "p.yaml")
                 .value();
  EXPECT_EQ(p.pci.size(), 2u);
}

TEST(Policy, OtherKindsAndEmptyFilesAreRefused) {
  EXPECT_EQ(
      load_error("apiVersion: v1\nkind: Pod\nspec: {}\n"),
      "cr.yaml:2: kind: \"Pod\" is neither KubeVirt nor HyperConverged: nothing to read here");
  EXPECT_NE(load_error("").find("cr.yaml:1: (document): empty"), std::string::npos);
  EXPECT_NE(load_error("foo: bar\n").find("no permittedHostDevices found"), std::string::npos);
}

TEST(Policy, KubeVirtCrWithoutPermittedDevicesIsAnEmptyPolicy) {
  // OpenShift Virtualization's procedure: "The permittedHostDevices list is empty when you first
  // install".
  Policy p =
      parse_policy("apiVersion: kubevirt.io/v1\nkind: KubeVirt\nspec:\n  configuration: {}\n",
                   "kv.yaml")
          .value();
  EXPECT_TRUE(p.pci.empty() && p.mdev.empty() && p.usb.empty());
}

TEST(Policy, LoadThroughHostNamesTheFile) {
  RealHost host("/");
  auto p = load_policy(host, std::string(HOSTPASS_SOURCE_DIR) + "/tests/fixtures/policy/nope.yaml",
                       "nope.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message.rfind("cannot read the policy nope.yaml: ", 0), 0u)
      << p.error().message;
}

}  // namespace
}  // namespace hostpass

namespace hostpass {
namespace {

TEST(PolicyEdges, DuplicateKeyInAMappingIsReported) {
  auto p = parse_policy(
      "pciHostDevices:\n- pciVendorSelector: 8086:6f54\n"
      "  resourceName: intel.com/qat\n  resourceName: intel.com/qat2\n",
      "cr.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("cr.yaml:4: pciHostDevices[0].resourceName: duplicate key"),
            std::string::npos)
      << p.error().message;
}

TEST(PolicyEdges, MultiDocumentFileUsesTheOneCr) {
  auto p = parse_policy(
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: kubevirt}\n---\n"
      "apiVersion: kubevirt.io/v1\nkind: KubeVirt\nspec:\n  configuration:\n"
      "    permittedHostDevices:\n      pciHostDevices:\n"
      "      - pciVendorSelector: 10de:1eb8\n        resourceName: nvidia.com/t4\n",
      "all.yaml");
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->pci.size(), 1u);
  EXPECT_EQ(p->pci[0].line, 11);
}

TEST(PolicyEdges, NonMappingPermittedHostDevicesIsRefused) {
  auto p = parse_policy("kind: KubeVirt\nspec:\n  configuration:\n    permittedHostDevices: [1]\n",
                        "kv.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message,
            "kv.yaml:4: spec.configuration.permittedHostDevices: expected a mapping, got a list");
}

TEST(PolicyEdges, UsbEntryNeedsSelectorsAndAName) {
  auto p = parse_policy("usb:\n- externalResourceProvider: true\n", "u.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message,
            "u.yaml:2: usb[0].selectors: missing\nu.yaml:2: usb[0].resourceName: missing");
}

TEST(PolicyEdges, MdevSelectorWithSurroundingSpacesCanNeverMatch) {
  auto p = parse_policy(
      "mediatedDevices:\n- mdevNameSelector: \" GRID T4-1Q\"\n"
      "  resourceName: nvidia.com/q1\n",
      "m.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("m.yaml:2: mediatedDevices[0].mdevNameSelector: \" GRID T4-1Q\" "
                                   "can never match"),
            std::string::npos)
      << p.error().message;
}

}  // namespace
}  // namespace hostpass

namespace hostpass {
namespace {

// Every malformed variant of a real CR is refused with a "file:line: " message or accepted;
// nothing throws or crashes (yaml-cpp's exceptions stay inside kubevirt_policy.cc). Deterministic:
// a fixed linear congruential generator mutates the node CR 3000 times.
TEST(PolicyRobustness, MutatedCrsAlwaysGiveFileLineErrors) {
  const std::string base = fixture("node_kubevirt_cr.yaml");
  const std::string alphabet = " :-[]{}\"'\n#&*!|>%@`,?0aZ\t";
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<size_t>(state >> 33);
  };
  int accepted = 0, refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s = base;
    int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      size_t at = next() % s.size();
      switch (next() % 3) {
        case 0:
          s.erase(at, 1 + next() % 8);
          break;
        case 1:
          s.insert(at, 1, alphabet[next() % alphabet.size()]);
          break;
        default:
          s.insert(at, s.substr(next() % s.size(), next() % 40));
          break;
      }
    }
    auto p = parse_policy(s, "cr.yaml");
    if (p.ok()) {
      ++accepted;
      continue;
    }
    ++refused;
    ASSERT_EQ(p.error().kind, ErrorKind::InvalidInput);
    std::istringstream lines(p.error().message);
    std::string line;
    while (std::getline(lines, line)) {
      ASSERT_EQ(line.rfind("cr.yaml:", 0), 0u) << line << "\n--- input:\n" << s;
      size_t digits = 8;
      while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits])))
        ++digits;
      ASSERT_GT(digits, 8u) << line;
      ASSERT_EQ(line.compare(digits, 2, ": "), 0) << line;
    }
  }
  EXPECT_GT(refused, 1000);  // the mutations do break the CR...
  EXPECT_GT(accepted, 50);   // ...and some (in comments, in names) do not
}

}  // namespace
}  // namespace hostpass
