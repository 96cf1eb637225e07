// Kubeconfig loading: contexts, KUBECONFIG merge order, every auth form, and an error naming the
// field for each bad or missing one.
#include "server/remediator/adapters/kube/kubeconfig.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/remediator/kube/kube_test_util.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kube {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

const char kCaPem[] = "-----BEGIN CERTIFICATE-----\nQ0EK\n-----END CERTIFICATE-----\n";
const char kCertPem[] = "-----BEGIN CERTIFICATE-----\nQ0VSVAo=\n-----END CERTIFICATE-----\n";
const char kKeyPem[] = "-----BEGIN PRIVATE KEY-----\nS0VZCg==\n-----END PRIVATE KEY-----\n";

std::string Config(const std::string& users, const std::string& current = "dev",
                   const std::string& cluster_extra = "") {
  return absl::StrCat(R"(apiVersion: v1
kind: Config
current-context: )",
                      current, R"(
clusters:
- name: dev-cluster
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: )",
                      testing::B64(kCaPem), "\n", cluster_extra, R"(
- name: other-cluster
  cluster:
    server: http://10.0.0.1:8080
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: demo}
- name: other
  context: {cluster: other-cluster, user: dev-user}
users:
)",
                      users);
}

absl::StatusOr<KubeConfig> Resolve(const std::string& text, const std::string& context = "",
                                   const std::string& path = "/etc/kube/config") {
  return ResolveKubeconfig({{path, text}}, context);
}

TEST(KubeconfigTest, CurrentContextClusterUserNamespace) {
  auto config = Resolve(Config("- name: dev-user\n  user: {token: abc123}\n"));
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->context_name, "dev");
  EXPECT_EQ(config->cluster_name, "dev-cluster");
  EXPECT_EQ(config->user_name, "dev-user");
  EXPECT_EQ(config->namespace_name, "demo");
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->token, "abc123");
  EXPECT_FALSE(config->insecure_skip_tls_verify);
}

TEST(KubeconfigTest, ContextOverrideAndDefaultNamespace) {
  auto config = Resolve(Config("- name: dev-user\n  user: {token: abc}\n"), "other");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->context_name, "other");
  EXPECT_EQ(config->server, "http://10.0.0.1:8080");
  EXPECT_EQ(config->namespace_name, "default");
  EXPECT_TRUE(config->ca_pem.empty());
}

TEST(KubeconfigTest, ClientCertificateDataAndFilesRelativeToKubeconfig) {
  testing::TempDir dir;
  testing::WriteTextFile(dir.File("client.crt"), kCertPem);
  testing::WriteTextFile(dir.File("client.key"), kKeyPem);
  testing::WriteTextFile(dir.File("ca.crt"), kCaPem);
  testing::WriteTextFile(dir.File("token.txt"), "file-token\n");
  auto from_data = Resolve(Config(absl::StrCat(
      "- name: dev-user\n  user:\n    client-certificate-data: ", testing::B64(kCertPem),
      "\n    client-key-data: ", testing::B64(kKeyPem), "\n")));
  ASSERT_THAT(from_data, IsOk());
  EXPECT_EQ(from_data->client_cert_pem, kCertPem);
  EXPECT_EQ(from_data->client_key_pem, kKeyPem);

  const std::string files = R"(apiVersion: v1
clusters: [{name: c, cluster: {server: "https://h:1", certificate-authority: ca.crt}}]
users: [{name: u, user: {client-certificate: client.crt, client-key: client.key, tokenFile: token.txt}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
)";
  auto from_files = Resolve(files, "", dir.File("config"));
  ASSERT_THAT(from_files, IsOk());
  EXPECT_EQ(from_files->ca_pem, kCaPem);
  EXPECT_EQ(from_files->client_cert_pem, kCertPem);
  EXPECT_EQ(from_files->client_key_pem, kKeyPem);
  EXPECT_EQ(from_files->token_file, dir.File("token.txt"));
}

TEST(KubeconfigTest, ExecPluginBasicAuthAndInsecure) {
  auto config = Resolve(R"(
clusters: [{name: c, cluster: {server: "https://h:1", insecure-skip-tls-verify: true, tls-server-name: kubernetes}}]
users:
- name: u
  user:
    username: admin
    password: pw
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [--cluster, prod]
      env: [{name: REGION, value: eu-1}]
      interactiveMode: Never
      provideClusterInfo: true
      installHint: install get-token
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
)",
                        "", "/home/me/.kube/config");
  ASSERT_THAT(config, IsOk());
  EXPECT_TRUE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->tls_server_name, "kubernetes");
  EXPECT_EQ(config->username, "admin");
  EXPECT_EQ(config->password, "pw");
  ASSERT_TRUE(config->exec.has_value());
  EXPECT_EQ(config->exec->command, "/home/me/.kube/./bin/get-token");
  EXPECT_EQ(config->exec->args, (std::vector<std::string>{"--cluster", "prod"}));
  ASSERT_EQ(config->exec->env.size(), 1u);
  EXPECT_EQ(config->exec->env[0].first, "REGION");
  EXPECT_EQ(config->exec->env[0].second, "eu-1");
  EXPECT_TRUE(config->exec->provide_cluster_info);
  EXPECT_EQ(config->exec->interactive_mode, "Never");
}

