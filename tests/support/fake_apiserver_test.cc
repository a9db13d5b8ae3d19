// The real CurlKubeApi and kube_resources against the HTTPS fake API server: bearer token and
// client-certificate authentication, a CA that does not match, slice CRUD with resourceVersion
// conflicts, each ResourceSlice validation rule, paging, and retries over injected failures.
#include "fake_apiserver.h"

#include <gtest/gtest.h>

#include "kube_client.h"
#include "kube_resources.h"

namespace hostpass::testing {
namespace {

using nlohmann::json;

const char* kSlices = "/apis/resource.k8s.io/v1/resourceslices";

json device(const std::string& name) {
  return {{"name", name}, {"attributes", {{"hostpass.io/vendor", {{"string", "10de"}}}}}};
}

json slice(const std::string& name, const std::string& node, int devices = 1) {
  json d = json::array();
  for (int i = 0; i < devices; ++i) d.push_back(device("dev-" + std::to_string(i)));
  return {{"apiVersion", "resource.k8s.io/v1"},
          {"kind", "ResourceSlice"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"driver", "hostpass.io"},
            {"nodeName", node},
            {"pool", {{"name", node}, {"generation", 1}, {"resourceSliceCount", 1}}},
            {"devices", d}}}};
}

class FakeApiServerTest : public ::testing::Test {
 protected:
  KubeConfig config() const {
    KubeConfig c;
    c.server = server_.url();
    c.ca_pem = server_.pki().ca_pem;
    c.token = server_.token();
    c.source = "test";
    return c;
  }
  std::unique_ptr<CurlKubeApi> client(const KubeConfig& c) {
    auto r = CurlKubeApi::create(c);
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::move(r.value()) : nullptr;
  }
  FakeApiServer server_;
};

TEST_F(FakeApiServerTest, TheTokenIsSentAndAccepted) {
  server_.put_object("/api/v1/nodes", {{"metadata", {{"name", "n1"}, {"labels", {{"a", "1"}}}}}});
  auto api = client(config());
  const auto n = get_node(*api, "n1");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->labels.at("a"), "1");
  EXPECT_FALSE(n->uid.empty());
  const auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.at("authorization"), "Bearer " + server_.token());
  EXPECT_EQ(reqs[0].path, "/api/v1/nodes/n1");
}

TEST_F(FakeApiServerTest, AWrongTokenIsUnauthorized) {
  KubeConfig c = config();
  c.token = "wrong";
  auto api = client(c);
  const auto n = get_node(*api, "n1");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().kind, ApiErrorKind::Unauthorized);
  EXPECT_EQ(n.error().status, 401);
  EXPECT_EQ(n.error().message, "Unauthorized");
}

TEST_F(FakeApiServerTest, AnotherCaIsATlsError) {
  KubeConfig c = config();
  c.ca_pem = make_test_pki().ca_pem;
  auto api = client(c);
  KubeRequest r;
  r.path = "/api/v1/nodes";
  const auto a = api->call(r);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().kind, ErrorKind::Io);
  EXPECT_NE(a.error().message.find("certificate"), std::string::npos) << a.error().message;
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(FakeApiServerTest, AClientCertificateAuthenticates) {
  KubeConfig c = config();
  c.token.clear();
  c.client_cert_pem = server_.pki().client_cert_pem;
  c.client_key_pem = server_.pki().client_key_pem;
  auto api = client(c);
  const auto list = list_resource_slices(*api, "", "");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(server_.requests().at(0).headers.count("authorization"), 0u);

  // A certificate of another CA fails the TLS handshake.
  const TestPki other = make_test_pki();
  c.client_cert_pem = other.client_cert_pem;
  c.client_key_pem = other.client_key_pem;
  auto stranger = client(c);
  const auto refused = list_resource_slices(*stranger, "", "");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().status, 0) << refused.error().message;
}

TEST_F(FakeApiServerTest, SliceCrudWithResourceVersionConflicts) {
  auto api = client(config());
  const auto created = create_resource_slice(*api, slice("n1-hostpass", "n1"));
  ASSERT_TRUE(created.ok()) << created.error().message;
  const auto again = create_resource_slice(*api, slice("n1-hostpass", "n1"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ApiErrorKind::Conflict);
  EXPECT_EQ(again.error().reason, "AlreadyExists");

  json updated = *created;
  updated["spec"]["pool"]["generation"] = 2;
  const auto first = update_resource_slice(*api, updated);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_NE((*first)["metadata"]["resourceVersion"], (*created)["metadata"]["resourceVersion"]);
  const auto stale = update_resource_slice(*api, updated);  // still the old resourceVersion
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind, ApiErrorKind::Conflict);
  EXPECT_NE(stale.error().message.find("has been modified"), std::string::npos);
  EXPECT_EQ(server_.object(kSlices, "n1-hostpass")["spec"]["pool"]["generation"], 2);

  ASSERT_TRUE(delete_resource_slice(*api, "n1-hostpass").ok());
  EXPECT_EQ(server_.count(kSlices), 0u);
  const auto gone = delete_resource_slice(*api, "n1-hostpass");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, ApiErrorKind::NotFound);
}

