#include "server/remediator/core/detection/detector.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"

namespace remediator::detection {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

class DetectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = Detector::Create();
    ASSERT_THAT(d, IsOk());
    detector_ = *std::move(d);
  }

  absl::StatusOr<v1::Detection> Detect(const v1::Observation& obs) {
    return detector_->Detect(obs);
  }

  static v1::Observation Cri(const std::string& file, const std::vector<std::string>& lines) {
    v1::Observation obs;
    obs.mutable_cri_log()->set_log_file(file);
    for (const std::string& l : lines) obs.mutable_cri_log()->add_lines(l);
    return obs;
  }

  static Json RunningNotReadyPod(const std::string& started_at) {
    return Json{{"kind", "Pod"},
                {"metadata",
                 {{"name", "web-7d4b9c6f5b-x2x9z"},
                  {"namespace", "shop"},
                  {"ownerReferences", {{{"kind", "ReplicaSet"}, {"name", "web-7d4b9c6f5b"}}}}}},
                {"status",
                 {{"phase", "Running"},
                  {"containerStatuses",
                   {{{"name", "nginx"},
                     {"ready", false},
                     {"restartCount", 0},
                     {"state", {{"running", {{"startedAt", started_at}}}}}}}}}}};
  }

  std::unique_ptr<Detector> detector_;
};

constexpr char kLogFile[] =
    "/var/log/containers/api-7d4b9c6f5b-x2x9z_shop_api-"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log";

TEST_F(DetectorTest, RejectsMalformedInputWithClearMessages) {
  EXPECT_THAT(Detect(v1::Observation()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no payload")));
  v1::Observation obs;
  obs.set_pod_json("{not json");
  EXPECT_THAT(Detect(obs), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pod_json")));
  obs.set_pod_json("[1,2]");
  EXPECT_THAT(Detect(obs), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("object")));
  obs.set_pod_json(R"({"kind":"Event","reason":"BackOff"})");
  EXPECT_THAT(Detect(obs), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"Pod\"")));
  obs.set_pod_json(R"({"kind":"Pod","metadata":{}})");
  EXPECT_THAT(Detect(obs),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("metadata.name")));
  obs.set_event_json(R"({"kind":"Pod","metadata":{"name":"x"}})");
  EXPECT_THAT(Detect(obs), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Event")));
  obs.set_event_json(R"({"kind":"Event","reason":"BackOff"})");
  EXPECT_THAT(Detect(obs),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("involvedObject")));
  obs.set_watch_event_json(R"({"object":{}})");
  EXPECT_THAT(Detect(obs), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("type")));
  obs.set_watch_event_json(R"({"type":"MODIFIED","object":{"kind":"Node"}})");
  EXPECT_THAT(Detect(obs), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Node")));
  obs.set_watch_event_json(R"({"type":"SURPRISE","object":{"kind":"Pod"}})");
  EXPECT_THAT(Detect(obs), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("SURPRISE")));
  EXPECT_THAT(Detect(Cri(kLogFile, {"2024-01-01T00:00:00Z stdout F ok", "plain text line"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 1")));
  EXPECT_THAT(Detect(Cri("/tmp/whatever.txt", {})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("log_file")));
  v1::Observation loki;
  loki.mutable_loki()->set_response_json(R"({"status":"error","error":"bad query"})");
  EXPECT_THAT(Detect(loki), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("status")));
  loki.mutable_loki()->set_response_json(R"({"status":"success","data":{"resultType":"matrix"}})");
  EXPECT_THAT(Detect(loki), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("streams")));
  v1::Observation pod_log;
  pod_log.mutable_pod_log()->set_request("GET /healthz");
  EXPECT_THAT(Detect(pod_log), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request")));
}

TEST_F(DetectorTest, WatchBookmarksAndErrorsAreNothing) {
  v1::Observation obs;
  obs.set_watch_event_json(
      R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"12"}}})");
  auto d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_NONE);
  obs.set_watch_event_json(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})");
  d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_NONE);
}

TEST_F(DetectorTest, JoinsPartialCriLinesBeforeMatching) {
  auto d =
      Detect(Cri(kLogFile, {"2024-01-01T00:00:00Z stderr P pan",
                            "2024-01-01T00:00:00Z stderr P ic: runtime error: invalid memory ",
                            "2024-01-01T00:00:00Z stderr F address or nil pointer dereference"}));
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_APP_ERROR_LOG);
  EXPECT_EQ(d->reason(), "go_nil_pointer");
  EXPECT_EQ(d->workload().kind(), "Deployment");
  EXPECT_EQ(d->workload().name(), "api");
  EXPECT_EQ(d->workload().container(), "api");
  EXPECT_EQ(d->workload().pod(), "api-7d4b9c6f5b-x2x9z");
  ASSERT_GE(d->evidence_size(), 1);
  EXPECT_EQ(d->evidence(0),
            "panic: runtime error: invalid memory address or nil pointer dereference");
}

