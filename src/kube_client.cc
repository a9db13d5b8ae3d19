// kube_client.cc — KubeApi over libcurl, the meaning of API answers, backoff; see kube_client.h.
#include "kube_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

namespace hostpass {

const char* api_error_kind_name(ApiErrorKind kind) {
  switch (kind) {
    case ApiErrorKind::NotFound:
      return "NotFound";
    case ApiErrorKind::Conflict:
      return "Conflict";
    case ApiErrorKind::Unauthorized:
      return "Unauthorized";
    case ApiErrorKind::Forbidden:
      return "Forbidden";
    case ApiErrorKind::Invalid:
      return "Invalid";
    case ApiErrorKind::Retryable:
      return "Retryable";
    case ApiErrorKind::Other:
      return "Other";
  }
  return "Other";
}

Error ApiError::to_error(std::string_view what) const {
  std::string m(what);
  m += ": ";
  if (status != 0) {
    m += "HTTP " + std::to_string(status);
    if (!reason.empty()) m += " " + reason;
    m += ": ";
  }
  m += message;
  switch (kind) {
    case ApiErrorKind::NotFound:
      return not_found(m);
    case ApiErrorKind::Unauthorized:
    case ApiErrorKind::Forbidden:
      return refused(m);
    case ApiErrorKind::Invalid:
      return invalid_input(m);
    default:
      return io_error(m);
  }
}

std::optional<ApiError> api_error(const KubeResponse& response) {
  const long code = response.status;
  if (code >= 200 && code < 300) return std::nullopt;
  ApiError e;
  e.status = code;
  if (code == 404 || code == 410)
    e.kind = ApiErrorKind::NotFound;
  else if (code == 409)
    e.kind = ApiErrorKind::Conflict;
  else if (code == 401)
    e.kind = ApiErrorKind::Unauthorized;
  else if (code == 403)
    e.kind = ApiErrorKind::Forbidden;
  else if (code == 400 || code == 422)
    e.kind = ApiErrorKind::Invalid;
  else if (code == 429 || code >= 500)
    e.kind = ApiErrorKind::Retryable;
  // The API server answers errors with a Status object:
  //   {"kind":"Status","apiVersion":"v1","status":"Failure","message":"...","reason":"Conflict",
  //    "code":409}
  const nlohmann::json j =
      nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.value("kind", "") == "Status") {
    if (j.contains("message") && j["message"].is_string()) e.message = j["message"];
    if (j.contains("reason") && j["reason"].is_string()) e.reason = j["reason"];
  }
  if (e.message.empty()) {
    e.message = response.body.substr(0, 200);
    while (!e.message.empty() && std::isspace(static_cast<unsigned char>(e.message.back())))
      e.message.pop_back();
    if (e.message.empty()) e.message = "no message";
  }
  return e;
}

ApiError transport_error(const Error& error) {
  return ApiError{ApiErrorKind::Retryable, 0, "", error.message};
}

std::string url_escape(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string url_with_query(std::string_view path, const QueryParams& query) {
  std::string url(path);
  char sep = '?';
  for (const auto& [k, v] : query) {
    url += sep;
    url += url_escape(k) + "=" + url_escape(v);
    sep = '&';
  }
  return url;
}

// ---- backoff ----

Backoff::Backoff(BackoffPolicy policy, std::function<double()> uniform)
    : policy_(policy), uniform_(std::move(uniform)) {
  if (!uniform_) {
    auto rng = std::make_shared<std::mt19937>(std::random_device{}());
    uniform_ = [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); };
  }
}

std::chrono::milliseconds Backoff::next() {
  const double cap = static_cast<double>(policy_.cap.count());
  const double base =
      std::min(cap, static_cast<double>(policy_.initial.count()) * std::pow(policy_.factor, step_));
  ++step_;
  const double jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  const double scale = 1.0 - jitter * std::clamp(uniform_(), 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(std::llround(base * scale)));
}

void real_sleep(std::chrono::milliseconds delay) {
  std::this_thread::sleep_for(delay);
}

