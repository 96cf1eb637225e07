// KubeApiCluster::Watch and KubeWatcher against the scripted stand-in: bookmarks advance the
// resourceVersion, stream end -> re-watch from the last version, HTTP 410 and in-stream ERROR 410
// -> relist with reconciliation, server restart on the same port -> resume, backoff from the
// injected clock, events split across chunks, prompt Stop().
#include <chrono>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/remediator/adapters/kube/kube_api_cluster.h"
#include "server/remediator/core/kube_watcher.h"
#include "tests/server/remediator/kube/kube_test_util.h"
#include "tests/server/remediator/kube/standin_server.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kube {
namespace {

using ::remediator::testing::IsOk;
using testing::BookmarkLine;
using testing::EventLine;
using testing::Pod;
using testing::WaitFor;
using testing::WatchStandIn;

struct Seen {
  WatchEventType type;
  std::string name;
  std::string rv;
};

class Recorder {
 public:
  KubeWatchHandler Handler() {
    return [this](WatchEventType type, const nlohmann::json& object) {
      absl::MutexLock lock(&mu_);
      seen_.push_back({type, object["metadata"].value("name", std::string()),
                       object["metadata"].value("resourceVersion", std::string())});
    };
  }
  std::vector<Seen> seen() const {
    absl::MutexLock lock(&mu_);
    return seen_;
  }
  size_t size() const { return seen().size(); }

 private:
  mutable absl::Mutex mu_;
  std::vector<Seen> seen_;
};

class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KubeConfig config;
    config.server = server_.url();
    config.namespace_name = "app";
    auto cluster = KubeApiCluster::Create(config, clock_);
    ASSERT_THAT(cluster, IsOk());
    cluster_ = *std::move(cluster);
  }

  std::unique_ptr<KubeWatcher> MakeWatcher() {
    KubeWatcherOptions options;
    options.collection = {"v1", "Pod", "app", ""};
    options.watch_timeout_seconds = 30;
    return std::make_unique<KubeWatcher>(*cluster_, clock_, options, recorder_.Handler());
  }

  static std::string Param(const httplib::Params& params, const std::string& key) {
    auto it = params.find(key);
    return it == params.end() ? "<unset>" : it->second;
  }

  WatchStandIn server_;
  remediator::testing::FakeClock clock_;
  std::unique_ptr<KubeApiCluster> cluster_;
  Recorder recorder_;
};

TEST_F(WatcherTest, ListThenWatchBookmarksAdvanceResourceVersion) {
  server_.AddList({"10", {Pod("a", "9")}});
  // The second event arrives split over three chunks.
  const std::string b = EventLine("ADDED", Pod("b", "11"));
  server_.AddWatch({200, {b.substr(0, 7), b.substr(7, 20), b.substr(27), BookmarkLine("15")}});
  auto watcher = MakeWatcher();
  watcher->Start();
  ASSERT_TRUE(WaitFor([&] { return server_.watch_params().size() >= 2; }));
  watcher->Stop();
  const std::vector<Seen> seen = recorder_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].type, WatchEventType::kAdded);
  EXPECT_EQ(seen[0].name, "a");
  EXPECT_EQ(seen[1].type, WatchEventType::kAdded);
  EXPECT_EQ(seen[1].name, "b");
  const auto params = server_.watch_params();
  EXPECT_EQ(Param(params[0], "resourceVersion"), "10");
  EXPECT_EQ(Param(params[0], "allowWatchBookmarks"), "true");
  EXPECT_EQ(Param(params[0], "timeoutSeconds"), "30");
  // The re-watch after the stream ended resumes from the bookmark, without a new list.
  EXPECT_EQ(Param(params[1], "resourceVersion"), "15");
  EXPECT_EQ(watcher->resource_version(), "15");
  EXPECT_EQ(server_.list_count(), 1);
  EXPECT_EQ(watcher->stats().bookmarks, 1);
}

void ExpectRelistReconciled(WatchStandIn& server, KubeWatcher& watcher, Recorder& recorder) {
  ASSERT_TRUE(WaitFor([&] { return server.watch_params().size() >= 2; }));
  watcher.Stop();
  const std::vector<Seen> seen = recorder.seen();
  // First list: a, b. Relist: a changed, b gone, c new; unchanged objects are not re-delivered.
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[2].type, WatchEventType::kModified);
  EXPECT_EQ(seen[2].name, "a");
  EXPECT_EQ(seen[2].rv, "18");
  EXPECT_EQ(seen[3].type, WatchEventType::kAdded);
  EXPECT_EQ(seen[3].name, "c");
  EXPECT_EQ(seen[4].type, WatchEventType::kDeleted);
  EXPECT_EQ(seen[4].name, "b");
  EXPECT_EQ(server.list_count(), 2);
  EXPECT_EQ(watcher.stats().relists, 1);
  auto params = server.watch_params();
  auto it = params[1].find("resourceVersion");
  ASSERT_NE(it, params[1].end());
  EXPECT_EQ(it->second, "20");
}

