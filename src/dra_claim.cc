// dra_claim.cc — reading a ResourceClaim and picking this node's results (see dra_claim.h).
#include "dra_claim.h"

namespace hostpass {

namespace {

using json = nlohmann::json;

// The string at `key` of `obj`, "" when absent; InvalidInput when present and not a string.
Result<std::string> optional_string(const json& obj, const char* key, const std::string& where) {
  if (!obj.contains(key) || obj[key].is_null()) return std::string();
  if (!obj[key].is_string()) return invalid_input(where + "." + key + " is not a string");
  return obj[key].get<std::string>();
}

Result<const json*> optional_object(const json& obj, const char* key, const std::string& where) {
  if (!obj.contains(key) || obj[key].is_null()) return static_cast<const json*>(nullptr);
  if (!obj[key].is_object()) return invalid_input(where + "." + key + " is not an object");
  return &obj[key];
}

}  // namespace

Result<ResourceClaim> parse_resource_claim(const json& object) {
  if (!object.is_object()) return invalid_input("ResourceClaim: not a JSON object");
  if (object.value("kind", "") != "ResourceClaim")
    return invalid_input("not a ResourceClaim (kind " + object.value("kind", "missing") + ")");
  ResourceClaim c;
  auto meta = optional_object(object, "metadata", "ResourceClaim");
  if (!meta.ok()) return meta.error();
  if (!*meta) return invalid_input("ResourceClaim: metadata is missing");
  const json& m = **meta;
  for (auto [key, field] : {std::pair{"name", &c.name}, std::pair{"namespace", &c.namespace_},
                            std::pair{"uid", &c.uid}}) {
    auto v = optional_string(m, key, "metadata");
    if (!v.ok()) return v.error();
    if (v->empty())
      return invalid_input(std::string("ResourceClaim: metadata.") + key + " is missing");
    *field = *v;
  }
  const std::string who = c.namespace_ + "/" + c.name;
  if (m.contains("generation")) {
    if (!m["generation"].is_number_integer())
      return invalid_input("claim " + who + ": metadata.generation is not an integer");
    c.generation = m["generation"].get<int64_t>();
  }
  auto ann = optional_object(m, "annotations", "metadata");
  if (!ann.ok()) return ann.error().wrap("claim " + who);
  if (*ann) {
    auto v = optional_string(**ann, kPodClaimNameAnnotation, "metadata.annotations");
    if (!v.ok()) return v.error().wrap("claim " + who);
    if (!v->empty()) c.pod_claim_name = *v;
  }

  auto status = optional_object(object, "status", "ResourceClaim");
  if (!status.ok()) return status.error().wrap("claim " + who);
  if (!*status) return c;
  auto alloc = optional_object(**status, "allocation", "status");
  if (!alloc.ok()) return alloc.error().wrap("claim " + who);
  if (!*alloc) return c;
  c.allocated = true;
  auto devices = optional_object(**alloc, "devices", "status.allocation");
  if (!devices.ok()) return devices.error().wrap("claim " + who);
  if (!*devices || !(*devices)->contains("results")) return c;
  const json& results = (**devices)["results"];
  if (!results.is_array())
    return invalid_input("claim " + who + ": status.allocation.devices.results is not a list");
  for (size_t i = 0; i < results.size(); ++i) {
    const std::string where = "status.allocation.devices.results[" + std::to_string(i) + "]";
    if (!results[i].is_object())
      return invalid_input("claim " + who + ": " + where + " is not an object");
    AllocationResult r;
    for (auto [key, field] : {std::pair{"request", &r.request}, std::pair{"driver", &r.driver},
                              std::pair{"pool", &r.pool}, std::pair{"device", &r.device}}) {
      auto v = optional_string(results[i], key, where);
      if (!v.ok()) return v.error().wrap("claim " + who);
      if (v->empty())
        return invalid_input("claim " + who + ": " + where + "." + key + " is missing");
      *field = *v;
    }
    c.results.push_back(std::move(r));
  }
  return c;
}

Result<ResourceClaim> parse_resource_claim(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_input("ResourceClaim: the answer is not JSON");
  return parse_resource_claim(j);
}

Result<std::vector<AllocationResult>> results_to_prepare(const ResourceClaim& claim,
                                                         const ClaimRef& asked,
                                                         const std::string& driver,
                                                         const std::string& pool,
                                                         const std::set<std::string>& known) {
  const std::string who = claim.namespace_ + "/" + claim.name;
  if (claim.uid != asked.uid)
    return invalid_input("claim " + who + " has UID " + claim.uid + ", the kubelet asked for " +
                         asked.uid + ": it was deleted and created again; not preparing it");
  if (!claim.allocated) return refused("claim " + who + " is not allocated yet");
  std::vector<AllocationResult> out;
  for (const AllocationResult& r : claim.results) {
    if (r.driver != driver || r.pool != pool) continue;
    if (!known.contains(r.device))
      return not_found("claim " + who + ": request " + r.request + " was given device " + r.device +
                       " of pool " + pool + ", which this node does not publish (any more)");
    out.push_back(r);
  }
  return out;
}

}  // namespace hostpass
