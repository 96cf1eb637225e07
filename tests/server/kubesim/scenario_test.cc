// The deployment controller and the simulated kubelet on a manual clock (no HTTP, no kubectl).
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/world.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kubesim {
namespace {

using ::remediator::testing::IsOk;
using ::testing::HasSubstr;

constexpr char kWorld[] = R"(
oomInitThreshold: 6Mi
nodes:
- name: node-a
  capacity: {cpu: "2", memory: 4Gi}
images:
- name: nginx:1.27
  workingSet: 12Mi
  serves: [{port: 80, paths: ["/", "/healthz"]}]
  startLogs: ["${NGINX_TIME} [notice] 1#1: start worker processes", "ready on ${POD}"]
- name: ghcr.io/acme/api:1
  workingSet: 32Mi
  requiredEnv: [DATABASE_URL]
  missingEnvLogs: ["FATAL: ${VAR} is not set"]
  missingEnvExitCode: 3
  startLogs: ["api starting"]
)";

std::string DeployYaml(const std::string& name, const std::string& image, const std::string& limit,
                       const std::string& extra_container = "", int replicas = 1) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name +
         ", namespace: app}\nspec:\n  replicas: " + std::to_string(replicas) +
         "\n  progressDeadlineSeconds: 60\n  selector: {matchLabels: {app: " + name +
         "}}\n  template:\n    metadata: {labels: {app: " + name +
         "}}\n    spec:\n      containers:\n      - name: main\n        image: " + image +
         "\n        resources: {limits: {memory: " + limit + "}}\n" + extra_container;
}

class ScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto world = ParseWorld(kWorld, "test-world");
    ASSERT_THAT(world.status(), IsOk());
    ClusterOptions opts;
    opts.base_clock = &clock_;
    opts.manual_clock = true;
    auto c = Cluster::Create(*world, opts);
    ASSERT_THAT(c.status(), IsOk());
    cluster_ = std::move(*c);
  }

  void Apply(const std::string& yaml) {
    auto objs = ParseManifests(yaml, "test");
    ASSERT_THAT(objs.status(), IsOk());
    for (auto& o : *objs) ASSERT_THAT(cluster_->ApplyManifest(o), IsOk());
    cluster_->Reconcile();
  }

  std::vector<json> Pods(const std::string& app) {
    std::vector<json> out;
    for (const json& p : cluster_->store().List("pods", "app")) {
      if (p["metadata"]["labels"].value("app", "") == app) out.push_back(p);
    }
    return out;
  }

  json OnlyPod(const std::string& app) {
    auto pods = Pods(app);
    EXPECT_EQ(pods.size(), 1u) << app;
    return pods.empty() ? json::object() : pods[0];
  }

  json Container(const json& pod) { return pod["status"]["containerStatuses"][0]; }

  std::vector<json> Events(const std::string& object_name, const std::string& reason) {
    std::vector<json> out;
    for (const json& e : cluster_->store().List("events", "app")) {
      if (e["involvedObject"]["name"] == object_name && e["reason"] == reason) out.push_back(e);
    }
    return out;
  }

  json Deployment(const std::string& name) {
    return *cluster_->store().Get("deployments", "app", name);
  }

  json Condition(const json& obj, const std::string& type) {
    for (const json& c : obj["status"]["conditions"]) {
      if (c["type"] == type) return c;
    }
    return nullptr;
  }

  absl::Status Patch(const std::string& name, const std::string& type, const std::string& body) {
    const ResourceType* t = FindResource("apps", "deployments");
    bool created = false;
    auto r = cluster_->PatchObject(*t, "app", name, type, body, {}, false, &created);
    cluster_->Reconcile();
    return r.status();
  }

  testing::FakeClock clock_;
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(ScenarioTest, TinyLimitFailsInRuncInitThenCrashLoopsWithGrowingBackOff) {
  Apply(DeployYaml("web", "nginx:1.27", "4Mi"));
  cluster_->AdvanceClock(absl::Seconds(3));
  json pod = OnlyPod("web");
  std::string pod_name = pod["metadata"]["name"];
  json c = Container(pod);
  EXPECT_EQ(c["lastState"]["terminated"]["reason"], "StartError");
  EXPECT_EQ(c["lastState"]["terminated"]["exitCode"], 128);
  EXPECT_EQ(c["lastState"]["terminated"]["startedAt"], "1970-01-01T00:00:00Z");
  EXPECT_THAT(c["lastState"]["terminated"]["message"].get<std::string>(),
              HasSubstr("container init was OOM-killed (memory limit too low?)"));
  EXPECT_EQ(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_THAT(c["state"]["waiting"]["message"].get<std::string>(),
              HasSubstr("back-off 10s restarting failed container=main pod=" + pod_name + "_app("));
  EXPECT_EQ(pod["status"]["phase"], "Running");
  auto failed = Events(pod_name, "Failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["type"], "Warning");
  EXPECT_EQ(failed[0]["involvedObject"]["fieldPath"], "spec.containers{main}");
  EXPECT_EQ(failed[0]["message"],
            "Error: failed to create containerd task: failed to create shim task: OCI runtime "
            "create failed: runc create failed: unable to start container process: container "
            "init was OOM-killed (memory limit too low?): unknown");
  // Back-off 10s, 20s, 40s: at t=60s three failed starts.
  cluster_->AdvanceClock(absl::Seconds(57));
  c = Container(OnlyPod("web"));
  EXPECT_EQ(c["restartCount"], 3);
  EXPECT_THAT(c["state"]["waiting"]["message"].get<std::string>(), HasSubstr("back-off 40s"));
  EXPECT_EQ(Events(pod_name, "Failed")[0]["count"], 3);
  auto backoff = Events(pod_name, "BackOff");
  ASSERT_EQ(backoff.size(), 1u);
  EXPECT_THAT(backoff[0]["message"].get<std::string>(),
              HasSubstr("Back-off restarting failed container main in pod " + pod_name + "_app("));
  // The back-off is capped at 5 minutes.
  cluster_->AdvanceClock(absl::Minutes(20));
  EXPECT_THAT(Container(OnlyPod("web"))["state"]["waiting"]["message"].get<std::string>(),
              HasSubstr("back-off 5m0s"));
  auto logs = cluster_->Logs("app", pod_name, {});
  ASSERT_THAT(logs.status(), IsOk());
  EXPECT_EQ(*logs, "");  // runc never started nginx
}

TEST_F(ScenarioTest, LimitBelowWorkingSetIsOomKilledAndRaisingItMakesThePodReady) {
  Apply(DeployYaml("web", "nginx:1.27", "8Mi"));
  cluster_->AdvanceClock(absl::Seconds(5));
  json pod = OnlyPod("web");
  std::string old_pod = pod["metadata"]["name"];
  json c = Container(pod);
  EXPECT_EQ(c["lastState"]["terminated"]["reason"], "OOMKilled");
  EXPECT_EQ(c["lastState"]["terminated"]["exitCode"], 137);
  EXPECT_EQ(c["restartCount"], 1);
  LogOptions prev;
  prev.previous = true;
  auto logs = cluster_->Logs("app", old_pod, prev);
  ASSERT_THAT(logs.status(), IsOk());
  EXPECT_THAT(*logs, HasSubstr("[notice] 1#1: start worker processes"));
  EXPECT_THAT(*logs, HasSubstr("ready on " + old_pod));
  json d = Deployment("web");
  EXPECT_EQ(d["status"].value("availableReplicas", 0), 0);
  EXPECT_EQ(d["status"]["unavailableReplicas"], 1);
  EXPECT_EQ(Condition(d, "Available")["status"], "False");

  ASSERT_THAT(
      Patch(
          "web", "application/strategic-merge-patch+json",
          R"({"spec":{"template":{"spec":{"containers":[{"name":"main","resources":{"limits":{"memory":"64Mi"}}}]}}}})"),
      IsOk());
  cluster_->AdvanceClock(absl::Seconds(5));
  auto pods = Pods("web");
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_NE(pods[0]["metadata"]["name"], old_pod);
  EXPECT_EQ(pods[0]["status"]["phase"], "Running");
  EXPECT_EQ(Condition(pods[0], "Ready")["status"], "True");
  EXPECT_TRUE(Container(pods[0])["state"].contains("running"));
  d = Deployment("web");
  EXPECT_EQ(d["metadata"]["generation"], 2);
  EXPECT_EQ(d["status"]["observedGeneration"], 2);
  EXPECT_EQ(d["status"]["availableReplicas"], 1);
  EXPECT_EQ(d["status"]["updatedReplicas"], 1);
  EXPECT_FALSE(d["status"].contains("unavailableReplicas"));
  EXPECT_EQ(Condition(d, "Available")["reason"], "MinimumReplicasAvailable");
  EXPECT_EQ(Condition(d, "Progressing")["reason"], "NewReplicaSetAvailable");
  EXPECT_EQ(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "2");
}

TEST_F(ScenarioTest, RollingUpdateCreatesHashedReplicaSetsAndUndoReusesTheOldOne) {
  Apply(DeployYaml("web", "nginx:1.27", "64Mi", "", 2));
  cluster_->AdvanceClock(absl::Seconds(3));
  auto rs1 = cluster_->store().List("replicasets", "app");
  ASSERT_EQ(rs1.size(), 1u);
  json d = Deployment("web");
  std::string hash = rs1[0]["metadata"]["labels"]["pod-template-hash"];
  EXPECT_EQ(rs1[0]["metadata"]["name"], "web-" + hash);
  EXPECT_EQ(rs1[0]["spec"]["selector"]["matchLabels"]["pod-template-hash"], hash);
  EXPECT_EQ(rs1[0]["metadata"]["ownerReferences"][0]["uid"], d["metadata"]["uid"]);
  EXPECT_EQ(rs1[0]["metadata"]["ownerReferences"][0]["controller"], true);
  EXPECT_EQ(rs1[0]["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
  EXPECT_EQ(d["status"]["readyReplicas"], 2);

  // Image change: the new RS scales up first (maxSurge 25% of 2 -> 1), old only after.
  ASSERT_THAT(
      Patch(
          "web", "application/merge-patch+json",
          R"({"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.27","resources":{"limits":{"memory":"65Mi"}}}]}}}})"),
      IsOk());
  auto all = cluster_->store().List("replicasets", "app");
  ASSERT_EQ(all.size(), 2u);
  int total = 0;
  for (const json& rs : all) total += rs["spec"]["replicas"].get<int>();
  EXPECT_EQ(total, 3);  // desired 2 + surge 1, nothing available yet on the new one
  cluster_->AdvanceClock(absl::Seconds(10));
  d = Deployment("web");
  EXPECT_EQ(d["status"]["updatedReplicas"], 2);
  EXPECT_EQ(d["status"]["replicas"], 2);
  EXPECT_EQ(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "2");
  json old_rs = *cluster_->store().Get("replicasets", "app", "web-" + hash);
  EXPECT_EQ(old_rs["spec"]["replicas"], 0);

  // Undo as kubectl does it: JSON patch with the old RS template.
  json tmpl = old_rs["spec"]["template"];
  tmpl["metadata"]["labels"].erase("pod-template-hash");
  tmpl["metadata"]["creationTimestamp"] = nullptr;
  json patch = json::array({{{"op", "replace"}, {"path", "/spec/template"}, {"value", tmpl}}});
  ASSERT_THAT(Patch("web", "application/json-patch+json", patch.dump()), IsOk());
  cluster_->AdvanceClock(absl::Seconds(10));
  EXPECT_EQ(cluster_->store().List("replicasets", "app").size(), 2u);  // reused, not a third
  old_rs = *cluster_->store().Get("replicasets", "app", "web-" + hash);
  EXPECT_EQ(old_rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "3");
  EXPECT_EQ(old_rs["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"], "1");
  EXPECT_EQ(old_rs["spec"]["replicas"], 2);
  EXPECT_EQ(Deployment("web")["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "3");
}

TEST_F(ScenarioTest, OldReplicaSetsBeyondRevisionHistoryLimitArePruned) {
  Apply(DeployYaml("web", "nginx:1.27", "64Mi"));
  ASSERT_THAT(
      Patch("web", "application/merge-patch+json", R"({"spec":{"revisionHistoryLimit":1}})"),
      IsOk());
  for (const char* limit : {"65Mi", "66Mi", "67Mi"}) {
    ASSERT_THAT(
        Patch(
            "web", "application/strategic-merge-patch+json",
            std::string(
                R"({"spec":{"template":{"spec":{"containers":[{"name":"main","resources":{"limits":{"memory":")") +
                limit + R"("}}}]}}}})"),
        IsOk());
    cluster_->AdvanceClock(absl::Seconds(5));
  }
  auto rs = cluster_->store().List("replicasets", "app");
  ASSERT_EQ(rs.size(), 2u);  // the live one + 1 of history
  std::set<std::string> revisions;
  for (const json& r : rs) {
    revisions.insert(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]);
  }
  EXPECT_EQ(revisions, (std::set<std::string>{"3", "4"}));
}

