// The remediation engine against a simulated cluster (kubesim, in process, manual clock) through
// the real Kubernetes client: real applies, real rollouts, real rollbacks. The engine's clock is
// the simulator's, so a 60-second verification window takes milliseconds and no test sleeps.
#include "server/remediator/core/remediation/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "server/common/time_util.h"
#include "server/kubesim/kubesim.h"
#include "server/remediator/adapters/kube/kube_api_cluster.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "server/remediator/core/remediation/playbooks.h"
#include "tests/testing/status_matchers.h"

namespace remediator::remediation {
namespace {

using json = nlohmann::json;
using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kWorld[] = R"(
oomInitThreshold: 6Mi
namespaces: [app]
nodes:
- name: worker-1
  capacity: {cpu: "4", memory: 8Gi, pods: 110}
images:
- name: nginx:1.27*
  workingSet: 12Mi
  startupSeconds: 1
  oomAfterSeconds: 2
  serves: [{port: 80, paths: ["/", "/ready"]}]
  startLogs: ["/docker-entrypoint.sh: Configuration complete; ready for start up"]
- name: hog:1
  workingSet: 3Gi
  startupSeconds: 1
  oomAfterSeconds: 2
  serves: [{port: 8080, paths: ["/"]}]
)";

json Deployment(const std::string& name, const std::string& image, const std::string& memory) {
  return json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":")" +
                     name + R"(","namespace":"app"},
    "spec":{"replicas":1,"progressDeadlineSeconds":600,
      "selector":{"matchLabels":{"app":")" +
                     name + R"("}},
      "template":{"metadata":{"labels":{"app":")" +
                     name + R"("}},
        "spec":{"containers":[{"name":")" +
                     name + R"(","image":")" + image + R"(",
          "ports":[{"containerPort":80}],
          "resources":{"limits":{"memory":")" +
                     memory + R"("}}}]}}}})");
}

// The simulator's time, moved by the engine's waits.
class SimClock final : public Clock {
 public:
  explicit SimClock(kubesim::KubeSim& sim) : sim_(sim) {}
  absl::Time Now() const override { return sim_.Now(); }
  void SleepFor(absl::Duration d) override { sim_.AdvanceClock(d); }

 private:
  kubesim::KubeSim& sim_;
};

