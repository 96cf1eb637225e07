// Jobs, CronJobs and StatefulSets on kubesim's manual clock with the behaviour world: the pods
// they create get the same container behaviours as a Deployment's, Jobs complete or fail, and a
// fix reaches new pods the way it does on a real cluster.
#include "server/kubesim/workloads.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/k8s_util.h"
#include "server/kubesim/world.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kubesim {
namespace {

using ::remediator::testing::IsOk;
using ::testing::Contains;
using ::testing::HasSubstr;

class WorkloadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto world = LoadWorldFile(BEHAVIOUR_WORLD);
    ASSERT_THAT(world.status(), IsOk());
    ClusterOptions opts;
    opts.base_clock = &clock_;
    opts.manual_clock = true;
    opts.start_time = absl::FromUnixSeconds(1796000000);  // 2026-11-30T00:53:20Z
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
  absl::Status Patch(const std::string& resource, const std::string& name,
                     const std::string& body) {
    const std::string group = resource == "statefulsets" ? "apps" : "batch";
    bool created = false;
    auto r =
        cluster_->PatchObject(*FindResource(group, resource), "app", name,
                              "application/strategic-merge-patch+json", body, {}, false, &created);
    cluster_->Reconcile();
    return r.status();
  }
  json Get(const std::string& resource, const std::string& name) {
    auto obj = cluster_->store().Get(resource, "app", name);
    return obj ? *obj : json::object();
  }
  std::vector<std::string> EventMessages(const std::string& object, const std::string& reason) {
    std::vector<std::string> out;
    for (const json& e : cluster_->store().List("events", "app")) {
      if (e["involvedObject"]["name"] == object && e["reason"] == reason) {
        out.push_back(e["message"]);
      }
    }
    return out;
  }
  static bool HasCondition(const json& obj, const std::string& type) {
    for (const json& c : obj["status"].value("conditions", json::array())) {
      if (c["type"] == type && c["status"] == "True") return true;
    }
    return false;
  }
  static std::string JobYaml(const std::string& name, const std::string& script,
                             const std::string& policy = "Never", int backoff_limit = 2) {
    return absl::StrCat("apiVersion: batch/v1\nkind: Job\nmetadata: {name: ", name,
                        ", namespace: app}\nspec:\n  backoffLimit: ", backoff_limit,
                        "\n  template:\n    spec:\n      restartPolicy: ", policy,
                        "\n      containers:\n      - name: main\n        image: busybox:1.36\n"
                        "        command: [sh, -c, \"",
                        script, "\"]\n");
  }

  testing::FakeClock clock_;
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(WorkloadsTest, JobCompletesWhenItsPodSucceeds) {
  Apply(JobYaml("migrate", "echo migrated"));
  cluster_->AdvanceClock(absl::Seconds(10));
  json job = Get("jobs", "migrate");
  EXPECT_TRUE(HasCondition(job, "Complete")) << job["status"].dump();
  EXPECT_TRUE(HasCondition(job, "SuccessCriteriaMet"));
  EXPECT_EQ(job["status"]["succeeded"], 1);
  EXPECT_TRUE(job["status"].contains("completionTime"));
  EXPECT_THAT(EventMessages("migrate", "Completed"), Contains("Job completed"));
  auto pods = cluster_->store().List("pods", "app");
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0]["metadata"]["labels"]["job-name"], "migrate");
  EXPECT_EQ(pods[0]["status"]["phase"], "Succeeded");
  EXPECT_EQ(*cluster_->Logs("app", pods[0]["metadata"]["name"], {}), "migrated\n");
}

TEST_F(WorkloadsTest, JobFailsAfterBackoffLimitWithTheRealCondition) {
  Apply(JobYaml("migrate", "echo 'psql: not reachable'; exit 2", "Never", 2));
  cluster_->AdvanceClock(absl::Minutes(3));
  json job = Get("jobs", "migrate");
  ASSERT_TRUE(HasCondition(job, "Failed")) << job["status"].dump();
  for (const json& c : job["status"]["conditions"]) {
    EXPECT_EQ(c["reason"], "BackoffLimitExceeded");
    EXPECT_EQ(c["message"], "Job has reached the specified backoff limit");
  }
  EXPECT_EQ(job["status"]["failed"], 3);  // backoffLimit 2: the third failure ends it
  EXPECT_THAT(EventMessages("migrate", "BackoffLimitExceeded"),
              Contains("Job has reached the specified backoff limit"));
  int failed_pods = 0;
  for (const json& p : cluster_->store().List("pods", "app")) {
    if (p["status"]["phase"] == "Failed") ++failed_pods;
    EXPECT_EQ(p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 2);
  }
  EXPECT_EQ(failed_pods, 3);
}

