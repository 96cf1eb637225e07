#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/remediator/core/remediation/guard.h"
#include "server/remediator/core/remediation/playbooks/playbook_strategy.h"
#include "tests/testing/status_matchers.h"

namespace remediator::remediation {
namespace {

using json = nlohmann::json;
using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;

json Nginx(const std::string& memory) {
  json d = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"nginx","namespace":"app"},
    "spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27",
      "ports":[{"containerPort":80}],
      "resources":{"limits":{},"requests":{"cpu":"10m"}}}]}}}})");
  d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = memory;
  return d;
}

Evidence Incident(v1::ErrorClass error_class, const std::string& container = "nginx") {
  Evidence e;
  e.incident.set_error_class(error_class);
  e.incident.mutable_workload()->set_container(container);
  return e;
}

TEST(PlaybookTest, OomRaisesTheLimitAndTheResultPassesTheGuard) {
  Evidence evidence = Incident(v1::ERROR_CLASS_OOM_KILLED);
  json manifest = Nginx("4Mi");
  PlaybookStrategy playbooks;
  auto proposal = playbooks.Propose({evidence, manifest});
  ASSERT_THAT(proposal, IsOk());
  EXPECT_EQ(proposal->strategy, "playbook/oom-raise-memory");
  ASSERT_EQ(proposal->changes.size(), 1u);
  EXPECT_EQ(manifest::FormatFieldPath(proposal->changes[0].path),
            "spec.template.spec.containers[name=nginx].resources.limits.memory");
  EXPECT_EQ(proposal->changes[0].value, "64Mi");  // 4Mi x 4 = 16Mi, raised to the 64Mi floor
  EXPECT_THAT(proposal->explanation, HasSubstr("OOM-killed"));
  auto edited = ApplyProposal(manifest, *proposal);
  ASSERT_THAT(edited, IsOk());
  EXPECT_TRUE(Guard().Check(manifest, *edited).allowed());
}