TEST_F(ScenarioTest, ProgressDeadlineExceededAfterTheDeadlineOfSimulatedTime) {
  Apply(DeployYaml("web", "nginx:1.27", "4Mi"));
  cluster_->AdvanceClock(absl::Seconds(30));
  EXPECT_EQ(Condition(Deployment("web"), "Progressing")["status"], "True");
  cluster_->AdvanceClock(absl::Seconds(40));
  json prog = Condition(Deployment("web"), "Progressing");
  EXPECT_EQ(prog["status"], "False");
  EXPECT_EQ(prog["reason"], "ProgressDeadlineExceeded");
  EXPECT_THAT(prog["message"].get<std::string>(), HasSubstr("has timed out progressing."));
}

TEST_F(ScenarioTest, UnknownImageGoesErrImagePullThenImagePullBackOffAndRecovers) {
  Apply(DeployYaml("rep", "registry.example.invalid/reports:2.0", "64Mi"));
  cluster_->AdvanceClock(absl::Seconds(1));
  json pod = OnlyPod("rep");
  std::string name = pod["metadata"]["name"];
  EXPECT_EQ(Container(pod)["state"]["waiting"]["reason"], "ErrImagePull");
  cluster_->AdvanceClock(absl::Seconds(2));
  pod = OnlyPod("rep");
  EXPECT_EQ(pod["status"]["phase"], "Pending");
  EXPECT_EQ(Container(pod)["state"]["waiting"]["reason"], "ImagePullBackOff");
  EXPECT_THAT(
      Container(pod)["state"]["waiting"]["message"].get<std::string>(),
      HasSubstr("Back-off pulling image \"registry.example.invalid/reports:2.0\": ErrImagePull: "));
  bool saw_pull_failure = false, saw_backoff = false;
  for (const json& e : Events(name, "Failed")) {
    saw_pull_failure |=
        e["message"].get<std::string>().rfind(
            "Failed to pull image \"registry.example.invalid/reports:2.0\": ", 0) == 0;
  }
  for (const json& e : Events(name, "BackOff")) {
    saw_backoff |=
        e["type"] == "Normal" &&
        e["message"] == "Back-off pulling image \"registry.example.invalid/reports:2.0\"";
  }
  EXPECT_TRUE(saw_pull_failure);
  EXPECT_TRUE(saw_backoff);
  auto logs = cluster_->Logs("app", name, {});
  EXPECT_THAT(logs.status().message(),
              HasSubstr("is waiting to start: trying and failing to pull image"));

  ASSERT_THAT(
      Patch(
          "rep", "application/strategic-merge-patch+json",
          R"({"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.27"}]}}}})"),
      IsOk());
  cluster_->AdvanceClock(absl::Seconds(5));
  auto pods = Pods("rep");
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(Condition(pods[0], "Ready")["status"], "True");
}

