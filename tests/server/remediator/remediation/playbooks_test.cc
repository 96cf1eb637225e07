#include "server/remediator/core/remediation/playbooks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/remediator/core/remediation/guard.h"
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
  EXPECT_EQ(proposal->changes[0].value, "32Mi");  // 4Mi x 4 = 16Mi, raised to the 32Mi floor
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
  PlaybookOptions options;
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

}  // namespace
}  // namespace remediator::remediation
