// vfio_rules_test.cc — the kernel rules one at a time, then one table of tricky IOMMU groups run
// through every module that applies the group rule: the bind engine (alone and with --group),
// the device plugin's health check, preflight's device.group-viable, the inventory, `show`'s
// passthrough summary. They must all give the kernel's answer, so they can never disagree.
#include "vfio_rules.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "device_plugin.h"
#include "fixture_tree.h"
#include "iommu_group.h"
#include "kubevirt_inventory.h"
#include "kubevirt_policy.h"
#include "passthrough_summary.h"
#include "pci_device.h"
#include "preflight.h"
#include "test_dirs.h"
#include "vfio_bind.h"

namespace hostpass {
namespace {

using testing::FixtureTree;
using testing::PciSpec;
using testing::ScratchDir;

PciAddress addr(const char* text) {
  return *PciAddress::parse(text);
}

TEST(VfioRules, ABridgeIsABridgeHeaderNotABridgeClass) {
  EXPECT_TRUE(is_pci_bridge(uint8_t{1}, 0x060400));
  EXPECT_TRUE(is_pci_bridge(uint8_t{0x81}, 0x060400));   // multi-function bit ignored
  EXPECT_TRUE(is_pci_bridge(uint8_t{2}, 0x060700));      // CardBus
  EXPECT_TRUE(is_pci_bridge(uint8_t{1}, 0x068000));      // a bridge header whatever the class
  EXPECT_FALSE(is_pci_bridge(uint8_t{0}, 0x060400));     // bridge class, normal header
  EXPECT_FALSE(is_pci_bridge(uint8_t{0x80}, 0x060100));  // ISA/LPC bridge: an endpoint
  EXPECT_FALSE(is_pci_bridge(uint8_t{0}, 0x060000));     // host bridge: an endpoint
  // Config space unreadable: the classes that always carry a bridge header decide.
  EXPECT_TRUE(is_pci_bridge(std::nullopt, 0x060400));
  EXPECT_TRUE(is_pci_bridge(std::nullopt, 0x060700));
  EXPECT_TRUE(is_pci_bridge(std::nullopt, 0x060901));
  EXPECT_FALSE(is_pci_bridge(std::nullopt, 0x060100));
  EXPECT_FALSE(is_pci_bridge(std::nullopt, std::nullopt));
}

TEST(VfioRules, UsableByVfioIsKeptApartFromKeepsTheGroupViable) {
  for (const char* d : {"vfio-pci", "mlx5_vfio_pci", "hisi_acc_vfio_pci", "hisi-acc-vfio-pci",
                        "nvgrace_gpu_vfio_pci", "pds_vfio_pci", "virtio_vfio_pci"}) {
    EXPECT_TRUE(is_vfio_driver(d)) << d;
    EXPECT_TRUE(is_stub_driver(d)) << d;
    EXPECT_TRUE(driver_manages_dma(d)) << d;
  }
  EXPECT_FALSE(is_vfio_driver("pci-stub"));  // held from the host, but no VM can open it
  EXPECT_TRUE(is_stub_driver("pci-stub"));
  EXPECT_TRUE(driver_manages_dma("pci-stub"));
  EXPECT_FALSE(is_vfio_driver("pcieport"));
  EXPECT_FALSE(is_stub_driver("pcieport"));  // the host's own port services
  EXPECT_TRUE(driver_manages_dma("pcieport"));
  for (const char* d : {"shpchp", "lpc_ich", "nvidia", "snd_hda_intel", "nvme", "switchtec"}) {
    EXPECT_FALSE(is_stub_driver(d)) << d;
    EXPECT_FALSE(driver_manages_dma(d)) << d;
    EXPECT_FALSE(keeps_group_viable(std::string(d))) << d;
  }
  EXPECT_TRUE(keeps_group_viable(std::nullopt));  // unbound
  EXPECT_TRUE(keeps_group_viable(std::string("pcieport")));
}

TEST(VfioRules, DriverOverrideNullIsNone) {
  EXPECT_EQ(parse_driver_override("(null)\n"), std::nullopt);
  EXPECT_EQ(parse_driver_override("\n"), std::nullopt);
  EXPECT_EQ(parse_driver_override(""), std::nullopt);
  EXPECT_EQ(parse_driver_override("vfio-pci\n"), std::optional<std::string>("vfio-pci"));
  EXPECT_EQ(parse_driver_override(" pci-stub \n"), std::optional<std::string>("pci-stub"));
}

TEST(VfioRules, DriverOverrideIsReadFromTheDevice) {
  ScratchDir dir;
  FixtureTree tree(dir.path() + "/root");
  testing::build_standard_host(tree);
  RealHost host(tree.root());
  EXPECT_EQ(read_driver_override(host, addr("0000:04:00.0")), std::nullopt);  // "(null)\n"
  tree.write(tree.device_path("0000:04:00.0") + "/driver_override", "vfio-pci\n");
  EXPECT_EQ(read_driver_override(host, addr("0000:04:00.0")),
            std::optional<std::string>("vfio-pci"));
  EXPECT_EQ(read_driver_override(host, addr("0000:99:00.0")), std::nullopt);  // no such device
}

// ---- one table, every module ----

// Group 40 holds the device to pass through, 0000:41:00.0 (15b3:101e, on vfio-pci), and one
// sibling 0000:40:00.0 shaped as the row says.
struct TrickyGroup {
  const char* name;
  uint32_t sibling_class;
  std::optional<uint8_t> sibling_header;  // none: the fixture's default for the class
  std::optional<std::string> sibling_driver;
  bool viable;    // the kernel's answer (DMA ownership, Linux >= 5.19)
  bool group_ok;  // `bind --group` of the device: endpoints come along, bridges never move
};

const TrickyGroup kTrickyGroups[] = {
    {"bridge header and class on pcieport", 0x060400, 1, "pcieport", true, true},
    {"bridge header and class, unbound", 0x060400, 1, std::nullopt, true, true},
    {"bridge header and class on shpchp (older kernels allowed it)", 0x060400, 1, "shpchp", false,
     false},
    {"bridge header, other bridge class, unbound", 0x068000, 1, std::nullopt, true, true},
    {"bridge header, other bridge class, on shpchp", 0x068000, 1, "shpchp", false, false},
    {"bridge class with a normal header on a host driver", 0x060400, 0, "switchtec", false, true},
    {"ISA bridge on lpc_ich", 0x060100, std::nullopt, "lpc_ich", false, true},
    {"ISA bridge unbound", 0x060100, std::nullopt, std::nullopt, true, true},
    {"endpoint on pci-stub", 0x040300, std::nullopt, "pci-stub", true, true},
    {"endpoint unbound", 0x040300, std::nullopt, std::nullopt, true, true},
    {"endpoint on a vfio-pci variant driver", 0x020000, std::nullopt, "mlx5_vfio_pci", true, true},
    {"endpoint on a host driver", 0x040300, std::nullopt, "snd_hda_intel", false, true},
};

constexpr const char* kCr = R"(apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata:
  name: kubevirt
  namespace: kubevirt
spec:
  configuration:
    permittedHostDevices:
      pciHostDevices:
      - pciVendorSelector: "15B3:101E"
        resourceName: "nvidia.com/cx7_vf"
)";

class TrickyGroupHost {
 public:
  TrickyGroupHost(const std::string& root, const TrickyGroup& row) : tree(root), host(root) {
    testing::build_standard_host(tree);
    PciSpec s;
    s.address = "0000:40:00.0";
    s.vendor = 0x8086;
    s.device = 0x2918;
    s.class_code = row.sibling_class;
    s.header_type = row.sibling_header;
    s.driver = row.sibling_driver;
    s.iommu_group = 40;
    s.reset_method = std::nullopt;
    tree.add_pci(s);
    s = {};
    s.address = "0000:41:00.0";
    s.vendor = 0x15b3;
    s.device = 0x101e;
    s.class_code = 0x020000;
    s.driver = "vfio-pci";
    s.iommu_group = 40;
    tree.add_pci(s);
    tree.write("/dev/vfio/40", "");
  }
  FixtureTree tree;
  RealHost host;
};

TEST(VfioRules, EveryModuleGivesTheKernelsAnswerOnEachTrickyGroup) {
  ScratchDir dir;
  int n = 0;
  for (const TrickyGroup& row : kTrickyGroups) {
    SCOPED_TRACE(row.name);
    TrickyGroupHost m(dir.path() + "/root" + std::to_string(n++), row);
    Host& host = m.host;
    const PciAddress dev = addr("0000:41:00.0");
    const std::string not_viable = "IOMMU group 40 is not viable";

    // The fixture is what the row says.
    auto sib = read_pci_device(host, addr("0000:40:00.0"), Detail::Basic);
    ASSERT_TRUE(sib.ok());
    uint8_t header = row.sibling_header.value_or((row.sibling_class >> 8) == 0x0604 ? 1 : 0);
    EXPECT_EQ(sib->is_bridge(), header != 0);

    // The rule itself.
    auto members = read_group_members(host, 40);
    ASSERT_TRUE(members.ok());
    EXPECT_EQ(viability_blockers(*members, {dev}).empty(), row.viable);

    // The bind engine, the device alone (it is already on vfio-pci: only the group rule speaks).
    // (Options are set member by member: GCC 12 warns falsely about ForceSet's std::set when a
    // designated initializer skips it.)
    BindOptions alone;
    alone.dry_run = true;
    auto b = bind_devices(host, {dev}, alone);
    EXPECT_EQ(b.ok(), row.viable) << (b.ok() ? "" : b.error().message);
    if (!b.ok()) {
      EXPECT_EQ(b.error().kind, ErrorKind::Refused);
      EXPECT_NE(b.error().message.find(not_viable), std::string::npos) << b.error().message;
    }

    // --group: endpoints move with it; a bridge never does, so one that blocks is refused.
    BindOptions whole = alone;
    whole.whole_group = true;
    auto g = bind_devices(host, {dev}, whole);
    EXPECT_EQ(g.ok(), row.group_ok) << (g.ok() ? "" : g.error().message);
    if (g.ok()) {
      bool takes_sibling = false;
      for (const DeviceChange& c : g->devices) takes_sibling |= c.address == addr("0000:40:00.0");
      EXPECT_EQ(takes_sibling, !sib->is_bridge());
    } else {
      EXPECT_NE(g.error().message.find("bridge 0000:40:00.0 is on shpchp"), std::string::npos)
          << g.error().message;
      EXPECT_NE(g.error().message.find("hostpass never moves a bridge"), std::string::npos);
    }

    // The device plugin's health check of the unit {0000:41:00.0}.
    Unit unit;
    unit.id = "pci-0000:41:00.0";
    unit.pci = {dev};
    unit.iommu_group = 40;
    UnitHealth h = check_unit_health(host, ResourceKind::Pci, unit);
    EXPECT_EQ(h.healthy, row.viable) << h.reason;
    if (!row.viable) {
      EXPECT_NE(h.reason.find("0000:40:00.0"), std::string::npos) << h.reason;
    }

    // Preflight's device.group-viable.
    std::optional<CheckStatus> viable_check;
    for (const Check& c : device_checks(host, dev))
      if (c.id == "device.group-viable") viable_check = c.status;
    ASSERT_TRUE(viable_check);
    EXPECT_EQ(*viable_check, row.viable ? CheckStatus::Pass : CheckStatus::Fail);

    // The inventory: a unit only when the group is viable, else the reason.
    auto policy = parse_policy(kCr, "cr.yaml");
    ASSERT_TRUE(policy.ok()) << policy.error().message;
    auto inv = build_inventory(host, *policy);
    ASSERT_TRUE(inv.ok()) << inv.error().message;
    ASSERT_EQ(inv->resources.size(), 1u);
    const ResourceInventory& r = inv->resources[0];
    EXPECT_EQ(r.units.size(), row.viable ? 1u : 0u);
    if (!row.viable) {
      ASSERT_FALSE(r.unusable.empty());
      EXPECT_NE(r.unusable[0].reason.find(not_viable), std::string::npos) << r.unusable[0].reason;
    }

    // `show`'s passthrough summary.
    auto d = read_pci_device(host, dev, Detail::Full);
    ASSERT_TRUE(d.ok());
    std::vector<PciDevice> group = {*sib, *d};
    PassthroughSummary s = summarize_passthrough(*d, group);
    EXPECT_EQ(s.ready, row.viable);
  }
}

}  // namespace
}  // namespace hostpass
