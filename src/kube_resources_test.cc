// kube_resources over a scripted KubeApi: the requests each call sends (method, path, query,
// body, content type), paging by continue token, and answers turned into values or ApiErrors.
#include "kube_resources.h"

#include <gtest/gtest.h>

#include "scripted_kube_api.h"

namespace hostpass {
namespace {

using nlohmann::json;

TEST(KubeResources, GetResourceClaimEscapesItsPath) {
  ScriptedApi api;
  api.answer(200, {{"metadata", {{"name", "gpu claim"}}}});
  const auto r = get_resource_claim(api, "team-a", "gpu claim");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["metadata"]["name"], "gpu claim");
  ASSERT_EQ(api.requests.size(), 1u);
  EXPECT_EQ(api.requests[0].method, "GET");
  EXPECT_EQ(api.requests[0].path,
            "/apis/resource.k8s.io/v1/namespaces/team-a/resourceclaims/gpu%20claim");
}

TEST(KubeResources, NotFoundIsAnApiError) {
  ScriptedApi api;
  api.answer(404, {{"kind", "Status"}, {"message", "not there"}, {"reason", "NotFound"}});
  const auto r = get_resource_claim(api, "ns", "c");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiErrorKind::NotFound);
  EXPECT_EQ(r.error().message, "not there");
}

TEST(KubeResources, ListFollowsContinueTokensWithTheSelector) {
  ScriptedApi api;
  api.answer(200, {{"metadata", {{"continue", "tok/1"}, {"resourceVersion", "10"}}},
                   {"items", {{{"metadata", {{"name", "a"}}}}, {{"metadata", {{"name", "b"}}}}}}});
  api.answer(200, {{"metadata", {{"resourceVersion", "11"}}},
                   {"items", {{{"metadata", {{"name", "c"}}}}}}});
  const auto r = list_resource_slices(api, "node-1", "hostpass.io", 2);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->items.size(), 3u);
  EXPECT_EQ(r->items[2]["metadata"]["name"], "c");
  EXPECT_EQ(r->pages, 2);
  EXPECT_EQ(r->resource_version, "11");
  ASSERT_EQ(api.requests.size(), 2u);
  const QueryParams first = {{"fieldSelector", "spec.nodeName=node-1,spec.driver=hostpass.io"},
                             {"limit", "2"}};
  EXPECT_EQ(api.requests[0].query, first);
  QueryParams second = first;
  second.emplace_back("continue", "tok/1");
  EXPECT_EQ(api.requests[1].query, second);
  EXPECT_EQ(url_with_query(api.requests[1].path, api.requests[1].query),
            "/apis/resource.k8s.io/v1/resourceslices?fieldSelector=spec.nodeName%3Dnode-1%2Cspec."
            "driver%3Dhostpass.io&limit=2&continue=tok%2F1");
}

TEST(KubeResources, ListFailingOnALaterPageIsAnError) {
  ScriptedApi api;
  api.answer(200, {{"metadata", {{"continue", "t"}}}, {"items", json::array()}});
  api.answer(410, {{"kind", "Status"}, {"message", "continue token expired"}});
  const auto r = list_resource_slices(api, "n", "", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiErrorKind::NotFound);
  EXPECT_EQ(api.requests[0].query, (QueryParams{{"fieldSelector", "spec.nodeName=n"}}));
}

TEST(KubeResources, CreateUpdateDeleteSlices) {
  ScriptedApi api;
  const json slice = {{"metadata", {{"name", "n1-hostpass"}, {"resourceVersion", "7"}}}};
  api.answer(201, slice);
  api.answer(409, {{"kind", "Status"}, {"reason", "Conflict"}, {"message", "modified"}});
  api.answer(200, json::object());
  ASSERT_TRUE(create_resource_slice(api, slice).ok());
  const auto upd = update_resource_slice(api, slice);
  ASSERT_FALSE(upd.ok());
  EXPECT_EQ(upd.error().kind, ApiErrorKind::Conflict);
  ASSERT_TRUE(delete_resource_slice(api, "n1-hostpass").ok());
  ASSERT_EQ(api.requests.size(), 3u);
  EXPECT_EQ(api.requests[0].method, "POST");
  EXPECT_EQ(api.requests[0].path, "/apis/resource.k8s.io/v1/resourceslices");
  EXPECT_EQ(json::parse(api.requests[0].body), slice);
  EXPECT_EQ(api.requests[1].method, "PUT");
  EXPECT_EQ(api.requests[1].path, "/apis/resource.k8s.io/v1/resourceslices/n1-hostpass");
  EXPECT_EQ(api.requests[2].method, "DELETE");
}

TEST(KubeResources, UpdateWithoutResourceVersionSendsNothing) {
  ScriptedApi api;
  const auto r = update_resource_slice(api, {{"metadata", {{"name", "s"}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ApiErrorKind::Invalid);
  EXPECT_NE(r.error().message.find("resourceVersion"), std::string::npos);
  EXPECT_TRUE(api.requests.empty());
}

TEST(KubeResources, NodeLabelsAndUid) {
  ScriptedApi api;
  api.answer(
      200, {{"metadata", {{"name", "n1"}, {"uid", "u-1"}, {"labels", {{"a", "1"}, {"b", "2"}}}}}});
  api.answer(200, {{"metadata", {{"name", "n1"}, {"uid", "u-1"}, {"labels", {{"a", "9"}}}}}});
  const auto n = get_node(api, "n1");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->uid, "u-1");
  EXPECT_EQ(n->labels, (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
  const auto p = patch_node_labels(api, "n1", {{"a", "9"}, {"b", std::nullopt}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->labels, (std::map<std::string, std::string>{{"a", "9"}}));
  EXPECT_EQ(api.requests[1].method, "PATCH");
  EXPECT_EQ(api.requests[1].path, "/api/v1/nodes/n1");
  EXPECT_EQ(api.requests[1].content_type, "application/merge-patch+json");
  EXPECT_EQ(json::parse(api.requests[1].body),
            json::parse(R"({"metadata":{"labels":{"a":"9","b":null}}})"));
}

TEST(KubeResources, EventIsEventsV1) {
  ScriptedApi api;
  api.answer(201, json::object());
  EventSpec e;
  e.regarding_kind = "Node";
  e.regarding_name = "n1";
  e.regarding_uid = "u-1";
  e.reason = "DevicesPublished";
  e.action = "Publish";
  e.note = "3 devices";
  e.reporting_instance = "n1";
  e.event_time = "2026-12-03T12:00:00.000000Z";
  ASSERT_TRUE(create_event(api, e).ok());
  EXPECT_EQ(api.requests[0].path, "/apis/events.k8s.io/v1/namespaces/default/events");
  const json body = json::parse(api.requests[0].body);
  EXPECT_EQ(body["regarding"],
            json::parse(R"({"apiVersion":"v1","kind":"Node","name":"n1","uid":"u-1"})"));
  EXPECT_EQ(body["reportingController"], "hostpass.io/hostpass");
  EXPECT_EQ(body["eventTime"], "2026-12-03T12:00:00.000000Z");
}

TEST(KubeResources, TransportErrorsAndNonJsonAnswers) {
  ScriptedApi api;
  api.answers.push_back(io_error("connection refused"));
  KubeResponse html;
  html.status = 200;
  html.body = "<html>";
  api.answers.push_back(html);
  const auto a = get_node(api, "n1");
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(a.error().retryable());
  const auto b = get_node(api, "n1");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().kind, ApiErrorKind::Other);
  EXPECT_NE(b.error().message.find("not JSON"), std::string::npos);
}

}  // namespace
}  // namespace hostpass