TEST_F(FakeApiServerTest, EachSliceRuleIsInvalidNamingTheField) {
  struct Case {
    const char* field;
    std::function<void(json&)> spoil;
  };
  const std::vector<Case> cases = {
      {"spec.devices: Too many", [](json& s) { s = slice("x", "n1", 129); }},
      {"spec.devices[0].name", [](json& s) { s["spec"]["devices"][0]["name"] = "Dev_0"; }},
      {"spec.devices[0]: Too many",
       [](json& s) {
         for (int i = 0; i < 32; ++i)
           s["spec"]["devices"][0]["attributes"]["a" + std::to_string(i)] = {{"int", i}};
       }},
      {"spec.devices[0].attributes[hostpass.io/vendor]: Invalid value: exactly one",
       [](json& s) { s["spec"]["devices"][0]["attributes"]["hostpass.io/vendor"]["bool"] = true; }},
      {"spec.devices[0].attributes[hostpass.io/vendor]: Invalid value: exactly one",
       [](json& s) {
         s["spec"]["devices"][0]["attributes"]["hostpass.io/vendor"] = json::object();
       }},
      {".string: Too long",
       [](json& s) {
         s["spec"]["devices"][0]["attributes"]["hostpass.io/vendor"]["string"] =
             std::string(65, 'x');
       }},
      {"spec.devices[0].attributes[bad-name]",
       [](json& s) {
         s["spec"]["devices"][0]["attributes"]["bad-name"] = {{"int", 1}};
       }},
      {"spec.driver", [](json& s) { s["spec"]["driver"] = "Hostpass_IO"; }},
      {"spec.pool.name", [](json& s) { s["spec"]["pool"].erase("name"); }},
      {"spec.pool.generation", [](json& s) { s["spec"]["pool"].erase("generation"); }},
      {"spec.pool.resourceSliceCount",
       [](json& s) { s["spec"]["pool"]["resourceSliceCount"] = 0; }},
      {"spec.nodeName", [](json& s) { s["spec"].erase("nodeName"); }},
  };
  auto api = client(config());
  ASSERT_TRUE(create_resource_slice(*api, slice("ok", "n1", 128)).ok());
  for (const Case& c : cases) {
    json s = slice("x", "n1");
    c.spoil(s);
    const auto r = create_resource_slice(*api, s);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.error().kind, ApiErrorKind::Invalid) << c.field;
    EXPECT_EQ(r.error().status, 422);
    EXPECT_NE(r.error().message.find(c.field), std::string::npos)
        << c.field << " not in: " << r.error().message;
  }
  EXPECT_EQ(server_.count(kSlices), 1u);
}

TEST_F(FakeApiServerTest, ListPagesAndSelectsByNode) {
  auto api = client(config());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(create_resource_slice(*api, slice("n1-" + std::to_string(i), "n1")).ok());
  ASSERT_TRUE(create_resource_slice(*api, slice("n2-0", "n2")).ok());
  server_.clear_requests();
  const auto list = list_resource_slices(*api, "n1", "hostpass.io", 2);
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->items.size(), 5u);
  EXPECT_EQ(list->pages, 3);
  for (const json& s : list->items) EXPECT_EQ(s["spec"]["nodeName"], "n1");
  const auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].query.at("fieldSelector"), "spec.nodeName=n1,spec.driver=hostpass.io");
  EXPECT_EQ(reqs[1].query.at("continue"), "n1-1");
}

TEST_F(FakeApiServerTest, MergePatchOfNodeLabels) {
  server_.put_object("/api/v1/nodes", {{"metadata", {{"name", "n1"}, {"labels", {{"a", "1"}}}}}});
  auto api = client(config());
  const auto n = patch_node_labels(*api, "n1", {{"a", std::nullopt}, {"b", "2"}});
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->labels, (std::map<std::string, std::string>{{"b", "2"}}));
  EXPECT_EQ(server_.requests().at(0).headers.at("content-type"), "application/merge-patch+json");
}

TEST_F(FakeApiServerTest, RetriesInjectedServiceUnavailable) {
  auto api = client(config());
  server_.fail_next(2, 503);
  KubeRequest r;
  r.path = kSlices;
  std::vector<long long> slept;
  BackoffPolicy p;
  p.jitter = 0;
  const auto a =
      call_with_retry(*api, r, p, [&](std::chrono::milliseconds d) { slept.push_back(d.count()); });
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(server_.requests().size(), 3u);
  EXPECT_EQ(slept, (std::vector<long long>{200, 400}));
}

TEST_F(FakeApiServerTest, ADroppedConnectionIsATransportErrorThenRecovers) {
  auto api = client(config());
  server_.drop_next(1);
  KubeRequest r;
  r.path = kSlices;
  const auto a = api->call(r);
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(transport_error(a.error()).retryable());
  const auto b = api->call(r);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->status, 200);
}

}  // namespace
}  // namespace hostpass::testing
