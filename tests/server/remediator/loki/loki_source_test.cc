// LokiSource against the Loki stand-in (fake_loki.h), the real detector classifier and the real
// SQLite store: the request shape, paging with equal timestamps at page boundaries, the cursor
// across a restart (no line skipped, none repeated), label mapping, errors and retries, empty
// ranges. A recording classifier wraps the real one to see exactly which lines were ingested.
#include "server/remediator/core/loki_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "nlohmann/json.hpp"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "server/remediator/core/detector_classifier.h"
#include "tests/server/remediator/loki/fake_loki.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::FakeClock;
using ::remediator::testing::FakeLoki;
using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;

// The real classifier, recording every Loki line it is given as "<ts> <line>".
class RecordingClassifier : public Classifier {
 public:
  explicit RecordingClassifier(std::unique_ptr<Classifier> real) : real_(std::move(real)) {}
  absl::StatusOr<v1::Detection> Classify(const v1::Observation& observation) const override {
    auto json = nlohmann::json::parse(observation.loki().response_json());
    for (const auto& stream : json["data"]["result"]) {
      labels.push_back(stream["stream"]);
      for (const auto& v : stream["values"]) {
        seen.push_back(v[0].get<std::string>() + " " + v[1].get<std::string>());
      }
    }
    return real_->Classify(observation);
  }
  std::string Fingerprint(const v1::Detection& d) const override { return real_->Fingerprint(d); }
  std::string Severity(const v1::Detection& d) const override { return real_->Severity(d); }

  mutable std::vector<std::string> seen;
  mutable std::vector<nlohmann::json> labels;

 private:
  std::unique_ptr<Classifier> real_;
};

constexpr int64_t kSecond = 1'000'000'000;

class LokiSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("loki_source_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = SqliteIncidentStore::Open((dir_ / "db").string());
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    auto real = MakeDetectorClassifier();
    ASSERT_THAT(real, IsOk());
    classifier_ = std::make_unique<RecordingClassifier>(*std::move(real));
    ingestor_ = std::make_unique<Ingestor>(*classifier_, *store_, clock_);
    http_ = NewCurlHttpClient();
    now_ns_ = absl::ToUnixNanos(clock_.Now());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  LokiSourceOptions Options() {
    LokiSourceOptions options;
    options.name = "test";
    options.base_url = loki_.url() + "/";
    options.query = R"({namespace="shop"})";
    options.limit = 3;
    options.delay = absl::ZeroDuration();
    options.lookback = absl::Minutes(10);
    options.initial_backoff = absl::Milliseconds(100);
    return options;
  }
  std::unique_ptr<LokiSource> Make(LokiSourceOptions options) {
    auto source = LokiSource::Create(std::move(options), *http_, *ingestor_, *store_, clock_);
    EXPECT_THAT(source, IsOk());
    return source.ok() ? *std::move(source) : nullptr;
  }
  void AddLine(int64_t ts, const std::string& line,
               const std::string& pod = "web-7d9f8b6c4-abcde") {
    loki_.Add({{"namespace", "shop"}, {"pod", pod}, {"container", "app"}}, ts, line);
    expected_.insert(std::to_string(ts) + " " + line);
  }
  int64_t Ago(int seconds) { return now_ns_ - seconds * kSecond; }

  std::filesystem::path dir_;
  FakeClock clock_;
  FakeLoki loki_;
  std::unique_ptr<IncidentStore> store_;
  std::unique_ptr<RecordingClassifier> classifier_;
  std::unique_ptr<Ingestor> ingestor_;
  std::unique_ptr<HttpClient> http_;
  int64_t now_ns_ = 0;
  std::multiset<std::string> expected_;
};

