#include "dra_claim.h"

#include <gtest/gtest.h>

namespace hostpass {
namespace {

using json = nlohmann::json;

// A claim as the API server returns it after the scheduler allocated it: one result of ours,
// one of another driver, one of ours in another node's pool.
json allocated_claim() {
  return json::parse(R"({
    "apiVersion": "resource.k8s.io/v1",
    "kind": "ResourceClaim",
    "metadata": {
      "name": "vm-gpu-x7k2p", "namespace": "vms", "uid": "0b7e6f2a-1111-4222-8333-444455556666",
      "generation": 3,
      "annotations": {"resource.kubernetes.io/pod-claim-name": "gpu"}
    },
    "spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": "t4"}}]}},
    "status": {"allocation": {"devices": {"results": [
      {"request": "gpu", "driver": "vfio.hostpass.dev", "pool": "node-1", "device": "pci-0000-65-00-0"},
      {"request": "nic", "driver": "sriovnetwork.k8snetworkplumbingwg.io", "pool": "node-1", "device": "vf-0"},
      {"request": "gpu2", "driver": "vfio.hostpass.dev", "pool": "node-2", "device": "pci-0000-66-00-0"}
    ]}}}
  })");
}

ClaimRef asked() {
  return {"vms", "0b7e6f2a-1111-4222-8333-444455556666", "vm-gpu-x7k2p"};
}

TEST(ResourceClaim, ParsesMetadataAnnotationAndEveryResult) {
  auto c = parse_resource_claim(allocated_claim());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->name, "vm-gpu-x7k2p");
  EXPECT_EQ(c->namespace_, "vms");
  EXPECT_EQ(c->uid, "0b7e6f2a-1111-4222-8333-444455556666");
  EXPECT_EQ(c->generation, 3);
  EXPECT_EQ(c->pod_claim_name, "gpu");
  EXPECT_TRUE(c->allocated);
  ASSERT_EQ(c->results.size(), 3u);
  EXPECT_EQ(c->results[1],
            (AllocationResult{"nic", "sriovnetwork.k8snetworkplumbingwg.io", "node-1", "vf-0"}));
}

TEST(ResourceClaim, SelectsThisDriversResultsInThisNodesPool) {
  auto c = parse_resource_claim(allocated_claim().dump());
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto r = results_to_prepare(*c, asked(), "vfio.hostpass.dev", "node-1", {"pci-0000-65-00-0"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(
      *r,
      (std::vector<AllocationResult>{{"gpu", "vfio.hostpass.dev", "node-1", "pci-0000-65-00-0"}}));
  // Only another driver's devices: nothing to do, not an error.
  auto other = results_to_prepare(*c, asked(), "gpu.example.com", "node-1", {});
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
}

TEST(ResourceClaim, AClaimMadeAgainUnderTheSameNameIsRefused) {
  auto c = parse_resource_claim(allocated_claim());
  ASSERT_TRUE(c.ok());
  ClaimRef old = asked();
  old.uid = "99999999-1111-4222-8333-444455556666";
  auto r = results_to_prepare(*c, old, "vfio.hostpass.dev", "node-1", {"pci-0000-65-00-0"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(r.error().message.find("vms/vm-gpu-x7k2p has UID 0b7e6f2a"), std::string::npos)
      << r.error().message;
}

TEST(ResourceClaim, UnallocatedClaimAndUnknownDeviceAreClearErrors) {
  json j = allocated_claim();
  j.erase("status");
  auto c = parse_resource_claim(j);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->allocated);
  auto r = results_to_prepare(*c, asked(), "vfio.hostpass.dev", "node-1", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Refused);
  EXPECT_EQ(r.error().message, "claim vms/vm-gpu-x7k2p is not allocated yet");

  auto a = parse_resource_claim(allocated_claim());
  ASSERT_TRUE(a.ok());
  auto u = results_to_prepare(*a, asked(), "vfio.hostpass.dev", "node-1", {"pci-0000-67-00-0"});
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().kind, ErrorKind::NotFound);
  EXPECT_NE(u.error().message.find("device pci-0000-65-00-0"), std::string::npos);
}

TEST(ResourceClaim, AClaimWithoutTheAnnotationHasNoPodClaimName) {
  json j = allocated_claim();
  j["metadata"].erase("annotations");
  auto c = parse_resource_claim(j);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->pod_claim_name, std::nullopt);
}

TEST(ResourceClaim, MalformedObjectsNameTheField) {
  EXPECT_FALSE(parse_resource_claim(std::string("{not json")).ok());
  json wrong_kind = allocated_claim();
  wrong_kind["kind"] = "Pod";
  EXPECT_FALSE(parse_resource_claim(wrong_kind).ok());
  json no_uid = allocated_claim();
  no_uid["metadata"].erase("uid");
  auto a = parse_resource_claim(no_uid);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message, "ResourceClaim: metadata.uid is missing");
  json bad = allocated_claim();
  bad["status"]["allocation"]["devices"]["results"][0]["device"] = 5;
  auto b = parse_resource_claim(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("results[0].device is not a string"), std::string::npos)
      << b.error().message;
}

}  // namespace
}  // namespace hostpass