class FixedManifests final : public ManifestSource {
 public:
  absl::StatusOr<ManifestRecord> Find(const v1::WorkloadRef& workload) override {
    auto it = records.find(workload.name());
    if (it == records.end()) return absl::NotFoundError("not in the repository");
    return it->second;
  }
  std::map<std::string, ManifestRecord> records;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("engine_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    kubesim::KubeSimOptions options;
    options.world_yaml = kWorld;
    options.manual_clock = true;
    auto sim = kubesim::KubeSim::Start(options);
    ASSERT_THAT(sim, IsOk());
    sim_ = *std::move(sim);
    ASSERT_THAT(sim_->WriteKubeconfig((dir_ / "kubeconfig").string()), IsOk());
    kube::KubeconfigOptions kubeconfig;
    kubeconfig.explicit_path = (dir_ / "kubeconfig").string();
    auto cluster = kube::KubeApiCluster::FromKubeconfig(kubeconfig);
    ASSERT_THAT(cluster, IsOk());
    cluster_ = *std::move(cluster);
    auto store = SqliteIncidentStore::Open((dir_ / "r.db").string());
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    clock_ = std::make_unique<SimClock>(*sim_);
    options_.verify_window = absl::Seconds(60);
    options_.poll_interval = absl::Seconds(5);
    options_.rollout_timeout = absl::Minutes(5);
  }
  void TearDown() override {
    engine_.reset();
    cluster_.reset();
    sim_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<RemediationEngine> MakeEngine(ManifestSource* manifests = nullptr) {
    return std::make_unique<RemediationEngine>(*store_, *cluster_, manifests,
                                               std::vector<FixStrategy*>{&playbooks_}, guard_,
                                               *clock_, options_);
  }

  void Deploy(const json& deployment) {
    ASSERT_THAT(sim_->Apply(deployment.dump()), IsOk());
    sim_->AdvanceClock(absl::Seconds(40));
  }

  std::string Incident(const std::string& name, v1::ErrorClass error_class) {
    DetectionToRecord r;
    r.detection.set_error_class(error_class);
    r.detection.mutable_workload()->set_namespace_("app");
    r.detection.mutable_workload()->set_kind("Deployment");
    r.detection.mutable_workload()->set_name(name);
    r.detection.mutable_workload()->set_container(name);
    r.detection.set_reason("test");
    r.detection.set_summary("test incident");
    r.fingerprint = name + "/" + std::to_string(error_class);
    r.seen = sim_->Now();
    auto recorded = store_->RecordDetections({r});
    EXPECT_THAT(recorded, IsOk());
    return recorded.ok() ? (*recorded)[0].incident.id() : "";
  }

  json Live(const std::string& name) {
    auto d = sim_->Get("deployments", "app", name);
    EXPECT_THAT(d, IsOk());
    return d.value_or(json());
  }
  static std::string Memory(const json& d) {
    return d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"];
  }
  v1::IncidentState State(const std::string& id) {
    auto incident = store_->GetIncident(id);
    return incident.ok() ? incident->state() : v1::INCIDENT_STATE_UNSPECIFIED;
  }

  std::filesystem::path dir_;
  std::unique_ptr<kubesim::KubeSim> sim_;
  std::unique_ptr<kube::KubeApiCluster> cluster_;
  std::unique_ptr<SqliteIncidentStore> store_;
  std::unique_ptr<SimClock> clock_;
  PlaybookStrategy playbooks_;
  Guard guard_;
  EngineOptions options_;
  std::unique_ptr<RemediationEngine> engine_;
};

TEST_F(EngineTest, SeedScenarioOomIsFixedByThePlaybookAndVerified) {
  Deploy(Deployment("nginx", "nginx:1.27", "4Mi"));
  const std::string id = Incident("nginx", v1::ERROR_CLASS_OOM_KILLED);
  auto engine = MakeEngine();
  v1::AttemptFixRequest request;
  request.set_incident_id(id);
  auto attempt = engine->AttemptFix(request);
  ASSERT_THAT(attempt, IsOk());
  EXPECT_EQ(attempt->status(), v1::FIX_STATUS_VERIFIED) << attempt->DebugString();
  EXPECT_EQ(attempt->strategy(), "playbook/oom-raise-memory");
  EXPECT_TRUE(attempt->guard().allowed());
  EXPECT_THAT(attempt->dry_run_result(), HasSubstr("accepted"));
  EXPECT_THAT(attempt->diff(), HasSubstr("+"));
  EXPECT_THAT(attempt->diff(), HasSubstr("32Mi"));
  ASSERT_EQ(attempt->changes_size(), 1);
  EXPECT_EQ(attempt->changes(0).old_value_json(), "\"4Mi\"");
  EXPECT_FALSE(attempt->pr_possible());
  EXPECT_THAT(attempt->explanation(), HasSubstr("no pull request can follow"));
  EXPECT_EQ(Memory(Live("nginx")), "32Mi");
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_VERIFIED);
  std::string evidence;
  for (const auto& e : attempt->verification_evidence()) evidence += e + "\n";
  EXPECT_THAT(evidence, HasSubstr("rollout"));
  EXPECT_THAT(evidence, HasSubstr("pods Ready"));
  // The stored attempt is the returned one, and a second attempt is refused.
  auto stored = store_->GetFixAttempt(attempt->id());
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->status(), v1::FIX_STATUS_VERIFIED);
  EXPECT_THAT(engine->AttemptFix(request),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("verified")));
}

TEST_F(EngineTest, AFixThatDoesNotHoldIsRolledBackToTheExactPreviousSpec) {
  json hog = Deployment("hog", "hog:1", "256Mi");
  hog["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 8080;
  Deploy(hog);
  const json before = Live("hog")["spec"]["template"];
  const std::string id = Incident("hog", v1::ERROR_CLASS_OOM_KILLED);
  auto engine = MakeEngine();
  v1::AttemptFixRequest request;
  request.set_incident_id(id);
  auto attempt = engine->AttemptFix(request);
  ASSERT_THAT(attempt, IsOk());
  EXPECT_EQ(attempt->status(), v1::FIX_STATUS_ROLLED_BACK) << attempt->DebugString();
  EXPECT_TRUE(attempt->rolled_back());
  EXPECT_THAT(attempt->rollback_reason(), ::testing::Not(::testing::IsEmpty()));
  EXPECT_EQ(Live("hog")["spec"]["template"], before);
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_FIX_FAILED);
}

TEST_F(EngineTest, UnfixableImagePullIsNotAppliedAndSaysWhy) {
  Deploy(Deployment("reports", "registry.example.invalid/reports:2.0", "64Mi"));
  const json before = Live("reports");
  const std::string id = Incident("reports", v1::ERROR_CLASS_IMAGE_PULL);
  auto attempt = MakeEngine()->AttemptFix([&] {
    v1::AttemptFixRequest r;
    r.set_incident_id(id);
    return r;
  }());
  ASSERT_THAT(attempt, IsOk());
  EXPECT_EQ(attempt->status(), v1::FIX_STATUS_NO_FIX);
  EXPECT_THAT(attempt->error(), HasSubstr("not applicable"));
  EXPECT_EQ(Live("reports")["metadata"]["generation"], before["metadata"]["generation"]);
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_FIX_FAILED);
}