TEST_F(WorkloadsTest, JobWithOnFailureCountsRestartsAgainstTheBackoffLimit) {
  Apply(JobYaml("report", "exit 1", "OnFailure", 1));
  cluster_->AdvanceClock(absl::Minutes(2));
  EXPECT_TRUE(HasCondition(Get("jobs", "report"), "Failed"));
  EXPECT_TRUE(cluster_->store().List("pods", "app").empty());  // active pods are deleted
}

TEST_F(WorkloadsTest, CronJobRunsOnScheduleAndAFixedTemplateReachesTheNextJob) {
  Apply(
      "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: backup, namespace: app}\nspec:\n"
      "  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      backoffLimit: 0\n"
      "      template:\n        spec:\n          restartPolicy: Never\n          containers:\n"
      "          - name: main\n            image: busybox:1.36\n"
      "            command: [sh, -c, \"pg_dump app\"]\n");
  cluster_->AdvanceClock(absl::Minutes(6));
  json cj = Get("cronjobs", "backup");
  ASSERT_TRUE(cj["status"].contains("lastScheduleTime")) << cj.dump();
  std::vector<json> jobs = cluster_->store().List("jobs", "app");
  ASSERT_EQ(jobs.size(), 1u);
  const std::string first = jobs[0]["metadata"]["name"];
  int64_t minutes =
      absl::ToUnixSeconds(ParseRfc3339(cj["status"]["lastScheduleTime"], absl::InfinitePast())) /
      60;
  EXPECT_EQ(first, absl::StrCat("backup-", minutes));
  EXPECT_THAT(EventMessages("backup", "SuccessfulCreate"), Contains("Created job " + first));
  EXPECT_TRUE(HasCondition(jobs[0], "Failed"));
  std::string pod_name;
  for (const json& p : cluster_->store().List("pods", "app")) pod_name = p["metadata"]["name"];
  EXPECT_EQ(*cluster_->Logs("app", pod_name, {}), "sh: pg_dump: not found\n");
  EXPECT_THAT(EventMessages("backup", "SawCompletedJob"),
              Contains("Saw completed job: " + first + ", condition: Failed"));

  ASSERT_THAT(Patch("cronjobs", "backup",
                    R"({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[)"
                    R"({"name":"main","command":["sh","-c","echo dumped"]}]}}}}}})"),
              IsOk());
  cluster_->AdvanceClock(absl::Minutes(5));
  cj = Get("cronjobs", "backup");
  EXPECT_TRUE(cj["status"].contains("lastSuccessfulTime")) << cj["status"].dump();
  int complete = 0;
  for (const json& j : cluster_->store().List("jobs", "app"))
    complete += HasCondition(j, "Complete");
  EXPECT_EQ(complete, 1);
}

