// kube_resources.cc — ResourceClaim, ResourceSlice, Node and Event calls; see kube_resources.h.
#include "kube_resources.h"

namespace hostpass {
namespace {

using nlohmann::json;

ApiError local_error(ApiErrorKind kind, std::string message) {
  return ApiError{kind, 0, "", std::move(message)};
}

// One call; its JSON body when 2xx, the ApiError otherwise.
ApiResult<json> send(KubeApi& api, const KubeRequest& request) {
  Result<KubeResponse> r = api.call(request);
  if (!r.ok()) return transport_error(r.error());
  if (std::optional<ApiError> e = api_error(*r)) return *e;
  json body = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return local_error(ApiErrorKind::Other,
                       request.method + " " + request.path +
                           ": the answer is not JSON: " + r->body.substr(0, 100));
  return body;
}

KubeRequest request(std::string method, std::string path, std::string body = "",
                    std::string content_type = "application/json") {
  KubeRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

std::string slices_path() {
  return std::string(kResourceApi) + "/resourceslices";
}

std::string string_at(const json& j, const json::json_pointer& p) {
  return j.contains(p) && j[p].is_string() ? j[p].get<std::string>() : std::string();
}

NodeInfo node_info(const json& node) {
  NodeInfo n;
  n.name = string_at(node, "/metadata/name"_json_pointer);
  n.uid = string_at(node, "/metadata/uid"_json_pointer);
  n.resource_version = string_at(node, "/metadata/resourceVersion"_json_pointer);
  const json::json_pointer labels("/metadata/labels");
  if (node.contains(labels) && node[labels].is_object())
    for (const auto& [k, v] : node[labels].items())
      if (v.is_string()) n.labels[k] = v.get<std::string>();
  return n;
}

}  // namespace

ApiResult<json> get_resource_claim(KubeApi& api, std::string_view ns, std::string_view name) {
  return send(api, request("GET", std::string(kResourceApi) + "/namespaces/" + url_escape(ns) +
                                      "/resourceclaims/" + url_escape(name)));
}

ApiResult<SliceList> list_resource_slices(KubeApi& api, std::string_view node,
                                          std::string_view driver, int limit) {
  std::string selector;
  if (!node.empty()) selector = "spec.nodeName=" + std::string(node);
  if (!driver.empty())
    selector += (selector.empty() ? "" : ",") + std::string("spec.driver=") + std::string(driver);
  SliceList list;
  std::string next;
  do {
    KubeRequest r = request("GET", slices_path());
    if (!selector.empty()) r.query.emplace_back("fieldSelector", selector);
    if (limit > 0) r.query.emplace_back("limit", std::to_string(limit));
    if (!next.empty()) r.query.emplace_back("continue", next);
    ApiResult<json> page = send(api, r);
    if (!page.ok()) return page.error();
    ++list.pages;
    if (page->contains("items") && (*page)["items"].is_array())
      for (json& item : (*page)["items"]) list.items.push_back(std::move(item));
    list.resource_version = string_at(*page, "/metadata/resourceVersion"_json_pointer);
    next = string_at(*page, "/metadata/continue"_json_pointer);
  } while (!next.empty());
  return list;
}

ApiResult<json> create_resource_slice(KubeApi& api, const json& slice) {
  return send(api, request("POST", slices_path(), slice.dump()));
}

ApiResult<json> update_resource_slice(KubeApi& api, const json& slice) {
  const std::string name = string_at(slice, "/metadata/name"_json_pointer);
  if (name.empty())
    return local_error(ApiErrorKind::Invalid, "updating a ResourceSlice: it has no metadata.name");
  if (string_at(slice, "/metadata/resourceVersion"_json_pointer).empty())
    return local_error(ApiErrorKind::Invalid,
                       "updating ResourceSlice " + name +
                           ": it has no metadata.resourceVersion (read it first, then update)");
  return send(api, request("PUT", slices_path() + "/" + url_escape(name), slice.dump()));
}

ApiResult<json> delete_resource_slice(KubeApi& api, std::string_view name) {
  return send(api, request("DELETE", slices_path() + "/" + url_escape(name)));
}

ApiResult<NodeInfo> get_node(KubeApi& api, std::string_view name) {
  ApiResult<json> r = send(api, request("GET", "/api/v1/nodes/" + url_escape(name)));
  if (!r.ok()) return r.error();
  return node_info(*r);
}

ApiResult<NodeInfo> patch_node_labels(
    KubeApi& api, std::string_view name,
    const std::map<std::string, std::optional<std::string>>& labels) {
  json patch_labels = json::object();
  for (const auto& [k, v] : labels) patch_labels[k] = v ? json(*v) : json(nullptr);
  const json patch = {{"metadata", {{"labels", patch_labels}}}};
  ApiResult<json> r = send(api, request("PATCH", "/api/v1/nodes/" + url_escape(name), patch.dump(),
                                        "application/merge-patch+json"));
  if (!r.ok()) return r.error();
  return node_info(*r);
}

json event_object(const EventSpec& spec) {
  json regarding = {{"kind", spec.regarding_kind}, {"name", spec.regarding_name}};
  if (spec.regarding_kind == "Node") regarding["apiVersion"] = "v1";
  if (spec.regarding_kind == "ResourceClaim") regarding["apiVersion"] = "resource.k8s.io/v1";
  if (!spec.regarding_namespace.empty()) regarding["namespace"] = spec.regarding_namespace;
  if (!spec.regarding_uid.empty()) regarding["uid"] = spec.regarding_uid;
  return {
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata", {{"generateName", "hostpass-"}, {"namespace", spec.ns}}},
      {"regarding", regarding},
      {"type", spec.type},
      {"reason", spec.reason},
      {"action", spec.action},
      {"note", spec.note},
      {"reportingController", spec.reporting_controller},
      {"reportingInstance", spec.reporting_instance},
      {"eventTime", spec.event_time},
  };
}

ApiResult<json> create_event(KubeApi& api, const EventSpec& spec) {
  return send(
      api, request("POST", "/apis/events.k8s.io/v1/namespaces/" + url_escape(spec.ns) + "/events",
                   event_object(spec).dump()));
}

}  // namespace hostpass