TEST_F(ScenarioTest, MissingSecretIsCreateContainerConfigErrorUntilTheSecretExists) {
  Apply(DeployYaml("api", "ghcr.io/acme/api:1", "64Mi",
                   "        env:\n        - name: DATABASE_URL\n          valueFrom: "
                   "{secretKeyRef: {name: db, key: url}}\n"));
  cluster_->AdvanceClock(absl::Seconds(3));
  json c = Container(OnlyPod("api"));
  EXPECT_EQ(c["state"]["waiting"]["reason"], "CreateContainerConfigError");
  EXPECT_EQ(c["state"]["waiting"]["message"], "secret \"db\" not found");
  std::string name = OnlyPod("api")["metadata"]["name"];
  bool saw = false;
  for (const json& e : Events(name, "Failed"))
    saw |= e["message"] == "Error: secret \"db\" not found";
  EXPECT_TRUE(saw);
  Apply(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\ndata: {other: eA==}\n");
  cluster_->AdvanceClock(absl::Seconds(11));
  EXPECT_EQ(Container(OnlyPod("api"))["state"]["waiting"]["message"],
            "couldn't find key url in Secret app/db");
  Apply("apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\ndata: {url: eA==}\n");
  cluster_->AdvanceClock(absl::Seconds(11));
  c = Container(OnlyPod("api"));
  EXPECT_TRUE(c["state"].contains("running")) << c.dump();
}

TEST_F(ScenarioTest, MissingRequiredEnvCrashesWithTheImagesMessage) {
  Apply(DeployYaml("api", "ghcr.io/acme/api:1", "64Mi"));
  cluster_->AdvanceClock(absl::Seconds(4));
  json pod = OnlyPod("api");
  json c = Container(pod);
  EXPECT_EQ(c["lastState"]["terminated"]["reason"], "Error");
  EXPECT_EQ(c["lastState"]["terminated"]["exitCode"], 3);
  LogOptions opts;
  opts.previous = true;
  auto logs = cluster_->Logs("app", pod["metadata"]["name"], opts);
  ASSERT_THAT(logs.status(), IsOk());
  EXPECT_EQ(*logs, "api starting\nFATAL: DATABASE_URL is not set\n");
  opts.tail_lines = 1;
  EXPECT_EQ(*cluster_->Logs("app", pod["metadata"]["name"], opts),
            "FATAL: DATABASE_URL is not set\n");
}

TEST_F(ScenarioTest, ProbesOnPathsTheImageDoesNotServeFailWithRealMessages) {
  Apply(DeployYaml(
      "web", "nginx:1.27", "64Mi",
      "        livenessProbe: {httpGet: {path: /live, port: 80}, periodSeconds: 5}\n"
      "        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 5}\n"));
  cluster_->AdvanceClock(absl::Seconds(30));
  json pod = OnlyPod("web");
  std::string name = pod["metadata"]["name"];
  EXPECT_EQ(Condition(pod, "Ready")["status"], "False");
  EXPECT_EQ(Condition(pod, "Ready")["message"], "containers with unready status: [main]");
  std::vector<std::string> messages;
  for (const json& e : Events(name, "Unhealthy")) messages.push_back(e["message"]);
  EXPECT_THAT(messages,
              ::testing::Contains("Liveness probe failed: HTTP probe failed with statuscode: 404"));
  EXPECT_THAT(messages, ::testing::Contains(HasSubstr("Readiness probe failed: Get \"http://")));
  EXPECT_THAT(messages, ::testing::Contains(HasSubstr(":8080/healthz\": dial tcp ")));
  auto killing = Events(name, "Killing");
  ASSERT_FALSE(killing.empty());
  EXPECT_EQ(killing[0]["message"], "Container main failed liveness probe, will be restarted");
  EXPECT_GE(Container(pod)["restartCount"].get<int>(), 1);
}

TEST_F(ScenarioTest, RequestsThatFitNoNodeStayPendingWithFailedScheduling) {
  Apply(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: big, namespace: app}\nspec:\n  containers:\n"
      "  - name: main\n    image: nginx:1.27\n    resources: {requests: {memory: 64Gi}}\n");
  cluster_->AdvanceClock(absl::Seconds(2));
  json pod = *cluster_->store().Get("pods", "app", "big");
  EXPECT_EQ(pod["status"]["phase"], "Pending");
  std::string want =
      "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No "
      "preemption victims found for incoming pod.";
  json sched = Condition(pod, "PodScheduled");
  EXPECT_EQ(sched["reason"], "Unschedulable");
  EXPECT_EQ(sched["message"], want);
  auto ev = Events("big", "FailedScheduling");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]["message"], want);
  EXPECT_EQ(ev[0]["source"]["component"], "default-scheduler");
  EXPECT_FALSE(ev[0]["involvedObject"].contains("fieldPath"));
}

