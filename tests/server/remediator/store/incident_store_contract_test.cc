// The IncidentStore contract (server/remediator/core/incident_store.h), run against every store:
// in memory, SQLite and a real PostgreSQL started by the test. Concurrency cases use several
// replicas (separate stores on the same data) and threads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "server/common/time_util.h"
#include "tests/server/remediator/store/store_backends.h"
#include "tests/testing/fake_classifier.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::FakeClock;
using ::remediator::testing::IsOk;
using ::remediator::testing::MakeDetection;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr v1::IncidentState kOpen = v1::INCIDENT_STATE_OPEN;
constexpr v1::IncidentState kFixing = v1::INCIDENT_STATE_FIXING;
constexpr v1::IncidentState kResolved = v1::INCIDENT_STATE_RESOLVED;

class IncidentStoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = testing::MakeStoreBackend(GetParam());
    ASSERT_NE(backend_, nullptr);
    auto store = backend_->Open();
    ASSERT_THAT(store, IsOk());
    store_ = *store;
  }

  std::vector<IncidentStore*> Replicas(int n) {
    std::vector<IncidentStore*> replicas = {store_};
    while (static_cast<int>(replicas.size()) < n) {
      auto replica = backend_->OpenReplica();
      EXPECT_THAT(replica, IsOk());
      if (!replica.ok()) break;
      replicas.push_back(*replica);
    }
    return replicas;
  }

  DetectionToRecord Record(const std::string& ns, const std::string& name,
                           v1::ErrorClass error_class, absl::Time seen, int64_t count = 1) {
    DetectionToRecord r;
    r.detection = testing::MakeDetection(ns, name, error_class, "seen at " + FormatIso8601(seen));
    r.fingerprint = ns + "/" + name + "/" + std::to_string(error_class);
    r.severity = "high";
    r.seen = seen;
    r.count = count;
    return r;
  }

  // Records `n` incidents w0..w{n-1}, one second apart, and returns their ids in that order.
  std::vector<std::string> RecordIncidents(int n) {
    std::vector<DetectionToRecord> records;
    for (int i = 0; i < n; ++i) {
      records.push_back(
          Record("app", absl::StrCat("w", i), v1::ERROR_CLASS_OOM_KILLED, t0_ + absl::Seconds(i)));
    }
    auto recorded = store_->RecordDetections(records);
    EXPECT_THAT(recorded, IsOk());
    std::vector<std::string> ids;
    if (recorded.ok()) {
      for (const auto& r : *recorded) ids.push_back(r.incident.id());
    }
    return ids;
  }

  ClaimRequest Claim(const std::string& owner, absl::Time now,
                     absl::Duration lease = absl::Seconds(30)) {
    ClaimRequest request;
    request.owner = owner;
    request.lease = lease;
    request.now = now;
    return request;
  }

  std::unique_ptr<testing::StoreBackend> backend_;
  IncidentStore* store_ = nullptr;
  absl::Time t0_ = absl::FromUnixSeconds(1780000000);
};

TEST_P(IncidentStoreContractTest, RepeatsJoinOneIncidentWithCountsAndTimes) {
  auto first = store_->RecordDetections({Record("app", "nginx", v1::ERROR_CLASS_OOM_KILLED, t0_)});
  ASSERT_THAT(first, IsOk());
  EXPECT_TRUE((*first)[0].created);
  EXPECT_THAT((*first)[0].incident.id(), ::testing::MatchesRegex("inc-[0-9a-f]{12}"));
  auto second = store_->RecordDetections(
      {Record("app", "nginx", v1::ERROR_CLASS_OOM_KILLED, t0_ + absl::Minutes(5), 9)});
  ASSERT_THAT(second, IsOk());
  EXPECT_FALSE((*second)[0].created);
  EXPECT_EQ((*second)[0].incident.id(), (*first)[0].incident.id());
  EXPECT_EQ((*second)[0].incident.count(), 10);
  EXPECT_EQ(FromProtoTime((*second)[0].incident.first_seen()), t0_);
  EXPECT_EQ(FromProtoTime((*second)[0].incident.last_seen()), t0_ + absl::Minutes(5));
  EXPECT_EQ((*second)[0].incident.state(), kOpen);
  auto other = store_->RecordDetections({Record("app", "nginx", v1::ERROR_CLASS_IMAGE_PULL, t0_)});
  ASSERT_THAT(other, IsOk());
  EXPECT_TRUE((*other)[0].created);
  EXPECT_NE((*other)[0].incident.id(), (*first)[0].incident.id());
}

