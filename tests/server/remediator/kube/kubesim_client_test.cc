// KubeApiCluster against an in-process kubesim: HTTPS with a CA and a client certificate, bearer
// tokens, tokenFile, an exec credential plugin (cached until expiry on an injected clock), and
// get / list / logs / patch (3 types) / apply / dry-run / rollout status / rollback with their
// real effects on the simulated cluster.
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/time_util.h"
#include "server/kubesim/kubesim.h"
#include "server/remediator/adapters/kube/kube_api_cluster.h"
#include "tests/server/remediator/kube/kube_test_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kube {
namespace {

using ::remediator::kubesim::KubeSim;
using ::remediator::kubesim::KubeSimOptions;
using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kWorld[] = R"(
namespaces: [app]
images:
- name: nginx:1.27
  workingSet: 12Mi
  startupSeconds: 1
  serves: [{port: 80}]
  startLogs: ["nginx 1.27 line 1", "nginx 1.27 line 2", "nginx 1.27 start worker processes"]
- name: nginx:1.28
  workingSet: 12Mi
  startupSeconds: 1
  serves: [{port: 80}]
  startLogs: ["nginx 1.28 start worker processes"]
)";

std::string Deployment(const std::string& name, const std::string& image,
                       const std::string& extra_spec = "") {
  return absl::StrCat("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ", name,
                      ", namespace: app}\nspec:\n  replicas: 1\n", extra_spec,
                      "  selector: {matchLabels: {app: ", name,
                      "}}\n  template:\n    metadata: {labels: {app: ", name,
                      "}}\n    spec:\n      containers:\n      - name: main\n        image: ",
                      image, "\n        resources: {limits: {memory: 64Mi}}\n");
}

std::unique_ptr<KubeSim> StartSim(KubeSimOptions options = {}) {
  options.world_yaml = kWorld;
  options.manual_clock = true;
  auto sim = KubeSim::Start(options);
  EXPECT_THAT(sim, IsOk());
  return sim.ok() ? *std::move(sim) : nullptr;
}

std::unique_ptr<KubeApiCluster> Connect(const KubeSim& sim, const testing::TempDir& dir,
                                        Clock& clock) {
  const std::string path = dir.File("kubeconfig");
  EXPECT_THAT(sim.WriteKubeconfig(path, "app"), IsOk());
  KubeconfigOptions options;
  options.explicit_path = path;
  auto cluster = KubeApiCluster::FromKubeconfig(options, clock);
  EXPECT_THAT(cluster, IsOk());
  return cluster.ok() ? *std::move(cluster) : nullptr;
}

const KubeRef kWeb{"apps/v1", "Deployment", "app", "web"};

KubeListOptions Selector(const std::string& label_selector) {
  KubeListOptions options;
  options.label_selector = label_selector;
  return options;
}

PodLogOptions Logs(const std::string& container, bool previous = false,
                   std::optional<int64_t> tail_lines = std::nullopt) {
  PodLogOptions options;
  options.container = container;
  options.previous = previous;
  options.tail_lines = tail_lines;
  return options;
}

WriteOptions DryRun() {
  WriteOptions options;
  options.dry_run = true;
  return options;
}

ApplyOptions ApplyAs(const std::string& manager, bool force = false, bool dry_run = false) {
  ApplyOptions options;
  options.field_manager = manager;
  options.force = force;
  options.dry_run = dry_run;
  return options;
}

RollbackOptions RollbackTo(int64_t revision, bool dry_run = false) {
  RollbackOptions options;
  options.to_revision = revision;
  options.dry_run = dry_run;
  return options;
}

// ---------------------------------------------------------------------------------------------
// Transport security and credentials.

class KubeSimTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(testing::MakeTestPki(dir_.path())); }
  testing::TempDir dir_;
  remediator::testing::FakeClock clock_;
};

