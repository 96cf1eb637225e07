// The shipped demo scenario (deploy/local/kubesim-world.yaml + deploy/local/gitops/app): each
// failure signature is there, and the manifest fix a remediation would make clears it.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/kubesim/kubesim.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;
using ::remediator::testing::IsOk;
using ::testing::HasSubstr;

class SeedWorldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KubeSimOptions opts;
    opts.world_file = SEED_WORLD;
    opts.manifest_dirs = {SEED_MANIFESTS};
    opts.manual_clock = true;
    auto sim = KubeSim::Start(opts);
    ASSERT_THAT(sim.status(), IsOk());
    sim_ = std::move(*sim);
    sim_->AdvanceClock(absl::Seconds(30));
  }
  json Pod(const std::string& app) {
    auto pods = sim_->List("pods", "app", "app=" + app);
    EXPECT_TRUE(pods.ok());
    EXPECT_EQ(pods->size(), 1u) << app;
    return pods->empty() ? json::object() : (*pods)[0];
  }
  std::vector<std::string> EventMessages(const std::string& object, const std::string& reason) {
    std::vector<std::string> out;
    auto events = sim_->List("events", "app");
    if (!events.ok()) return out;
    for (const json& e : *events) {
      if (e["involvedObject"]["name"] == object && e["reason"] == reason)
        out.push_back(e["message"]);
    }
    return out;
  }
  json Ready(const json& pod) {
    for (const json& c : pod["status"]["conditions"]) {
      if (c["type"] == "Ready") return c["status"];
    }
    return nullptr;
  }
  std::unique_ptr<KubeSim> sim_;
};

TEST_F(SeedWorldTest, NginxIsOomKilledInRuncInitUntilTheLimitIsRaised) {
  json pod = Pod("nginx");
  json c = pod["status"]["containerStatuses"][0];
  EXPECT_EQ(c["lastState"]["terminated"]["reason"], "StartError");
  EXPECT_EQ(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_THAT(
      EventMessages(pod["metadata"]["name"], "Failed"),
      ::testing::Contains(HasSubstr("container init was OOM-killed (memory limit too low?)")));
  ASSERT_THAT(sim_->Apply(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: nginx
        resources:
          requests: {memory: 32Mi}
          limits: {memory: 64Mi}
)"),
              IsOk());
  sim_->AdvanceClock(absl::Seconds(15));
  pod = Pod("nginx");
  EXPECT_EQ(Ready(pod), "True");
  auto logs = sim_->Logs("app", pod["metadata"]["name"], "nginx", false);
  ASSERT_THAT(logs.status(), IsOk());
  EXPECT_THAT(*logs, HasSubstr("[notice] 1#1: start worker processes"));
  json d = *sim_->Get("deployments", "app", "nginx");
  EXPECT_EQ(d["status"]["availableReplicas"], 1);
}

TEST_F(SeedWorldTest, ReportsCannotPullUntilTheImageExists) {
  json pod = Pod("reports");
  EXPECT_EQ(pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
            "ImagePullBackOff");
  EXPECT_THAT(EventMessages(pod["metadata"]["name"], "Failed"),
              ::testing::Contains(
                  HasSubstr("Failed to pull image \"registry.example.invalid/reports:2.0\": ")));
  ASSERT_THAT(sim_->Apply(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: reports, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: reports
        image: ghcr.io/acme/reports:1.9
)"),
              IsOk());
  sim_->AdvanceClock(absl::Seconds(15));
  pod = Pod("reports");
  EXPECT_EQ(Ready(pod), "True") << pod["status"].dump();
  auto logs = sim_->Logs("app", pod["metadata"]["name"], "", false);
  ASSERT_THAT(logs.status(), IsOk());
  EXPECT_THAT(*logs, HasSubstr("INFO reports 1.9 starting on :8080"));
}

}  // namespace
}  // namespace remediator::kubesim
