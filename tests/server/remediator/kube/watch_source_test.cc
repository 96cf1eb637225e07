// WatchSource with an in-process fake Cluster: what is turned into observations (pods, events,
// pod logs with their identity), log fetches at most once per pod uid + container + restartCount,
// deletions, options validation, and Stop().
#include "server/remediator/core/watch_source.h"

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "tests/server/remediator/kube/kube_test_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::IsOk;
using ::testing::ElementsAre;

// A Cluster whose collections are fed by the test: List returns the initial objects, Watch
// streams what Push() adds. PodLogs answers "<pod>/<container>/<previous>" and records the call.
class FakeCluster final : public Cluster {
 public:
  void Push(const std::string& kind, WatchEventType type, nlohmann::json object) {
    absl::MutexLock lock(&mu_);
    queues_[kind].push_back({type, std::move(object)});
    ++pending_;
  }
  std::vector<std::string> log_calls() const {
    absl::MutexLock lock(&mu_);
    return log_calls_;
  }
  // True when every pushed event has been handed to (and returned from) the watch callback.
  bool drained() const {
    absl::MutexLock lock(&mu_);
    return pending_ == 0;
  }

  std::string DefaultNamespace() const override { return "default"; }
  absl::StatusOr<nlohmann::json> Get(const KubeRef&) override {
    return absl::UnimplementedError("Get");
  }
  absl::StatusOr<KubeList> List(const KubeRef&, const KubeListOptions&) override {
    return KubeList{{}, "1"};
  }
  absl::StatusOr<std::string> PodLogs(const std::string& ns, const std::string& pod,
                                      const PodLogOptions& options) override {
    absl::MutexLock lock(&mu_);
    const std::string call = ns + "/" + pod + "/" + options.container +
                             (options.previous ? "/previous" : "/current") +
                             "/tail=" + std::to_string(options.tail_lines.value_or(-1));
    log_calls_.push_back(call);
    return "log of " + call + "\n";
  }
  absl::StatusOr<nlohmann::json> Patch(const KubeRef&, PatchType, const nlohmann::json&,
                                       const WriteOptions&) override {
    return absl::UnimplementedError("Patch");
  }
  absl::StatusOr<nlohmann::json> Apply(const nlohmann::json&, const ApplyOptions&) override {
    return absl::UnimplementedError("Apply");
  }
  absl::StatusOr<RolloutStatus> GetRolloutStatus(const KubeRef&) override {
    return absl::UnimplementedError("GetRolloutStatus");
  }
  absl::StatusOr<RollbackResult> Rollback(const KubeRef&, const RollbackOptions&) override {
    return absl::UnimplementedError("Rollback");
  }
  absl::Status Watch(const KubeRef& collection, const KubeWatchOptions&,
                     const WatchCallback& on_event, const std::atomic<bool>* stop) override {
    while (!stop->load()) {
      WatchEvent event;
      {
        absl::MutexLock lock(&mu_);
        auto& queue = queues_[collection.api_version + "/" + collection.kind];
        auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !queue.empty(); };
        if (!mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(20))) continue;
        event = std::move(queue.front());
        queue.pop_front();
      }
      const bool more = on_event(event);
      {
        absl::MutexLock lock(&mu_);
        --pending_;
      }
      if (!more) return absl::OkStatus();
    }
    return absl::OkStatus();
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::deque<WatchEvent>> queues_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> log_calls_ ABSL_GUARDED_BY(mu_);
  int pending_ ABSL_GUARDED_BY(mu_) = 0;
};