TEST_F(KubeSimTlsTest, HttpsWithCaAndClientCertificate) {
  KubeSimOptions options;
  options.tls_cert_file = dir_.File("server.crt");
  options.tls_key_file = dir_.File("server.key");
  options.client_ca_file = dir_.File("ca.crt");
  options.tls_ca_file = dir_.File("ca.crt");
  options.kubeconfig_client_cert_file = dir_.File("client.crt");
  options.kubeconfig_client_key_file = dir_.File("client.key");
  auto sim = StartSim(options);
  ASSERT_NE(sim, nullptr);
  ASSERT_THAT(sim->Apply(Deployment("web", "nginx:1.27")), IsOk());
  auto cluster = Connect(*sim, dir_, clock_);
  ASSERT_NE(cluster, nullptr);
  EXPECT_THAT(cluster->config().server, HasSubstr("https://127.0.0.1:"));
  EXPECT_FALSE(cluster->config().client_cert_pem.empty());
  auto web = cluster->Get(kWeb);
  ASSERT_THAT(web, IsOk());
  EXPECT_EQ((*web)["metadata"]["name"], "web");
  // Connection reuse: many sequential requests through the handle pool keep working.
  for (int i = 0; i < 20; ++i) ASSERT_THAT(cluster->Get(kWeb), IsOk());

  // Without the client certificate the server refuses the TLS handshake.
  KubeConfig no_cert = cluster->config();
  no_cert.client_cert_pem.clear();
  no_cert.client_key_pem.clear();
  auto anonymous = KubeApiCluster::Create(no_cert, clock_);
  ASSERT_THAT(anonymous, IsOk());
  EXPECT_THAT((*anonymous)->Get(kWeb), StatusIs(absl::StatusCode::kUnavailable));

  // A CA that did not sign the server certificate: verification fails...
  KubeConfig wrong_ca = cluster->config();
  wrong_ca.ca_pem = testing::ReadTextFile(dir_.File("other-ca.crt"));
  auto untrusted = KubeApiCluster::Create(wrong_ca, clock_);
  ASSERT_THAT(untrusted, IsOk());
  EXPECT_THAT((*untrusted)->Get(kWeb), StatusIs(absl::StatusCode::kUnavailable));
  // ...unless verification is skipped.
  KubeConfig insecure = wrong_ca;
  insecure.ca_pem.clear();
  insecure.insecure_skip_tls_verify = true;
  auto skipping = KubeApiCluster::Create(insecure, clock_);
  ASSERT_THAT(skipping, IsOk());
  EXPECT_THAT((*skipping)->Get(kWeb), IsOk());

  // tls-server-name: connect to 127.0.0.1 but verify the name "kubernetes" (in the SAN).
  KubeConfig named = cluster->config();
  named.tls_server_name = "kubernetes";
  auto by_name = KubeApiCluster::Create(named, clock_);
  ASSERT_THAT(by_name, IsOk());
  EXPECT_THAT((*by_name)->Get(kWeb), IsOk());
  named.tls_server_name = "not-in-the-certificate";
  auto wrong_name = KubeApiCluster::Create(named, clock_);
  ASSERT_THAT(wrong_name, IsOk());
  EXPECT_THAT((*wrong_name)->Get(kWeb), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(KubeSimTlsTest, ConcurrentRequestsShareTheClient) {
  KubeSimOptions options;
  options.tls_cert_file = dir_.File("server.crt");
  options.tls_key_file = dir_.File("server.key");
  options.tls_ca_file = dir_.File("ca.crt");
  options.token = "concurrent-token";
  auto sim = StartSim(options);
  ASSERT_NE(sim, nullptr);
  ASSERT_THAT(sim->Apply(Deployment("web", "nginx:1.27")), IsOk());
  auto cluster = Connect(*sim, dir_, clock_);
  ASSERT_NE(cluster, nullptr);
  {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 50; ++i) ASSERT_THAT(cluster->Get(kWeb), IsOk());
    std::cout << "50 sequential HTTPS GETs: "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count()
              << " ms\n";
  }
  const int64_t before = sim->request_count();
  std::atomic<int> failures{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (!cluster->Get(kWeb).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(sim->request_count() - before, 200);
  std::cout << "200 HTTPS GETs from 8 threads: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
}

TEST_F(KubeSimTlsTest, BearerTokenAndTokenFile) {
  KubeSimOptions options;
  options.tls_cert_file = dir_.File("server.crt");
  options.tls_key_file = dir_.File("server.key");
  options.tls_ca_file = dir_.File("ca.crt");
  options.token = "s3cret-token-value";
  auto sim = StartSim(options);
  ASSERT_NE(sim, nullptr);
  ASSERT_THAT(sim->Apply(Deployment("web", "nginx:1.27")), IsOk());
  auto cluster = Connect(*sim, dir_, clock_);
  ASSERT_NE(cluster, nullptr);
  ASSERT_THAT(cluster->Get(kWeb), IsOk());

  KubeConfig wrong = cluster->config();
  wrong.token = "wrong-token-value";
  auto rejected = KubeApiCluster::Create(wrong, clock_);
  ASSERT_THAT(rejected, IsOk());
  auto status = (*rejected)->Get(kWeb).status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("Unauthorized")));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("wrong-token-value")));

  // tokenFile: re-read when it changes (a rotated token works without a restart).
  KubeConfig from_file = cluster->config();
  from_file.token.clear();
  from_file.token_file = dir_.File("token");
  testing::WriteTextFile(from_file.token_file, "stale-token\n");
  auto file_cluster = KubeApiCluster::Create(from_file, clock_);
  ASSERT_THAT(file_cluster, IsOk());
  EXPECT_THAT((*file_cluster)->Get(kWeb), StatusIs(absl::StatusCode::kUnauthenticated));
  testing::WriteTextFile(from_file.token_file, "s3cret-token-value\n");
  EXPECT_THAT((*file_cluster)->Get(kWeb), IsOk());
}