TEST(PlaybookTest, OomScalesLargeLimitsAndKeepsRequestsWithinThem) {
  Evidence evidence = Incident(v1::ERROR_CLASS_OOM_KILLED);
  json manifest = Nginx("256Mi");
  auto proposal = PlaybookStrategy().Propose({evidence, manifest});
  ASSERT_THAT(proposal, IsOk());
  EXPECT_EQ(proposal->changes[0].value, "1Gi");
  json over = Nginx("256Mi");
  over["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] = "256Mi";
  playbooks::PlaybookOptions options;
  options.memory_factor = 1.5;
  auto small = PlaybookStrategy(options).Propose({evidence, over});
  ASSERT_THAT(small, IsOk());
  EXPECT_EQ(small->changes[0].value, "384Mi");
}

TEST(PlaybookTest, OomWithoutALimitOrAtTheCapIsNotApplicable) {
  Evidence evidence = Incident(v1::ERROR_CLASS_OOM_KILLED);
  json manifest = Nginx("4Mi");
  manifest["spec"]["template"]["spec"]["containers"][0]["resources"].erase("limits");
  EXPECT_THAT(PlaybookStrategy().Propose({evidence, manifest}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no memory limit")));
  EXPECT_THAT(PlaybookStrategy().Propose({evidence, Nginx("4Gi")}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("cap")));
}

TEST(PlaybookTest, UnfixableClassesAreNotApplicable) {
  Evidence evidence = Incident(v1::ERROR_CLASS_IMAGE_PULL);
  EXPECT_THAT(PlaybookStrategy().Propose({evidence, Nginx("64Mi")}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("not applicable")));
}

TEST(PlaybookTest, ProbeOnAPortTheContainerDoesNotExposeIsRepointed) {
  Evidence evidence = Incident(v1::ERROR_CLASS_PROBE_FAILURE);
  evidence.events.push_back({{"reason", "Unhealthy"},
                             {"message",
                              "Liveness probe failed: Get \"http://10.0.0.5:8080/healthz\": "
                              "dial tcp 10.0.0.5:8080: connect: connection refused"}});
  json manifest = Nginx("64Mi");
  manifest["spec"]["template"]["spec"]["containers"][0]["livenessProbe"] = {
      {"httpGet", {{"path", "/healthz"}, {"port", 8080}}}};
  auto proposal = PlaybookStrategy().Propose({evidence, manifest});
  ASSERT_THAT(proposal, IsOk());
  ASSERT_EQ(proposal->changes.size(), 1u);
  EXPECT_EQ(manifest::FormatFieldPath(proposal->changes[0].path),
            "spec.template.spec.containers[name=nginx].livenessProbe.httpGet.port");
  EXPECT_EQ(proposal->changes[0].value, 80);
  auto edited = ApplyProposal(manifest, *proposal);
  ASSERT_THAT(edited, IsOk());
  EXPECT_TRUE(Guard().Check(manifest, *edited).allowed());
}

TEST(PlaybookTest, ProbePathFromAWorkingProbeOnTheSamePort) {
  Evidence evidence = Incident(v1::ERROR_CLASS_PROBE_FAILURE);
  evidence.events.push_back(
      {{"reason", "Unhealthy"},
       {"message", "Liveness probe failed: HTTP probe failed with statuscode: 404"}});
  json manifest = Nginx("64Mi");
  auto& c = manifest["spec"]["template"]["spec"]["containers"][0];
  c["livenessProbe"] = {{"httpGet", {{"path", "/healthz"}, {"port", 80}}}};
  c["readinessProbe"] = {{"httpGet", {{"path", "/"}, {"port", 80}}}};
  auto proposal = PlaybookStrategy().Propose({evidence, manifest});
  ASSERT_THAT(proposal, IsOk());
  ASSERT_EQ(proposal->changes.size(), 1u);
  EXPECT_EQ(proposal->changes[0].value, "/");
  EXPECT_THAT(proposal->explanation, HasSubstr("livenessProbe: path \"/healthz\" -> \"/\""));
}

TEST(PlaybookTest, ProbeTimeoutsGetLongerAndStarvedCpuDoubles) {
  Evidence evidence = Incident(v1::ERROR_CLASS_PROBE_FAILURE);
  evidence.events.push_back(
      {{"reason", "Unhealthy"},
       {"message",
        "Readiness probe failed: Get \"http://10.0.0.5:80/\": context deadline exceeded "
        "(Client.Timeout exceeded while awaiting headers)"}});
  json manifest = Nginx("64Mi");
  auto& c = manifest["spec"]["template"]["spec"]["containers"][0];
  c["readinessProbe"] = {{"httpGet", {{"path", "/"}, {"port", 80}}}, {"timeoutSeconds", 1}};
  c["resources"]["limits"]["cpu"] = "50m";
  auto proposal = PlaybookStrategy().Propose({evidence, manifest});
  ASSERT_THAT(proposal, IsOk());
  ASSERT_EQ(proposal->changes.size(), 2u);
  EXPECT_EQ(proposal->changes[0].value, 5);
  EXPECT_EQ(proposal->changes[1].value, "100m");
  auto edited = ApplyProposal(manifest, *proposal);
  ASSERT_THAT(edited, IsOk());
  EXPECT_TRUE(Guard().Check(manifest, *edited).allowed());
}

TEST(PlaybookTest, ProbeWithoutDeterminingEvidenceIsNotApplicable) {
  Evidence evidence = Incident(v1::ERROR_CLASS_PROBE_FAILURE);
  evidence.events.push_back(
      {{"reason", "Unhealthy"},
       {"message", "Liveness probe failed: HTTP probe failed with statuscode: 500"}});
  json manifest = Nginx("64Mi");
  manifest["spec"]["template"]["spec"]["containers"][0]["livenessProbe"] = {
      {"httpGet", {{"path", "/healthz"}, {"port", 80}}}};
  EXPECT_THAT(PlaybookStrategy().Propose({evidence, manifest}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("does not determine")));
}

// ---- Playbooks on facts: each proposal must also pass the guard with the same facts. ----

ClusterFacts Facts() {
  ClusterFacts f;
  f.known = true;
  f.secret_keys["db"] = {"password", "username"};
  f.secret_keys["app-db"] = {"DATABASE_URL"};
  f.config_map_keys["web-config"] = {"nginx.conf"};
  f.config_map_keys["features"] = {"FEATURE_FLAGS"};
  for (const char* name : {"worker-1", "worker-2"}) {
    NodeFacts n;
    n.name = name;
    n.labels = {{"disktype", "ssd"}, {"topology.kubernetes.io/zone", "zone-a"}};
    n.allocatable_cpu_millis = 4000;
    n.allocatable_memory_bytes = 8LL << 30;
    f.nodes.push_back(n);
  }
  return f;
}

json& C(json& d) { return d["spec"]["template"]["spec"]["containers"][0]; }

// Proposes for `evidence` on `manifest`, checks the strategy and that the guard allows it.
Proposal ProposeAllowed(Evidence evidence, const json& manifest, const std::string& strategy) {
  evidence.facts = Facts();
  auto proposal = PlaybookStrategy().Propose({evidence, manifest});
  EXPECT_THAT(proposal, IsOk());
  if (!proposal.ok()) return {};
  EXPECT_EQ(proposal->strategy, strategy);
  auto edited = ApplyProposal(manifest, *proposal);
  EXPECT_THAT(edited, IsOk());
  if (edited.ok()) {
    v1::GuardVerdict verdict = Guard().Check(manifest, *edited, &evidence.facts);
    EXPECT_TRUE(verdict.allowed()) << verdict.DebugString();
  }
  return *proposal;
}

json Status(const std::string& reason, const std::string& message, const char* when = "state") {
  json state = {{"waiting", {{"reason", reason}, {"message", message}}}};
  if (std::string(when) == "lastState") {
    state = {{"terminated", {{"reason", reason}, {"message", message}, {"exitCode", 128}}}};
  }
  return {{"metadata", {{"name", "nginx-7d9f8b6c5-x2k4q"}}},
          {"status", {{"containerStatuses", {{{"name", "nginx"}, {when, state}}}}}}};
}

TEST(PlaybookTest, SecretKeyTypoUsesTheClosestExistingKey) {
  Evidence e = Incident(v1::ERROR_CLASS_CONFIG_ERROR);
  e.pods.push_back(
      Status("CreateContainerConfigError", "couldn't find key pasword in Secret app/db"));
  json m = Nginx("64Mi");
  C(m)
  ["env"] = {{{"name", "DB_PASSWORD"},
              {"valueFrom", {{"secretKeyRef", {{"name", "db"}, {"key", "pasword"}}}}}}};
  Proposal p = ProposeAllowed(e, m, "playbook/key-ref");
  ASSERT_EQ(p.changes.size(), 1u);
  EXPECT_EQ(p.changes[0].value, "password");
}

TEST(PlaybookTest, MissingSecretOrAmbiguousKeyIsForAPerson) {
  Evidence e = Incident(v1::ERROR_CLASS_CONFIG_ERROR);
  e.facts = Facts();
  e.pods.push_back(Status("CreateContainerConfigError", "secret \"db-creds\" not found"));
  EXPECT_THAT(PlaybookStrategy().Propose({e, Nginx("64Mi")}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("does not exist")));
  Evidence far = Incident(v1::ERROR_CLASS_CONFIG_ERROR);
  far.facts = Facts();
  far.pods.push_back(
      Status("CreateContainerConfigError", "couldn't find key token in Secret app/db"));
  json m = Nginx("64Mi");
  C(m)
  ["env"] = {
      {{"name", "T"}, {"valueFrom", {{"secretKeyRef", {{"name", "db"}, {"key", "token"}}}}}}};
  EXPECT_THAT(PlaybookStrategy().Propose({far, m}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("unambiguously")));
}

TEST(PlaybookTest, RequiredVariableFromTheOneSecretKeyThatNamesIt) {
  for (const char* line : {"2026-12-08T07:00:00Z FATAL config: required environment variable "
                           "DATABASE_URL is not set",
                           "KeyError: 'DATABASE_URL'", "Error: DATABASE_URL must be set",
                           "panic: missing required env var DATABASE_URL"}) {
    Evidence e = Incident(v1::ERROR_CLASS_CRASH_LOOP);
    e.logs = std::string("starting\n") + line + "\n";
    Proposal p = ProposeAllowed(e, Nginx("64Mi"), "playbook/env-from-secret");
    ASSERT_EQ(p.changes.size(), 2u) << line;
    EXPECT_EQ(manifest::FormatFieldPath(p.changes[0].path),
              "spec.template.spec.containers[name=nginx].env[name=DATABASE_URL].valueFrom."
              "secretKeyRef.name");
    EXPECT_EQ(p.changes[0].value, "app-db");
    EXPECT_EQ(p.changes[1].value, "DATABASE_URL");
  }
  Evidence none = Incident(v1::ERROR_CLASS_CRASH_LOOP);
  none.facts = Facts();
  none.logs = "FATAL: REDIS_HOST is not set\n";
  EXPECT_THAT(PlaybookStrategy().Propose({none, Nginx("64Mi")}),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(PlaybookTest, ImagePullGoesBackToTheTagThePreviousRevisionRan) {
  Evidence e = Incident(v1::ERROR_CLASS_IMAGE_PULL);
  e.pods.push_back(Status("ErrImagePull",
                          "failed to pull and unpack image \"docker.io/library/nginx:1.99\": "
                          "failed to resolve reference \"docker.io/library/nginx:1.99\": "
                          "docker.io/library/nginx:1.99: not found"));
  json m = Nginx("64Mi");
  C(m)["image"] = "nginx:1.99";
  e.facts = Facts();
  e.facts.older_pod_specs.push_back(
      {{"containers", {{{"name", "nginx"}, {"image", "nginx:1.27"}}}}});
  auto p = PlaybookStrategy().Propose({e, m});
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->strategy, "playbook/image-rollback");
  EXPECT_EQ(p->changes[0].value, "nginx:1.27");
  // Another repository in the history, or an unreachable registry: not applicable.
  e.facts.older_pod_specs = {{{"containers", {{{"name", "nginx"}, {"image", "evil/nginx:1"}}}}}};
  EXPECT_THAT(PlaybookStrategy().Propose({e, m}), StatusIs(absl::StatusCode::kNotFound));
  Evidence down = Incident(v1::ERROR_CLASS_IMAGE_PULL);
  down.pods.push_back(
      Status("ErrImagePull", "dial tcp: lookup registry.example.invalid: no such host"));
  EXPECT_THAT(PlaybookStrategy().Propose({down, m}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("cannot be reached")));
}

TEST(PlaybookTest, RequestLargerThanEveryNodeIsLoweredToFit) {
  Evidence e = Incident(v1::ERROR_CLASS_UNSCHEDULABLE);
  e.events.push_back({{"reason", "FailedScheduling"},
                      {"message",
                       "0/2 nodes are available: 2 Insufficient memory. preemption: 0/2 nodes "
                       "are available: 2 No preemption victims found for incoming pod.."}});
  json m = Nginx("64Gi");
  C(m)["resources"]["requests"]["memory"] = "64Gi";
  Proposal p = ProposeAllowed(e, m, "playbook/request-fit");
  ASSERT_EQ(p.changes.size(), 1u);
  EXPECT_EQ(p.changes[0].value, "4Gi");
  // A request that fits an empty node: the cluster is full, which is not a manifest problem.
  json fits = Nginx("2Gi");
  C(fits)["resources"]["requests"]["memory"] = "2Gi";
  e.facts = Facts();
  EXPECT_THAT(PlaybookStrategy().Propose({e, fits}), StatusIs(absl::StatusCode::kNotFound));
}

TEST(PlaybookTest, NodeSelectorTypoUsesTheOneCloseLabelValue) {
  Evidence e = Incident(v1::ERROR_CLASS_UNSCHEDULABLE);
  e.events.push_back({{"reason", "FailedScheduling"},
                      {"message",
                       "0/2 nodes are available: 2 node(s) didn't match Pod's node "
                       "affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is "
                       "not helpful for scheduling.."}});
  json m = Nginx("64Mi");
  m["spec"]["template"]["spec"]["nodeSelector"] = {{"disktype", "sdd"}};
  Proposal p = ProposeAllowed(e, m, "playbook/node-selector");
  ASSERT_EQ(p.changes.size(), 1u);
  EXPECT_EQ(p.changes[0].value, "ssd");
  json zone = Nginx("64Mi");
  zone["spec"]["template"]["spec"]["affinity"] = json::parse(R"({"nodeAffinity":{
    "requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[
      {"key":"topology.kubernetes.io/zone","operator":"In","values":["zone-aa"]}]}]}}})");
  Proposal z = ProposeAllowed(e, zone, "playbook/node-selector");
  ASSERT_EQ(z.changes.size(), 1u);
  EXPECT_EQ(z.changes[0].value[0]["matchExpressions"][0]["values"], json::array({"zone-a"}));
  Evidence taint = Incident(v1::ERROR_CLASS_UNSCHEDULABLE);
  taint.facts = Facts();
  taint.events.push_back({{"reason", "FailedScheduling"},
                          {"message",
                           "0/2 nodes are available: 2 node(s) had untolerated taint "
                           "{dedicated: gpu}. preemption: 0/2 nodes are available: 2 "
                           "Preemption is not helpful for scheduling.."}});
  EXPECT_THAT(PlaybookStrategy().Propose({taint, m}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("taint")));
}