// Records every observation it is asked about; everything is healthy.
class RecordingClassifier final : public Classifier {
 public:
  absl::StatusOr<v1::Detection> Classify(const v1::Observation& observation) const override {
    absl::MutexLock lock(&mu_);
    seen_.push_back(observation);
    v1::Detection none;
    none.set_error_class(v1::ERROR_CLASS_NONE);
    return none;
  }
  std::string Fingerprint(const v1::Detection&) const override { return "f"; }
  std::string Severity(const v1::Detection&) const override { return "low"; }
  std::vector<v1::Observation> seen() const {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

 private:
  mutable absl::Mutex mu_;
  mutable std::vector<v1::Observation> seen_ ABSL_GUARDED_BY(mu_);
};

nlohmann::json FailingPod(int restarts, const nlohmann::json& state, const nlohmann::json& last,
                          const std::string& uid = "uid-1") {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", "web-abc"},
            {"namespace", "app"},
            {"uid", uid},
            {"resourceVersion", std::to_string(100 + restarts)}}},
          {"status",
           {{"containerStatuses",
             {{{"name", "main"}, {"restartCount", restarts}, {"state", state}, {"lastState", last}},
              {{"name", "sidecar"},
               {"restartCount", 0},
               {"state", {{"running", nlohmann::json::object()}}}}}}}}};
}

const nlohmann::json kOom = {{"terminated", {{"reason", "OOMKilled"}, {"exitCode", 137}}}};
const nlohmann::json kCrashLoop = {{"waiting", {{"reason", "CrashLoopBackOff"}}}};
const nlohmann::json kRunning = {{"running", {{"startedAt", "2026-11-26T07:00:00Z"}}}};

class WatchSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteIncidentStore::Open(dir_.File("store.db"));
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    ingestor_ = std::make_unique<Ingestor>(classifier_, *store_, clock_);
  }

  std::unique_ptr<WatchSource> Make(WatchSourceOptions options = {}) {
    options.cluster_name = "prod";
    options.log_tail_lines = 40;
    return std::make_unique<WatchSource>(cluster_, *ingestor_, clock_, options);
  }

  // Pushes and waits until the source has processed it.
  void Feed(WatchSource& source, const std::string& kind, WatchEventType type,
            nlohmann::json object) {
    cluster_.Push(kind, type, std::move(object));
    ASSERT_TRUE(kube::testing::WaitFor([&] { return cluster_.drained() && source.Idle(); }));
  }

  kube::testing::TempDir dir_;
  remediator::testing::FakeClock clock_;
  FakeCluster cluster_;
  RecordingClassifier classifier_;
  std::unique_ptr<SqliteIncidentStore> store_;
  std::unique_ptr<Ingestor> ingestor_;
};

TEST_F(WatchSourceTest, LogsFetchedOncePerRestart) {
  auto source = Make();
  ASSERT_THAT(source->Start(), IsOk());
  // OOM-killed, not yet restarted: the terminated instance's own (current) log.
  Feed(*source, "v1/Pod", WatchEventType::kAdded, FailingPod(0, kOom, nlohmann::json::object()));
  EXPECT_THAT(cluster_.log_calls(), ElementsAre("app/web-abc/main/current/tail=40"));
  // Same restart count again (another update): nothing fetched.
  Feed(*source, "v1/Pod", WatchEventType::kModified, FailingPod(0, kOom, nlohmann::json::object()));
  EXPECT_EQ(cluster_.log_calls().size(), 1u);
  // Restarted once, now in CrashLoopBackOff: only the previous instance has a log.
  Feed(*source, "v1/Pod", WatchEventType::kModified, FailingPod(1, kCrashLoop, kOom));
  Feed(*source, "v1/Pod", WatchEventType::kModified, FailingPod(1, kCrashLoop, kOom));
  EXPECT_THAT(cluster_.log_calls(),
              ElementsAre("app/web-abc/main/current/tail=40", "app/web-abc/main/previous/tail=40"));
  // Running again after a second kill: current and previous, once.
  Feed(*source, "v1/Pod", WatchEventType::kModified, FailingPod(2, kRunning, kOom));
  Feed(*source, "v1/Pod", WatchEventType::kModified, FailingPod(2, kRunning, kOom));
  EXPECT_EQ(cluster_.log_calls().size(), 4u);
  EXPECT_EQ(cluster_.log_calls()[2], "app/web-abc/main/current/tail=40");
  EXPECT_EQ(cluster_.log_calls()[3], "app/web-abc/main/previous/tail=40");
  // A new pod with the same name (new uid) is a new pod.
  Feed(*source, "v1/Pod", WatchEventType::kAdded,
       FailingPod(0, kOom, nlohmann::json::object(), "uid-2"));
  EXPECT_EQ(cluster_.log_calls().size(), 5u);
  // A healthy pod fetches nothing.
  Feed(*source, "v1/Pod", WatchEventType::kModified,
       FailingPod(0, kRunning, nlohmann::json::object(), "uid-3"));
  EXPECT_EQ(cluster_.log_calls().size(), 5u);
  source->Stop();
  EXPECT_EQ(source->stats().log_fetches, 5);
  EXPECT_EQ(source->stats().ingest_errors, 0);
}