TEST_F(ScenarioTest, StoreKeepsResourceVersionOnNoOpWritesAndDetectsConflicts) {
  Apply(DeployYaml("web", "nginx:1.27", "64Mi"));
  cluster_->AdvanceClock(absl::Seconds(3));
  json d = Deployment("web");
  auto same = cluster_->store().Update("deployments", d, d["metadata"]["resourceVersion"]);
  ASSERT_THAT(same.status(), IsOk());
  EXPECT_EQ((*same)["metadata"]["resourceVersion"], d["metadata"]["resourceVersion"]);
  json stale = d;
  stale["metadata"]["resourceVersion"] = "1";
  stale["spec"]["replicas"] = 3;
  EXPECT_EQ(cluster_->store().Update("deployments", stale, "1").status().code(),
            absl::StatusCode::kAborted);
  int64_t rv = cluster_->store().current_rv();
  cluster_->store().Compact();
  EXPECT_EQ(cluster_->store().compacted_rv(), rv);
  json changed = d;
  changed["spec"]["replicas"] = 2;
  ASSERT_THAT(cluster_->store().Update("deployments", changed).status(), IsOk());
  auto events = cluster_->store().WaitForEvents(rv, absl::Milliseconds(10));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "MODIFIED");
  EXPECT_EQ(events[0].object["metadata"]["generation"], 2);
}