TEST_F(LokiSourceTest, RequestFollowsTheContract) {
  LokiSourceOptions options = Options();
  options.tenant = "team-a";
  options.delay = absl::Seconds(2);
  auto source = Make(options);
  auto result = source->PollOnce();
  ASSERT_THAT(result, IsOk());
  auto requests = loki_.requests();
  ASSERT_EQ(requests.size(), 1u);
  auto param = [&](const std::string& name) { return requests[0].find(name)->second; };
  EXPECT_EQ(param("query"), R"({namespace="shop"})");
  EXPECT_EQ(param("start"), std::to_string(now_ns_ - 600 * kSecond));  // lookback, ns string
  EXPECT_EQ(param("end"), std::to_string(now_ns_ - 2 * kSecond));      // now - delay
  EXPECT_EQ(param("direction"), "forward");
  EXPECT_EQ(param("limit"), "3");
  EXPECT_EQ(loki_.tenants()[0], "team-a");
  // An empty range still moves the cursor to `end`.
  EXPECT_EQ(result->cursor_ns, now_ns_ - 2 * kSecond);
  EXPECT_EQ(store_->GetValue("loki/test/cursor").value(), std::to_string(now_ns_ - 2 * kSecond));
  EXPECT_EQ(result->entries, 0);
}

TEST_F(LokiSourceTest, EqualTimestampsAtPageBoundariesAreNeitherLostNorRepeated) {
  // limit 3: pages end inside runs of equal timestamps.
  AddLine(Ago(100), "GET /a 200");
  AddLine(Ago(90), "panic: nil map 1");
  AddLine(Ago(90), "panic: nil map 2");
  AddLine(Ago(90), "panic: nil map 3");  // 3 entries at one ns: a page of only T
  AddLine(Ago(80), "GET /b 200");
  AddLine(Ago(80), "GET /c 200");
  AddLine(Ago(70), "GET /d 200");
  auto source = Make(Options());
  auto result = source->PollOnce();
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(std::multiset<std::string>(classifier_->seen.begin(), classifier_->seen.end()),
            expected_);
  EXPECT_EQ(result->entries, 7);
  EXPECT_GE(result->pages, 3);
  EXPECT_EQ(result->cursor_ns, now_ns_);
  EXPECT_GE(result->detections, 1);
}

TEST_F(LokiSourceTest, CursorSurvivesARestartWithoutSkipOrRepeat) {
  for (int i = 0; i < 8; ++i) AddLine(Ago(300 - i * 10), "line " + std::to_string(i));
  {
    auto source = Make(Options());
    ASSERT_THAT(source->PollOnce(), IsOk());
  }
  EXPECT_EQ(classifier_->seen.size(), 8u);
  // New lines after the cursor, time passes, a new source (as after a restart) on the same store.
  clock_.Advance(absl::Seconds(60));
  now_ns_ = absl::ToUnixNanos(clock_.Now());
  for (int i = 0; i < 5; ++i) AddLine(Ago(50 - i), "later " + std::to_string(i));
  AddLine(Ago(0), "at end: not yet (end is exclusive)");
  auto restarted = Make(Options());
  auto result = restarted->PollOnce();
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->entries, 5);
  clock_.Advance(absl::Seconds(1));
  ASSERT_THAT(restarted->PollOnce(), IsOk());
  EXPECT_EQ(std::multiset<std::string>(classifier_->seen.begin(), classifier_->seen.end()),
            expected_);
  // The second source started from the stored cursor, not from the lookback.
  auto requests = loki_.requests();
  EXPECT_NE(requests[requests.size() - 2].find("start")->second,
            std::to_string(now_ns_ - 600 * kSecond));
}