TEST(PlaybookTest, ReadOnlyRootFilesystemGetsAScratchMountWhereTheLogsSay) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2026/12/08 07:00:00 [emerg] 1#1: mkdir() \"/var/cache/nginx/client_temp\" failed (30: "
       "Read-only file system)",
       "/var/cache/nginx"},
      {"Error: open /tmp/app.lock: read-only file system", "/tmp"},
      {"OSError: [Errno 30] Read-only file system: '/app/cache'", "/app/cache"},
      {"Error: EROFS: read-only file system, open '/home/node/.npm/_logs/x.log'",
       "/home/node/.npm/_logs"},
  };
  for (const auto& [line, directory] : cases) {
    Evidence e = Incident(v1::ERROR_CLASS_CRASH_LOOP);
    e.logs = line + "\n";
    json m = Nginx("64Mi");
    C(m)["securityContext"] = {{"readOnlyRootFilesystem", true}};
    Proposal p = ProposeAllowed(e, m, "playbook/writable-path");
    ASSERT_EQ(p.changes.size(), 2u) << line;
    EXPECT_THAT(manifest::FormatFieldPath(p.changes[1].path), HasSubstr(directory)) << line;
  }
  Evidence writable = Incident(v1::ERROR_CLASS_CRASH_LOOP);
  writable.facts = Facts();
  writable.logs = "Error: open /tmp/app.lock: read-only file system\n";
  EXPECT_THAT(PlaybookStrategy().Propose({writable, Nginx("64Mi")}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("not read-only")));
}

