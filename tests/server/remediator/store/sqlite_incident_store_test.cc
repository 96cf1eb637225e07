#include "server/remediator/adapters/sqlite_incident_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <thread>

#include "server/common/time_util.h"
#include "tests/testing/fake_classifier.h"
#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::MakeDetection;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class SqliteIncidentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "remediator.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  DetectionToRecord Record(const std::string& ns, const std::string& name,
                           v1::ErrorClass error_class, absl::Time seen, int64_t count = 1) {
    DetectionToRecord r;
    r.detection = MakeDetection(ns, name, error_class, "seen at " + FormatIso8601(seen));
    r.fingerprint = ns + "/" + name + "/" + std::to_string(error_class);
    r.severity = "high";
    r.seen = seen;
    r.count = count;
    return r;
  }

  std::filesystem::path dir_;
  std::string path_;
  absl::Time t0_ = absl::FromUnixSeconds(1780000000);
};

TEST_F(SqliteIncidentStoreTest, NewFileIsAtLatestSchemaVersion) {
  auto store = SqliteIncidentStore::Open(path_);
  ASSERT_THAT(store, IsOk());
  EXPECT_THAT((*store)->SchemaVersion(), IsOk());
  EXPECT_EQ(*(*store)->SchemaVersion(), SqliteIncidentStore::LatestSchemaVersion());
}

