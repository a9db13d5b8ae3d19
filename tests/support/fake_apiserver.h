// fake_apiserver.h — a Kubernetes API server for tests, on 127.0.0.1 over HTTPS.
//
// At start-up it makes, with OpenSSL, a test CA, a server certificate signed by it (SAN
// IP:127.0.0.1) and a client certificate signed by it; no key file exists anywhere. A request is
// let in with the bearer token it was given or with the client certificate; otherwise 401 with a
// Kubernetes Status body. It keeps objects in memory and serves
//   /apis/resource.k8s.io/v1/resourceslices[/NAME]                 GET LIST POST PUT DELETE
//   /apis/resource.k8s.io/v1/namespaces/NS/resourceclaims[/NAME]   GET LIST POST PUT DELETE
//   /api/v1/nodes[/NAME]                                           GET LIST POST PUT DELETE PATCH
//   /apis/events.k8s.io/v1/namespaces/NS/events                    POST LIST
// with the API server's resourceVersion rules (a PUT with a stale one is 409 Conflict, a POST of
// an existing name 409 AlreadyExists), LIST paging (limit, continue), the slice field selectors
// spec.nodeName and spec.driver, JSON merge patch, and ResourceSlice validation as the real
// server does it (issue 16's facts), answering 422 Invalid with a Status that names the field.
// It records every request and can fail the next N requests with a status code or by dropping
// the connection.
//
// Not served: watch, server-side apply, strategic merge patch, label selectors, generateName.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace hostpass::testing {

struct RecordedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
};

// A CA, and a certificate and key it signed, all PEM.
struct TestPki {
  std::string ca_pem;
  std::string server_cert_pem, server_key_pem;
  std::string client_cert_pem, client_key_pem;
};
// Makes a fresh CA with a server certificate for 127.0.0.1 and a client certificate (CN `user`).
TestPki make_test_pki(const std::string& user = "hostpass-test");

class FakeApiServer {
 public:
  explicit FakeApiServer(std::string token = "test-token");
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  std::string url() const;  // "https://127.0.0.1:PORT"
  const TestPki& pki() const { return pki_; }
  const std::string& token() const { return token_; }

  // Stores an object as if created (a resourceVersion and uid are given to it); `path` is the
  // object's collection, e.g. "/api/v1/nodes".
  nlohmann::json put_object(const std::string& collection, nlohmann::json object);
  // The stored object, or null.
  nlohmann::json object(const std::string& collection, const std::string& name) const;
  size_t count(const std::string& collection) const;

  std::vector<RecordedRequest> requests() const;
  void clear_requests();
  // The next `n` requests are answered with `status` (a Status body) before anything else.
  void fail_next(int n, int status);
  // The next `n` requests get their connection closed without an answer.
  void drop_next(int n);

  // ResourceSlice validation; "" when valid, else the Status message naming the field.
  static std::string validate_resource_slice(const nlohmann::json& slice);

  struct Impl;

 private:
  std::string token_;
  TestPki pki_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace hostpass::testing
