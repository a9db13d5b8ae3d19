// kube_config on fixture roots: in-cluster from service-account files and the environment,
// kubeconfig contexts with inline and file credentials, and each malformed kubeconfig refused.
#include "kube_config.h"

#include <gtest/gtest.h>

#include "fixture_tree.h"
#include "test_dirs.h"

namespace hostpass {
namespace {

// "error: <message>" for an error, so that EXPECTs print what went wrong.
std::string error_of(const Result<KubeConfig>& r) {
  return r.ok() ? "no error" : "error: " + r.error().message;
}

class KubeConfigTest : public ::testing::Test {
 protected:
  KubeConfigTest() : tree_(dir_.path() + "/root"), host_(tree_.root()) {}
  void write_service_account() {
    tree_.write(std::string(kServiceAccountDir) + "/token", "sa-token\n");
    tree_.write(std::string(kServiceAccountDir) + "/ca.crt", "CA PEM\n");
    tree_.write(std::string(kServiceAccountDir) + "/namespace", "hostpass-system");
  }
  testing::ScratchDir dir_;
  testing::FixtureTree tree_;
  RealHost host_;
};

TEST(Base64Test, DecodesPaddedDataAndRefusesGarbage) {
  EXPECT_EQ(base64_decode("aG9zdHBhc3M=").value(), "hostpass");
  EXPECT_EQ(base64_decode("aG9z\ndHBh").value(), "hostpa");
  EXPECT_EQ(base64_decode("").value(), "");
  EXPECT_FALSE(base64_decode("aG9z*HBh").ok());
  EXPECT_FALSE(base64_decode("aG9zd").ok());
  EXPECT_FALSE(base64_decode("aG==dHBh").ok());
}

TEST_F(KubeConfigTest, InClusterReadsTheServiceAccountUnderTheRoot) {
  write_service_account();
  auto c = in_cluster_config(
      host_, {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  ASSERT_TRUE(c.ok()) << error_of(c);
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token, "sa-token");
  EXPECT_EQ(c->ca_pem, "CA PEM\n");
  EXPECT_EQ(c->ns, "hostpass-system");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
}

TEST_F(KubeConfigTest, InClusterPutsAnIpv6HostInBrackets) {
  write_service_account();
  auto c = in_cluster_config(
      host_, {{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}});
  ASSERT_TRUE(c.ok()) << error_of(c);
  EXPECT_EQ(c->server, "https://[fd00::1]:6443");
}

TEST_F(KubeConfigTest, InClusterOutsideAPodIsNotFound) {
  write_service_account();
  auto c = in_cluster_config(host_, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::NotFound);
  EXPECT_NE(c.error().message.find("KUBERNETES_SERVICE_HOST"), std::string::npos);
  auto no_token = in_cluster_config(
      host_, {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  ASSERT_TRUE(no_token.ok());  // the files are there; now remove the token
  ASSERT_TRUE(host_.remove_file(std::string(kServiceAccountDir) + "/token").ok());
  auto c2 = in_cluster_config(
      host_, {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  ASSERT_FALSE(c2.ok());
  EXPECT_EQ(c2.error().kind, ErrorKind::NotFound);
  EXPECT_NE(c2.error().message.find("token"), std::string::npos);
}

constexpr const char* kInlineKubeconfig = R"(apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: other
  context: {cluster: nowhere, user: nobody}
- name: dev
  context: {cluster: lab, user: admin, namespace: tools}
clusters:
- name: lab
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: Q0EgUEVN
users:
- name: admin
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
)";

TEST_F(KubeConfigTest, KubeconfigWithInlineClientCertificate) {
  tree_.write("/home/u/.kube/config", kInlineKubeconfig);
  auto c = load_kubeconfig(host_, "/home/u/.kube/config");
  ASSERT_TRUE(c.ok()) << error_of(c);
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");
  EXPECT_EQ(c->ca_pem, "CA PEM");
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_EQ(c->token, "");
  EXPECT_EQ(c->ns, "tools");
  EXPECT_EQ(c->source, "/home/u/.kube/config");
}

TEST_F(KubeConfigTest, KubeconfigFilesAreRelativeToItsDirectory) {
  tree_.write("/cfg/kc.yaml", R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://api:6443", certificate-authority: pki/ca.pem,
            insecure-skip-tls-verify: true}}]
users: [{name: u, user: {tokenFile: /abs/token}}]
)");
  tree_.write("/cfg/pki/ca.pem", "FILE CA");
  tree_.write("/abs/token", "  file-token \n");
  auto c = load_kubeconfig(host_, "/cfg/kc.yaml");
  ASSERT_TRUE(c.ok()) << error_of(c);
  EXPECT_EQ(c->ca_pem, "FILE CA");
  EXPECT_EQ(c->token, "file-token");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->ns, "default");
}

// Each malformed kubeconfig: InvalidInput whose message names what is wrong.
TEST_F(KubeConfigTest, MalformedKubeconfigsAreInvalidInputNamingTheProblem) {
  const std::string head =
      "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n";
  const std::string cluster = "clusters: [{name: k, cluster: {server: \"https://api\"}}]\n";
  const std::string user = "users: [{name: u, user: {token: t}}]\n";
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"contexts: []\n" + cluster + user, "no current-context"},
      {"current-context: x\n" + cluster + user, "\"x\" is not in contexts"},
      {head + user, "cluster \"k\", which is not in clusters"},
      {head + cluster, "user \"u\", which is not in users"},
      {head + "clusters: [{name: k, cluster: {}}]\n" + user, "has no server"},
      {head + "clusters: [{name: k, cluster: {server: s, certificate-authority-data: '!!'}}]\n" +
           user,
       "certificate-authority-data: not base64"},
      {head + cluster + "users: [{name: u, user: {}}]\n", "has no credentials"},
      {head + cluster + "users: [{name: u, user: {exec: {command: aws}}}]\n",
       "exec credential plugin, which hostpass does not support"},
      {head + cluster + "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n",
       "auth-provider credential plugin"},
      {head + cluster + "users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]\n",
       "certificate but no key"},
      {"- a list\n", "not a kubeconfig"},
  };
  for (const Case& k : cases) {
    auto c = parse_kubeconfig(host_, k.text, "/cfg", "kc");
    ASSERT_FALSE(c.ok()) << k.expect;
    EXPECT_EQ(c.error().kind, ErrorKind::InvalidInput) << k.expect;
    EXPECT_NE(c.error().message.find(k.expect), std::string::npos) << error_of(c);
  }
}

TEST_F(KubeConfigTest, MissingKubeconfigFileIsNotFound) {
  auto c = load_kubeconfig(host_, "/nowhere/config");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::NotFound);
}

}  // namespace
}  // namespace hostpass
