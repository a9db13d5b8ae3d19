// kube_resources.h — the Kubernetes objects the DRA driver (issue 16) and the node agent
// (issue 19) read and write, as typed calls over KubeApi (kube_client.h).
//
//   ResourceClaim  resource.k8s.io/v1, namespaced: get.
//   ResourceSlice  resource.k8s.io/v1, cluster-scoped: list (field selector
//                  spec.nodeName=<node>,spec.driver=<driver>, following continue tokens), create,
//                  update (PUT carrying metadata.resourceVersion: a stale one is a Conflict),
//                  delete.
//   Node           core v1: get (name, uid for owner references, labels), patch labels with a JSON
//                  merge patch (RFC 7386: a null value removes the label).
//   Event          events.k8s.io/v1: create. Chosen over core v1 Events because it is the API the
//                  API server and `kubectl events` treat as current; its required fields
//                  (reportingController, reportingInstance, action, eventTime) say who reported
//                  what, which core v1's optional source does not enforce.
//
// Objects travel as nlohmann::json: the DRA device model (src/dra_*) owns their typed form. Path
// parts and query values are URL-escaped here. Each call is one request; retrying is the caller's
// choice (call_with_retry or its own loop with Backoff), because whether a write may be repeated
// depends on what the caller knows.
//
// Not here: watch (callers poll, comparing resourceVersion), server-side apply, other kinds.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube_client.h"

namespace hostpass {

// A value, or the ApiError that says why not (Conflict, NotFound, Invalid, Retryable, ...).
template <class T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : value_(std::move(value)) {}         // NOLINT: implicit on purpose
  ApiResult(ApiError error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  // REQUIRES: ok().
  T& value() {
    check();
    return *value_;
  }
  const T& value() const {
    check();
    return *value_;
  }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  // REQUIRES: !ok().
  const ApiError& error() const {
    if (ok()) detail::result_misuse("error()", nullptr);
    return error_;
  }

 private:
  void check() const {
    if (ok()) return;
    const Error e = error_.to_error("ApiResult");
    detail::result_misuse("value()", &e);
  }
  std::optional<T> value_;
  ApiError error_;
};

inline constexpr const char* kResourceApi = "/apis/resource.k8s.io/v1";

ApiResult<nlohmann::json> get_resource_claim(KubeApi& api, std::string_view ns,
                                             std::string_view name);

struct SliceList {
  std::vector<nlohmann::json> items;  // every page's items, in the server's order
  std::string resource_version;       // the list's resourceVersion (of the last page)
  int pages = 0;
};

// The ResourceSlices of `driver` on `node` (each selector part left out when empty), `limit` per
// page (0: the server's default), all pages.
ApiResult<SliceList> list_resource_slices(KubeApi& api, std::string_view node,
                                          std::string_view driver, int limit = 0);
// The created slice, as the server stored it (with resourceVersion and uid).
ApiResult<nlohmann::json> create_resource_slice(KubeApi& api, const nlohmann::json& slice);
// REQUIRES: slice has metadata.name and metadata.resourceVersion (Invalid otherwise, no request).
ApiResult<nlohmann::json> update_resource_slice(KubeApi& api, const nlohmann::json& slice);
ApiResult<nlohmann::json> delete_resource_slice(KubeApi& api, std::string_view name);

struct NodeInfo {
  std::string name;
  std::string uid;  // for an ownerReference to the Node
  std::map<std::string, std::string> labels;
  std::string resource_version;
};

ApiResult<NodeInfo> get_node(KubeApi& api, std::string_view name);
// Sets each label with a value and removes each with nullopt; the others stay as they are.
ApiResult<NodeInfo> patch_node_labels(
    KubeApi& api, std::string_view name,
    const std::map<std::string, std::optional<std::string>>& labels);

struct EventSpec {
  std::string ns =
      "default";  // the Event's namespace: the regarding object's, "default" for a Node
  std::string regarding_kind;  // "Node", "ResourceClaim"
  std::string regarding_name;
  std::string regarding_namespace;  // "" for cluster-scoped objects
  std::string regarding_uid;
  std::string type = "Normal";  // Normal or Warning
  std::string reason;           // UpperCamelCase, e.g. "DevicesPublished"
  std::string action;           // what was done, e.g. "Publish"
  std::string note;             // the human-readable message (≤1 kB)
  std::string reporting_controller = "hostpass.io/hostpass";
  std::string reporting_instance;  // e.g. the node name
  std::string event_time;          // RFC 3339 with microseconds, e.g. "2026-12-03T12:00:00.000000Z"
};

// The events.k8s.io/v1 Event for `spec`, as create_event sends it (generateName, so each call
// makes a new Event).
nlohmann::json event_object(const EventSpec& spec);
ApiResult<nlohmann::json> create_event(KubeApi& api, const EventSpec& spec);

}  // namespace hostpass