TEST_F(DetectorTest, IdentityFieldsOverrideTheLogFileName) {
  v1::Observation obs = Cri(kLogFile, {"2024-01-01T00:00:00Z stderr F panic: boom"});
  obs.mutable_cri_log()->set_namespace_("other");
  obs.mutable_cri_log()->set_container("sidecar");
  auto d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->workload().namespace_(), "other");
  EXPECT_EQ(d->workload().container(), "sidecar");
  EXPECT_EQ(d->workload().name(), "api");
}

TEST_F(DetectorTest, WeakSignalsNeedRepetition) {
  const std::string retry =
      "2024-01-01T00:00:00Z stderr F level=warning msg=\"db not reachable, retrying\" "
      "error=\"dial tcp 10.0.0.5:5432: connect: connection refused\"";
  auto once = Detect(Cri(kLogFile, {retry}));
  ASSERT_THAT(once, IsOk());
  EXPECT_EQ(once->error_class(), v1::ERROR_CLASS_NONE);
  auto thrice = Detect(Cri(kLogFile, {retry, retry, retry}));
  ASSERT_THAT(thrice, IsOk());
  EXPECT_EQ(thrice->error_class(), v1::ERROR_CLASS_APP_ERROR_LOG);
  EXPECT_FALSE(thrice->fixable_by_manifest());
  EXPECT_THAT(thrice->summary(), HasSubstr("3 times"));
  // The same connection error without a benign level or retry is one strong line.
  auto strong =
      Detect(Cri(kLogFile, {"2024-01-01T00:00:00Z stderr F dial tcp 10.0.0.5:5432: connect: "
                            "connection refused"}));
  ASSERT_THAT(strong, IsOk());
  EXPECT_EQ(strong->error_class(), v1::ERROR_CLASS_APP_ERROR_LOG);
  // A lone 5xx in an access log is weak.
  auto one_503 = Detect(Cri(kLogFile, {"2024-01-01T00:00:00Z stdout F 10.0.0.7 - - [01/May/2024] "
                                       "\"GET /x HTTP/1.1\" 503 19 \"-\" \"curl\""}));
  ASSERT_THAT(one_503, IsOk());
  EXPECT_EQ(one_503->error_class(), v1::ERROR_CLASS_NONE);
}

TEST_F(DetectorTest, NoiseStaysQuiet) {
  auto d = Detect(Cri(
      kLogFile,
      {"2024-01-01T00:00:00Z stdout F level=info msg=\"no errors\" errors=0",
       "2024-01-01T00:00:00Z stderr F 2025/05/31 09:00:00 [notice] 1#1: start worker processes",
       "2024-01-01T00:00:00Z stdout F     error_log  /var/log/nginx/error.log notice;",
       "2024-01-01T00:00:00Z stdout F {\"level\":\"info\",\"msg\":\"panic: recovered in test\"}",
       "2024-01-01T00:00:00Z stdout F 10.0.0.1 - - [x] \"GET /error HTTP/1.1\" 200 5 \"-\""}));
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_NONE);
  EXPECT_EQ(d->workload().name(), "api");
  EXPECT_TRUE(d->summary().empty());
}

TEST_F(DetectorTest, EvidenceIsRedactedAndBounded) {
  std::vector<std::string> lines;
  for (int i = 0; i < 20; ++i) {
    lines.push_back(
        "2024-01-01T00:00:00Z stderr F FATAL:  password authentication failed for user "
        "\"app\" password=hunter2secret " +
        std::string(2000, 'x'));
  }
  auto d = Detect(Cri(kLogFile, lines));
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->reason(), "postgres_auth_failed");
  EXPECT_LE(d->evidence_size(), 5);
  for (const std::string& e : d->evidence()) {
    EXPECT_LE(e.size(), 515u);
    EXPECT_THAT(e, Not(HasSubstr("hunter2secret")));
    EXPECT_THAT(e, HasSubstr("[REDACTED]"));
  }
  EXPECT_THAT(d->summary(), Not(HasSubstr("hunter2secret")));
  EXPECT_LE(d->summary().size(), 403u);
}