namespace {

// Retry-After in seconds (the API server sends seconds, never an HTTP date), or 0.
std::chrono::milliseconds retry_after(const KubeResponse& r) {
  if (r.retry_after.empty() || !std::all_of(r.retry_after.begin(), r.retry_after.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      }))
    return std::chrono::milliseconds(0);
  return std::chrono::seconds(std::strtoll(r.retry_after.c_str(), nullptr, 10));
}

}  // namespace

Result<KubeResponse> call_with_retry(KubeApi& api, const KubeRequest& request,
                                     const BackoffPolicy& policy, const SleepFn& sleep,
                                     std::function<double()> uniform) {
  Backoff backoff(policy, std::move(uniform));
  for (int attempt = 1;; ++attempt) {
    Result<KubeResponse> r = api.call(request);
    std::chrono::milliseconds floor(0);
    if (r.ok()) {
      const std::optional<ApiError> e = api_error(*r);
      if (!e || !e->retryable()) return r;
      floor = std::min(retry_after(*r), policy.cap);
    }
    if (attempt >= policy.max_attempts) return r;
    sleep(std::max(backoff.next(), floor));
  }
}

// ---- libcurl ----

namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// Keeps the headers call() reports: Content-Type and Retry-After (names are case-insensitive).
size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<KubeResponse*>(user);
  std::string line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
      value.pop_back();
    size_t i = 0;
    while (i < value.size() && std::isspace(static_cast<unsigned char>(value[i]))) ++i;
    value = value.substr(i);
    if (name == "content-type") r->content_type = value;
    if (name == "retry-after") r->retry_after = value;
  }
  return size * n;
}

// A PEM held in memory, as the blob libcurl copies (CURL_BLOB_COPY).
curl_blob blob_of(const std::string& pem) {
  return curl_blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
}

}  // namespace

Result<std::unique_ptr<CurlKubeApi>> CurlKubeApi::create(const KubeConfig& config,
                                                         CurlOptions options) {
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0)
    return invalid_input("Kubernetes API server '" + config.server + "' (from " + config.source +
                         ") is not an http:// or https:// URL");
  if (config.client_cert_pem.empty() != config.client_key_pem.empty())
    return invalid_input("Kubernetes client certificate and key (from " + config.source +
                         "): give both or neither");
  global_init_once();
  CURL* handle = curl_easy_init();
  if (!handle) return io_error("cannot create a libcurl handle");
  return std::unique_ptr<CurlKubeApi>(new CurlKubeApi(config, std::move(options), handle));
}

CurlKubeApi::CurlKubeApi(KubeConfig config, CurlOptions options, void* handle)
    : config_(std::move(config)), options_(std::move(options)), handle_(handle) {
  while (!config_.server.empty() && config_.server.back() == '/') config_.server.pop_back();
}

CurlKubeApi::~CurlKubeApi() {
  curl_easy_cleanup(static_cast<CURL*>(handle_));
}

Result<KubeResponse> CurlKubeApi::call(const KubeRequest& request) {
  std::lock_guard<std::mutex> lock(mutex_);
  CURL* h = static_cast<CURL*>(handle_);
  // curl_easy_reset clears the options but keeps the connection cache, so the TLS connection to
  // the server is reused from one call to the next.
  curl_easy_reset(h);

  const std::string url = config_.server + url_with_query(request.path, request.query);
  KubeResponse response;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response);

  // TLS: verification on unless the kubeconfig asked for insecure-skip-tls-verify. The CA comes
  // from memory; with none given, libcurl's system CA store applies.
  if (config_.insecure_skip_tls_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  }
  curl_blob ca = blob_of(config_.ca_pem), cert = blob_of(config_.client_cert_pem),
            key = blob_of(config_.client_key_pem);
  if (!config_.ca_pem.empty()) curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
  if (!config_.client_cert_pem.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
  }

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  if (!config_.token.empty())
    headers = curl_slist_append(headers, ("Authorization: Bearer " + config_.token).c_str());
  if (!request.body.empty())
    headers = curl_slist_append(headers, ("Content-Type: " + request.content_type).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip for bodies
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (!request.body.empty() || request.method != "DELETE") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
  }

  const CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    const std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    return io_error(request.method + " " + config_.server + request.path + ": " + detail);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace hostpass
