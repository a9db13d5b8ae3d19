// guard_test.cc — the --force convention and the host-use blockers.
#include "guard.h"

#include <gtest/gtest.h>

namespace hostpass {
namespace {

PciAddress addr(const char* text) {
  return *PciAddress::parse(text);
}

TEST(Guard, NamesRoundTrip) {
  for (Guard g : {Guard::RootFilesystem, Guard::HostUnseen, Guard::Mounted, Guard::Swap,
                  Guard::NetworkUp, Guard::DefaultRoute, Guard::BootVga, Guard::SriovVfs,
                  Guard::MdevLive, Guard::MdevDefined, Guard::LedgerAssigned}) {
    auto back = parse_guard_name(guard_name(g));
    ASSERT_TRUE(back.ok()) << guard_name(g);
    EXPECT_EQ(*back, g);
  }
  EXPECT_FALSE(parse_guard_name("everything").ok());
}

TEST(Guard, RootFilesystemAndUnseenAreNeverOverridable) {
  EXPECT_FALSE(guard_overridable(Guard::RootFilesystem));
  EXPECT_FALSE(guard_overridable(Guard::HostUnseen));
  EXPECT_TRUE(guard_overridable(Guard::Mounted));
  ForceSet all;
  all.all = true;
  EXPECT_FALSE(all.overrides(Guard::RootFilesystem));
  EXPECT_TRUE(all.overrides(Guard::Swap));
}

TEST(Guard, ForceParse) {
  auto none = ForceSet::parse({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto bare = ForceSet::parse({""});
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->all);
  auto some = ForceSet::parse({"mounted,network-up", "assigned"});
  ASSERT_TRUE(some.ok());
  EXPECT_FALSE(some->all);
  EXPECT_TRUE(some->overrides(Guard::Mounted));
  EXPECT_TRUE(some->overrides(Guard::NetworkUp));
  EXPECT_TRUE(some->overrides(Guard::LedgerAssigned));
  EXPECT_FALSE(some->overrides(Guard::Swap));
  auto bad = ForceSet::parse({"mounted,bogus"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(bad.error().message.find("bogus"), std::string::npos);
  auto root = ForceSet::parse({"root-filesystem"});
  ASSERT_FALSE(root.ok());
  EXPECT_NE(root.error().message.find("never overridden"), std::string::npos);
}

TEST(Guard, HostUseBlockersAndForce) {
  PciDevice d;
  d.address = addr("0000:04:00.0");
  d.in_use = {{HostUse::Kind::RootFilesystem, "root filesystem (/dev/nvme0n1p2 on /)"},
              {HostUse::Kind::Mounted, "mounted (/dev/nvme0n1p3 on /data)"}};
  HostUseMap uses;
  auto blockers = host_use_blockers(uses, d);
  ASSERT_EQ(blockers.size(), 2u);
  EXPECT_EQ(blockers[0].guard, Guard::RootFilesystem);
  EXPECT_EQ(refusal_line(blockers[0]),
            "refusing 0000:04:00.0: it holds the root filesystem (/dev/nvme0n1p2 on /); --force "
            "does not override this");
  EXPECT_NE(refusal_line(blockers[1]).find("--force=mounted"), std::string::npos);

  ForceSet all;
  all.all = true;
  GuardVerdict v = apply_force(blockers, all);
  ASSERT_EQ(v.refused.size(), 1u);
  EXPECT_EQ(v.refused[0].guard, Guard::RootFilesystem);
  ASSERT_EQ(v.forced.size(), 1u);
  EXPECT_EQ(forced_note(v.forced[0]),
            "--force=mounted: overriding for 0000:04:00.0: the host uses it: mounted "
            "(/dev/nvme0n1p3 on /data)");

  uses.unseen = "the host's mounts cannot be seen";
  auto unseen = host_use_blockers(uses, d);
  ASSERT_EQ(unseen.size(), 3u);
  EXPECT_EQ(unseen[0].guard, Guard::HostUnseen);
  EXPECT_FALSE(apply_force(unseen, all).ok());
}

}  // namespace
}  // namespace hostpass