TEST(KubeconfigTest, KubeconfigEnvMergeFirstWins) {
  testing::TempDir dir;
  // a: current-context a-ctx, cluster "shared" -> https://a:1; b: overrides nothing already set.
  testing::WriteTextFile(dir.File("a"), R"(
current-context: a-ctx
clusters: [{name: shared, cluster: {server: "https://a:1"}}]
contexts: [{name: a-ctx, context: {cluster: shared, user: ua}}]
users: [{name: ua, user: {token: ta}}]
)");
  testing::WriteTextFile(dir.File("b"), R"(
current-context: b-ctx
clusters:
- {name: shared, cluster: {server: "https://b:1"}}
- {name: only-b, cluster: {server: "https://b:2"}}
contexts: [{name: b-ctx, context: {cluster: only-b, user: ub, namespace: bns}}]
users: [{name: ub, user: {token: tb}}]
)");
  KubeconfigOptions options;
  options.kubeconfig_env = dir.File("missing") + ":" + dir.File("a") + ":" + dir.File("b");
  auto config = LoadKubeconfig(options);
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->context_name, "a-ctx");
  EXPECT_EQ(config->server, "https://a:1");
  EXPECT_EQ(config->token, "ta");

  options.context = "b-ctx";  // defined only in b, resolves across files
  config = LoadKubeconfig(options);
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->server, "https://b:2");
  EXPECT_EQ(config->namespace_name, "bns");

  // Reversed order: b's current-context and b's "shared" win.
  options.context = "";
  options.kubeconfig_env = dir.File("b") + ":" + dir.File("a");
  config = LoadKubeconfig(options);
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->context_name, "b-ctx");
  options.context = "a-ctx";
  config = LoadKubeconfig(options);
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->server, "https://b:1");

  // --kubeconfig wins over KUBECONFIG.
  options.explicit_path = dir.File("b");
  options.context = "";
  config = LoadKubeconfig(options);
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->source, dir.File("b"));
}

TEST(KubeconfigTest, MissingFiles) {
  testing::TempDir dir;
  KubeconfigOptions options;
  options.kubeconfig_env = dir.File("nope1") + ":" + dir.File("nope2");
  EXPECT_THAT(LoadKubeconfig(options), StatusIs(absl::StatusCode::kNotFound));
  options.kubeconfig_env = "";
  options.home = dir.path();
  EXPECT_THAT(LoadKubeconfig(options),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(".kube/config")));
  options.explicit_path = dir.File("nope3");
  EXPECT_THAT(LoadKubeconfig(options), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope3")));
}

struct BadCase {
  std::string name;
  std::string text;
  std::string context;
  std::string expected;
};

class KubeconfigErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(KubeconfigErrorTest, NamesTheField) {
  const BadCase& c = GetParam();
  auto config = Resolve(c.text, c.context, "/x");
  EXPECT_THAT(config, StatusIs(absl::StatusCode::kInvalidArgument,
                               AllOf(HasSubstr("kubeconfig /x"), HasSubstr(c.expected))))
      << c.name;
  // Credential values never appear in messages.
  EXPECT_THAT(std::string(config.status().message()), Not(HasSubstr("s3cr3t")));
}

const char kBase[] = R"(
clusters: [{name: c, cluster: {server: "https://h:1"}}]
contexts: [{name: app, context: {cluster: c, user: u}}]
current-context: app
)";