TEST(CronScheduleTest, ParsesStepsRangesListsAndMacros) {
  auto every5 = CronSchedule::Parse("*/5 * * * *");
  ASSERT_THAT(every5.status(), IsOk());
  absl::Time base = absl::FromCivil(absl::CivilMinute(2026, 12, 8, 10, 0), absl::UTCTimeZone());
  EXPECT_TRUE(every5->Matches(base));
  EXPECT_FALSE(every5->Matches(base + absl::Minutes(3)));
  EXPECT_EQ(*every5->LastFireBetween(base, base + absl::Minutes(7)), base + absl::Minutes(5));
  auto weekdays = CronSchedule::Parse("30 2 * * 1-5");  // 2026-12-08 is a Tuesday
  ASSERT_THAT(weekdays.status(), IsOk());
  EXPECT_TRUE(weekdays->Matches(base - absl::Minutes(450)));  // 02:30 Tuesday
  EXPECT_FALSE(weekdays->Matches(base + absl::Hours(24 * 4) - absl::Minutes(450)));  // Saturday
  EXPECT_THAT(CronSchedule::Parse("@hourly").status(), IsOk());
  EXPECT_FALSE(CronSchedule::Parse("* * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("61 * * * *").ok());
}

constexpr char kStatefulSet[] =
    "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: app}\nspec:\n"
    "  replicas: 2\n  serviceName: db\n  selector: {matchLabels: {app: db}}\n  template:\n"
    "    metadata: {labels: {app: db}}\n    spec:\n      containers:\n      - name: main\n"
    "        image: postgres:16\n        env: [{name: POSTGRES_PASSWORD, value: \"\"}]\n";

TEST_F(WorkloadsTest, StatefulSetWaitsForABrokenPodUntilItIsDeletedAfterTheFix) {
  Apply(kStatefulSet);
  cluster_->AdvanceClock(absl::Seconds(40));
  json pod0 = Get("pods", "db-0");
  EXPECT_EQ(pod0["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"], "db-0");
  EXPECT_EQ(pod0["spec"]["hostname"], "db-0");
  EXPECT_EQ(pod0["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
            "CrashLoopBackOff");
  EXPECT_THAT(*cluster_->Logs("app", "db-0", {}), HasSubstr("superuser password is not specified"));
  EXPECT_TRUE(Get("pods", "db-1").empty());  // OrderedReady: db-1 waits for db-0
  EXPECT_THAT(EventMessages("db", "SuccessfulCreate"),
              Contains("create Pod db-0 in StatefulSet db successful"));

  ASSERT_THAT(Patch("statefulsets", "db",
                    R"({"spec":{"template":{"spec":{"containers":[{"name":"main","env":[)"
                    R"({"name":"POSTGRES_PASSWORD","value":null,"valueFrom":{"secretKeyRef":)"
                    R"({"name":"db","key":"password"}}}]}]}}}})"),
              IsOk());
  cluster_->AdvanceClock(absl::Seconds(40));
  // Like Kubernetes: the controller keeps waiting for the broken db-0 of the old revision.
  json sts = Get("statefulsets", "db");
  EXPECT_NE(sts["status"]["currentRevision"], sts["status"]["updateRevision"]);
  EXPECT_EQ(Get("pods", "db-0")["metadata"]["uid"], pod0["metadata"]["uid"]);
  EXPECT_TRUE(Get("pods", "db-1").empty());

  ASSERT_THAT(cluster_->DeleteObject(*FindResource("", "pods"), "app", "db-0", {}).status(),
              IsOk());
  cluster_->AdvanceClock(absl::Seconds(30));
  sts = Get("statefulsets", "db");
  EXPECT_EQ(sts["status"]["readyReplicas"], 2) << sts["status"].dump();
  EXPECT_EQ(sts["status"]["updatedReplicas"], 2);
  EXPECT_EQ(sts["status"]["currentRevision"], sts["status"]["updateRevision"]);
}

TEST_F(WorkloadsTest, ParallelStatefulSetRollsBrokenPodsWithoutHelp) {
  std::string yaml = kStatefulSet;
  yaml.replace(yaml.find("  serviceName"), 0, "  podManagementPolicy: Parallel\n");
  Apply(yaml);
  cluster_->AdvanceClock(absl::Seconds(20));
  EXPECT_FALSE(Get("pods", "db-1").empty());  // Parallel: both at once
  ASSERT_THAT(Patch("statefulsets", "db",
                    R"({"spec":{"template":{"spec":{"containers":[{"name":"main","env":[)"
                    R"({"name":"POSTGRES_PASSWORD","value":"x"}]}]}}}})"),
              IsOk());
  cluster_->AdvanceClock(absl::Seconds(60));
  json sts = Get("statefulsets", "db");
  EXPECT_EQ(sts["status"]["readyReplicas"], 2) << sts["status"].dump();
  EXPECT_EQ(sts["status"]["currentRevision"], sts["status"]["updateRevision"]);
}

}  // namespace
}  // namespace remediator::kubesim