TEST_F(DetectorTest, NonUtf8LogBytesBecomeValidUtf8) {
  auto d = Detect(Cri(kLogFile, {std::string("2024-01-01T00:00:00Z stderr F panic: bad \xff\xfe "
                                             "byte \xe2\x82 cut, ok \xe2\x82\xac") +
                                 std::string(600, 'x') + "\xc3\xa9"}));
  ASSERT_THAT(d, IsOk());
  ASSERT_EQ(d->error_class(), v1::ERROR_CLASS_APP_ERROR_LOG);
  ASSERT_GE(d->evidence_size(), 1);
  EXPECT_THAT(d->evidence(0), HasSubstr("bad \xEF\xBF\xBD\xEF\xBF\xBD byte"));
  EXPECT_THAT(d->evidence(0), HasSubstr("ok \xe2\x82\xac"));
  // Round-trips through the wire format (proto3 rejects invalid UTF-8 in strings when parsing).
  v1::Detection back;
  ASSERT_TRUE(back.ParseFromString(d->SerializeAsString()));
  EXPECT_EQ(back.evidence(0), d->evidence(0));
}

TEST_F(DetectorTest, PodLogRequestAndLokiLabelSchemes) {
  v1::Observation obs;
  obs.mutable_pod_log()->set_request("/api/v1/namespaces/data/pods/redis-0/log?previous=true");
  obs.mutable_pod_log()->set_text("1:M 01 Jan 00:00:00.000 # Server started\nSegmentation fault\n");
  auto d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->workload().namespace_(), "data");
  EXPECT_EQ(d->workload().kind(), "StatefulSet");
  EXPECT_EQ(d->workload().name(), "redis");
  EXPECT_EQ(d->workload().container(), "");
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_NONE);  // case-sensitive: "segmentation fault"

  // OTLP-style labels, two streams: the failing one decides; values arrive newest first.
  Json response = {
      {"status", "success"},
      {"data",
       {{"resultType", "streams"},
        {"result",
         {{{"stream", {{"k8s_namespace_name", "pay"}, {"k8s_pod_name", "ok-7d4b9c6f5b-aaaaa"}}},
           {"values",
            Json::array({Json::array({"2", "all good"}), Json::array({"1", "starting"})})}},
          {{"stream",
            {{"k8s_namespace_name", "pay"},
             {"k8s_pod_name", "checkout-7d4b9c6f5b-x2x9z"},
             {"k8s_container_name", "app"},
             {"k8s_deployment_name", "checkout"}}},
           {"values",
            Json::array({Json::array({"1700000000000000002",
                                      "Terminating due to java.lang.OutOfMemoryError: Java heap"}),
                         Json::array({"1700000000000000001", "starting"})})}}}}}}};
  v1::Observation loki;
  loki.mutable_loki()->set_response_json(response.dump());
  d = Detect(loki);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_APP_ERROR_LOG);
  EXPECT_EQ(d->workload().namespace_(), "pay");
  EXPECT_EQ(d->workload().name(), "checkout");
  EXPECT_EQ(d->workload().container(), "app");
  EXPECT_TRUE(d->fixable_by_manifest());
}

TEST_F(DetectorTest, EventsOfBothApisAndCombinedMessages) {
  Json ev = {{"apiVersion", "events.k8s.io/v1"},
             {"kind", "Event"},
             {"metadata", {{"namespace", "web"}}},
             {"reason", "BackOff"},
             {"type", "Normal"},
             {"note", "(combined from similar events): Back-off pulling image \"ngnix:1\""},
             {"regarding",
              {{"kind", "Pod"},
               {"name", "front-7d4b9c6f5b-x2x9z"},
               {"fieldPath", "spec.initContainers{setup}"}}},
             {"reportingController", "kubelet"}};
  v1::Observation obs;
  obs.set_event_json(ev.dump());
  auto d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_IMAGE_PULL);
  EXPECT_EQ(d->workload().namespace_(), "web");
  EXPECT_EQ(d->workload().name(), "front");
  EXPECT_EQ(d->workload().container(), "setup");
  EXPECT_THAT(d->summary(), Not(HasSubstr("combined from similar")));

  // Registry unreachable is not a manifest problem.
  ev["reason"] = "Failed";
  ev["type"] = "Warning";
  ev["note"] = "Failed to pull image \"nginx:1\": dial tcp 1.2.3.4:443: i/o timeout";
  obs.set_event_json(ev.dump());
  d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_IMAGE_PULL);
  EXPECT_FALSE(d->fixable_by_manifest());

  // A rollout's Killing is not an error.
  ev["reason"] = "Killing";
  ev["type"] = "Normal";
  ev["note"] = "Stopping container setup";
  obs.set_event_json(ev.dump());
  d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_NONE);
}