TEST_F(SqliteIncidentStoreTest, OldSchemaIsMigratedAndKeepsData) {
  std::string id;
  {
    auto old_store = SqliteIncidentStore::OpenAtVersionForTesting(path_, 1);
    ASSERT_THAT(old_store, IsOk());
    EXPECT_EQ(*(*old_store)->SchemaVersion(), 1);
    auto recorded =
        (*old_store)->RecordDetections({Record("app", "nginx", v1::ERROR_CLASS_OOM_KILLED, t0_)});
    ASSERT_THAT(recorded, IsOk());
    id = (*recorded)[0].incident.id();
  }
  auto store = SqliteIncidentStore::Open(path_);
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ(*(*store)->SchemaVersion(), SqliteIncidentStore::LatestSchemaVersion());
  auto incident = (*store)->GetIncident(id);
  ASSERT_THAT(incident, IsOk());
  EXPECT_EQ(incident->workload().name(), "nginx");
  // The index added by migration 2 exists.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE name = 'incidents_state'", -1, &stmt,
                     nullptr);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteIncidentStoreTest, RefusesSchemaNewerThanBuild) {
  { ASSERT_THAT(SqliteIncidentStore::Open(path_), IsOk()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 999", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THAT(SqliteIncidentStore::Open(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("newer")));
}

TEST_F(SqliteIncidentStoreTest, UnopenablePathIsAnErrorNamingIt) {
  EXPECT_THAT(SqliteIncidentStore::Open("/nonexistent-dir/x/remediator.db"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("/nonexistent-dir/x")));
}

TEST_F(SqliteIncidentStoreTest, RepeatsJoinOneIncidentWithCountsAndTimes) {
  auto store = SqliteIncidentStore::Open(path_);
  ASSERT_THAT(store, IsOk());
  auto first =
      (*store)->RecordDetections({Record("app", "nginx", v1::ERROR_CLASS_OOM_KILLED, t0_)});
  ASSERT_THAT(first, IsOk());
  EXPECT_TRUE((*first)[0].created);
  auto second = (*store)->RecordDetections(
      {Record("app", "nginx", v1::ERROR_CLASS_OOM_KILLED, t0_ + absl::Minutes(5), 9)});
  ASSERT_THAT(second, IsOk());
  EXPECT_FALSE((*second)[0].created);
  EXPECT_EQ((*second)[0].incident.id(), (*first)[0].incident.id());
  EXPECT_EQ((*second)[0].incident.count(), 10);
  EXPECT_EQ(FromProtoTime((*second)[0].incident.first_seen()), t0_);
  EXPECT_EQ(FromProtoTime((*second)[0].incident.last_seen()), t0_ + absl::Minutes(5));
  EXPECT_EQ((*second)[0].incident.state(), v1::INCIDENT_STATE_OPEN);
  // Another class on the same workload is another incident.
  auto other =
      (*store)->RecordDetections({Record("app", "nginx", v1::ERROR_CLASS_IMAGE_PULL, t0_)});
  ASSERT_THAT(other, IsOk());
  EXPECT_TRUE((*other)[0].created);
  EXPECT_NE((*other)[0].incident.id(), (*first)[0].incident.id());
}

TEST_F(SqliteIncidentStoreTest, AFixableDetectionJoiningMakesTheIncidentFixable) {
  auto store = SqliteIncidentStore::Open(path_);
  ASSERT_THAT(store, IsOk());
  DetectionToRecord backoff = Record("app", "web", v1::ERROR_CLASS_CRASH_LOOP, t0_);
  backoff.detection.set_fixable_by_manifest(false);
  auto first = (*store)->RecordDetections({backoff});
  ASSERT_THAT(first, IsOk());
  EXPECT_FALSE((*first)[0].incident.fixable_by_manifest());
  DetectionToRecord status =
      Record("app", "web", v1::ERROR_CLASS_CRASH_LOOP, t0_ + absl::Seconds(1));
  status.detection.set_fixable_by_manifest(true);
  auto joined = (*store)->RecordDetections({status});
  ASSERT_THAT(joined, IsOk());
  EXPECT_EQ((*joined)[0].incident.id(), (*first)[0].incident.id());
  EXPECT_TRUE((*joined)[0].incident.fixable_by_manifest());
  // A later not-fixable detection (another BackOff) does not take it back.
  auto again = (*store)->RecordDetections({backoff});
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE((*again)[0].incident.fixable_by_manifest());
  auto stored = (*store)->GetIncident((*first)[0].incident.id());
  ASSERT_THAT(stored, IsOk());
  EXPECT_TRUE(stored->fixable_by_manifest());
}

TEST_F(SqliteIncidentStoreTest, NoneClassIsRejectedAndNothingStored) {
  auto store = SqliteIncidentStore::Open(path_);
  ASSERT_THAT(store, IsOk());
  auto good = Record("app", "a", v1::ERROR_CLASS_OOM_KILLED, t0_);
  auto bad = Record("app", "b", v1::ERROR_CLASS_NONE, t0_);
  EXPECT_THAT((*store)->RecordDetections({good, bad}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("detection 1")));
  auto page = (*store)->ListIncidents({});
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(page->incidents, SizeIs(0));
}

TEST_F(SqliteIncidentStoreTest, EverythingSurvivesReopen) {
  std::string incident_id;
  {
    auto store = SqliteIncidentStore::Open(path_);
    ASSERT_THAT(store, IsOk());
    auto recorded =
        (*store)->RecordDetections({Record("app", "nginx", v1::ERROR_CLASS_OOM_KILLED, t0_)});
    ASSERT_THAT(recorded, IsOk());
    incident_id = (*recorded)[0].incident.id();
    ASSERT_THAT((*store)->TransitionIncident(incident_id, v1::INCIDENT_STATE_OPEN,
                                             v1::INCIDENT_STATE_FIXING, "fix started",
                                             t0_ + absl::Seconds(1)),
                IsOk());
    v1::FixAttempt attempt;
    attempt.set_id("fix-1");
    attempt.set_incident_id(incident_id);
    attempt.set_status(v1::FIX_STATUS_VERIFIED);
    attempt.set_diff("-  memory: 4Mi\n+  memory: 32Mi\n");
    ASSERT_THAT((*store)->PutFixAttempt(attempt), IsOk());
    v1::PullRequest pr;
    pr.set_id("pr-1");
    pr.set_incident_id(incident_id);
    pr.set_branch("remediator/" + incident_id);
    ASSERT_THAT((*store)->PutPullRequest(pr), IsOk());
    telephony::v1::CallRecord call;
    call.set_call_id("call-1");
    call.set_incident_id(incident_id);
    call.set_number("+33612345678");
    call.set_speech("nginx, was, \"OOM\"\nkilled");
    call.set_can_intervene(true);
    *call.mutable_call_time() = ToProtoTime(t0_);
    call.set_idempotency_key("k1");
    ASSERT_THAT((*store)->PutCall(call), IsOk());
    ASSERT_THAT((*store)->PutValue("loki/cursor", "1748466852250601507"), IsOk());
    ASSERT_THAT((*store)->LinkIncident(incident_id, "fix-1", "pr-1", "call-1"), IsOk());
  }
  auto store = SqliteIncidentStore::Open(path_);
  ASSERT_THAT(store, IsOk());
  auto incident = (*store)->GetIncident(incident_id);
  ASSERT_THAT(incident, IsOk());
  EXPECT_EQ(incident->state(), v1::INCIDENT_STATE_FIXING);
  ASSERT_THAT(incident->transitions(), SizeIs(2));
  EXPECT_EQ(incident->transitions(1).note(), "fix started");
  EXPECT_EQ(incident->last_fix_attempt_id(), "fix-1");
  EXPECT_EQ(incident->pull_request_id(), "pr-1");
  EXPECT_EQ(incident->last_call_id(), "call-1");
  auto attempts = (*store)->ListFixAttempts(incident_id);
  ASSERT_THAT(attempts, IsOk());
  ASSERT_THAT(*attempts, SizeIs(1));
  EXPECT_EQ((*attempts)[0].diff(), "-  memory: 4Mi\n+  memory: 32Mi\n");
  auto pr = (*store)->GetPullRequest("pr-1");
  ASSERT_THAT(pr, IsOk());
  EXPECT_EQ(pr->branch(), "remediator/" + incident_id);
  CallFilter filter;
  filter.incident_id = incident_id;
  auto calls = (*store)->ListCalls(filter);
  ASSERT_THAT(calls, IsOk());
  ASSERT_THAT(calls->calls, SizeIs(1));
  EXPECT_EQ(calls->calls[0].speech(), "nginx, was, \"OOM\"\nkilled");
  EXPECT_TRUE(calls->calls[0].can_intervene());
  auto cursor = (*store)->GetValue("loki/cursor");
  ASSERT_THAT(cursor, IsOk());
  EXPECT_EQ(cursor->value_or(""), "1748466852250601507");
  auto missing = (*store)->GetValue("nothing");
  ASSERT_THAT(missing, IsOk());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(SqliteIncidentStoreTest, TransitionIsCompareAndSet) {
  auto store = SqliteIncidentStore::Open(path_);
  ASSERT_THAT(store, IsOk());
  auto recorded =
      (*store)->RecordDetections({Record("app", "nginx", v1::ERROR_CLASS_OOM_KILLED, t0_)});
  ASSERT_THAT(recorded, IsOk());
  const std::string id = (*recorded)[0].incident.id();
  EXPECT_THAT(
      (*store)->TransitionIncident(id, v1::INCIDENT_STATE_OPEN, v1::INCIDENT_STATE_FIXING, "", t0_),
      IsOk());
  EXPECT_THAT(
      (*store)->TransitionIncident(id, v1::INCIDENT_STATE_OPEN, v1::INCIDENT_STATE_FIXING, "", t0_),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is fixing, not open")));
  EXPECT_THAT((*store)->TransitionIncident("inc-nope", v1::INCIDENT_STATE_OPEN,
                                           v1::INCIDENT_STATE_FIXING, "", t0_),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SqliteIncidentStoreTest, ResolvedIncidentDoesNotAbsorbANewFailure) {
  auto store = SqliteIncidentStore::Open(path_);
  ASSERT_THAT(store, IsOk());
  auto first = (*store)->RecordDetections({Record("app", "web", v1::ERROR_CLASS_CRASH_LOOP, t0_)});
  ASSERT_THAT(first, IsOk());
  const std::string id = (*first)[0].incident.id();
  ASSERT_THAT((*store)->TransitionIncident(id, v1::INCIDENT_STATE_OPEN, v1::INCIDENT_STATE_RESOLVED,
                                           "by hand", t0_),
              IsOk());
  auto again = (*store)->RecordDetections(
      {Record("app", "web", v1::ERROR_CLASS_CRASH_LOOP, t0_ + absl::Hours(1))});
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE((*again)[0].created);
  EXPECT_NE((*again)[0].incident.id(), id);
}

TEST_F(SqliteIncidentStoreTest, ListFiltersAndPages) {
  auto store = SqliteIncidentStore::Open(path_);
  ASSERT_THAT(store, IsOk());
  std::vector<DetectionToRecord> records;
  for (int i = 0; i < 7; ++i) {
    records.push_back(Record(i % 2 == 0 ? "app" : "shop", "w" + std::to_string(i),
                             i < 3 ? v1::ERROR_CLASS_OOM_KILLED : v1::ERROR_CLASS_IMAGE_PULL,
                             t0_ + absl::Seconds(i)));
  }
  ASSERT_THAT((*store)->RecordDetections(records), IsOk());
  IncidentFilter filter;
  filter.namespace_name = "app";
  auto app = (*store)->ListIncidents(filter);
  ASSERT_THAT(app, IsOk());
  EXPECT_THAT(app->incidents, SizeIs(4));
  filter = {};
  filter.error_class = v1::ERROR_CLASS_OOM_KILLED;
  auto oom = (*store)->ListIncidents(filter);
  ASSERT_THAT(oom, IsOk());
  EXPECT_THAT(oom->incidents, SizeIs(3));
  // Pages of 3 cover all 7, newest first, with no repeat.
  filter = {};
  filter.page_size = 3;
  std::vector<std::string> names;
  do {
    auto page = (*store)->ListIncidents(filter);
    ASSERT_THAT(page, IsOk());
    for (const auto& incident : page->incidents) names.push_back(incident.workload().name());
    filter.page_token = page->next_page_token;
  } while (!filter.page_token.empty());
  EXPECT_EQ(names, (std::vector<std::string>{"w6", "w5", "w4", "w3", "w2", "w1", "w0"}));
  filter.page_token = "garbage";
  EXPECT_THAT((*store)->ListIncidents(filter),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

TEST_F(SqliteIncidentStoreTest, OnePullRequestPerIncidentAndOneCallPerIdempotencyKey) {
  auto store = SqliteIncidentStore::Open(path_);
  ASSERT_THAT(store, IsOk());
  v1::PullRequest pr;
  pr.set_id("pr-1");
  pr.set_incident_id("inc-1");
  ASSERT_THAT((*store)->PutPullRequest(pr), IsOk());
  v1::PullRequest again = pr;
  again.set_id("pr-2");
  auto result = (*store)->PutPullRequest(again);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->id(), "pr-1");
  auto page = (*store)->ListPullRequests("", 0, "");
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(page->pull_requests, SizeIs(1));

  telephony::v1::CallRecord call;
  call.set_call_id("c1");
  call.set_idempotency_key("key");
  call.set_number("+33612345678");
  ASSERT_THAT((*store)->PutCall(call), IsOk());
  telephony::v1::CallRecord retry = call;
  retry.set_call_id("c2");
  auto stored = (*store)->PutCall(retry);
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->call_id(), "c1");
  auto calls = (*store)->ListCalls({});
  ASSERT_THAT(calls, IsOk());
  EXPECT_THAT(calls->calls, SizeIs(1));
}

TEST_F(SqliteIncidentStoreTest, ConcurrentWritersNeverOpenTwoIncidentsForOneFingerprint) {
  auto store = SqliteIncidentStore::Open(path_);
  ASSERT_THAT(store, IsOk());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        ASSERT_THAT(
            (*store)->RecordDetections({Record("app", "nginx", v1::ERROR_CLASS_OOM_KILLED, t0_)}),
            IsOk());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto page = (*store)->ListIncidents({});
  ASSERT_THAT(page, IsOk());
  ASSERT_THAT(page->incidents, SizeIs(1));
  EXPECT_EQ(page->incidents[0].count(), 200);
}

}  // namespace
}  // namespace remediator
