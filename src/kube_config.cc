// kube_config.cc — in-cluster and kubeconfig configuration; see kube_config.h.
#include "kube_config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>

namespace hostpass {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// A relative file name in a kubeconfig means relative to the kubeconfig's directory.
std::string resolve(std::string_view dir, const std::string& file) {
  if (!file.empty() && file[0] == '/') return file;
  std::string d(dir);
  if (d.empty()) d = ".";
  return d + "/" + file;
}

// The scalar at node[key], or "" when absent or not a scalar.
std::string scalar(const YAML::Node& node, const char* key) {
  const YAML::Node v = node[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

// The entry of a kubeconfig list (clusters, users, contexts) named `name`: its inner map
// (entry[inner]), or an undefined node.
YAML::Node named_entry(const YAML::Node& root, const char* list, const std::string& name,
                       const char* inner) {
  const YAML::Node entries = root[list];
  if (entries && entries.IsSequence())
    for (const YAML::Node& e : entries)
      if (e.IsMap() && scalar(e, "name") == name) return e[inner];
  return YAML::Node(YAML::NodeType::Undefined);
}

// Inline base64 data (key-data) or a file (key), whichever the entry has; "" when neither.
Result<std::string> data_or_file(Host& host, const YAML::Node& entry, const char* data_key,
                                 const char* file_key, std::string_view dir,
                                 const std::string& where) {
  if (std::string data = scalar(entry, data_key); !data.empty()) {
    auto decoded = base64_decode(data);
    if (!decoded.ok()) return decoded.error().wrap(where + ": " + data_key);
    return std::move(decoded).value();
  }
  if (std::string file = scalar(entry, file_key); !file.empty()) {
    auto text = host.read_file(resolve(dir, file));
    if (!text.ok()) return text.error().wrap(where + ": " + file_key);
    return std::move(text).value();
  }
  return std::string();
}

}  // namespace

Result<std::string> base64_decode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0, chars = 0, pad = 0;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else if (c == '=') {
      ++pad;
      ++chars;
      continue;
    } else
      return invalid_input("not base64: unexpected character '" + std::string(1, c) + "'");
    if (pad > 0) return invalid_input("not base64: data after '=' padding");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++chars;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (chars % 4 != 0 || pad > 2) return invalid_input("not base64: length is not a multiple of 4");
  return out;
}

Result<KubeConfig> in_cluster_config(Host& host, const Environment& env) {
  auto var = [&](const char* name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  std::string h = var("KUBERNETES_SERVICE_HOST"), port = var("KUBERNETES_SERVICE_PORT");
  if (h.empty() || port.empty())
    return not_found(
        "not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
        "are not set (give --kubeconfig)");
  const std::string dir = kServiceAccountDir;
  KubeConfig config;
  config.source = "in-cluster";
  config.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  auto token = host.read_file(dir + "/token");
  if (!token.ok()) return token.error().wrap("in-cluster service account token");
  config.token = trim(*token);
  if (config.token.empty()) return invalid_input("in-cluster service account token is empty");
  auto ca = host.read_file(dir + "/ca.crt");
  if (!ca.ok()) return ca.error().wrap("in-cluster service account CA");
  config.ca_pem = *ca;
  auto ns = host.read_file(dir + "/namespace");
  config.ns = ns.ok() ? trim(*ns) : "";
  if (config.ns.empty()) config.ns = "default";
  return config;
}

Result<KubeConfig> load_kubeconfig(Host& host, std::string_view path) {
  auto text = host.read_file(path);
  if (!text.ok()) return text.error().wrap("kubeconfig");
  std::string p(path);
  size_t slash = p.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
  return parse_kubeconfig(host, *text, dir, p);
}

Result<KubeConfig> parse_kubeconfig(Host& host, std::string_view text, std::string_view dir,
                                    std::string_view source) {
  const std::string src(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return invalid_input(src + ": not YAML: " + e.what());
  }
  if (!root.IsMap()) return invalid_input(src + ": not a kubeconfig (not a YAML map)");

  KubeConfig config;
  config.source = src;
  const std::string context_name = scalar(root, "current-context");
  if (context_name.empty()) return invalid_input(src + ": no current-context");
  const YAML::Node context = named_entry(root, "contexts", context_name, "context");
  if (!context || !context.IsMap())
    return invalid_input(src + ": current-context \"" + context_name + "\" is not in contexts");
  const std::string cluster_name = scalar(context, "cluster");
  const std::string user_name = scalar(context, "user");
  config.ns = scalar(context, "namespace");
  if (config.ns.empty()) config.ns = "default";

  const YAML::Node cluster = named_entry(root, "clusters", cluster_name, "cluster");
  if (!cluster || !cluster.IsMap())
    return invalid_input(src + ": context \"" + context_name + "\" names cluster \"" +
                         cluster_name + "\", which is not in clusters");
  const std::string cluster_where = src + ": cluster \"" + cluster_name + "\"";
  config.server = scalar(cluster, "server");
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  if (config.server.empty()) return invalid_input(cluster_where + " has no server");
  config.insecure_skip_tls_verify = scalar(cluster, "insecure-skip-tls-verify") == "true";
  auto ca = data_or_file(host, cluster, "certificate-authority-data", "certificate-authority", dir,
                         cluster_where);
  if (!ca.ok()) return ca.error();
  config.ca_pem = *ca;

  const YAML::Node user = named_entry(root, "users", user_name, "user");
  if (!user || !user.IsMap())
    return invalid_input(src + ": context \"" + context_name + "\" names user \"" + user_name +
                         "\", which is not in users");
  const std::string user_where = src + ": user \"" + user_name + "\"";
  if (user["exec"] || user["auth-provider"])
    return invalid_input(user_where + " uses an " + (user["exec"] ? "exec" : "auth-provider") +
                         " credential plugin, which hostpass does not support (use a token, "
                         "tokenFile or client certificate)");
  config.token = scalar(user, "token");
  if (config.token.empty()) {
    if (std::string file = scalar(user, "tokenFile"); !file.empty()) {
      auto token = host.read_file(resolve(dir, file));
      if (!token.ok()) return token.error().wrap(user_where + ": tokenFile");
      config.token = trim(*token);
    }
  }
  auto cert =
      data_or_file(host, user, "client-certificate-data", "client-certificate", dir, user_where);
  if (!cert.ok()) return cert.error();
  auto key = data_or_file(host, user, "client-key-data", "client-key", dir, user_where);
  if (!key.ok()) return key.error();
  config.client_cert_pem = *cert;
  config.client_key_pem = *key;
  if (config.client_cert_pem.empty() != config.client_key_pem.empty())
    return invalid_input(
        user_where + " has a client " +
        (config.client_cert_pem.empty() ? "key but no certificate" : "certificate but no key"));
  if (config.token.empty() && config.client_cert_pem.empty())
    return invalid_input(user_where +
                         " has no credentials (token, tokenFile or client certificate and key)");
  return config;
}

}  // namespace hostpass
