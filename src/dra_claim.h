// dra_claim.h — a ResourceClaim (resource.k8s.io/v1) as the DRA driver reads it at prepare time.
//
// The kubelet passes only namespace, uid and name (kubelet plugin API Claim); the driver GETs the
// claim and learns from status.allocation.devices.results[] which of its devices the scheduler
// allocated. Fields read (k8s.io/api resource/v1 ResourceClaim):
//   metadata.name, metadata.namespace, metadata.uid, metadata.generation
//   metadata.annotations["resource.kubernetes.io/pod-claim-name"]  set on claims made from a
//       ResourceClaimTemplate: the pod's name for the claim (spec.resourceClaims[].name), which
//       KEP-5304's metadata path uses (dra_files.h)
//   status.allocation.devices.results[]{request, driver, pool, device}
// Everything else (config, nodeSelector, reservedFor, adminAccess) is ignored.
//
// Deliberately not here: fetching the claim (the Kubernetes client), binding, writing files.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "result.h"

namespace hostpass {

inline constexpr const char* kPodClaimNameAnnotation = "resource.kubernetes.io/pod-claim-name";

// What the kubelet names in NodePrepareResources.
struct ClaimRef {
  std::string namespace_, uid, name;
};

struct AllocationResult {
  std::string request;  // the claim's request name ("gpu"; "gpu/t4" for a subrequest)
  std::string driver, pool, device;
  bool operator==(const AllocationResult&) const = default;
};

struct ResourceClaim {
  std::string name, namespace_, uid;
  int64_t generation = 0;
  std::optional<std::string> pod_claim_name;  // from kPodClaimNameAnnotation
  bool allocated = false;                     // status.allocation is present
  std::vector<AllocationResult> results;      // every driver's
};

// InvalidInput when the object is not a ResourceClaim or a field read above has the wrong type
// (the message names the field). A claim without status.allocation parses, with allocated false.
Result<ResourceClaim> parse_resource_claim(const nlohmann::json& object);
// The same from the API server's response body (InvalidInput for text that is not JSON).
Result<ResourceClaim> parse_resource_claim(const std::string& text);

// The results this node must prepare: those of `driver` in `pool` (the node's pool), in the
// claim's order. Errors, each naming the claim as "namespace/name":
//   InvalidInput  the claim's UID is not the kubelet's (the claim was deleted and made again
//                 under the same name; preparing it would serve another pod's claim)
//   Refused       the claim is not allocated yet
//   NotFound      a result of this driver and pool names a device not in `known` (the slices the
//                 scheduler saw are not what this node has now)
// A claim allocated only other drivers' devices gives an empty list.
Result<std::vector<AllocationResult>> results_to_prepare(const ResourceClaim& claim,
                                                         const ClaimRef& asked,
                                                         const std::string& driver,
                                                         const std::string& pool,
                                                         const std::set<std::string>& known);

}  // namespace hostpass