TEST_F(KubeSimTlsTest, ExecPluginIsCachedUntilExpiry) {
  KubeSimOptions options;
  options.token = "exec-issued-token";
  auto sim = StartSim(options);
  ASSERT_NE(sim, nullptr);
  ASSERT_THAT(sim->Apply(Deployment("web", "nginx:1.27")), IsOk());
  const std::string plugin = dir_.File("get-token.sh");
  testing::WriteTextFile(plugin, R"(#!/bin/sh
echo run >> "$COUNT_FILE"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$INFO_FILE"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$TOKEN" "$EXPIRY"
)",
                         0700);
  const absl::Time expiry = clock_.Now() + absl::Hours(1);
  const std::string kubeconfig = absl::StrCat(R"(apiVersion: v1
kind: Config
current-context: sim
clusters: [{name: sim, cluster: {server: ")",
                                              sim->url(), R"("}}]
contexts: [{name: sim, context: {cluster: sim, user: plugin, namespace: app}}]
users:
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./get-token.sh
      interactiveMode: Never
      provideClusterInfo: true
      env:
      - {name: COUNT_FILE, value: ")",
                                              dir_.File("count"), R"("}
      - {name: INFO_FILE, value: ")",
                                              dir_.File("info"), R"("}
      - {name: TOKEN, value: exec-issued-token}
      - {name: EXPIRY, value: ")",
                                              FormatIso8601(expiry), R"("}
)");
  testing::WriteTextFile(dir_.File("plugin-kubeconfig"), kubeconfig);
  KubeconfigOptions kc;
  kc.explicit_path = dir_.File("plugin-kubeconfig");
  auto cluster = KubeApiCluster::FromKubeconfig(kc, clock_);
  ASSERT_THAT(cluster, IsOk());
  auto runs = [&] {
    return absl::StrSplit(testing::ReadTextFile(dir_.File("count")), '\n', absl::SkipEmpty());
  };
  for (int i = 0; i < 3; ++i) ASSERT_THAT((*cluster)->Get(kWeb), IsOk());
  EXPECT_EQ(std::vector<std::string>(runs()).size(), 1u);
  EXPECT_EQ((*cluster)->exec_plugin_runs(), 1);
  const nlohmann::json info = nlohmann::json::parse(testing::ReadTextFile(dir_.File("info")));
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["apiVersion"], "client.authentication.k8s.io/v1");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], sim->url());

  clock_.Advance(absl::Minutes(59));
  ASSERT_THAT((*cluster)->Get(kWeb), IsOk());
  EXPECT_EQ((*cluster)->exec_plugin_runs(), 1);
  clock_.Advance(absl::Minutes(2));  // past expirationTimestamp
  ASSERT_THAT((*cluster)->Get(kWeb), IsOk());
  EXPECT_EQ((*cluster)->exec_plugin_runs(), 2);
  EXPECT_EQ(std::vector<std::string>(runs()).size(), 2u);
}

