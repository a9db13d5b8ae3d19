// next_boot_guard_test.cc — an id list catches every identical device; the host-used ones refuse.
#include "next_boot_guard.h"

#include <gtest/gtest.h>

#include "fixture_tree.h"
#include "test_dirs.h"
#include "twin_devices_host.h"

namespace hostpass {
namespace {

PciAddress addr(const char* t) {
  return *PciAddress::parse(t);
}

class NextBootGuard : public ::testing::Test {
 protected:
  NextBootGuard() : tree_(dir_.path() + "/root"), host_(tree_.root()) {
    testing::build_twin_devices_host(tree_);
  }
  NextBootRequest request(std::vector<std::string> ids, std::vector<const char*> chosen) {
    NextBootRequest r;
    r.ids = std::move(ids);
    for (const char* c : chosen) r.chosen.insert(addr(c));
    r.alternative = "use --format driverctl or systemd to persist by address";
    return r;
  }
  testing::ScratchDir dir_;
  testing::FixtureTree tree_;
  RealHost host_;
};

TEST_F(NextBootGuard, TheRootDisksTwinIdRefusesNamingTheRootDiskEvenForced) {
  NextBootRequest r = request({"8086:5845"}, {"0000:05:00.0"});
  for (bool force : {false, true}) {
    r.force.all = force;
    auto c = guard_next_boot(host_, r);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().kind, ErrorKind::Refused);
    const std::string& m = c.error().message;
    EXPECT_EQ(m.rfind("ids=8086:5845 also matches devices the host uses", 0), 0u) << m;
    EXPECT_NE(m.find("\nrefusing 0000:04:00.0: it holds the root filesystem"), std::string::npos)
        << m;
    EXPECT_NE(m.find("--force does not override this"), std::string::npos) << m;
    EXPECT_EQ(m.find("0000:05:00.0"), std::string::npos) << m;  // the chosen one is fine
    EXPECT_NE(m.find("driverctl or systemd"), std::string::npos) << m;
  }
}

TEST_F(NextBootGuard, AnUpNicIsOverridableByItsNameAndTheNoteSaysSo) {
  NextBootRequest r = request({"8086:10d3"}, {"0000:00:1a.0"});
  auto refused = guard_next_boot(host_, r);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("refusing 0000:00:19.0: the host uses it"),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("--force=network-up"), std::string::npos);
  // Only network-up forced: the default route still stands.
  r.force = *ForceSet::parse({"network-up"});
  auto partly = guard_next_boot(host_, r);
  ASSERT_FALSE(partly.ok());
  EXPECT_NE(partly.error().message.find("default-route"), std::string::npos)
      << partly.error().message;
  EXPECT_EQ(partly.error().message.find("network-up"), std::string::npos) << partly.error().message;
  r.force = *ForceSet::parse({"network-up,default-route"});
  auto forced = guard_next_boot(host_, r);
  ASSERT_TRUE(forced.ok()) << forced.error().message;
  ASSERT_EQ(forced->notes.size(), 2u);
  int network_up = 0, default_route = 0;
  for (const std::string& n : forced->notes) {
    network_up += n.rfind("--force=network-up: overriding for 0000:00:19.0", 0) == 0;
    default_route += n.rfind("--force=default-route: overriding for 0000:00:19.0", 0) == 0;
  }
  EXPECT_EQ(network_up, 1) << forced->notes[0] << "\n" << forced->notes[1];
  EXPECT_EQ(default_route, 1);
  EXPECT_EQ(forced->caught, (std::vector<PciAddress>{addr("0000:00:19.0"), addr("0000:00:1a.0")}));
}

TEST_F(NextBootGuard, HostDriverTwinsThatHoldNothingAreWarnedAboutByAddress) {
  auto c = guard_next_boot(host_, request({"10de:1eb8"}, {"0000:01:00.0"}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_EQ(c->warnings[0],
            "ids=10de:1eb8 also gives 0000:02:00.0 (now on nvidia) to vfio-pci at boot; use "
            "--format driverctl or systemd to persist by address");
  // Nothing named (kernel-args): every device on a host driver is named.
  auto all = guard_next_boot(host_, request({"10de:1eb8"}, {}));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->warnings.size(), 2u);
}

TEST_F(NextBootGuard, ByAddressOnlyTheNamedDevicesCount) {
  NextBootRequest r = request({}, {"0000:05:00.0"});
  r.only_chosen = true;
  r.form = "driverctl's pci-<address> override";
  auto ok = guard_next_boot(host_, r);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->caught, std::vector<PciAddress>{addr("0000:05:00.0")});
  EXPECT_TRUE(ok->warnings.empty());
  r.chosen.insert(addr("0000:04:00.0"));
  auto no = guard_next_boot(host_, r);
  ASSERT_FALSE(no.ok());
  EXPECT_NE(no.error().message.find("refusing 0000:04:00.0: it holds the root filesystem"),
            std::string::npos)
      << no.error().message;
}

TEST_F(NextBootGuard, IdsThatMatchNothingPass) {
  auto c = guard_next_boot(host_, request({"1234:5678"}, {}));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->caught.empty());
  EXPECT_TRUE(c->warnings.empty());
}

}  // namespace
}  // namespace hostpass
