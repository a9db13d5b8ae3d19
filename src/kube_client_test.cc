// kube_client without a server: what each status code and Status body means, URL escaping,
// backoff delays, retries over a scripted KubeApi, and CurlKubeApi's refusals and transport
// errors. CurlKubeApi against an HTTPS server is tested with the fake API server.
#include "kube_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "scripted_kube_api.h"

namespace hostpass {
namespace {

using std::chrono::milliseconds;

KubeResponse response(long status, std::string body = "") {
  KubeResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string status_body(int code, const std::string& reason, const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         message + R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
}

TEST(KubeApiError, TwoHundredsAreNotErrors) {
  EXPECT_FALSE(api_error(response(200)).has_value());
  EXPECT_FALSE(api_error(response(201)).has_value());
  EXPECT_FALSE(api_error(response(204)).has_value());
}

TEST(KubeApiError, EachCodeHasItsKind) {
  const std::pair<long, ApiErrorKind> cases[] = {
      {404, ApiErrorKind::NotFound},  {410, ApiErrorKind::NotFound},
      {409, ApiErrorKind::Conflict},  {401, ApiErrorKind::Unauthorized},
      {403, ApiErrorKind::Forbidden}, {422, ApiErrorKind::Invalid},
      {400, ApiErrorKind::Invalid},   {429, ApiErrorKind::Retryable},
      {500, ApiErrorKind::Retryable}, {503, ApiErrorKind::Retryable},
      {405, ApiErrorKind::Other},
  };
  for (const auto& [code, kind] : cases) {
    const auto e = api_error(response(code, "x"));
    ASSERT_TRUE(e.has_value()) << code;
    EXPECT_EQ(api_error_kind_name(e->kind), std::string(api_error_kind_name(kind))) << code;
    EXPECT_EQ(e->status, code);
    EXPECT_EQ(e->retryable(), kind == ApiErrorKind::Retryable) << code;
  }
}

TEST(KubeApiError, MessageAndReasonComeFromTheStatusBody) {
  const auto e = api_error(
      response(403, status_body(403, "Forbidden", "nodes \\\"n1\\\" is forbidden: cannot patch")));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->reason, "Forbidden");
  EXPECT_EQ(e->message, "nodes \"n1\" is forbidden: cannot patch");
  const Error err = e->to_error("patching node n1");
  EXPECT_EQ(err.kind, ErrorKind::Refused);
  EXPECT_EQ(err.message,
            "patching node n1: HTTP 403 Forbidden: nodes \"n1\" is forbidden: cannot patch");
}

TEST(KubeApiError, ABodyThatIsNoStatusIsQuoted) {
  const auto e = api_error(response(502, "bad gateway\n"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->message, "bad gateway");
  EXPECT_EQ(api_error(response(500))->message, "no message");
}

TEST(KubeApiError, LibraryErrorKinds) {
  EXPECT_EQ(api_error(response(404))->to_error("x").kind, ErrorKind::NotFound);
  EXPECT_EQ(api_error(response(401))->to_error("x").kind, ErrorKind::Refused);
  EXPECT_EQ(api_error(response(422))->to_error("x").kind, ErrorKind::InvalidInput);
  EXPECT_EQ(api_error(response(409))->to_error("x").kind, ErrorKind::Io);
  const ApiError t = transport_error(io_error("connection refused"));
  EXPECT_TRUE(t.retryable());
  EXPECT_EQ(t.to_error("listing slices").message, "listing slices: connection refused");
}

TEST(KubeUrl, EscapesAllButUnreserved) {
  EXPECT_EQ(url_escape("node-1.example_~"), "node-1.example_~");
  EXPECT_EQ(url_escape("a/b c?d&e=f"), "a%2Fb%20c%3Fd%26e%3Df");
  EXPECT_EQ(url_escape("spec.nodeName=n1,spec.driver=hostpass.io"),
            "spec.nodeName%3Dn1%2Cspec.driver%3Dhostpass.io");
  EXPECT_EQ(url_escape("\xc3\xa9"), "%C3%A9");
}

TEST(KubeUrl, QueryIsJoinedAndEscaped) {
  EXPECT_EQ(url_with_query("/api/v1/nodes", {}), "/api/v1/nodes");
  EXPECT_EQ(url_with_query("/p", {{"limit", "50"}, {"continue", "a b"}}),
            "/p?limit=50&continue=a%20b");
}

TEST(KubeBackoff, DoublesUpToTheCapWithoutJitter) {
  BackoffPolicy p;
  p.initial = milliseconds(100);
  p.cap = milliseconds(1000);
  p.jitter = 0;
  Backoff b(p, [] { return 0.9; });
  std::vector<long long> got;
  for (int i = 0; i < 6; ++i) got.push_back(b.next().count());
  EXPECT_EQ(got, (std::vector<long long>{100, 200, 400, 800, 1000, 1000}));
  b.reset();
  EXPECT_EQ(b.next().count(), 100);
}

TEST(KubeBackoff, JitterShortensWithinItsFraction) {
  BackoffPolicy p;
  p.initial = milliseconds(1000);
  p.jitter = 0.5;
  Backoff low(p, [] { return 0.0; });
  EXPECT_EQ(low.next().count(), 1000);
  Backoff high(p, [] { return 0.5; });
  EXPECT_EQ(high.next().count(), 750);
  EXPECT_EQ(high.next().count(), 1500);
  Backoff seeded(p);  // the default randomness stays inside [500, 1000]
  const long long d = seeded.next().count();
  EXPECT_GE(d, 500);
  EXPECT_LE(d, 1000);
}

BackoffPolicy no_jitter() {
  BackoffPolicy p;
  p.initial = milliseconds(100);
  p.cap = milliseconds(5000);
  p.jitter = 0;
  p.max_attempts = 4;
  return p;
}

TEST(KubeRetry, RetriesServiceUnavailableAndTransportErrorsThenSucceeds) {
  ScriptedApi api;
  api.answers = {response(503), io_error("connection refused"), response(500), response(200, "{}")};
  std::vector<long long> slept;
  const auto r = call_with_retry(api, KubeRequest{}, no_jitter(),
                                 [&](milliseconds d) { slept.push_back(d.count()); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(api.requests.size(), 4u);
  EXPECT_EQ(slept, (std::vector<long long>{100, 200, 400}));
}

TEST(KubeRetry, GivesUpAfterMaxAttemptsWithTheLastAnswer) {
  ScriptedApi api;
  for (int i = 0; i < 10; ++i) api.answers.push_back(response(503));
  int sleeps = 0;
  const auto r = call_with_retry(api, KubeRequest{}, no_jitter(), [&](milliseconds) { ++sleeps; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(api.requests.size(), 4u);
  EXPECT_EQ(sleeps, 3);
}

TEST(KubeRetry, DoesNotRetryWhatRetryingCannotFix) {
  for (long code : {404L, 409L, 401L, 403L, 422L}) {
    ScriptedApi api;
    api.answers = {response(code), response(200)};
    int sleeps = 0;
    const auto r =
        call_with_retry(api, KubeRequest{}, no_jitter(), [&](milliseconds) { ++sleeps; });
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, code);
    EXPECT_EQ(api.requests.size(), 1u) << code;
    EXPECT_EQ(sleeps, 0);
  }
}

TEST(KubeRetry, HonoursRetryAfterUpToTheCap) {
  ScriptedApi api;
  KubeResponse busy = response(429);
  busy.retry_after = "2";
  KubeResponse very_busy = response(503);
  very_busy.retry_after = "3600";
  api.answers = {busy, very_busy, response(200)};
  std::vector<long long> slept;
  const auto r = call_with_retry(api, KubeRequest{}, no_jitter(),
                                 [&](milliseconds d) { slept.push_back(d.count()); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(slept, (std::vector<long long>{2000, 5000}));
}

KubeConfig config_for(const std::string& server) {
  KubeConfig c;
  c.server = server;
  c.token = "t";
  c.source = "test";
  return c;
}

TEST(CurlKubeApi, RefusesAServerThatIsNoHttpUrl) {
  const auto r = CurlKubeApi::create(config_for("ftp://10.0.0.1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(r.error().message.find("ftp://10.0.0.1"), std::string::npos);
}

TEST(CurlKubeApi, RefusesACertificateWithoutKey) {
  KubeConfig c = config_for("https://127.0.0.1:6443");
  c.client_cert_pem = "CERT";
  const auto r = CurlKubeApi::create(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidInput);
}

// A loopback port with nothing listening: bound, then closed.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(CurlKubeApi, NoServerIsARetryableTransportError) {
  const int port = closed_port();
  ASSERT_GT(port, 0);
  auto api = CurlKubeApi::create(config_for("https://127.0.0.1:" + std::to_string(port)));
  ASSERT_TRUE(api.ok()) << api.error().message;
  KubeRequest req;
  req.path = "/api/v1/nodes";
  const auto r = (*api)->call(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Io);
  EXPECT_NE(
      r.error().message.find("GET https://127.0.0.1:" + std::to_string(port) + "/api/v1/nodes"),
      std::string::npos)
      << r.error().message;
  EXPECT_TRUE(transport_error(r.error()).retryable());
}

}  // namespace
}  // namespace hostpass
