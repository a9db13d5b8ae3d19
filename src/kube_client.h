// kube_client.h — one HTTP call to the Kubernetes API server, and what its answer means.
//
// KubeApi is the seam: one call taking a method, a path, a query, a body and its content type,
// returning the status code, the body and the headers a caller needs. CurlKubeApi implements it
// over one reused libcurl easy handle (so the TLS connection is kept alive between calls) with
// the server, CA, client certificate/key and bearer token of a KubeConfig (kube_config.h). TLS
// verification is always on unless the kubeconfig says insecure-skip-tls-verify.
//
// A KubeResponse with a status code is a value, whatever the code: api_error() tells a caller
// what a non-2xx answer means (NotFound, Conflict, Unauthorized with the Status message the API
// server sends, ...) and whether retrying can help. A transport failure (no connection, TLS
// handshake refused, timeout) is an Io Error from call(); it is always worth retrying.
// call_with_retry() retries the retryable ones with exponential backoff, jitter and a cap; its
// clock/sleep and randomness are parameters so that tests need not wait.
//
// Not here: typed resources (kube_resources.h), watch (callers poll with resourceVersion), HTTP/2
// multiplexing, proxies (libcurl's proxy environment variables are ignored on purpose: the API
// server is reached directly, as client-go does for in-cluster configuration).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kube_config.h"
#include "result.h"

namespace hostpass {

// One query parameter; the value is unescaped (call() escapes it).
using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct KubeRequest {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE
  std::string path;            // "/api/v1/nodes/node-1", its parts already escaped (url_escape)
  QueryParams query;
  std::string body;                               // "" for none
  std::string content_type = "application/json";  // for PATCH: application/merge-patch+json
};

struct KubeResponse {
  long status = 0;  // the HTTP status code
  std::string body;
  std::string content_type;  // the Content-Type header, "" when absent
  std::string retry_after;   // the Retry-After header (429 and 503 may carry one), "" when absent
};

class KubeApi {
 public:
  virtual ~KubeApi() = default;
  // Sends one request. An Io Error only when no HTTP answer came back (connection, TLS, timeout);
  // any status code, 2xx or not, is a KubeResponse.
  virtual Result<KubeResponse> call(const KubeRequest& request) = 0;
};

// What a non-2xx answer means.
enum class ApiErrorKind {
  NotFound,      // 404 (and 410 Gone: an expired continue token or resourceVersion)
  Conflict,      // 409: AlreadyExists on create, a stale resourceVersion on update
  Unauthorized,  // 401: the token or certificate was not accepted
  Forbidden,     // 403: RBAC does not allow it
  Invalid,       // 400, 422: the object was rejected; the Status message names the field
  Retryable,     // 429, 5xx, or a transport failure: trying again later can help
  Other,         // any other code
};

const char* api_error_kind_name(ApiErrorKind kind);

struct ApiError {
  ApiErrorKind kind = ApiErrorKind::Other;
  long status = 0;      // 0 for a transport failure
  std::string reason;   // the Status object's reason ("Conflict", "Invalid"), "" when none
  std::string message;  // the Status object's message, or the body's start, or the transport error

  bool retryable() const { return kind == ApiErrorKind::Retryable; }
  // As a library Error: NotFound for NotFound, Refused for Unauthorized/Forbidden, InvalidInput
  // for Invalid, Io otherwise; the message is "<what>: HTTP <code> <reason>: <message>".
  Error to_error(std::string_view what) const;
};

// The meaning of `response`, or nullopt when its status is 2xx. The message comes from the
// body's Status object (kind: Status) when it has one.
std::optional<ApiError> api_error(const KubeResponse& response);
// A transport failure from KubeApi::call() as a Retryable ApiError.
ApiError transport_error(const Error& error);

// Percent-encodes everything except RFC 3986's unreserved characters (ALPHA DIGIT - . _ ~), for
// a path segment or a query value.
std::string url_escape(std::string_view text);
// path?k=v&k=v with keys and values escaped; just path when query is empty.
std::string url_with_query(std::string_view path, const QueryParams& query);

// Exponential backoff with jitter and a cap: the n-th delay (n from 0) is
// min(cap, initial * factor^n) scaled by a uniform factor in [1 - jitter, 1].
struct BackoffPolicy {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds cap{10'000};
  double factor = 2.0;
  double jitter = 0.5;   // 0: no jitter; 1: "full jitter", anywhere in [0, delay]
  int max_attempts = 5;  // calls in all, the first included
};

class Backoff {
 public:
  // `uniform` returns a number in [0, 1); nullptr uses a seeded std::mt19937.
  explicit Backoff(BackoffPolicy policy, std::function<double()> uniform = nullptr);
  // The delay before the next attempt; each call moves one step further.
  std::chrono::milliseconds next();
  void reset() { step_ = 0; }

 private:
  BackoffPolicy policy_;
  std::function<double()> uniform_;
  int step_ = 0;
};

// How call_with_retry waits; tests record the delays instead of sleeping.
using SleepFn = std::function<void(std::chrono::milliseconds)>;
// std::this_thread::sleep_for.
void real_sleep(std::chrono::milliseconds delay);

// call() until the answer is not Retryable, or policy.max_attempts calls were made, sleeping a
// Backoff delay between calls (at least Retry-After seconds when the server sent one, up to the
// cap). Returns the last answer: a KubeResponse (maybe a 503) or the last transport Error.
Result<KubeResponse> call_with_retry(KubeApi& api, const KubeRequest& request,
                                     const BackoffPolicy& policy, const SleepFn& sleep,
                                     std::function<double()> uniform = nullptr);

struct CurlOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{30'000};  // the whole call, body included
  std::string user_agent = "hostpass";
};

// KubeApi over libcurl. One easy handle, reused; calls are serialised by a mutex, so one
// CurlKubeApi may be shared by threads but does one call at a time.
class CurlKubeApi : public KubeApi {
 public:
  // InvalidInput when the config has no server or not an http(s) one.
  static Result<std::unique_ptr<CurlKubeApi>> create(const KubeConfig& config,
                                                     CurlOptions options = {});
  ~CurlKubeApi() override;
  CurlKubeApi(const CurlKubeApi&) = delete;
  CurlKubeApi& operator=(const CurlKubeApi&) = delete;

  Result<KubeResponse> call(const KubeRequest& request) override;

 private:
  CurlKubeApi(KubeConfig config, CurlOptions options, void* handle);
  KubeConfig config_;
  CurlOptions options_;
  void* handle_;  // CURL*; void so that this header does not pull in <curl/curl.h>
  std::mutex mutex_;
};

}  // namespace hostpass