TEST_F(LokiSourceTest, FailedPollRetriesFromTheStoredCursor) {
  for (int i = 0; i < 5; ++i) AddLine(Ago(100 - i), "line " + std::to_string(i));
  // The next poll fails for good: the cursor stays, and the poll after it gets the new line.
  LokiSourceOptions options = Options();
  options.max_attempts = 1;
  auto source = Make(options);
  ASSERT_THAT(source->PollOnce(), IsOk());
  size_t first = classifier_->seen.size();
  EXPECT_EQ(first, 5u);
  loki_.FailNext(500, "internal error");
  AddLine(Ago(0) + kSecond / 2, "new");
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(source->PollOnce(), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(source->PollOnce(), IsOk());
  EXPECT_EQ(std::multiset<std::string>(classifier_->seen.begin(), classifier_->seen.end()),
            expected_);
}

TEST_F(LokiSourceTest, LabelNamesAreMappedToTheDetectorsNames) {
  loki_.Add({{"k8s_ns", "pay"}, {"k8s_po", "api-5c8d7f6b9-x2x9k"}, {"k8s_co", "server"}}, Ago(30),
            "panic: assignment to entry in nil map");
  LokiSourceOptions options = Options();
  options.query = R"({k8s_ns="pay"})";
  options.namespace_label = "k8s_ns";
  options.pod_label = "k8s_po";
  options.container_label = "k8s_co";
  auto source = Make(options);
  auto result = source->PollOnce();
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->detections, 1);
  IncidentFilter filter;
  filter.namespace_name = "pay";
  auto page = store_->ListIncidents(filter);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->incidents.size(), 1u);
  EXPECT_EQ(page->incidents[0].workload().pod(), "api-5c8d7f6b9-x2x9k");
  EXPECT_EQ(page->incidents[0].workload().container(), "server");
  EXPECT_EQ(page->incidents[0].workload().name(), "api");
}

TEST_F(LokiSourceTest, TextPlainErrorsBecomeClearStatuses) {
  LokiSourceOptions options = Options();
  options.query = "not logql";
  auto source = Make(options);
  EXPECT_THAT(source->PollOnce(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("HTTP 400"), HasSubstr("parse error at line 1"))));
  EXPECT_EQ(loki_.requests().size(), 1u);  // not retried
  EXPECT_FALSE(store_->GetValue("loki/test/cursor").value().has_value());
  loki_.FailNext(401, "no org id");
  EXPECT_THAT(Make(Options())->PollOnce(),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("no org id")));
}

TEST_F(LokiSourceTest, LimitAboveLokisMaximumIsRejectedUpFront) {
  LokiSourceOptions options = Options();
  options.limit = 5001;
  EXPECT_THAT(LokiSource::Create(options, *http_, *ingestor_, *store_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1..5000")));
  options = Options();
  options.query = "";
  EXPECT_THAT(LokiSource::Create(options, *http_, *ingestor_, *store_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("LogQL")));
}

TEST_F(LokiSourceTest, TooManyRequestsAndServerErrorsAreRetriedWithBackoff) {
  AddLine(Ago(5), "panic: boom");
  loki_.FailNext(429, "Ingestion rate limit exceeded", "2");
  loki_.FailNext(503, "too many outstanding requests");
  auto source = Make(Options());
  absl::Time before = clock_.Now();
  auto result = source->PollOnce();
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->requests, 3);
  EXPECT_EQ(result->entries, 1);
  // Retry-After: 2 s, then the doubled backoff 200 ms, on the injected clock.
  EXPECT_EQ(clock_.Now() - before, absl::Seconds(2) + absl::Milliseconds(200));
}

TEST_F(LokiSourceTest, PersistentFailureLeavesTheCursorAlone) {
  LokiSourceOptions options = Options();
  options.max_attempts = 3;
  for (int i = 0; i < 3; ++i) loki_.FailNext(502, "bad gateway");
  auto source = Make(options);
  EXPECT_THAT(source->PollOnce(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 502: bad gateway")));
  EXPECT_EQ(loki_.requests().size(), 3u);
  EXPECT_FALSE(store_->GetValue("loki/test/cursor").value().has_value());
}

TEST_F(LokiSourceTest, EmptyRangeSendsNothing) {
  auto source = Make(Options());
  ASSERT_THAT(source->PollOnce(), IsOk());
  size_t requests = loki_.requests().size();
  // Same instant: [cursor, end) is empty, no request at all.
  auto again = source->PollOnce();
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->requests, 0);
  EXPECT_EQ(loki_.requests().size(), requests);
}

TEST_F(LokiSourceTest, UnreachableLokiIsUnavailable) {
  LokiSourceOptions options = Options();
  options.base_url = "http://127.0.0.1:1";
  options.max_attempts = 2;
  EXPECT_THAT(Make(options)->PollOnce(), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace remediator