TEST_F(ScenarioTest, PatchesRetryWhenAControllerWritesInBetween) {
  Apply(DeployYaml("web", "nginx:1.27", "64Mi"));
  std::atomic<bool> stop{false};
  std::atomic<int> status_writes{0};
  std::thread writer([&] {
    // Stands in for a busy controller: status writes on the same object, back to back.
    for (int i = 0; !stop.load(); ++i) {
      auto d = cluster_->store().Get("deployments", "app", "web");
      (*d)["status"]["observedGeneration"] = 1000 + i;
      if (cluster_->store().Update("deployments", *d).ok()) ++status_writes;
      absl::SleepFor(absl::Microseconds(50));
    }
  });
  const ResourceType* type = FindResource("apps", "deployments");
  int failures = 0;
  for (int i = 0; i < 300; ++i) {
    bool created = false;
    auto r = cluster_->PatchObject(
        *type, "app", "web", "application/merge-patch+json",
        std::string(R"({"metadata":{"annotations":{"n":")") + std::to_string(i) + R"("}}})", {},
        false, &created);
    if (!r.ok()) ++failures;
  }
  stop = true;
  writer.join();
  EXPECT_GT(status_writes.load(), 50);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(Deployment("web")["metadata"]["annotations"]["n"], "299");
}

TEST(WorldTest, RejectsUnknownKeysWithFileAndLine) {
  auto w = ParseWorld("images:\n- name: x\n  workingSett: 1Mi\n", "w.yaml");
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("w.yaml:3"));
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("workingSett"));
  auto q = ParseWorld("nodes:\n- name: n\n  capacity: {memory: lots}\n", "w.yaml");
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(WorldTest, ImageNamesNormaliseLikeDocker) {
  auto w = ParseWorld("images:\n- name: nginx:1.27\n- name: ghcr.io/acme/*\n", "w");
  ASSERT_THAT(w.status(), IsOk());
  EXPECT_NE(w->FindImage("docker.io/library/nginx:1.27"), nullptr);
  EXPECT_NE(w->FindImage("nginx:1.27"), nullptr);
  EXPECT_EQ(w->FindImage("nginx"), nullptr);
  EXPECT_NE(w->FindImage("ghcr.io/acme/anything:3"), nullptr);
  EXPECT_EQ(NormalizeImage("nginx"), "docker.io/library/nginx:latest");
  EXPECT_EQ(NormalizeImage("localhost:5000/x"), "localhost:5000/x:latest");
}

}  // namespace
}  // namespace remediator::kubesim
