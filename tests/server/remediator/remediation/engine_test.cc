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
#include "server/remediator/core/remediation/playbooks/playbook_strategy.h"
#include "tests/server/remediator/remediation/engine_harness.h"
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

class EngineTest : public EngineHarness {
 protected:
  std::string World() const override { return kWorld; }
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
  EXPECT_THAT(attempt->diff(), HasSubstr("64Mi"));
  ASSERT_EQ(attempt->changes_size(), 1);
  EXPECT_EQ(attempt->changes(0).old_value_json(), "\"4Mi\"");
  EXPECT_FALSE(attempt->pr_possible());
  EXPECT_THAT(attempt->explanation(), HasSubstr("no pull request can follow"));
  EXPECT_EQ(Memory(Live("nginx")), "64Mi");
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
  EXPECT_EQ(attempt->changes(0).new_value_json(), "\"64Mi\"");
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
                                         "+            memory: 64Mi  # too small\n"));
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

// The simulator's clock, with a hook run at every wait (to cancel the engine mid-verification).
class HookedClock final : public Clock {
 public:
  HookedClock(Clock& inner, std::function<void(int)> hook) : inner_(inner), hook_(hook) {}
  absl::Time Now() const override { return inner_.Now(); }
  void SleepFor(absl::Duration d) override {
    hook_(++waits_);
    inner_.SleepFor(d);
  }

 private:
  Clock& inner_;
  std::function<void(int)> hook_;
  int waits_ = 0;
};

TEST_F(EngineTest, ShutdownDuringVerificationParksTheAttemptAndTheNextStartResumesIt) {
  Deploy(Deployment("nginx", "nginx:1.27", "4Mi"));
  const std::string id = Incident("nginx", v1::ERROR_CLASS_OOM_KILLED);
  RemediationEngine* engine_ptr = nullptr;
  // Cancelled at the third wait: after the apply, inside the verification.
  HookedClock clock(*clock_, [&](int wait) {
    if (wait == 3) engine_ptr->Cancel();
  });
  RemediationEngine engine(*store_, *cluster_, nullptr, {&playbooks_}, guard_, clock, options_);
  engine_ptr = &engine;
  v1::AttemptFixRequest request;
  request.set_incident_id(id);
  auto attempt = engine.AttemptFix(request);
  ASSERT_THAT(attempt, IsOk());
  EXPECT_EQ(attempt->status(), v1::FIX_STATUS_VERIFYING) << attempt->DebugString();
  auto stored = store_->GetFixAttempt(attempt->id());
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->status(), v1::FIX_STATUS_VERIFYING);
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_FIXING) << "parked, not failed";
  EXPECT_EQ(Memory(Live("nginx")), "64Mi") << "nothing rolled back on shutdown";
  // No new attempt starts on a cancelled engine.
  EXPECT_THAT(engine.AttemptFix(request), StatusIs(absl::StatusCode::kUnavailable));

  // The next start: the workload is reserved before anything else runs, then resumed.
  auto next = MakeEngine();
  auto reserved = next->ReserveInterrupted();
  ASSERT_THAT(reserved, IsOk());
  EXPECT_THAT(*reserved, ::testing::ElementsAre(id));
  EXPECT_THAT(next->AttemptFix(request), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(next->ResumeReserved(*reserved), IsOk());
  auto resumed = store_->GetFixAttempt(attempt->id());
  ASSERT_THAT(resumed, IsOk());
  EXPECT_EQ(resumed->status(), v1::FIX_STATUS_VERIFIED) << resumed->DebugString();
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_VERIFIED);
}

TEST_F(EngineTest, ConfiguredModeIsACeilingAndUnknownModesAreInvalid) {
  Deploy(Deployment("nginx", "nginx:1.27", "4Mi"));
  const std::string id = Incident("nginx", v1::ERROR_CLASS_OOM_KILLED);
  v1::AttemptFixRequest request;
  request.set_incident_id(id);
  request.set_mode(static_cast<v1::FixMode>(999));
  EXPECT_THAT(MakeEngine()->AttemptFix(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("999")));
  options_.modes.mode = Mode::kObserve;
  request.set_mode(v1::FIX_MODE_APPLY);
  EXPECT_THAT(MakeEngine()->AttemptFix(request),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("observe")));
  options_.modes.mode = Mode::kFix;
  options_.modes.namespaces["app"] = Mode::kSuggest;
  EXPECT_THAT(MakeEngine()->AttemptFix(request),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("never for more")));
  EXPECT_EQ(Memory(Live("nginx")), "4Mi");
  request.set_mode(v1::FIX_MODE_UNSPECIFIED);  // the ceiling: suggest
  auto attempt = MakeEngine()->AttemptFix(request);
  ASSERT_THAT(attempt, IsOk());
  EXPECT_EQ(attempt->status(), v1::FIX_STATUS_PROPOSED);
  EXPECT_EQ(Memory(Live("nginx")), "4Mi");
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
