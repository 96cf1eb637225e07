#include "server/remediator/core/pr/pr_content.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace remediator::pr {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

v1::Incident Incident() {
  v1::Incident incident;
  incident.set_id("inc-42");
  incident.set_error_class(v1::ERROR_CLASS_OOM_KILLED);
  incident.set_reason("OOMKilled");
  incident.set_severity("critical");
  incident.set_count(3);
  incident.mutable_workload()->set_namespace_("app");
  incident.mutable_workload()->set_kind("Deployment");
  incident.mutable_workload()->set_name("nginx");
  incident.mutable_workload()->set_container("nginx");
  incident.add_evidence("OOMKilled exit 137, env DB_PASSWORD=hunter2");
  incident.add_evidence("log: token ghp_abcdefghijklmnopqrstuvwxyz0123456789 ``` fence");
  return incident;
}

v1::FixAttempt Attempt(const std::string& path, const std::string& before,
                       const std::string& after) {
  v1::FixAttempt attempt;
  attempt.set_id("fa-7");
  attempt.set_incident_id("inc-42");
  attempt.set_status(v1::FIX_STATUS_VERIFIED);
  attempt.set_strategy("llm");
  attempt.set_model("qwen2.5-coder-1.5b");
  attempt.set_explanation("Raise the limit. (api_key=sk-should-not-show)");
  attempt.set_manifest_path("deploy/app.yaml");
  attempt.set_manifest_document(1);
  v1::FieldChange* change = attempt.add_changes();
  change->set_path(path);
  change->set_old_value_json(before);
  change->set_new_value_json(after);
  change->set_reason("at the limit");
  attempt.add_verification_evidence("1/1 ready, 0 restarts over 120s");
  return attempt;
}

constexpr char kMemory[] = "spec.template.spec.containers[name=nginx].resources.limits.memory";

TEST(PrContentTest, TitleNamesWorkloadChangeAndFailure) {
  EXPECT_EQ(PullRequestTitle(Incident(), Attempt(kMemory, "\"4Mi\"", "\"64Mi\"")),
            "fix(app/nginx): raise memory limit after OOMKilled");
  EXPECT_EQ(PullRequestTitle(Incident(), Attempt(kMemory, "\"1Gi\"", "\"512Mi\"")),
            "fix(app/nginx): lower memory limit after OOMKilled");
  EXPECT_EQ(PullRequestTitle(Incident(), Attempt(kMemory, "null", "\"64Mi\"")),
            "fix(app/nginx): set memory limit after OOMKilled");
  v1::Incident pull = Incident();
  pull.set_error_class(v1::ERROR_CLASS_IMAGE_PULL);
  pull.set_reason("Back-off pulling image \"nginx:1.255\"");
  EXPECT_EQ(PullRequestTitle(pull, Attempt("spec.template.spec.containers[name=nginx].image",
                                           "\"nginx:1.255\"", "\"nginx:1.25\"")),
            "fix(app/nginx): change image after ImagePullBackOff");
  v1::FixAttempt two = Attempt(kMemory, "\"4Mi\"", "\"64Mi\"");
  v1::FieldChange* cpu = two.add_changes();
  cpu->set_path("spec.template.spec.containers[name=nginx].resources.requests.cpu");
  cpu->set_old_value_json("\"100m\"");
  cpu->set_new_value_json("\"250m\"");
  EXPECT_EQ(PullRequestTitle(Incident(), two),
            "fix(app/nginx): raise memory limit and raise CPU request after OOMKilled");
}

TEST(PrContentTest, BodyCarriesIncidentDiffStrategyAndVerificationRedacted) {
  PrContent content = BuildPrContent(
      Incident(), Attempt(kMemory, "\"4Mi\"", "\"64Mi\""),
      "--- a/deploy/app.yaml\n+++ b/deploy/app.yaml\n-  memory: 4Mi\n+  memory: 64Mi\n",
      {"remediator"});
  EXPECT_THAT(content.body, HasSubstr("`inc-42`"));
  EXPECT_THAT(content.body, HasSubstr("`oom_killed`"));
  EXPECT_THAT(content.body, HasSubstr("OOMKilled exit 137"));
  EXPECT_THAT(content.body, Not(HasSubstr("hunter2")));
  EXPECT_THAT(content.body, Not(HasSubstr("ghp_abcdefghijklmnopqrstuvwxyz0123456789")));
  EXPECT_THAT(content.body, Not(HasSubstr("sk-should-not-show")));
  // Evidence with a ``` inside gets a longer fence.
  EXPECT_THAT(content.body, HasSubstr("````text\n"));
  EXPECT_THAT(content.body, HasSubstr("```diff\n--- a/deploy/app.yaml"));
  EXPECT_THAT(content.body, HasSubstr("+  memory: 64Mi"));
  EXPECT_THAT(content.body, HasSubstr("Strategy: `llm`"));
  EXPECT_THAT(content.body, HasSubstr("Model: `qwen2.5-coder-1.5b`"));
  EXPECT_THAT(content.body, HasSubstr("- 1/1 ready, 0 restarts over 120s"));
  EXPECT_THAT(content.body, HasSubstr("| `" + std::string(kMemory) + "` | `\"4Mi\"` | `\"64Mi\"`"));
  EXPECT_THAT(content.commit_message, HasSubstr("Remediator-Incident: inc-42\n"));
  EXPECT_THAT(content.commit_message, HasSubstr("Remediator-Fix-Attempt: fa-7\n"));
  EXPECT_EQ(content.commit_message.substr(0, content.title.size()), content.title);
  EXPECT_THAT(content.labels, Contains("remediator"));
  EXPECT_THAT(content.labels, Contains("remediator/oom_killed"));
}

TEST(PrContentTest, Deterministic) {
  auto attempt = Attempt(kMemory, "\"4Mi\"", "\"64Mi\"");
  EXPECT_EQ(BuildPrContent(Incident(), attempt, "", {}).body,
            BuildPrContent(Incident(), attempt, "", {}).body);
}

}  // namespace
}  // namespace remediator::pr