TEST_F(WatchSourceTest, ObservationsCarryClusterTimeAndIdentity) {
  auto source = Make();
  ASSERT_THAT(source->Start(), IsOk());
  Feed(*source, "v1/Event", WatchEventType::kAdded,
       {{"apiVersion", "v1"},
        {"kind", "Event"},
        {"metadata", {{"name", "e1"}, {"namespace", "app"}}},
        {"reason", "BackOff"},
        {"involvedObject", {{"kind", "Pod"}, {"name", "web-abc"}, {"namespace", "app"}}}});
  Feed(*source, "v1/Event", WatchEventType::kDeleted,
       {{"metadata", {{"name", "e1"}, {"namespace", "app"}}}});
  Feed(*source, "v1/Pod", WatchEventType::kAdded, FailingPod(1, kCrashLoop, kOom));
  Feed(*source, "v1/Pod", WatchEventType::kDeleted, FailingPod(1, kCrashLoop, kOom));
  // After the deletion the same pod uid would be fetched again (its bookkeeping is gone).
  Feed(*source, "v1/Pod", WatchEventType::kAdded, FailingPod(1, kCrashLoop, kOom));
  source->Stop();

  const std::vector<v1::Observation> seen = classifier_.seen();
  std::vector<v1::Observation::PayloadCase> cases;
  for (const v1::Observation& observation : seen) {
    EXPECT_EQ(observation.cluster(), "prod");
    EXPECT_EQ(observation.source(), "kube-watch");
    EXPECT_EQ(observation.observed_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
    cases.push_back(observation.payload_case());
  }
  EXPECT_THAT(cases, ElementsAre(v1::Observation::kEventJson, v1::Observation::kPodJson,
                                 v1::Observation::kPodLog, v1::Observation::kPodJson,
                                 v1::Observation::kPodLog));
  EXPECT_EQ(nlohmann::json::parse(seen[0].event_json())["reason"], "BackOff");
  EXPECT_EQ(nlohmann::json::parse(seen[1].pod_json())["metadata"]["uid"], "uid-1");
  const v1::PodLogText& log = seen[2].pod_log();
  EXPECT_EQ(log.namespace_(), "app");
  EXPECT_EQ(log.pod(), "web-abc");
  EXPECT_EQ(log.container(), "main");
  EXPECT_TRUE(log.previous());
  EXPECT_EQ(log.request(), "/api/v1/namespaces/app/pods/web-abc/log?container=main&previous=true");
  EXPECT_EQ(log.text(), "log of app/web-abc/main/previous/tail=40\n");
}

TEST_F(WatchSourceTest, RejectsBadOptionsAndDoubleStart) {
  WatchSourceOptions bad;
  bad.max_batch = 0;
  EXPECT_EQ(Make(bad)->Start().code(), absl::StatusCode::kInvalidArgument);
  WatchSourceOptions empty_ns;
  empty_ns.namespaces = {"app", ""};
  EXPECT_EQ(Make(empty_ns)->Start().code(), absl::StatusCode::kInvalidArgument);
  auto source = Make();
  ASSERT_THAT(source->Start(), IsOk());
  EXPECT_EQ(source->Start().code(), absl::StatusCode::kFailedPrecondition);
  source->Stop();
  source->Stop();  // idempotent
}

}  // namespace
}  // namespace remediator