TEST_F(EngineTest, SuggestModeRecordsTheProposalAndAppliesNothing) {
  Deploy(Deployment("nginx", "nginx:1.27", "4Mi"));
  const std::string id = Incident("nginx", v1::ERROR_CLASS_OOM_KILLED);
  v1::AttemptFixRequest request;
  request.set_incident_id(id);
  request.set_mode(v1::FIX_MODE_SUGGEST);
  auto attempt = MakeEngine()->AttemptFix(request);
  ASSERT_THAT(attempt, IsOk());
  EXPECT_EQ(attempt->status(), v1::FIX_STATUS_PROPOSED);
  EXPECT_EQ(attempt->changes(0).new_value_json(), "\"32Mi\"");
  EXPECT_EQ(Memory(Live("nginx")), "4Mi");
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_OPEN);
  auto attempts = store_->ListFixAttempts(id);
  ASSERT_THAT(attempts, IsOk());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].status(), v1::FIX_STATUS_PROPOSED);
}

TEST_F(EngineTest, ProbeOnAWrongPathIsRepointedAndVerified) {
  json web = Deployment("web", "nginx:1.27", "64Mi");
  auto& c = web["spec"]["template"]["spec"]["containers"][0];
  c["livenessProbe"] = {{"httpGet", {{"path", "/healthz"}, {"port", 80}}}, {"periodSeconds", 5}};
  c["readinessProbe"] = {{"httpGet", {{"path", "/ready"}, {"port", 80}}}, {"periodSeconds", 5}};
  Deploy(web);
  const std::string id = Incident("web", v1::ERROR_CLASS_PROBE_FAILURE);
  v1::AttemptFixRequest request;
  request.set_incident_id(id);
  auto attempt = MakeEngine()->AttemptFix(request);
  ASSERT_THAT(attempt, IsOk());
  EXPECT_EQ(attempt->status(), v1::FIX_STATUS_VERIFIED) << attempt->DebugString();
  EXPECT_EQ(
      Live("web")["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["path"],
      "/ready");
}

TEST_F(EngineTest, RepositoryManifestGivesAFileDiffAndAllowsAPullRequest) {
  Deploy(Deployment("nginx", "nginx:1.27", "4Mi"));
  FixedManifests manifests;
  ManifestRecord record;
  record.object = Deployment("nginx", "nginx:1.27", "4Mi");
  record.path = "app/nginx.yaml";
  record.text =
      "# nginx for the app team\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx\n"
      "  namespace: app\nspec:\n  replicas: 1\n  progressDeadlineSeconds: 600\n  selector:\n"
      "    matchLabels: {app: nginx}\n  template:\n    metadata:\n      labels: {app: nginx}\n"
      "    spec:\n      containers:\n      - name: nginx\n        image: nginx:1.27\n"
      "        ports: [{containerPort: 80}]\n        resources:\n          limits:\n"
      "            memory: 4Mi  # too small\n";
  record.commit = "0123abcd";
  manifests.records["nginx"] = record;
  const std::string id = Incident("nginx", v1::ERROR_CLASS_OOM_KILLED);
  v1::AttemptFixRequest request;
  request.set_incident_id(id);
  auto attempt = MakeEngine(&manifests)->AttemptFix(request);
  ASSERT_THAT(attempt, IsOk());
  EXPECT_EQ(attempt->status(), v1::FIX_STATUS_VERIFIED) << attempt->DebugString();
  EXPECT_TRUE(attempt->pr_possible());
  EXPECT_EQ(attempt->manifest_source(), "repo:app/nginx.yaml");
  EXPECT_EQ(attempt->manifest_commit(), "0123abcd");
  EXPECT_THAT(attempt->diff(), HasSubstr("--- a/app/nginx.yaml"));
  EXPECT_THAT(attempt->diff(), HasSubstr("-            memory: 4Mi  # too small\n"
                                         "+            memory: 32Mi  # too small\n"));
}

TEST_F(EngineTest, CrashBetweenApplyAndVerificationIsResumedOnRestart) {
  Deploy(Deployment("nginx", "nginx:1.27", "4Mi"));
  const std::string id = Incident("nginx", v1::ERROR_CLASS_OOM_KILLED);
  // What a crash right after the apply leaves behind: the incident fixing, the attempt stored
  // as verifying with the live values it replaced, and the change on the cluster.
  const json live = Live("nginx");
  ASSERT_THAT(store_->TransitionIncident(id, v1::INCIDENT_STATE_OPEN, v1::INCIDENT_STATE_FIXING,
                                         "fix attempt started", sim_->Now()),
              IsOk());
  v1::FixAttempt attempt;
  attempt.set_id("fix-crashed");
  attempt.set_incident_id(id);
  attempt.set_status(v1::FIX_STATUS_VERIFYING);
  attempt.set_strategy("playbook/oom-raise-memory");
  *attempt.mutable_started() = ToProtoTime(sim_->Now());
  attempt.mutable_workload()->set_namespace_("app");
  attempt.mutable_workload()->set_kind("Deployment");
  attempt.mutable_workload()->set_name("nginx");
  auto* change = attempt.add_changes();
  change->set_path("spec.template.spec.containers[name=nginx].resources.limits.memory");
  change->set_old_value_json("\"4Mi\"");
  change->set_new_value_json("\"64Mi\"");
  ASSERT_THAT(store_->PutFixAttempt(attempt), IsOk());
  ASSERT_THAT(store_->PutValue("fix-attempt/fix-crashed/live", live.dump()), IsOk());
  json applied = live;
  applied["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "64Mi";
  ASSERT_THAT(cluster_->Apply({{"apiVersion", "apps/v1"},
                               {"kind", "Deployment"},
                               {"metadata", {{"name", "nginx"}, {"namespace", "app"}}},
                               {"spec", applied["spec"]}},
                              ApplyOptions{"remediator", true, false}),
              IsOk());

  ASSERT_THAT(MakeEngine()->ResumeInterrupted(), IsOk());
  auto resumed = store_->GetFixAttempt("fix-crashed");
  ASSERT_THAT(resumed, IsOk());
  EXPECT_EQ(resumed->status(), v1::FIX_STATUS_VERIFIED) << resumed->DebugString();
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_VERIFIED);
  EXPECT_EQ(Memory(Live("nginx")), "64Mi");
}

TEST_F(EngineTest, CrashedAttemptThatDoesNotHoldIsRolledBackOnRestart) {
  json hog = Deployment("hog", "hog:1", "256Mi");
  Deploy(hog);
  const std::string id = Incident("hog", v1::ERROR_CLASS_OOM_KILLED);
  const json live = Live("hog");
  ASSERT_THAT(store_->TransitionIncident(id, v1::INCIDENT_STATE_OPEN, v1::INCIDENT_STATE_FIXING,
                                         "fix attempt started", sim_->Now()),
              IsOk());
  v1::FixAttempt attempt;
  attempt.set_id("fix-crashed");
  attempt.set_incident_id(id);
  attempt.set_status(v1::FIX_STATUS_VERIFYING);
  *attempt.mutable_started() = ToProtoTime(sim_->Now());
  *attempt.mutable_workload() = [] {
    v1::WorkloadRef w;
    w.set_namespace_("app");
    w.set_kind("Deployment");
    w.set_name("hog");
    return w;
  }();
  auto* change = attempt.add_changes();
  change->set_path("spec.template.spec.containers[name=hog].resources.limits.memory");
  change->set_new_value_json("\"512Mi\"");
  ASSERT_THAT(store_->PutFixAttempt(attempt), IsOk());
  ASSERT_THAT(store_->PutValue("fix-attempt/fix-crashed/live", live.dump()), IsOk());
  json patch = {
      {"spec",
       {{"template",
         {{"spec",
           {{"containers",
             {{{"name", "hog"}, {"resources", {{"limits", {{"memory", "512Mi"}}}}}}}}}}}}}}};
  ASSERT_THAT(
      cluster_->Patch({"apps/v1", "Deployment", "app", "hog"}, PatchType::kStrategicMerge, patch),
      IsOk());

  ASSERT_THAT(MakeEngine()->ResumeInterrupted(), IsOk());
  auto resumed = store_->GetFixAttempt("fix-crashed");
  ASSERT_THAT(resumed, IsOk());
  EXPECT_EQ(resumed->status(), v1::FIX_STATUS_ROLLED_BACK) << resumed->DebugString();
  EXPECT_EQ(Memory(Live("hog")), "256Mi");
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_FIX_FAILED);
}

TEST_F(EngineTest, RequestsThatCannotStartAnAttemptAreErrors) {
  auto engine = MakeEngine();
  v1::AttemptFixRequest request;
  EXPECT_THAT(engine->AttemptFix(request), StatusIs(absl::StatusCode::kInvalidArgument));
  request.set_incident_id("inc-nope");
  EXPECT_THAT(engine->AttemptFix(request), StatusIs(absl::StatusCode::kNotFound));
  request.set_strategy("magic");
  EXPECT_THAT(engine->AttemptFix(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown strategy")));
}

}  // namespace
}  // namespace remediator::remediation