TEST(PlaybookTest, ConfigMapOverAFileGetsSubPath) {
  Evidence e = Incident(v1::ERROR_CLASS_CONFIG_ERROR);
  e.pods.push_back(Status(
      "RunContainerError",
      "failed to create containerd task: failed to create shim task: OCI runtime create "
      "failed: runc create failed: unable to start container process: error during container "
      "init: error mounting \"/var/lib/kubelet/pods/1b2c/volumes/kubernetes.io~configmap/conf\" "
      "to rootfs at \"/etc/nginx/nginx.conf\": mount /var/lib/kubelet/pods/1b2c/volumes/"
      "kubernetes.io~configmap/conf:/etc/nginx/nginx.conf (via /proc/self/fd/6), flags: "
      "0x5001: not a directory: unknown"));
  json m = Nginx("64Mi");
  m["spec"]["template"]["spec"]["volumes"] = {
      {{"name", "conf"}, {"configMap", {{"name", "web-config"}}}}};
  C(m)["volumeMounts"] = {{{"name", "conf"}, {"mountPath", "/etc/nginx/nginx.conf"}}};
  Proposal p = ProposeAllowed(e, m, "playbook/config-subpath");
  ASSERT_EQ(p.changes.size(), 1u);
  EXPECT_EQ(p.changes[0].value, "nginx.conf");
}

