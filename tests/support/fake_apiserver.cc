// fake_apiserver.cc — the HTTPS fake Kubernetes API server; see fake_apiserver.h.
//
// Debian's cpp-httplib is a compiled library (libcpp-httplib.so, pkg-config cpp-httplib, whose
// Cflags define CPPHTTPLIB_OPENSSL_SUPPORT): httplib.h here holds declarations only.
#include "fake_apiserver.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <regex>
#include <stdexcept>

namespace hostpass::testing {
namespace {

using nlohmann::json;

// ---- certificates ----

std::string pem_of(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

std::string pem_of(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) throw std::runtime_error(std::string("bad extension ") + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn`, signed by issuer/issuer_key (self-signed when null).
X509* make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, long serial,
                const char* kind) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 7 * 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : x;
  if (std::string(kind) == "ca") {
    add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x, signer, NID_key_usage, "critical,digitalSignature");
    if (std::string(kind) == "server") {
      add_ext(x, signer, NID_subject_alt_name, "IP:127.0.0.1");
      add_ext(x, signer, NID_ext_key_usage, "serverAuth");
    } else {
      add_ext(x, signer, NID_ext_key_usage, "clientAuth");
    }
  }
  X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
  return x;
}

json status(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason},
          {"code", code}};
}

// ---- validation (issue 16's facts about ResourceSlice) ----

bool dns_label(const std::string& s) {
  static const std::regex re("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  return !s.empty() && s.size() <= 63 && std::regex_match(s, re);
}

bool dns_subdomain(const std::string& s) {
  static const std::regex re("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  return !s.empty() && s.size() <= 253 && std::regex_match(s, re);
}

// A qualified name: an optional DNS-subdomain domain (≤63) and "/", then a C identifier ≤32.
bool qualified_attribute_name(const std::string& s) {
  static const std::regex id("[A-Za-z_][A-Za-z0-9_]*");
  const size_t slash = s.find('/');
  const std::string ident = slash == std::string::npos ? s : s.substr(slash + 1);
  if (slash != std::string::npos) {
    const std::string domain = s.substr(0, slash);
    if (domain.size() > 63 || !dns_subdomain(domain)) return false;
  }
  return !ident.empty() && ident.size() <= 32 && std::regex_match(ident, id);
}

// ---- paths ----

struct Target {
  std::string collection;  // "/api/v1/nodes"
  std::string name;        // "" for the collection
  std::string resource;    // "nodes"
};

bool parse_target(const std::string& path, Target& t) {
  static const std::regex re(
      "(/apis/resource\\.k8s\\.io/v1/(resourceslices)|/apis/resource\\.k8s\\.io/v1/namespaces/"
      "[^/]+/(resourceclaims)|/api/v1/(nodes)|/apis/events\\.k8s\\.io/v1/namespaces/[^/]+/"
      "(events))(/([^/]+))?");
  std::smatch m;
  if (!std::regex_match(path, m, re)) return false;
  t.collection = m[1];
  t.resource = m[2].matched ? m[2] : m[3].matched ? m[3] : m[4].matched ? m[4] : m[5];
  t.name = m[7].matched ? std::string(m[7]) : std::string();
  return true;
}

// RFC 7386.
void merge_patch(json& target, const json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object();
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null())
      target.erase(k);
    else
      merge_patch(target[k], v);
  }
}

std::string kind_of(const std::string& resource) {
  if (resource == "resourceslices") return "ResourceSlice";
  if (resource == "resourceclaims") return "ResourceClaim";
  if (resource == "nodes") return "Node";
  return "Event";
}

}  // namespace

TestPki make_test_pki(const std::string& user) {
  TestPki p;
  EVP_PKEY* ca_key = EVP_EC_gen("P-256");
  EVP_PKEY* server_key = EVP_EC_gen("P-256");
  EVP_PKEY* client_key = EVP_EC_gen("P-256");
  // Each CA has a name of its own, so that a certificate of another test CA fails as "unable to
  // get local issuer certificate" rather than on a signature checked with the wrong key.
  static std::atomic<int> serial{0};
  const std::string ca_name = "hostpass test CA " + std::to_string(++serial);
  X509* ca = make_cert(ca_key, ca_name.c_str(), nullptr, nullptr, 1, "ca");
  X509* server = make_cert(server_key, "127.0.0.1", ca, ca_key, 2, "server");
  X509* client = make_cert(client_key, user.c_str(), ca, ca_key, 3, "client");
  p.ca_pem = pem_of(ca);
  p.server_cert_pem = pem_of(server);
  p.server_key_pem = pem_of(server_key);
  p.client_cert_pem = pem_of(client);
  p.client_key_pem = pem_of(client_key);
  X509_free(ca);
  X509_free(server);
  X509_free(client);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(server_key);
  EVP_PKEY_free(client_key);
  return p;
}

std::string FakeApiServer::validate_resource_slice(const json& s) {
  auto str = [](const json& j, const char* k) {
    return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
  };
  const json spec = s.value("spec", json::object());
  const std::string driver = str(spec, "driver");
  if (!dns_subdomain(driver))
    return "spec.driver: Invalid value: \"" + driver + "\": must be a DNS subdomain";
  if (str(spec, "nodeName").empty()) return "spec.nodeName: Required value";
  const json pool = spec.value("pool", json());
  if (!pool.is_object()) return "spec.pool: Required value";
  if (str(pool, "name").empty()) return "spec.pool.name: Required value";
  if (!pool.contains("generation") || !pool["generation"].is_number_integer())
    return "spec.pool.generation: Required value";
  if (!pool.contains("resourceSliceCount") || !pool["resourceSliceCount"].is_number_integer() ||
      pool["resourceSliceCount"].get<long long>() < 1)
    return "spec.pool.resourceSliceCount: Invalid value: must be greater than zero";
  const json devices = spec.value("devices", json::array());
  if (!devices.is_array()) return "spec.devices: Invalid value: must be a list";
  if (devices.size() > 128)
    return "spec.devices: Too many: " + std::to_string(devices.size()) +
           ": must have at most 128 items";
  for (size_t i = 0; i < devices.size(); ++i) {
    const std::string at = "spec.devices[" + std::to_string(i) + "]";
    const json& d = devices[i];
    const std::string name = str(d, "name");
    if (!dns_label(name)) return at + ".name: Invalid value: \"" + name + "\": must be a DNS label";
    const json attrs = d.value("attributes", json::object());
    const json caps = d.value("capacity", json::object());
    if (!attrs.is_object() || !caps.is_object()) return at + ": attributes and capacity are maps";
    if (attrs.size() + caps.size() > 32)
      return at + ": Too many: " + std::to_string(attrs.size() + caps.size()) +
             ": must have at most 32 attributes and capacities combined";
    for (const auto& [key, value] : attrs.items()) {
      const std::string field = at + ".attributes[" + key + "]";
      if (!qualified_attribute_name(key))
        return field + ": Invalid value: \"" + key +
               "\": must be a C identifier of at most 32 "
               "characters, optionally prefixed by a DNS subdomain and '/'";
      int kinds = 0;
      for (const char* k : {"string", "int", "bool", "version"})
        if (value.is_object() && value.contains(k)) ++kinds;
      if (kinds != 1) return field + ": Invalid value: exactly one value must be specified";
      if (value.contains("string") &&
          (!value["string"].is_string() || value["string"].get<std::string>().size() > 64))
        return field + ".string: Too long: may not be more than 64 bytes";
      if (value.contains("int") && !value["int"].is_number_integer())
        return field + ".int: Invalid value: must be an integer";
      if (value.contains("bool") && !value["bool"].is_boolean())
        return field + ".bool: Invalid value: must be a boolean";
    }
    for (const auto& [key, value] : caps.items())
      if (!qualified_attribute_name(key))
        return at + ".capacity[" + key + "]: Invalid value: must be a qualified name";
  }
  return "";
}

struct FakeApiServer::Impl {
  std::unique_ptr<httplib::SSLServer> server;
  mutable std::mutex mu;
  std::map<std::string, std::map<std::string, json>> store;  // collection -> name -> object
  long long version = 100;
  long long uid = 0;
  std::vector<RecordedRequest> requests;
  int fail_count = 0, fail_status = 500, drop_count = 0;
  std::string token;

  // REQUIRES: mu held.
  json stamp(json o) {
    o["metadata"]["resourceVersion"] = std::to_string(++version);
    if (!o["metadata"].contains("uid")) o["metadata"]["uid"] = "uid-" + std::to_string(++uid);
    return o;
  }

  void reply(httplib::Response& res, int code, const json& body) {
    res.status = code;
    res.set_content(body.dump(), "application/json");
  }

  void handle(const std::string& method, const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    RecordedRequest rec{method, req.path, {}, {}, req.body};
    for (const auto& [k, v] : req.params) rec.query[k] = v;
    for (const auto& [k, v] : req.headers) {
      std::string name = k;
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      rec.headers[name] = v;
    }
    requests.push_back(rec);

    if (drop_count > 0) {
      --drop_count;
      // Promise a body and close the connection before sending it.
      res.set_content_provider(1000, "application/json",
                               [](size_t, size_t, httplib::DataSink&) { return false; });
      return;
    }
    if (fail_count > 0) {
      --fail_count;
      return reply(res, fail_status, status(fail_status, "InternalError", "injected failure"));
    }
    const bool by_token = req.get_header_value("Authorization") == "Bearer " + token;
    bool by_cert = false;
    if (req.ssl) {
      X509* peer = SSL_get1_peer_certificate(req.ssl);
      by_cert = peer && SSL_get_verify_result(req.ssl) == X509_V_OK;
      X509_free(peer);
    }
    if (!by_token && !by_cert) return reply(res, 401, status(401, "Unauthorized", "Unauthorized"));

    Target t;
    if (!parse_target(req.path, t))
      return reply(res, 404,
                   status(404, "NotFound",
                          "the server could not find the requested "
                          "resource"));
    auto& objects = store[t.collection];

    if (method == "GET" && t.name.empty()) return list(req, res, t, objects);
    if (method == "GET") {
      auto it = objects.find(t.name);
      if (it == objects.end())
        return reply(res, 404,
                     status(404, "NotFound", t.resource + " \"" + t.name + "\" not found"));
      return reply(res, 200, it->second);
    }
    if (method == "DELETE") {
      auto it = objects.find(t.name);
      if (it == objects.end())
        return reply(res, 404,
                     status(404, "NotFound", t.resource + " \"" + t.name + "\" not found"));
      objects.erase(it);
      return reply(res, 200, json{{"kind", "Status"}, {"status", "Success"}});
    }
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return reply(res, 400, status(400, "BadRequest", "the body is not a JSON object"));
    if (method == "PATCH") {
      if (req.get_header_value("Content-Type") != "application/merge-patch+json")
        return reply(res, 415, status(415, "UnsupportedMediaType", "only merge patch is served"));
      auto it = objects.find(t.name);
      if (it == objects.end())
        return reply(res, 404,
                     status(404, "NotFound", t.resource + " \"" + t.name + "\" not found"));
      json patched = it->second;
      merge_patch(patched, body);
      patched["metadata"]["uid"] = it->second["metadata"]["uid"];
      it->second = stamp(patched);
      return reply(res, 200, it->second);
    }
    const std::string name = body.contains("metadata") && body["metadata"].is_object()
                                 ? body["metadata"].value("name", "")
                                 : "";
    if (name.empty())
      return reply(res, 422, status(422, "Invalid", "metadata.name: Required value"));
    if (t.resource == "resourceslices") {
      const std::string why = validate_resource_slice(body);
      if (!why.empty())
        return reply(res, 422,
                     status(422, "Invalid",
                            "ResourceSlice.resource.k8s.io \"" + name + "\" is invalid: " + why));
    }
    if (method == "POST") {
      if (!t.name.empty() || objects.count(name))
        return reply(res, 409,
                     status(409, "AlreadyExists", t.resource + " \"" + name + "\" already exists"));
      body["metadata"].erase("uid");
      objects[name] = stamp(body);
      return reply(res, 201, objects[name]);
    }
    if (method == "PUT") {
      auto it = objects.find(t.name);
      if (it == objects.end() || name != t.name)
        return reply(res, 404,
                     status(404, "NotFound", t.resource + " \"" + t.name + "\" not found"));
      const std::string rv = body["metadata"].value("resourceVersion", "");
      if (rv != it->second["metadata"]["resourceVersion"].get<std::string>())
        return reply(res, 409,
                     status(409, "Conflict",
                            "Operation cannot be fulfilled on " + t.resource + " \"" + name +
                                "\": the object has been modified; please apply your changes to "
                                "the latest version and try again"));
      body["metadata"]["uid"] = it->second["metadata"]["uid"];
      it->second = stamp(body);
      return reply(res, 200, it->second);
    }
    reply(res, 405, status(405, "MethodNotAllowed", method + " is not served"));
  }

  void list(const httplib::Request& req, httplib::Response& res, const Target& t,
            const std::map<std::string, json>& objects) {
    std::map<std::string, std::string> fields;
    if (req.has_param("fieldSelector")) {
      std::string sel = req.get_param_value("fieldSelector");
      size_t pos = 0;
      while (pos <= sel.size()) {
        const size_t comma = std::min(sel.find(',', pos), sel.size());
        const std::string part = sel.substr(pos, comma - pos);
        const size_t eq = part.find('=');
        if (eq == std::string::npos)
          return reply(res, 400, status(400, "BadRequest", "bad fieldSelector " + sel));
        fields[part.substr(0, eq)] = part.substr(eq + 1);
        pos = comma + 1;
      }
    }
    const size_t limit =
        req.has_param("limit") ? std::stoul(req.get_param_value("limit")) : objects.size();
    const std::string after = req.get_param_value("continue");
    json items = json::array();
    std::string next;
    for (const auto& [name, o] : objects) {
      if (!after.empty() && name <= after) continue;
      bool match = true;
      for (const auto& [k, v] : fields) {
        const json::json_pointer p("/" + std::regex_replace(k, std::regex("\\."), "/"));
        match = match && o.contains(p) && o[p].is_string() && o[p].get<std::string>() == v;
      }
      if (!match) continue;
      if (limit > 0 && items.size() == limit) {
        next = items.back()["metadata"]["name"];
        break;
      }
      items.push_back(o);
    }
    json meta = {{"resourceVersion", std::to_string(version)}};
    if (!next.empty()) meta["continue"] = next;
    reply(res, 200, {{"kind", kind_of(t.resource) + "List"}, {"metadata", meta}, {"items", items}});
  }
};

FakeApiServer::FakeApiServer(std::string token)
    : token_(std::move(token)), pki_(make_test_pki()), impl_(std::make_unique<Impl>()) {
  impl_->token = token_;
  const TestPki pki = pki_;
  impl_->server = std::make_unique<httplib::SSLServer>([pki](SSL_CTX& ctx) {
    BIO* cb =
        BIO_new_mem_buf(pki.server_cert_pem.data(), static_cast<int>(pki.server_cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO* kb =
        BIO_new_mem_buf(pki.server_key_pem.data(), static_cast<int>(pki.server_key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    BIO* ab = BIO_new_mem_buf(pki.ca_pem.data(), static_cast<int>(pki.ca_pem.size()));
    X509* ca = PEM_read_bio_X509(ab, nullptr, nullptr, nullptr);
    BIO_free(ab);
    const bool ok = cert && key && ca && SSL_CTX_use_certificate(&ctx, cert) == 1 &&
                    SSL_CTX_use_PrivateKey(&ctx, key) == 1 &&
                    X509_STORE_add_cert(SSL_CTX_get_cert_store(&ctx), ca) == 1;
    // A client certificate is asked for but optional: the bearer token is the other way in.
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr);
    // With peer verification on, OpenSSL refuses to resume a session (libcurl resumes one on
    // each new connection) unless the context has a session id context.
    static const unsigned char sid[] = "hostpass-fake-apiserver";
    SSL_CTX_set_session_id_context(&ctx, sid, sizeof(sid) - 1);
    X509_free(cert);
    X509_free(ca);
    EVP_PKEY_free(key);
    return ok;
  });
  for (const char* m : {"GET", "POST", "PUT", "DELETE", "PATCH"}) {
    const std::string method = m;
    auto h = [this, method](const httplib::Request& req, httplib::Response& res) {
      impl_->handle(method, req, res);
    };
    if (method == "GET") impl_->server->Get(".*", h);
    if (method == "POST") impl_->server->Post(".*", h);
    if (method == "PUT") impl_->server->Put(".*", h);
    if (method == "DELETE") impl_->server->Delete(".*", h);
    if (method == "PATCH") impl_->server->Patch(".*", h);
  }
  port_ = impl_->server->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("fake API server: cannot bind 127.0.0.1");
  thread_ = std::thread([this] { impl_->server->listen_after_bind(); });
}

FakeApiServer::~FakeApiServer() {
  impl_->server->stop();
  if (thread_.joinable()) thread_.join();
}

std::string FakeApiServer::url() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

json FakeApiServer::put_object(const std::string& collection, json object) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const std::string name = object["metadata"]["name"];
  impl_->store[collection][name] = impl_->stamp(std::move(object));
  return impl_->store[collection][name];
}

json FakeApiServer::object(const std::string& collection, const std::string& name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto c = impl_->store.find(collection);
  if (c == impl_->store.end()) return nullptr;
  auto o = c->second.find(name);
  return o == c->second.end() ? json(nullptr) : o->second;
}

size_t FakeApiServer::count(const std::string& collection) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto c = impl_->store.find(collection);
  return c == impl_->store.end() ? 0 : c->second.size();
}

std::vector<RecordedRequest> FakeApiServer::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->requests;
}

void FakeApiServer::clear_requests() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->requests.clear();
}

void FakeApiServer::fail_next(int n, int status) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->fail_count = n;
  impl_->fail_status = status;
}

void FakeApiServer::drop_next(int n) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->drop_count = n;
}

}  // namespace hostpass::testing
