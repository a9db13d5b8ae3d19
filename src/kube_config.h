// kube_config.h — where the Kubernetes API client finds its server and credentials.
//
// Two sources, as client-go has them:
//   in-cluster   a pod's service account: the token, CA and namespace files under
//                /var/run/secrets/kubernetes.io/serviceaccount, and the server from the
//                KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT variables the kubelet sets.
//   kubeconfig   a kubeconfig file (--kubeconfig FILE): its current-context names a cluster
//                (server, CA, insecure-skip-tls-verify) and a user (token, tokenFile, client
//                certificate and key, inline or as files relative to the kubeconfig's directory).
// Precedence is the caller's: an explicit --kubeconfig wins, in-cluster otherwise
// (docs/kubernetes-client.md). Files are read through Host so that --root applies; the
// environment is a parameter so that tests need not set variables of the test process.
//
// Not supported: exec and auth-provider credential plugins (InvalidInput says so), and the
// KUBECONFIG variable's list of files merged together.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "host.h"
#include "result.h"

namespace hostpass {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct KubeConfig {
  std::string server;                     // "https://10.96.0.1:443", no trailing slash
  std::string ca_pem;                     // PEM of the CA(s) the server's certificate must chain to
  bool insecure_skip_tls_verify = false;  // only from a kubeconfig that says so
  std::string token;                      // bearer token; "" when a client certificate is used
  std::string client_cert_pem;            // client certificate and key, both or neither
  std::string client_key_pem;
  std::string ns;      // the service account's namespace, or the context's; "default" otherwise
  std::string source;  // "in-cluster" or the kubeconfig path, for messages
};

// The environment variables in-cluster configuration reads (KUBERNETES_SERVICE_HOST/_PORT).
using Environment = std::map<std::string, std::string>;

// A pod's service-account configuration. NotFound when not running in a pod (no
// KUBERNETES_SERVICE_HOST, or no token file); an IPv6 host is put in brackets.
Result<KubeConfig> in_cluster_config(Host& host, const Environment& env);

// The current context of the kubeconfig at `path` (read through host). InvalidInput, naming
// the file and the entry, for a missing context, cluster or user, no server, bad base64, no
// credentials or an exec / auth-provider plugin.
Result<KubeConfig> load_kubeconfig(Host& host, std::string_view path);
// The same from a kubeconfig's text; `dir` resolves relative file names in it.
Result<KubeConfig> parse_kubeconfig(Host& host, std::string_view text, std::string_view dir,
                                    std::string_view source);

// Standard base64 (RFC 4648, with padding; whitespace ignored). InvalidInput when malformed.
Result<std::string> base64_decode(std::string_view text);

}  // namespace hostpass