std::string WithUser(const std::string& user) {
  return absl::StrCat(kBase, "users:\n- name: u\n  user:\n", user);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, KubeconfigErrorTest,
    ::testing::Values(
        BadCase{"syntax", "clusters: [", "", "line "},
        BadCase{"no current context", "clusters: [{name: c, cluster: {server: \"https://h\"}}]\n",
                "", "current-context is not set"},
        BadCase{"unknown context", kBase, "nope", "context \"nope\" not found"},
        BadCase{"missing cluster",
                "contexts: [{name: app, context: {cluster: c, user: u}}]\ncurrent-context: app\n",
                "", "context \"app\": cluster \"c\" not found"},
        BadCase{"missing user", kBase, "", "context \"app\": user \"u\" not found"},
        BadCase{"context without cluster",
                "contexts: [{name: app, context: {user: u}}]\ncurrent-context: app\n", "",
                "contexts[0].context.cluster: required"},
        BadCase{"cluster without server",
                "clusters: [{name: c, cluster: {}}]\ncontexts: [{name: app, context: {cluster: "
                "c}}]\ncurrent-context: app\n",
                "", "clusters[0].cluster.server: required"},
        BadCase{"server scheme",
                "clusters: [{name: c, cluster: {server: \"h:1\"}}]\ncontexts: [{name: app, "
                "context: {cluster: c}}]\ncurrent-context: app\n",
                "", "must start with https://"},
        BadCase{"unnamed cluster", "clusters: [{cluster: {server: \"https://h\"}}]\n", "",
                "clusters[0].name: required"},
        BadCase{"bad ca base64",
                "clusters: [{name: c, cluster: {server: \"https://h\", "
                "certificate-authority-data: \"%%%\"}}]\ncontexts: [{name: app, context: "
                "{cluster: c}}]\ncurrent-context: app\n",
                "", "clusters[0].cluster.certificate-authority-data: not valid base64"},
        BadCase{"ca file missing",
                "clusters: [{name: c, cluster: {server: \"https://h\", certificate-authority: "
                "nope.crt}}]\ncontexts: [{name: app, context: {cluster: c}}]\ncurrent-context: "
                "app\n",
                "", "clusters[0].cluster.certificate-authority: cannot read \"/nope.crt\""},
        BadCase{"insecure not bool",
                "clusters: [{name: c, cluster: {server: \"https://h\", insecure-skip-tls-verify: "
                "maybe}}]\ncontexts: [{name: app, context: {cluster: c}}]\ncurrent-context: "
                "app\n",
                "", "clusters[0].cluster.insecure-skip-tls-verify: must be true or false"},
        BadCase{
            "cert without key",
            WithUser(absl::StrCat("    client-certificate-data: ", testing::B64(kCertPem), "\n")),
            "", "users[0].user: client-certificate(-data) given without client-key"},
        BadCase{"key data not pem", WithUser("    client-key-data: czNjcjN0\n"), "",
                "users[0].user.client-key-data: does not decode to PEM text"},
        BadCase{"exec apiVersion",
                WithUser("    exec: {apiVersion: client.authentication.k8s.io/v9, command: x, "
                         "interactiveMode: Never}\n"),
                "",
                "users[0].user.exec.apiVersion \"client.authentication.k8s.io/v9\" unsupported"},
        BadCase{"exec apiVersion missing", WithUser("    exec: {command: x}\n"), "",
                "users[0].user.exec.apiVersion: required"},
        BadCase{"exec command missing",
                WithUser("    exec: {apiVersion: client.authentication.k8s.io/v1, "
                         "interactiveMode: Never}\n"),
                "", "users[0].user.exec.command: required"},
        BadCase{"exec interactiveMode v1",
                WithUser("    exec: {apiVersion: client.authentication.k8s.io/v1, command: x}\n"),
                "", "users[0].user.exec.interactiveMode: required"},
        BadCase{"exec env without name",
                WithUser("    exec: {apiVersion: client.authentication.k8s.io/v1, command: x, "
                         "interactiveMode: Never, env: [{value: s3cr3t}]}\n"),
                "", "users[0].user.exec.env[0].name: required"},
        BadCase{"auth-provider", WithUser("    auth-provider: {name: gcp}\n"), "",
                "users[0].user.auth-provider: unsupported"},
        BadCase{"token not a string", WithUser("    token: [s3cr3t]\n"), "",
                "users[0].user.token: must be a string"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      std::string name;
      for (char c : info.param.name) name.push_back(std::isalnum(c) ? c : '_');
      return name;
    });

}  // namespace
}  // namespace remediator::kube
