// kubectl's rollout-status decision and rollout-undo planning on JSON objects, and the mapping of
// Kubernetes Status errors to absl codes.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/remediator/adapters/kube/kube_status.h"
#include "server/remediator/core/kube_rollout.h"
#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;

nlohmann::json Deployment(int generation, int observed, int replicas, int status_replicas,
                          int updated, int available) {
  return {{"metadata", {{"name", "web"}, {"generation", generation}}},
          {"spec", {{"replicas", replicas}}},
          {"status",
           {{"observedGeneration", observed},
            {"replicas", status_replicas},
            {"updatedReplicas", updated},
            {"availableReplicas", available}}}};
}

TEST(RolloutStatusTest, FollowsKubectlOrder) {
  auto status = EvaluateDeploymentRollout(Deployment(7, 6, 3, 3, 3, 3));
  ASSERT_THAT(status, IsOk());
  EXPECT_FALSE(status->done);
  EXPECT_EQ(status->message, "Waiting for deployment spec update to be observed...");

  status = EvaluateDeploymentRollout(Deployment(7, 7, 3, 4, 2, 3));
  EXPECT_FALSE(status->done);
  EXPECT_EQ(status->message,
            "Waiting for deployment \"web\" rollout to finish: 2 out of 3 new replicas have been "
            "updated...");

  status = EvaluateDeploymentRollout(Deployment(7, 7, 3, 4, 3, 3));
  EXPECT_FALSE(status->done);
  EXPECT_THAT(status->message, HasSubstr("1 old replicas are pending termination"));

  status = EvaluateDeploymentRollout(Deployment(7, 7, 3, 3, 3, 1));
  EXPECT_FALSE(status->done);
  EXPECT_THAT(status->message, HasSubstr("1 of 3 updated replicas are available"));

  status = EvaluateDeploymentRollout(Deployment(7, 7, 3, 3, 3, 3));
  EXPECT_TRUE(status->done);
  EXPECT_FALSE(status->failed);
  EXPECT_EQ(status->message, "deployment \"web\" successfully rolled out");

  nlohmann::json stuck = Deployment(7, 7, 3, 4, 2, 3);
  stuck["status"]["conditions"] = {
      {{"type", "Available"}, {"status", "True"}, {"reason", "MinimumReplicasAvailable"}},
      {{"type", "Progressing"}, {"status", "False"}, {"reason", "ProgressDeadlineExceeded"}}};
  status = EvaluateDeploymentRollout(stuck);
  EXPECT_TRUE(status->failed);
  EXPECT_FALSE(status->done);
  EXPECT_EQ(status->message, "deployment \"web\" exceeded its progress deadline");

  // A stale generation wins over the deadline (kubectl checks it first).
  stuck["metadata"]["generation"] = 8;
  EXPECT_FALSE(EvaluateDeploymentRollout(stuck)->failed);
  EXPECT_THAT(EvaluateDeploymentRollout(nlohmann::json::array()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RolloutStatusTest, DaemonSet) {
  nlohmann::json ds = {{"kind", "DaemonSet"},
                       {"metadata", {{"name", "agent"}, {"generation", 2}}},
                       {"status",
                        {{"observedGeneration", 1},
                         {"desiredNumberScheduled", 3},
                         {"updatedNumberScheduled", 3},
                         {"numberAvailable", 3}}}};
  EXPECT_EQ(EvaluateRollout(ds)->message, "Waiting for daemon set spec update to be observed...");
  ds["status"]["observedGeneration"] = 2;
  ds["status"]["updatedNumberScheduled"] = 1;
  EXPECT_EQ(EvaluateRollout(ds)->message,
            "Waiting for daemon set \"agent\" rollout to finish: 1 out of 3 new pods have been "
            "updated...");
  ds["status"]["updatedNumberScheduled"] = 3;
  ds["status"]["numberAvailable"] = 2;
  EXPECT_FALSE(EvaluateRollout(ds)->done);
  ds["status"]["numberAvailable"] = 3;
  EXPECT_TRUE(EvaluateRollout(ds)->done);
  EXPECT_EQ(EvaluateRollout(ds)->message, "daemon set \"agent\" successfully rolled out");
  ds["spec"]["updateStrategy"]["type"] = "OnDelete";
  EXPECT_THAT(EvaluateRollout(ds), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(RolloutStatusTest, StatefulSet) {
  nlohmann::json ss = {{"kind", "StatefulSet"},
                       {"metadata", {{"name", "db"}, {"generation", 3}}},
                       {"spec", {{"replicas", 3}}},
                       {"status",
                        {{"observedGeneration", 3},
                         {"readyReplicas", 2},
                         {"updatedReplicas", 1},
                         {"currentReplicas", 3},
                         {"currentRevision", "db-1"},
                         {"updateRevision", "db-2"}}}};
  EXPECT_EQ(EvaluateRollout(ss)->message, "Waiting for 1 pods to be ready...");
  ss["status"]["readyReplicas"] = 3;
  EXPECT_EQ(EvaluateRollout(ss)->message,
            "waiting for statefulset rolling update to complete 1 pods at revision db-2...");
  ss["status"]["currentRevision"] = "db-2";
  EXPECT_TRUE(EvaluateRollout(ss)->done);
  EXPECT_EQ(EvaluateRollout(ss)->message,
            "statefulset rolling update complete 3 pods at revision db-2...");
  ss["spec"]["updateStrategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 2}}}};
  ss["status"]["updatedReplicas"] = 0;
  EXPECT_FALSE(EvaluateRollout(ss)->done);
  ss["status"]["updatedReplicas"] = 1;
  EXPECT_TRUE(EvaluateRollout(ss)->done);
  EXPECT_THAT(EvaluateRollout({{"kind", "Pod"}}), StatusIs(absl::StatusCode::kUnimplemented));
}

nlohmann::json ReplicaSet(const std::string& uid, int revision, const std::string& image,
                          bool controller = true) {
  return {
      {"metadata",
       {{"name", "web-" + std::to_string(revision)},
        {"annotations",
         {{"deployment.kubernetes.io/revision", std::to_string(revision)},
          {"team", "rs-" + std::to_string(revision)}}},
        {"ownerReferences", {{{"uid", uid}, {"controller", controller}, {"kind", "Deployment"}}}}}},
      {"spec",
       {{"template",
         {{"metadata",
           {{"labels", {{"app", "web"}, {"pod-template-hash", "h" + std::to_string(revision)}}}}},
          {"spec", {{"containers", {{{"name", "web"}, {"image", image}}}}}}}}}}};
}

nlohmann::json CurrentDeployment(const std::string& image) {
  return {{"metadata",
           {{"name", "web"},
            {"uid", "u1"},
            {"annotations", {{"deployment.kubernetes.io/revision", "3"}, {"team", "deploy"}}}}},
          {"spec",
           {{"selector", {{"matchLabels", {{"app", "web"}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", "web"}}}}},
              {"spec", {{"containers", {{{"name", "web"}, {"image", image}}}}}}}}}}};
}

TEST(RollbackPlanTest, PicksPreviousRevisionAndMergesAnnotations) {
  std::vector<nlohmann::json> sets = {
      ReplicaSet("u1", 1, "nginx:1.25"), ReplicaSet("u1", 2, "nginx:1.26"),
      ReplicaSet("u1", 3, "nginx:1.27"), ReplicaSet("other", 9, "evil:1")};
  auto plan = PlanDeploymentRollback(CurrentDeployment("nginx:1.27"), sets, 0);
  ASSERT_THAT(plan, IsOk());
  EXPECT_FALSE(plan->skip);
  EXPECT_EQ(plan->revision, 2);
  ASSERT_EQ(plan->json_patch.size(), 2u);
  EXPECT_EQ(plan->json_patch[0]["path"], "/spec/template");
  EXPECT_EQ(plan->json_patch[0]["value"]["spec"]["containers"][0]["image"], "nginx:1.26");
  EXPECT_FALSE(plan->json_patch[0]["value"]["metadata"]["labels"].contains("pod-template-hash"));
  EXPECT_EQ(plan->json_patch[1]["path"], "/metadata/annotations");
  EXPECT_EQ(plan->json_patch[1]["value"],
            (nlohmann::json{{"deployment.kubernetes.io/revision", "3"}, {"team", "rs-2"}}));

  plan = PlanDeploymentRollback(CurrentDeployment("nginx:1.27"), sets, 1);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->revision, 1);
  EXPECT_THAT(PlanDeploymentRollback(CurrentDeployment("nginx:1.27"), sets, 9),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("unable to find specified revision 9 in history")));
  // Same template as current (ignoring the hash label): skipped.
  plan = PlanDeploymentRollback(CurrentDeployment("nginx:1.26"), sets, 2);
  ASSERT_THAT(plan, IsOk());
  EXPECT_TRUE(plan->skip);
}

TEST(RollbackPlanTest, NoHistoryAndPaused) {
  EXPECT_THAT(PlanDeploymentRollback(CurrentDeployment("a"), {ReplicaSet("u1", 1, "a")}, 0),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no rollout history found for deployment \"web\"")));
  // RSs not controlled by the deployment do not count.
  EXPECT_THAT(
      PlanDeploymentRollback(CurrentDeployment("a"),
                             {ReplicaSet("u1", 1, "a", false), ReplicaSet("u1", 2, "b")}, 0),
      StatusIs(absl::StatusCode::kNotFound));
  nlohmann::json paused = CurrentDeployment("b");
  paused["spec"]["paused"] = true;
  EXPECT_THAT(
      PlanDeploymentRollback(paused, {ReplicaSet("u1", 1, "a"), ReplicaSet("u1", 2, "b")}, 0),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("paused")));
}

TEST(LabelSelectorTest, MatchLabelsAndExpressions) {
  auto selector =
      LabelSelectorString({{"matchLabels", {{"app", "web"}}},
                           {"matchExpressions",
                            {{{"key", "tier"}, {"operator", "In"}, {"values", {"a", "b"}}},
                             {{"key", "canary"}, {"operator", "DoesNotExist"}}}}});
  ASSERT_THAT(selector, IsOk());
  EXPECT_EQ(*selector, "app=web,tier in (a,b),!canary");
  EXPECT_THAT(LabelSelectorString(nlohmann::json()), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KubeStatusTest, MapsCodesAndKeepsMessage) {
  auto status = [](long code, const std::string& reason) {
    return kube::KubeHttpError(code,
                               nlohmann::json{{"kind", "Status"},
                                              {"status", "Failure"},
                                              {"reason", reason},
                                              {"message", "the message"},
                                              {"code", code}}
                                   .dump(),
                               "GET /x");
  };
  EXPECT_THAT(status(404, "NotFound"),
              StatusIs(absl::StatusCode::kNotFound, "GET /x: 404 NotFound: the message"));
  EXPECT_EQ(KubeHttpCode(status(404, "NotFound")), 404);
  EXPECT_EQ(KubeReason(status(404, "NotFound")), "NotFound");
  EXPECT_THAT(status(409, "AlreadyExists"), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(status(409, "Conflict"), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(status(422, "Invalid"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(status(400, "BadRequest"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(status(401, "Unauthorized"), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(status(403, "Forbidden"), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_TRUE(IsKubeExpired(status(410, "Expired")));
  EXPECT_FALSE(IsKubeExpired(status(404, "NotFound")));
  EXPECT_THAT(status(429, "TooManyRequests"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(status(503, "ServiceUnavailable"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(kube::KubeHttpError(502, "<html>bad gateway</html>", "GET /y"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("bad gateway")));
  auto in_stream = kube::KubeStatusObjectError(
      {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}, {"message", "too old"}}, "w");
  EXPECT_TRUE(IsKubeExpired(in_stream));
  // 422 causes are appended.
  auto invalid = kube::KubeHttpError(
      422,
      nlohmann::json{
          {"kind", "Status"},
          {"reason", "Invalid"},
          {"message", "Deployment.apps \"web\" is invalid"},
          {"details", {{"causes", {{{"field", "spec.replicas"}, {"message", "must be >= 0"}}}}}}}
          .dump(),
      "PATCH /d");
  EXPECT_THAT(invalid, StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("spec.replicas: must be >= 0")));
}

}  // namespace
}  // namespace remediator