TEST_F(KubeSimTlsTest, ExecPluginFailureNamesTheCommand) {
  KubeConfig config;
  config.server = "http://127.0.0.1:1";
  config.exec = ExecConfig{"client.authentication.k8s.io/v1",
                           dir_.File("missing-plugin"),
                           {},
                           {},
                           "install it with apt",
                           false,
                           "Never"};
  auto cluster = KubeApiCluster::Create(config, clock_);
  ASSERT_THAT(cluster, IsOk());
  EXPECT_THAT((*cluster)->Get(kWeb),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("missing-plugin"), HasSubstr("install it with apt"))));
  testing::WriteTextFile(dir_.File("bad.sh"), "#!/bin/sh\necho 'token=abc-secret' >&2\nexit 3\n",
                         0700);
  config.exec->command = dir_.File("bad.sh");
  cluster = KubeApiCluster::Create(config, clock_);
  ASSERT_THAT(cluster, IsOk());
  auto status = (*cluster)->Get(kWeb).status();
  EXPECT_THAT(status,
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("exited with code 3")));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("abc-secret")));
}

// ---------------------------------------------------------------------------------------------
// Reads and writes with their effects.

class KubeSimOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim_ = StartSim();
    ASSERT_NE(sim_, nullptr);
    ASSERT_THAT(sim_->Apply(Deployment("web", "nginx:1.27")), IsOk());
    sim_->AdvanceClock(absl::Seconds(10));
    cluster_ = Connect(*sim_, dir_, clock_);
    ASSERT_NE(cluster_, nullptr);
  }

  std::string WebPod() {
    auto pods = cluster_->List({"v1", "Pod", "app", ""}, Selector("app=web"));
    EXPECT_THAT(pods, IsOk());
    EXPECT_EQ(pods->items.size(), 1u);
    return pods->items.empty() ? "" : pods->items[0]["metadata"]["name"].get<std::string>();
  }

  nlohmann::json Stored(const std::string& name = "web") {
    auto object = sim_->Get("deployments", "app", name);
    EXPECT_THAT(object, IsOk());
    return object.ok() ? *object : nlohmann::json();
  }

  testing::TempDir dir_;
  remediator::testing::FakeClock clock_;
  std::unique_ptr<KubeSim> sim_;
  std::unique_ptr<KubeApiCluster> cluster_;
};

TEST_F(KubeSimOpsTest, GetListAndErrors) {
  EXPECT_EQ(cluster_->DefaultNamespace(), "app");
  auto web = cluster_->Get({"apps/v1", "Deployment", "", "web"});  // default namespace
  ASSERT_THAT(web, IsOk());
  EXPECT_EQ((*web)["kind"], "Deployment");
  auto all = cluster_->List({"v1", "Pod", "", ""}, [] {
    KubeListOptions o;
    o.page_size = 1;
    return o;
  }());
  ASSERT_THAT(all, IsOk());
  EXPECT_FALSE(all->resource_version.empty());
  EXPECT_GE(all->items.size(), 1u);
  auto sets = cluster_->List({"apps/v1", "ReplicaSet", "app", ""}, Selector("app=web"));
  ASSERT_THAT(sets, IsOk());
  EXPECT_EQ(sets->items.size(), 1u);
  auto none = cluster_->List({"apps/v1", "Deployment", "app", ""}, Selector("app=nope"));
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->items.empty());
  EXPECT_THAT(cluster_->Get({"apps/v1", "Deployment", "app", "nope"}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("\"nope\" not found")));
  EXPECT_THAT(cluster_->Get({"apps/v1", "StatefulSet", "app", "nope"}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cluster_->Get({"v1", "Event", "app", "nope"}), StatusIs(absl::StatusCode::kNotFound));
  auto events = cluster_->List({"v1", "Event", "app", ""});
  ASSERT_THAT(events, IsOk());
  EXPECT_FALSE(events->items.empty());
  auto new_events = cluster_->List({"events.k8s.io/v1", "Event", "app", ""});
  ASSERT_THAT(new_events, IsOk());
}