TEST(PlaybookTest, CommandTypoCorrectedFromThePreviousRevision) {
  Evidence e = Incident(v1::ERROR_CLASS_CRASH_LOOP);
  e.pods.push_back(Status(
      "StartError",
      "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
      "runc create failed: unable to start container process: exec: \"ngnix\": executable file "
      "not found in $PATH: unknown",
      "lastState"));
  json m = Nginx("64Mi");
  C(m)["command"] = {"ngnix", "-g", "daemon off;"};
  e.facts = Facts();
  e.facts.older_pod_specs.push_back({{"containers",
                                      {{{"name", "nginx"},
                                        {"image", "nginx:1.27"},
                                        {"command", {"nginx", "-g", "daemon off;"}}}}}});
  auto p = PlaybookStrategy().Propose({e, m});
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->strategy, "playbook/command-typo");
  EXPECT_EQ(p->changes[0].value, json::array({"nginx", "-g", "daemon off;"}));
  auto edited = ApplyProposal(m, *p);
  ASSERT_THAT(edited, IsOk());
  EXPECT_TRUE(Guard().Check(m, *edited, &e.facts).allowed());
  // Without a revision that spelled it right, the right word is not known.
  e.facts.older_pod_specs.clear();
  EXPECT_THAT(PlaybookStrategy().Propose({e, m}), StatusIs(absl::StatusCode::kNotFound));
}