TEST_P(IncidentStoreContractTest, InvalidDetectionIsRejectedAndNothingStored) {
  auto good = Record("app", "a", v1::ERROR_CLASS_OOM_KILLED, t0_);
  auto bad = Record("app", "b", v1::ERROR_CLASS_NONE, t0_);
  EXPECT_THAT(store_->RecordDetections({good, bad}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("detection 1")));
  auto page = store_->ListIncidents({});
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(page->incidents, SizeIs(0));
}

TEST_P(IncidentStoreContractTest, RecordsSurviveReopen) {
  const std::string id = RecordIncidents(1)[0];
  ASSERT_THAT(store_->TransitionIncident(id, kOpen, kFixing, "fix started", t0_ + absl::Seconds(1)),
              IsOk());
  v1::FixAttempt attempt;
  attempt.set_id("fix-1");
  attempt.set_incident_id(id);
  attempt.set_diff("-  memory: 4Mi\n+  memory: 32Mi\n");
  ASSERT_THAT(store_->PutFixAttempt(attempt), IsOk());
  v1::PullRequest pr;
  pr.set_id("pr-1");
  pr.set_incident_id(id);
  pr.set_branch("remediator/" + id);
  ASSERT_THAT(store_->PutPullRequest(pr), IsOk());
  telephony::v1::CallRecord call;
  call.set_call_id("call-1");
  call.set_incident_id(id);
  call.set_speech(std::string("nginx, \"OOM\"\nkilled \0 bytes", 26));
  *call.mutable_call_time() = ToProtoTime(t0_);
  call.set_idempotency_key("k1");
  ASSERT_THAT(store_->PutCall(call), IsOk());
  ASSERT_THAT(store_->PutValue("loki/cursor", std::string("\x00\xff\x01", 3)), IsOk());
  ASSERT_THAT(store_->LinkIncident(id, "fix-1", "pr-1", "call-1"), IsOk());

  auto reopened = backend_->Reopen();
  ASSERT_THAT(reopened, IsOk());
  IncidentStore& store = **reopened;
  auto incident = store.GetIncident(id);
  ASSERT_THAT(incident, IsOk());
  EXPECT_EQ(incident->state(), kFixing);
  ASSERT_THAT(incident->transitions(), SizeIs(2));
  EXPECT_EQ(incident->transitions(1).note(), "fix started");
  EXPECT_EQ(incident->last_fix_attempt_id(), "fix-1");
  EXPECT_EQ(incident->pull_request_id(), "pr-1");
  EXPECT_EQ(incident->last_call_id(), "call-1");
  auto attempts = store.ListFixAttempts(id);
  ASSERT_THAT(attempts, IsOk());
  ASSERT_THAT(*attempts, SizeIs(1));
  EXPECT_EQ((*attempts)[0].diff(), "-  memory: 4Mi\n+  memory: 32Mi\n");
  EXPECT_THAT(store.GetFixAttempt("fix-1"), IsOk());
  EXPECT_THAT(store.GetFixAttempt("fix-2"), StatusIs(absl::StatusCode::kNotFound));
  auto stored_pr = store.GetPullRequest("pr-1");
  ASSERT_THAT(stored_pr, IsOk());
  EXPECT_EQ(stored_pr->branch(), "remediator/" + id);
  CallFilter filter;
  filter.incident_id = id;
  auto calls = store.ListCalls(filter);
  ASSERT_THAT(calls, IsOk());
  ASSERT_THAT(calls->calls, SizeIs(1));
  EXPECT_EQ(calls->calls[0].speech(), call.speech());
  auto cursor = store.GetValue("loki/cursor");
  ASSERT_THAT(cursor, IsOk());
  EXPECT_EQ(cursor->value_or(""), std::string("\x00\xff\x01", 3));
  auto missing = store.GetValue("nothing");
  ASSERT_THAT(missing, IsOk());
  EXPECT_FALSE(missing->has_value());
  EXPECT_THAT(store.GetIncident("inc-nope"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(IncidentStoreContractTest, TransitionIsCompareAndSet) {
  const std::string id = RecordIncidents(1)[0];
  EXPECT_THAT(store_->TransitionIncident(id, kOpen, kFixing, "", t0_), IsOk());
  EXPECT_THAT(store_->TransitionIncident(id, kOpen, kFixing, "", t0_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is fixing, not open")));
  EXPECT_THAT(store_->TransitionIncident("inc-nope", kOpen, kFixing, "", t0_),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->LinkIncident("inc-nope", "f", "", ""), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(IncidentStoreContractTest, ResolvedIncidentDoesNotAbsorbANewFailure) {
  const std::string id = RecordIncidents(1)[0];
  ASSERT_THAT(store_->TransitionIncident(id, kOpen, kResolved, "by hand", t0_), IsOk());
  auto again = store_->RecordDetections(
      {Record("app", "w0", v1::ERROR_CLASS_OOM_KILLED, t0_ + absl::Hours(1))});
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE((*again)[0].created);
  EXPECT_NE((*again)[0].incident.id(), id);
}

TEST_P(IncidentStoreContractTest, ListFiltersAndPages) {
  std::vector<DetectionToRecord> records;
  for (int i = 0; i < 7; ++i) {
    records.push_back(Record(i % 2 == 0 ? "app" : "shop", "w" + std::to_string(i),
                             i < 3 ? v1::ERROR_CLASS_OOM_KILLED : v1::ERROR_CLASS_IMAGE_PULL,
                             t0_ + absl::Seconds(i)));
  }
  ASSERT_THAT(store_->RecordDetections(records), IsOk());
  IncidentFilter filter;
  filter.namespace_name = "app";
  auto app = store_->ListIncidents(filter);
  ASSERT_THAT(app, IsOk());
  EXPECT_THAT(app->incidents, SizeIs(4));
  filter = {};
  filter.error_class = v1::ERROR_CLASS_OOM_KILLED;
  auto oom = store_->ListIncidents(filter);
  ASSERT_THAT(oom, IsOk());
  EXPECT_THAT(oom->incidents, SizeIs(3));
  filter = {};
  filter.state = kFixing;
  auto fixing = store_->ListIncidents(filter);
  ASSERT_THAT(fixing, IsOk());
  EXPECT_THAT(fixing->incidents, SizeIs(0));
  filter = {};
  filter.page_size = 3;
  std::vector<std::string> names;
  do {
    auto page = store_->ListIncidents(filter);
    ASSERT_THAT(page, IsOk());
    for (const auto& incident : page->incidents) names.push_back(incident.workload().name());
    filter.page_token = page->next_page_token;
  } while (!filter.page_token.empty());
  EXPECT_EQ(names, (std::vector<std::string>{"w6", "w5", "w4", "w3", "w2", "w1", "w0"}));
  filter.page_token = "garbage";
  EXPECT_THAT(store_->ListIncidents(filter),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  filter = {};
  filter.page_size = -1;
  EXPECT_THAT(store_->ListIncidents(filter), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(IncidentStoreContractTest, OnePullRequestPerIncidentAndOneCallPerIdempotencyKey) {
  v1::PullRequest pr;
  pr.set_id("pr-1");
  pr.set_incident_id("inc-1");
  ASSERT_THAT(store_->PutPullRequest(pr), IsOk());
  v1::PullRequest again = pr;
  again.set_id("pr-2");
  auto result = store_->PutPullRequest(again);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->id(), "pr-1");
  pr.set_url("https://forge/pr/1");
  EXPECT_THAT(store_->UpdatePullRequest(pr), IsOk());
  EXPECT_EQ(store_->GetPullRequest("pr-1")->url(), "https://forge/pr/1");
  again.set_id("pr-9");
  EXPECT_THAT(store_->UpdatePullRequest(again), StatusIs(absl::StatusCode::kNotFound));
  auto page = store_->ListPullRequests("", 0, "");
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(page->pull_requests, SizeIs(1));

  telephony::v1::CallRecord call;
  call.set_call_id("c1");
  call.set_idempotency_key("key");
  call.set_number("+33612345678");
  ASSERT_THAT(store_->PutCall(call), IsOk());
  telephony::v1::CallRecord retry = call;
  retry.set_call_id("c2");
  auto stored = store_->PutCall(retry);
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->call_id(), "c1");
  // Calls without a key are all kept.
  telephony::v1::CallRecord keyless;
  keyless.set_call_id("c3");
  ASSERT_THAT(store_->PutCall(keyless), IsOk());
  keyless.set_call_id("c4");
  ASSERT_THAT(store_->PutCall(keyless), IsOk());
  auto calls = store_->ListCalls({});
  ASSERT_THAT(calls, IsOk());
  EXPECT_THAT(calls->calls, SizeIs(3));
}

TEST_P(IncidentStoreContractTest, ClaimIsExclusiveUntilTheLeaseExpires) {
  const std::string id = RecordIncidents(1)[0];
  auto a = store_->ClaimIncident(id, Claim("replica-a", t0_));
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->owner, "replica-a");
  EXPECT_EQ(a->expires, t0_ + absl::Seconds(30));
  EXPECT_EQ(a->incident.id(), id);
  const int64_t first_generation = a->generation;
  // Another owner is refused while the lease is live, and told who holds it.
  EXPECT_THAT(store_->ClaimIncident(id, Claim("replica-b", t0_ + absl::Seconds(29))),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("replica-a")));
  // The owner claiming again renews: same generation, later expiry.
  auto renewed = store_->ClaimIncident(id, Claim("replica-a", t0_ + absl::Seconds(10)));
  ASSERT_THAT(renewed, IsOk());
  EXPECT_EQ(renewed->generation, first_generation);
  EXPECT_EQ(renewed->expires, t0_ + absl::Seconds(40));
  // After expiry, another owner takes it over, and the old owner has lost it.
  auto b = store_->ClaimIncident(id, Claim("replica-b", t0_ + absl::Seconds(40)));
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(b->owner, "replica-b");
  EXPECT_EQ(b->generation, first_generation + 1);
  EXPECT_THAT(store_->RenewLease(id, Claim("replica-a", t0_ + absl::Seconds(41))),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("replica-b holds it")));
  EXPECT_THAT(store_->ReleaseClaim(id, "replica-a"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store_->ClaimIncident("inc-nope", Claim("replica-a", t0_)),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(IncidentStoreContractTest, RenewKeepsAndReleaseFreesTheClaim) {
  const std::string id = RecordIncidents(1)[0];
  ASSERT_THAT(store_->ClaimIncident(id, Claim("a", t0_)), IsOk());
  auto renewed = store_->RenewLease(id, Claim("a", t0_ + absl::Seconds(25)));
  ASSERT_THAT(renewed, IsOk());
  EXPECT_EQ(renewed->expires, t0_ + absl::Seconds(55));
  // Past the first expiry, the renewed lease still holds.
  EXPECT_THAT(store_->ClaimIncident(id, Claim("b", t0_ + absl::Seconds(50))),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(store_->ReleaseClaim(id, "a"), IsOk());
  EXPECT_THAT(store_->RenewLease(id, Claim("a", t0_ + absl::Seconds(51))),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("nobody holds it")));
  // Released: claimable at once, well before the lease would have ended.
  EXPECT_THAT(store_->ClaimIncident(id, Claim("b", t0_ + absl::Seconds(51))), IsOk());
  EXPECT_THAT(store_->ReleaseClaim("inc-nope", "a"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(IncidentStoreContractTest, ClaimNextTakesTheOldestClaimableInTheGivenStates) {
  const std::vector<std::string> ids = RecordIncidents(3);
  ASSERT_THAT(store_->TransitionIncident(ids[0], kOpen, kFixing, "", t0_ + absl::Seconds(10)),
              IsOk());
  const absl::Time now = t0_ + absl::Minutes(1);
  auto first = store_->ClaimNextIncident({kOpen}, Claim("a", now));
  ASSERT_THAT(first, IsOk());
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->incident.id(), ids[1]);
  auto second = store_->ClaimNextIncident({kOpen}, Claim("b", now));
  ASSERT_THAT(second, IsOk());
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((*second)->incident.id(), ids[2]);
  // Every OPEN incident is held, including by the asker itself.
  auto none = store_->ClaimNextIncident({kOpen}, Claim("a", now));
  ASSERT_THAT(none, IsOk());
  EXPECT_FALSE(none->has_value());
  auto fixing = store_->ClaimNextIncident({kOpen, kFixing}, Claim("c", now));
  ASSERT_THAT(fixing, IsOk());
  ASSERT_TRUE(fixing->has_value());
  EXPECT_EQ((*fixing)->incident.id(), ids[0]);
}

TEST_P(IncidentStoreContractTest, BadClaimRequestsAreInvalidArguments) {
  const std::string id = RecordIncidents(1)[0];
  EXPECT_THAT(store_->ClaimIncident(id, Claim("", t0_)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("owner")));
  EXPECT_THAT(store_->ClaimIncident(id, Claim("a", t0_, absl::ZeroDuration())),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lease")));
  EXPECT_THAT(store_->ClaimNextIncident({}, Claim("a", t0_)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("state")));
  EXPECT_THAT(store_->ClaimNextIncident({static_cast<v1::IncidentState>(99)}, Claim("a", t0_)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("99")));
  EXPECT_THAT(store_->ReleaseClaim(id, ""), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Several replicas, each with two threads, claim until nothing is left: every incident is
// claimed exactly once.
TEST_P(IncidentStoreContractTest, ConcurrentClaimersNeverClaimAnIncidentTwice) {
  constexpr int kIncidents = 40;
  const std::vector<std::string> ids = RecordIncidents(kIncidents);
  std::vector<IncidentStore*> replicas = Replicas(3);
  std::mutex mu;
  std::map<std::string, int> claims;
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      IncidentStore* store = replicas[t % replicas.size()];
      const std::string owner = absl::StrCat("replica-", t);
      while (true) {
        auto claim = store->ClaimNextIncident({kOpen}, Claim(owner, t0_ + absl::Minutes(1)));
        ASSERT_THAT(claim, IsOk());
        if (!claim->has_value()) return;
        EXPECT_EQ((*claim)->owner, owner);
        std::lock_guard<std::mutex> lock(mu);
        ++claims[(*claim)->incident.id()];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(claims.size(), static_cast<size_t>(kIncidents));
  for (const auto& [id, count] : claims) EXPECT_EQ(count, 1) << id;
}

// Replica A claims everything and dies (stops renewing). Until its leases expire on the
// injected clock, replica B gets nothing; then B takes every incident over.
TEST_P(IncidentStoreContractTest, ExpiredLeasesAreTakenOverByAnotherReplica) {
  FakeClock clock(t0_ + absl::Minutes(1));
  const std::vector<std::string> ids = RecordIncidents(5);
  std::vector<IncidentStore*> replicas = Replicas(2);
  ASSERT_THAT(replicas, SizeIs(2));
  std::map<std::string, int64_t> generation;
  while (true) {
    auto claim = replicas[0]->ClaimNextIncident({kOpen}, Claim("a", clock.Now()));
    ASSERT_THAT(claim, IsOk());
    if (!claim->has_value()) break;
    generation[(*claim)->incident.id()] = (*claim)->generation;
  }
  ASSERT_THAT(generation, SizeIs(5));
  clock.Advance(absl::Seconds(29));
  auto early = replicas[1]->ClaimNextIncident({kOpen}, Claim("b", clock.Now()));
  ASSERT_THAT(early, IsOk());
  EXPECT_FALSE(early->has_value());
  clock.Advance(absl::Seconds(1));  // exactly at expiry: the lease is over
  std::set<std::string> taken;
  while (true) {
    auto claim = replicas[1]->ClaimNextIncident({kOpen}, Claim("b", clock.Now()));
    ASSERT_THAT(claim, IsOk());
    if (!claim->has_value()) break;
    EXPECT_EQ((*claim)->generation, generation[(*claim)->incident.id()] + 1);
    taken.insert((*claim)->incident.id());
  }
  EXPECT_EQ(taken, std::set<std::string>(ids.begin(), ids.end()));
  // A comes back: its heartbeat fails, so it knows to stop.
  EXPECT_THAT(replicas[0]->RenewLease(ids[0], Claim("a", clock.Now())),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// Replicas race to open the pull request and place the call for one incident: one record of
// each wins, and every racer is told which.
TEST_P(IncidentStoreContractTest, RacingReplicasStoreOnePullRequestAndOneCall) {
  const std::string id = RecordIncidents(1)[0];
  std::vector<IncidentStore*> replicas = Replicas(4);
  std::vector<std::string> pr_winners(8), call_winners(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      IncidentStore* store = replicas[t % replicas.size()];
      v1::PullRequest pr;
      pr.set_id(absl::StrCat("pr-", t));
      pr.set_incident_id(id);
      auto stored_pr = store->PutPullRequest(pr);
      ASSERT_THAT(stored_pr, IsOk());
      pr_winners[t] = stored_pr->id();
      telephony::v1::CallRecord call;
      call.set_call_id(absl::StrCat("call-", t));
      call.set_incident_id(id);
      call.set_idempotency_key(id + "/escalation/1");
      auto stored_call = store->PutCall(call);
      ASSERT_THAT(stored_call, IsOk());
      call_winners[t] = stored_call->call_id();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_THAT(std::set<std::string>(pr_winners.begin(), pr_winners.end()), SizeIs(1));
  EXPECT_THAT(std::set<std::string>(call_winners.begin(), call_winners.end()), SizeIs(1));
  auto prs = store_->ListPullRequests(id, 0, "");
  ASSERT_THAT(prs, IsOk());
  EXPECT_THAT(prs->pull_requests, SizeIs(1));
  auto calls = store_->ListCalls({});
  ASSERT_THAT(calls, IsOk());
  ASSERT_THAT(calls->calls, SizeIs(1));
  EXPECT_EQ(calls->calls[0].call_id(), call_winners[0]);
}

// Replicas race the same OPEN -> FIXING step: exactly one wins.
TEST_P(IncidentStoreContractTest, RacingTransitionsHaveOneWinner) {
  const std::string id = RecordIncidents(1)[0];
  std::vector<IncidentStore*> replicas = Replicas(4);
  std::atomic<int> won{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto moved = replicas[t % replicas.size()]->TransitionIncident(id, kOpen, kFixing,
                                                                     absl::StrCat("by ", t), t0_);
      if (moved.ok()) {
        ++won;
      } else {
        EXPECT_THAT(moved, StatusIs(absl::StatusCode::kFailedPrecondition));
        ++refused;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(refused.load(), 7);
  auto incident = store_->GetIncident(id);
  ASSERT_THAT(incident, IsOk());
  EXPECT_THAT(incident->transitions(), SizeIs(2));
}

// Replicas record the same failure at once: one incident, every repeat counted.
TEST_P(IncidentStoreContractTest, ConcurrentWritersNeverOpenTwoIncidentsForOneFailure) {
  std::vector<IncidentStore*> replicas = Replicas(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        // Two fingerprints per batch, in opposite orders on alternate threads.
        auto nginx = Record("app", "nginx", v1::ERROR_CLASS_OOM_KILLED, t0_);
        auto web = Record("app", "web", v1::ERROR_CLASS_CRASH_LOOP, t0_);
        auto batch = t % 2 == 0 ? std::vector<DetectionToRecord>{nginx, web}
                                : std::vector<DetectionToRecord>{web, nginx};
        ASSERT_THAT(replicas[t]->RecordDetections(batch), IsOk());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto page = store_->ListIncidents({});
  ASSERT_THAT(page, IsOk());
  ASSERT_THAT(page->incidents, SizeIs(2));
  EXPECT_EQ(page->incidents[0].count(), 100);
  EXPECT_EQ(page->incidents[1].count(), 100);
}

INSTANTIATE_TEST_SUITE_P(Stores, IncidentStoreContractTest,
                         ::testing::Values("memory", "sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace remediator
