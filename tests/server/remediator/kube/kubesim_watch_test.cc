// Watching a kubesim: bookmarks advance the resourceVersion, both 410 forms after a compaction
// make the watcher relist, a kubesim restart on the same port is survived; and WatchSource end to
// end: an OOM-killed pod becomes one oom_killed incident for its Deployment in a real SQLite
// store, through the real Ingestor and detector classifier, with bounded log fetches.
#include <chrono>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/kubesim/kubesim.h"
#include "server/remediator/adapters/kube/kube_api_cluster.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "server/remediator/core/detector_classifier.h"
#include "server/remediator/core/ingestor.h"
#include "server/remediator/core/kube_watcher.h"
#include "server/remediator/core/watch_source.h"
#include "tests/server/remediator/kube/kube_test_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kube {
namespace {

using ::remediator::kubesim::KubeSim;
using ::remediator::kubesim::KubeSimOptions;
using ::remediator::testing::IsOk;
using testing::WaitFor;

constexpr char kWorld[] = R"(
namespaces: [app, other]
images:
- name: nginx:1.27
  workingSet: 12Mi
  startupSeconds: 1
  oomAfterSeconds: 2
  serves: [{port: 80}]
  startLogs: ["nginx starting on ${POD}", "allocating cache"]
)";

std::string Deployment(const std::string& name, const std::string& ns, const std::string& limit) {
  return absl::StrCat("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ", name,
                      ", namespace: ", ns,
                      "}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: ", name,
                      "}}\n  template:\n    metadata: {labels: {app: ", name,
                      "}}\n    spec:\n      containers:\n      - name: main\n        image: "
                      "nginx:1.27\n        resources: {limits: {memory: ",
                      limit, "}}\n");
}

std::unique_ptr<KubeSim> StartSim(KubeSimOptions options) {
  options.world_yaml = kWorld;
  options.manual_clock = true;
  auto sim = KubeSim::Start(options);
  EXPECT_THAT(sim, IsOk());
  return sim.ok() ? *std::move(sim) : nullptr;
}

std::unique_ptr<KubeApiCluster> Connect(const KubeSim& sim, Clock& clock) {
  KubeConfig config;
  config.server = sim.url();
  config.namespace_name = "app";
  auto cluster = KubeApiCluster::Create(config, clock);
  EXPECT_THAT(cluster, IsOk());
  return cluster.ok() ? *std::move(cluster) : nullptr;
}

int64_t Rv(const std::string& text) {
  int64_t value = -1;
  return absl::SimpleAtoi(text, &value) ? value : -1;
}

class Names {
 public:
  KubeWatchHandler Handler() {
    return [this](WatchEventType type, const nlohmann::json& object) {
      absl::MutexLock lock(&mu_);
      if (type != WatchEventType::kDeleted) {
        names_.insert(object["metadata"].value("name", std::string()));
      }
      ++count_;
    };
  }
  bool HasPrefix(const std::string& prefix) const {
    absl::MutexLock lock(&mu_);
    for (const std::string& name : names_) {
      if (absl::StartsWith(name, prefix)) return true;
    }
    return false;
  }
  int count() const {
    absl::MutexLock lock(&mu_);
    return count_;
  }

 private:
  mutable absl::Mutex mu_;
  std::set<std::string> names_;
  int count_ = 0;
};

TEST(KubeSimWatchTest, BookmarksAdvanceResourceVersionWithoutEvents) {
  KubeSimOptions options;
  options.bookmark_interval = absl::Milliseconds(50);
  auto sim = StartSim(options);
  ASSERT_NE(sim, nullptr);
  remediator::testing::FakeClock clock;
  auto cluster = Connect(*sim, clock);
  Names names;
  KubeWatcherOptions watcher_options;
  watcher_options.collection = {"v1", "Pod", "app", ""};  // nothing happens in "app"
  KubeWatcher watcher(*cluster, clock, watcher_options, names.Handler());
  watcher.Start();
  ASSERT_TRUE(WaitFor([&] { return watcher.synced(); }));
  const int64_t listed = Rv(watcher.resource_version());
  ASSERT_GE(listed, 0);
  // Changes elsewhere advance the store's version; only bookmarks can tell the watcher.
  ASSERT_THAT(sim->Apply(Deployment("elsewhere", "other", "64Mi")), IsOk());
  sim->AdvanceClock(absl::Seconds(5));
  ASSERT_TRUE(WaitFor([&] { return Rv(watcher.resource_version()) > listed; }));
  watcher.Stop();
  EXPECT_GT(watcher.stats().bookmarks, 0);
  EXPECT_EQ(names.count(), 0);
  EXPECT_EQ(watcher.stats().lists, 1);
}

class KubeSimExpiryTest : public ::testing::TestWithParam<bool> {};