TEST_F(DetectorTest, NodeOomEventHasNoWorkload) {
  Json ev = {{"kind", "Event"},
             {"reason", "OOMKilling"},
             {"type", "Warning"},
             {"message", "Memory cgroup out of memory: Killed process 29629 (payments-api)"},
             {"involvedObject", {{"kind", "Node"}, {"name", "worker-1"}}},
             {"source", {{"component", "kernel-monitor"}}}};
  v1::Observation obs;
  obs.set_event_json(ev.dump());
  auto d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_OOM_KILLED);
  EXPECT_EQ(d->workload().namespace_(), "");
  EXPECT_EQ(d->workload().kind(), "");
  EXPECT_FALSE(d->fixable_by_manifest());
}

TEST_F(DetectorTest, FailedCronJobRunIsACrashLoopOfTheCronJob) {
  Json ev = {{"kind", "Event"},
             {"reason", "BackoffLimitExceeded"},
             {"type", "Warning"},
             {"message", "Job has reached the specified backoff limit"},
             {"involvedObject",
              {{"kind", "Job"}, {"name", "nightly-report-28930560"}, {"namespace", "batch"}}},
             {"source", {{"component", "job-controller"}}}};
  v1::Observation obs;
  obs.set_event_json(ev.dump());
  auto d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_CRASH_LOOP);
  EXPECT_EQ(d->workload().kind(), "CronJob");
  EXPECT_EQ(d->workload().name(), "nightly-report");
  EXPECT_EQ(d->workload().namespace_(), "batch");
  EXPECT_FALSE(d->fixable_by_manifest());
}

TEST_F(DetectorTest, ReadinessGraceUsesObservedTime) {
  v1::Observation obs;
  obs.set_pod_json(RunningNotReadyPod("2025-05-24T06:00:00Z").dump());
  obs.mutable_observed_time()->set_seconds(absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilSecond(2025, 5, 24, 6, 0, 20), absl::UTCTimeZone())));
  auto d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_NONE);  // 20 s after start: still starting
  obs.mutable_observed_time()->set_seconds(obs.observed_time().seconds() + 600);
  d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_PROBE_FAILURE);
  EXPECT_EQ(d->workload().container(), "nginx");
  obs.clear_observed_time();
  d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_PROBE_FAILURE);
}

TEST_F(DetectorTest, PodOwnersAndPhases) {
  Json pod = {{"kind", "Pod"},
              {"metadata",
               {{"name", "nightly-28930560-x7k2q"},
                {"namespace", "batch"},
                {"ownerReferences",
                 {{{"kind", "Job"}, {"name", "nightly-28930560"}, {"controller", true}}}}}},
              {"status",
               {{"phase", "Pending"},
                {"initContainerStatuses",
                 {{{"name", "migrate"},
                   {"ready", false},
                   {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}},
                   {"lastState", {{"terminated", {{"exitCode", 1}, {"reason", "Error"}}}}}}}},
                {"containerStatuses",
                 {{{"name", "app"}, {"state", {{"waiting", {{"reason", "PodInitializing"}}}}}}}}}}};
  v1::Observation obs;
  obs.set_pod_json(pod.dump());
  auto d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_CRASH_LOOP);
  EXPECT_EQ(d->workload().kind(), "CronJob");
  EXPECT_EQ(d->workload().name(), "nightly");
  EXPECT_EQ(d->workload().container(), "migrate");

  pod["status"] = {{"phase", "Succeeded"}};
  pod["metadata"].erase("ownerReferences");
  obs.set_pod_json(pod.dump());
  d = Detect(obs);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->error_class(), v1::ERROR_CLASS_NONE);
  EXPECT_EQ(d->workload().kind(), "Pod");
  EXPECT_EQ(d->workload().name(), "nightly-28930560-x7k2q");
}

TEST_F(DetectorTest, ConcurrentCallsAgree) {
  v1::Observation obs = Cri(kLogFile, {"2024-01-01T00:00:00Z stderr F panic: boom"});
  auto want = Detect(obs);
  ASSERT_THAT(want, IsOk());
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto got = detector_->Detect(obs);
        if (!got.ok() || got->SerializeAsString() != want->SerializeAsString()) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace remediator::detection