TEST_F(WatcherTest, RelistsAfterHttp410) {
  server_.AddList({"10", {Pod("a", "5"), Pod("b", "6")}});
  server_.AddList({"20", {Pod("a", "18"), Pod("c", "19")}});
  server_.AddWatch({410, {}});
  auto watcher = MakeWatcher();
  watcher->Start();
  ExpectRelistReconciled(server_, *watcher, recorder_);
}

TEST_F(WatcherTest, RelistsAfterInStreamExpiredEvent) {
  server_.AddList({"10", {Pod("a", "5"), Pod("b", "6")}});
  server_.AddList({"20", {Pod("a", "18"), Pod("c", "19")}});
  server_.AddWatch({200,
                    {EventLine("ERROR", {{"kind", "Status"},
                                         {"apiVersion", "v1"},
                                         {"status", "Failure"},
                                         {"message", "too old resource version: 10 (15)"},
                                         {"reason", "Expired"},
                                         {"code", 410}})},
                    true});
  auto watcher = MakeWatcher();
  watcher->Start();
  ExpectRelistReconciled(server_, *watcher, recorder_);
}

TEST_F(WatcherTest, ResumesFromLastVersionAfterServerRestart) {
  server_.AddList({"10", {Pod("a", "9")}});
  server_.AddWatch({200, {EventLine("MODIFIED", Pod("a", "12"))}, /*hold=*/true});
  auto watcher = MakeWatcher();
  watcher->Start();
  ASSERT_TRUE(WaitFor([&] { return recorder_.size() == 2; }));
  // Answer for the first watch after the restart (queued before, so no race with reconnects).
  server_.AddWatch({200, {EventLine("ADDED", Pod("x", "13"))}, true});
  ASSERT_TRUE(server_.Restart());  // the held stream breaks; connections are refused meanwhile
  ASSERT_TRUE(WaitFor([&] { return recorder_.size() == 3; }));
  watcher->Stop();
  EXPECT_EQ(recorder_.seen()[2].name, "x");
  EXPECT_EQ(server_.list_count(), 1);  // resumed, not relisted
  const auto params = server_.watch_params();
  ASSERT_GE(params.size(), 2u);
  EXPECT_EQ(Param(params.back(), "resourceVersion"), "12");
  EXPECT_EQ(watcher->resource_version(), "13");
}

TEST_F(WatcherTest, BacksOffExponentiallyOnErrorsUsingTheClock) {
  server_.AddList({"10", {}});
  for (int i = 0; i < 3; ++i) server_.AddWatch({500, {}});
  auto watcher = MakeWatcher();
  const absl::Time start = clock_.Now();
  watcher->Start();
  ASSERT_TRUE(WaitFor([&] { return server_.watch_params().size() >= 4; }));
  watcher->Stop();
  // 0.5 s, 1 s, 2 s, each +-20 % jitter, slept on the fake clock (instantly).
  const absl::Duration slept = watcher->stats().total_backoff;
  EXPECT_GE(slept, absl::Seconds(3.5 * 0.8));
  EXPECT_LE(slept, absl::Seconds(3.5 * 1.2));
  EXPECT_GE(clock_.Now() - start, absl::Seconds(3.5 * 0.8) - absl::Milliseconds(1));
  EXPECT_EQ(watcher->stats().errors, 3);
  EXPECT_EQ(server_.list_count(), 1);
}

TEST_F(WatcherTest, StopEndsAnOpenStreamPromptly) {
  server_.AddList({"10", {}});
  auto watcher = MakeWatcher();
  watcher->Start();
  ASSERT_TRUE(WaitFor([&] { return server_.open_streams() == 1; }));
  const auto start = std::chrono::steady_clock::now();
  watcher->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(WatcherTest, WatchCallReportsExpiredAndStopsOnCallbackFalse) {
  server_.AddWatch({410, {}});
  std::atomic<bool> stop{false};
  absl::Status status = cluster_->Watch(
      {"v1", "Pod", "app", ""}, {}, [](const WatchEvent&) { return true; }, &stop);
  EXPECT_TRUE(IsKubeExpired(status)) << status;
  EXPECT_EQ(KubeHttpCode(status), 410);

  server_.AddWatch(
      {200, {EventLine("ADDED", Pod("a", "1")), EventLine("ADDED", Pod("b", "2"))}, true});
  int events = 0;
  status = cluster_->Watch(
      {"v1", "Pod", "app", ""}, {},
      [&](const WatchEvent&) {
        ++events;
        return false;  // one is enough
      },
      &stop);
  EXPECT_THAT(status, IsOk());
  EXPECT_EQ(events, 1);
}

}  // namespace
}  // namespace remediator::kube