TEST_P(KubeSimExpiryTest, RelistsAfterCompaction) {
  KubeSimOptions options;
  options.watch_expired_as_http_status = GetParam();
  options.bookmark_interval = absl::Hours(1);  // the watcher's version goes stale
  auto sim = StartSim(options);
  ASSERT_NE(sim, nullptr);
  ASSERT_THAT(sim->Apply(Deployment("web", "app", "64Mi")), IsOk());
  sim->AdvanceClock(absl::Seconds(5));
  remediator::testing::FakeClock clock;
  auto cluster = Connect(*sim, clock);

  // The single Watch call reports the expiry in the server's form, mapped to OutOfRange.
  auto list = cluster->List({"v1", "Pod", "app", ""});
  ASSERT_THAT(list, IsOk());
  ASSERT_THAT(sim->Apply(Deployment("later", "other", "64Mi")), IsOk());
  sim->AdvanceClock(absl::Seconds(2));
  sim->CompactHistory();
  KubeWatchOptions watch_options;
  watch_options.resource_version = list->resource_version;
  std::atomic<bool> stop{false};
  absl::Status status = cluster->Watch(
      {"v1", "Pod", "app", ""}, watch_options, [](const WatchEvent&) { return true; }, &stop);
  EXPECT_TRUE(IsKubeExpired(status)) << status;
  EXPECT_EQ(KubeHttpCode(status), 410);

  // The watcher: stream ends after 1 s, re-watch from its stale version -> 410 -> relist.
  Names names;
  KubeWatcherOptions watcher_options;
  watcher_options.collection = {"v1", "Pod", "app", ""};
  watcher_options.watch_timeout_seconds = 1;
  KubeWatcher watcher(*cluster, clock, watcher_options, names.Handler());
  watcher.Start();
  ASSERT_TRUE(WaitFor([&] { return watcher.synced(); }));
  const int delivered = names.count();
  EXPECT_EQ(delivered, 1);  // the web pod
  ASSERT_THAT(sim->Apply(Deployment("more", "other", "64Mi")), IsOk());
  sim->AdvanceClock(absl::Seconds(2));
  sim->CompactHistory();
  ASSERT_TRUE(WaitFor([&] { return watcher.stats().relists >= 1; }));
  watcher.Stop();
  EXPECT_GE(watcher.stats().lists, 2);
  EXPECT_EQ(names.count(), delivered);  // unchanged objects are not delivered again
}

INSTANTIATE_TEST_SUITE_P(Forms, KubeSimExpiryTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Http410") : std::string("InStream410");
                         });

TEST(KubeSimWatchTest, StopEndsAnIdleStreamPromptly) {
  KubeSimOptions options;
  options.bookmark_interval = absl::Hours(1);  // nothing at all arrives on the stream
  auto sim = StartSim(options);
  ASSERT_NE(sim, nullptr);
  remediator::testing::FakeClock clock;
  auto cluster = Connect(*sim, clock);
  KubeWatcherOptions watcher_options;
  watcher_options.collection = {"v1", "Pod", "app", ""};
  KubeWatcher watcher(*cluster, clock, watcher_options, nullptr);
  watcher.Start();
  ASSERT_TRUE(WaitFor([&] { return watcher.synced() && watcher.stats().watches == 1; }));
  const auto start = std::chrono::steady_clock::now();
  watcher.Stop();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(3));
  std::cout << "idle watch stop took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
}

TEST(KubeSimWatchTest, SurvivesKubeSimRestartOnTheSamePort) {
  KubeSimOptions options;
  options.bookmark_interval = absl::Hours(1);
  auto sim = StartSim(options);
  ASSERT_NE(sim, nullptr);
  remediator::testing::FakeClock clock;
  auto cluster = Connect(*sim, clock);
  Names names;
  KubeWatcherOptions watcher_options;
  watcher_options.collection = {"v1", "Pod", "", ""};
  watcher_options.watch_timeout_seconds = 2;
  KubeWatcher watcher(*cluster, clock, watcher_options, names.Handler());
  watcher.Start();
  ASSERT_TRUE(WaitFor([&] { return watcher.synced(); }));
  const int port = sim->port();
  sim->Stop();
  sim.reset();
  // A new simulator on the same port. Its history starts over, so give it more versions than the
  // old one had and compact: the watcher's resumed watch gets 410 and relists the new state.
  options.port = port;
  std::unique_ptr<KubeSim> restarted;
  ASSERT_TRUE(WaitFor([&] {
    restarted = StartSim(options);
    return restarted != nullptr;
  }));
  ASSERT_THAT(restarted->Apply(Deployment("after", "app", "64Mi")), IsOk());
  restarted->AdvanceClock(absl::Seconds(10));
  restarted->CompactHistory();
  ASSERT_TRUE(WaitFor([&] { return names.HasPrefix("after-"); }));
  watcher.Stop();
  EXPECT_GE(watcher.stats().watches, 2);
}