TEST(PlaybookTest, JvmHeapAboveTheLimitSizesTheLimitForTheHeap) {
  Evidence e = Incident(v1::ERROR_CLASS_OOM_KILLED);
  json m = Nginx("256Mi");
  C(m)["env"] = {{{"name", "JAVA_TOOL_OPTIONS"}, {"value", "-Xmx1536m -XX:+UseG1GC"}}};
  Proposal p = ProposeAllowed(e, m, "playbook/oom-raise-memory");
  EXPECT_EQ(p.changes[0].value, "2Gi");  // 1536Mi / 0.75
}

TEST(PlaybookTest, ProbePortFromWhatTheLogsSayTheAppListensOn) {
  Evidence e = Incident(v1::ERROR_CLASS_PROBE_FAILURE);
  e.events.push_back({{"reason", "Unhealthy"},
                      {"message",
                       "Readiness probe failed: Get \"http://10.0.0.5:8080/\": dial tcp "
                       "10.0.0.5:8080: connect: connection refused"}});
  e.logs = "2026-12-08T07:00:00Z INFO listening on :9090\n";
  json m = Nginx("64Mi");
  C(m)["ports"] = {{{"containerPort", 8080}}};
  C(m)["readinessProbe"] = {{"httpGet", {{"path", "/"}, {"port", 8080}}}};
  Proposal p = ProposeAllowed(e, m, "playbook/probe");
  ASSERT_EQ(p.changes.size(), 1u);
  EXPECT_EQ(p.changes[0].value, 9090);
}

}  // namespace
}  // namespace remediator::remediation