TEST_F(KubeSimOpsTest, PodLogs) {
  const std::string pod = WebPod();
  auto logs = cluster_->PodLogs("app", pod, Logs("main"));
  ASSERT_THAT(logs, IsOk());
  EXPECT_THAT(*logs, HasSubstr("nginx 1.27 start worker processes"));
  EXPECT_THAT(*logs, HasSubstr("nginx 1.27 line 1"));
  auto tail = cluster_->PodLogs("app", pod, Logs("main", false, 1));
  ASSERT_THAT(tail, IsOk());
  EXPECT_THAT(*tail, Not(HasSubstr("line 1")));
  EXPECT_THAT(*tail, HasSubstr("start worker processes"));
  EXPECT_THAT(cluster_->PodLogs("app", pod, Logs("main", true)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("previous terminated")));
  EXPECT_THAT(cluster_->PodLogs("app", "nope", Logs("main")),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(KubeSimOpsTest, PatchAllThreeTypesAndDryRun) {
  // Strategic merge: containers merge by name (the limit stays), label added.
  auto patched = cluster_->Patch(
      kWeb, PatchType::kStrategicMerge,
      {{"metadata", {{"labels", {{"team", "payments"}}}}},
       {"spec",
        {{"template",
          {{"spec",
            {{"containers",
              {{{"name", "main"}, {"env", {{{"name", "A"}, {"value", "1"}}}}}}}}}}}}}});
  ASSERT_THAT(patched, IsOk());
  nlohmann::json stored = Stored();
  EXPECT_EQ(stored["metadata"]["labels"]["team"], "payments");
  const nlohmann::json& container = stored["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(container["image"], "nginx:1.27");
  EXPECT_EQ(container["env"][0]["name"], "A");

  // Merge patch: arrays are replaced; null deletes.
  ASSERT_THAT(cluster_->Patch(kWeb, PatchType::kMerge,
                              {{"metadata", {{"labels", {{"team", nullptr}, {"tier", "web"}}}}}}),
              IsOk());
  stored = Stored();
  EXPECT_FALSE(stored["metadata"]["labels"].contains("team"));
  EXPECT_EQ(stored["metadata"]["labels"]["tier"], "web");

  // JSON patch.
  ASSERT_THAT(cluster_->Patch(kWeb, PatchType::kJsonPatch,
                              nlohmann::json::array(
                                  {{{"op", "replace"}, {"path", "/spec/replicas"}, {"value", 2}}})),
              IsOk());
  EXPECT_EQ(Stored()["spec"]["replicas"], 2);
  // A failing test op -> 422 InvalidArgument.
  EXPECT_THAT(cluster_->Patch(kWeb, PatchType::kJsonPatch,
                              nlohmann::json::array(
                                  {{{"op", "test"}, {"path", "/spec/replicas"}, {"value", 7}}})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(cluster_->Patch(kWeb, PatchType::kJsonPatch, nlohmann::json::object()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("array")));

  // Dry run: the answer shows the change, the stored object does not.
  const std::string rv = Stored()["metadata"]["resourceVersion"];
  for (PatchType type : {PatchType::kStrategicMerge, PatchType::kMerge}) {
    auto dry = cluster_->Patch(kWeb, type, {{"spec", {{"replicas", 5}}}}, DryRun());
    ASSERT_THAT(dry, IsOk());
    EXPECT_EQ((*dry)["spec"]["replicas"], 5);
  }
  auto dry_json = cluster_->Patch(
      kWeb, PatchType::kJsonPatch,
      nlohmann::json::array({{{"op", "replace"}, {"path", "/spec/replicas"}, {"value", 6}}}),
      DryRun());
  ASSERT_THAT(dry_json, IsOk());
  EXPECT_EQ((*dry_json)["spec"]["replicas"], 6);
  EXPECT_EQ(Stored()["spec"]["replicas"], 2);
  EXPECT_EQ(Stored()["metadata"]["resourceVersion"], rv);
}

TEST_F(KubeSimOpsTest, ServerSideApplyCreatesUpdatesAndDryRuns) {
  nlohmann::json api = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "api"}}},  // namespace from the context
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", {{"app", "api"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "api"}}}}},
          {"spec", {{"containers", {{{"name", "api"}, {"image", "nginx:1.28"}}}}}}}}}}};
  EXPECT_THAT(cluster_->Apply(api, ApplyAs("")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field_manager")));
  auto dry = cluster_->Apply(api, ApplyAs("remediator", false, true));
  ASSERT_THAT(dry, IsOk());
  EXPECT_EQ((*dry)["metadata"]["name"], "api");
  EXPECT_THAT(sim_->Get("deployments", "app", "api"), StatusIs(absl::StatusCode::kNotFound));

  auto created = cluster_->Apply(api, ApplyAs("remediator", true));
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(Stored("api")["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.28");
  api["spec"]["replicas"] = 3;
  ASSERT_THAT(cluster_->Apply(api, ApplyAs("remediator", true)), IsOk());
  EXPECT_EQ(Stored("api")["spec"]["replicas"], 3);
  nlohmann::json no_name = api;
  no_name["metadata"].erase("name");
  EXPECT_THAT(cluster_->Apply(no_name, ApplyAs("remediator")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("metadata.name")));
}

TEST_F(KubeSimOpsTest, RolloutStatusAndRollback) {
  auto status = cluster_->GetRolloutStatus(kWeb);
  ASSERT_THAT(status, IsOk());
  EXPECT_TRUE(status->done) << status->message;
  EXPECT_EQ(status->message, "deployment \"web\" successfully rolled out");
  const nlohmann::json template_v1 = Stored()["spec"]["template"];

  // Nothing to roll back to yet.
  EXPECT_THAT(cluster_->Rollback(kWeb),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no rollout history found")));

  ASSERT_THAT(
      cluster_->Patch(
          kWeb, PatchType::kStrategicMerge,
          {{"spec",
            {{"template",
              {{"spec", {{"containers", {{{"name", "main"}, {"image", "nginx:1.28"}}}}}}}}}}}),
      IsOk());
  sim_->AdvanceClock(absl::Seconds(30));
  status = cluster_->GetRolloutStatus(kWeb);
  ASSERT_THAT(status, IsOk());
  EXPECT_TRUE(status->done) << status->message;
  const nlohmann::json template_v2 = Stored()["spec"]["template"];
  ASSERT_NE(template_v1, template_v2);

  // Dry run: the answer has the old template, the stored one is unchanged.
  auto dry = cluster_->Rollback(kWeb, RollbackTo(0, true));
  ASSERT_THAT(dry, IsOk());
  EXPECT_EQ(dry->revision, 1);
  EXPECT_EQ(dry->deployment["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27");
  EXPECT_EQ(Stored()["spec"]["template"], template_v2);

  auto rolled = cluster_->Rollback(kWeb);
  ASSERT_THAT(rolled, IsOk());
  EXPECT_FALSE(rolled->skipped);
  EXPECT_EQ(rolled->revision, 1);
  EXPECT_EQ(rolled->message, "deployment.apps/web rolled back");
  EXPECT_EQ(Stored()["spec"]["template"], template_v1);
  // Right after the write the controller has not observed it: not done.
  status = cluster_->GetRolloutStatus(kWeb);
  ASSERT_THAT(status, IsOk());
  sim_->AdvanceClock(absl::Seconds(30));
  status = cluster_->GetRolloutStatus(kWeb);
  ASSERT_THAT(status, IsOk());
  EXPECT_TRUE(status->done) << status->message;
  auto pods = cluster_->List({"v1", "Pod", "app", ""}, Selector("app=web"));
  ASSERT_THAT(pods, IsOk());
  for (const nlohmann::json& pod : pods->items) {
    EXPECT_EQ(pod["spec"]["containers"][0]["image"], "nginx:1.27");
  }
  // Rolling back to the revision the template already has is skipped.
  auto current_revision = Stored()["metadata"]["annotations"]["deployment.kubernetes.io/revision"];
  auto again =
      cluster_->Rollback(kWeb, RollbackTo(std::stoll(current_revision.get<std::string>())));
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->skipped) << again->message;
}

TEST_F(KubeSimOpsTest, ProgressDeadlineExceededIsAFailure) {
  ASSERT_THAT(sim_->Apply(Deployment("broken", "registry.invalid/nope:1",
                                     "  progressDeadlineSeconds: 30\n")),
              IsOk());
  const KubeRef broken{"apps/v1", "Deployment", "app", "broken"};
  sim_->AdvanceClock(absl::Seconds(5));
  auto status = cluster_->GetRolloutStatus(broken);
  ASSERT_THAT(status, IsOk());
  EXPECT_FALSE(status->done);
  EXPECT_FALSE(status->failed);
  sim_->AdvanceClock(absl::Seconds(60));
  status = cluster_->GetRolloutStatus(broken);
  ASSERT_THAT(status, IsOk());
  EXPECT_TRUE(status->failed) << status->message;
  EXPECT_EQ(status->message, "deployment \"broken\" exceeded its progress deadline");
  EXPECT_THAT(cluster_->GetRolloutStatus({"v1", "Pod", "app", "x"}),
              StatusIs(absl::StatusCode::kUnimplemented));
}

}  // namespace
}  // namespace remediator::kube