// ---------------------------------------------------------------------------------------------

TEST(WatchSourceEndToEndTest, OomKilledPodBecomesOneIncidentWithBoundedLogFetches) {
  KubeSimOptions options;
  options.bookmark_interval = absl::Milliseconds(200);
  auto sim = StartSim(options);
  ASSERT_NE(sim, nullptr);
  // 8Mi is above the runc-init threshold and below nginx's 12Mi working set: OOMKilled (137).
  ASSERT_THAT(sim->Apply(Deployment("web", "app", "8Mi")), IsOk());
  ASSERT_THAT(sim->Apply(Deployment("healthy", "app", "64Mi")), IsOk());

  testing::TempDir dir;
  remediator::testing::FakeClock clock;
  auto store = SqliteIncidentStore::Open(dir.File("incidents.db"));
  ASSERT_THAT(store, IsOk());
  auto classifier = MakeDetectorClassifier();
  ASSERT_THAT(classifier, IsOk());
  Ingestor ingestor(**classifier, **store, clock);
  auto cluster = Connect(*sim, clock);

  WatchSourceOptions source_options;
  source_options.cluster_name = "sim";
  source_options.namespaces = {"app"};
  source_options.log_tail_lines = 50;
  WatchSource source(*cluster, ingestor, clock, source_options);
  ASSERT_THAT(source.Start(), IsOk());
  EXPECT_EQ(source.Start().code(), absl::StatusCode::kFailedPrecondition);

  auto oom_incidents = [&]() -> std::vector<v1::Incident> {
    IncidentFilter filter;
    filter.error_class = v1::ERROR_CLASS_OOM_KILLED;
    auto page = (*store)->ListIncidents(filter);
    return page.ok() ? page->incidents : std::vector<v1::Incident>{};
  };
  auto restarts = [&]() -> int64_t {
    auto pods = sim->List("pods", "app", "app=web");
    if (!pods.ok() || pods->empty()) return -1;
    const nlohmann::json& pod = (*pods)[0];
    if (!pod.contains("/status/containerStatuses/0/restartCount"_json_pointer)) return -1;
    return pod.at("/status/containerStatuses/0/restartCount"_json_pointer).get<int64_t>();
  };

  // Step the simulated cluster until the first OOM kill has been detected.
  ASSERT_TRUE(WaitFor([&] {
    sim->AdvanceClock(absl::Seconds(1));
    return !oom_incidents().empty();
  }));
  std::vector<v1::Incident> incidents = oom_incidents();
  ASSERT_EQ(incidents.size(), 1u);
  const v1::Incident first = incidents[0];
  EXPECT_EQ(first.workload().cluster(), "sim");
  EXPECT_EQ(first.workload().namespace_(), "app");
  EXPECT_EQ(first.workload().kind(), "Deployment");
  EXPECT_EQ(first.workload().name(), "web");

  // Keep the pod crash-looping through several more OOM kills.
  const int64_t restarts_before = restarts();
  ASSERT_TRUE(WaitFor([&] {
    sim->AdvanceClock(absl::Seconds(5));
    return restarts() >= restarts_before + 3;
  }));
  const int64_t final_restarts = restarts();
  // Everything the watch delivered has been ingested once the source is idle and has seen the
  // latest restart count in the store's incident count.
  ASSERT_TRUE(WaitFor([&] {
    auto now = oom_incidents();
    return source.Idle() && !now.empty() && now[0].count() > first.count();
  }));
  incidents = oom_incidents();
  ASSERT_EQ(incidents.size(), 1u) << "repeated updates must not open new incidents";
  EXPECT_EQ(incidents[0].id(), first.id());
  EXPECT_GT(incidents[0].count(), first.count());

  // The healthy deployment opened nothing; no incident names it.
  IncidentFilter all;
  all.page_size = 100;
  auto every = (*store)->ListIncidents(all);
  ASSERT_THAT(every, IsOk());
  for (const v1::Incident& incident : every->incidents) {
    EXPECT_NE(incident.workload().name(), "healthy") << incident.DebugString();
  }

  ASSERT_TRUE(WaitFor([&] { return source.Idle(); }));
  source.Stop();
  const WatchSourceStats stats = source.stats();
  EXPECT_GT(stats.observations_ingested, 0);
  EXPECT_EQ(stats.ingest_errors, 0);
  // At most one fetch per restart count for the recent log and one for the previous log.
  EXPECT_GE(stats.log_fetches, 1);
  EXPECT_LE(stats.log_fetches, 2 * (final_restarts + 1)) << "restarts=" << final_restarts;
  EXPECT_GT(stats.objects_seen, stats.log_fetches);
}

}  // namespace
}  // namespace remediator::kube
