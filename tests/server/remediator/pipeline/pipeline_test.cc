#include "server/remediator/core/pipeline/pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "absl/synchronization/mutex.h"
#include "server/common/time_util.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "tests/testing/fake_classifier.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::FakeClock;
using ::remediator::testing::IsOk;
using ::remediator::testing::MakeDetection;
using ::remediator::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A phone whose callees answer as told; like the Telephony service, a repeated idempotency key
// returns the first call instead of ringing again.
class FakePhone final : public Phone {
 public:
  absl::StatusOr<telephony::v1::CallRecord> PlaceCall(
      const telephony::v1::PlaceCallRequest& request) override {
    absl::MutexLock lock(&mu_);  // the pipeline's call lane places calls from several threads
    ++attempts;
    if (down) return absl::UnavailableError("failed to connect to all addresses");
    if (auto it = by_key_.find(request.idempotency_key()); it != by_key_.end()) return it->second;
    rang.push_back(request.number());
    telephony::v1::CallRecord record;
    record.set_call_id("call-" + std::to_string(rang.size()));
    record.set_number(request.number());
    record.set_speech("about " + request.incident().workload_name());
    record.set_can_intervene(answers[request.number()]);
    record.set_outcome(telephony::v1::CALL_OUTCOME_ANSWERED);
    *record.mutable_call_time() = ToProtoTime(clock->Now());
    record.set_idempotency_key(request.idempotency_key());
    by_key_[request.idempotency_key()] = record;
    if (fail_after_ringing) {
      fail_after_ringing = false;
      return absl::UnavailableError("connection lost after the call");
    }
    return record;
  }
  absl::StatusOr<telephony::v1::ListCallsResponse> ListCalls(
      const telephony::v1::ListCallsRequest&) override {
    return telephony::v1::ListCallsResponse();
  }
  std::map<std::string, bool> answers;
  std::vector<std::string> rang;
  bool fail_after_ringing = false;
  bool down = false;  // the Telephony service cannot be reached
  int attempts = 0;
  Clock* clock = nullptr;

 private:
  absl::Mutex mu_;
  std::map<std::string, telephony::v1::CallRecord> by_key_;
};

constexpr char kPolicy[] = R"(
timezone: UTC
people:
- {name: alice, number: "sip:alice@127.0.0.1:5070"}
- {name: bob, number: "+33612345678"}
rotations:
- name: everyone
  people: [alice, bob]
escalation:
  delay: 5m
  max_calls_per_incident: 3
  max_calls_per_person_per_hour: 4
quiet_hours: {start: "22:00", end: "07:00", min_severity: critical}
)";

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pipeline_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = SqliteIncidentStore::Open((dir_ / "r.db").string());
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    // 12:00 UTC: outside the quiet hours.
    clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 26, 12, 0, 0), absl::UTCTimeZone()));
    phone_.clock = &clock_;
    auto policy = oncall::ParseOnCallPolicy(kPolicy, "policy.yaml");
    ASSERT_THAT(policy, IsOk());
    policy_ = *std::move(policy);
    escalator_ = std::make_unique<oncall::Escalator>(*store_, phone_, policy_, clock_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Unfixable(const std::string& severity = "critical") {
    DetectionToRecord r;
    r.detection = MakeDetection("app", "reports", v1::ERROR_CLASS_IMAGE_PULL);
    r.detection.set_fixable_by_manifest(false);
    r.fingerprint = "app/reports/image_pull";
    r.severity = severity;
    r.seen = clock_.Now();
    auto recorded = store_->RecordDetections({r});
    EXPECT_THAT(recorded, IsOk());
    return recorded.ok() ? (*recorded)[0].incident.id() : "";
  }
  v1::IncidentState State(const std::string& id) {
    auto incident = store_->GetIncident(id);
    return incident.ok() ? incident->state() : v1::INCIDENT_STATE_UNSPECIFIED;
  }
  std::unique_ptr<Pipeline> Make(remediation::Mode mode = remediation::Mode::kFix) {
    PipelineOptions options;
    options.modes.mode = mode;
    return std::make_unique<Pipeline>(*store_, nullptr, nullptr, escalator_.get(), clock_, options);
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  FakePhone phone_;
  oncall::OnCallPolicy policy_;
  std::unique_ptr<SqliteIncidentStore> store_;
  std::unique_ptr<oncall::Escalator> escalator_;
};

TEST_F(PipelineTest, FirstSaysNoSecondIsCalledAfterTheDelaySaysYesAndItStops) {
  phone_.answers = {{"sip:alice@127.0.0.1:5070", false}, {"+33612345678", true}};
  const std::string id = Unfixable();
  auto pipeline = Make();
  ASSERT_THAT(pipeline->RunOnce(), IsOk());  // open -> escalating -> alice
  EXPECT_THAT(phone_.rang, ElementsAre("sip:alice@127.0.0.1:5070"));
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_ESCALATING);
  ASSERT_THAT(pipeline->RunOnce(), IsOk());  // within the delay: nobody else is called
  EXPECT_EQ(phone_.rang.size(), 1u);
  clock_.Advance(absl::Minutes(6));
  ASSERT_THAT(pipeline->RunOnce(), IsOk());  // bob says yes
  EXPECT_THAT(phone_.rang, ElementsAre("sip:alice@127.0.0.1:5070", "+33612345678"));
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_ACKNOWLEDGED);
  clock_.Advance(absl::Hours(1));
  ASSERT_THAT(pipeline->RunOnce(), IsOk());
  EXPECT_EQ(phone_.rang.size(), 2u);  // no call after someone accepted
  auto incident = store_->GetIncident(id);
  ASSERT_THAT(incident, IsOk());
  EXPECT_THAT(incident->transitions().rbegin()->note(), HasSubstr("answered yes by bob"));
  CallFilter filter;
  filter.incident_id = id;
  auto calls = store_->ListCalls(filter);
  ASSERT_THAT(calls, IsOk());
  EXPECT_EQ(calls->calls.size(), 2u);
}

TEST_F(PipelineTest, NobodyCanIntervene) {
  phone_.answers = {{"sip:alice@127.0.0.1:5070", false}, {"+33612345678", false}};
  const std::string id = Unfixable();
  auto pipeline = Make();
  for (int i = 0; i < 4; ++i) {
    ASSERT_THAT(pipeline->RunOnce(), IsOk());
    clock_.Advance(absl::Minutes(6));
  }
  EXPECT_EQ(phone_.rang.size(), 2u);
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_UNANSWERED);
}

TEST_F(PipelineTest, ACallThatRangBeforeACrashIsNotPlacedTwice) {
  phone_.answers = {{"sip:alice@127.0.0.1:5070", true}};
  const std::string id = Unfixable();
  phone_.fail_after_ringing = true;
  auto pipeline = Make();
  ASSERT_THAT(pipeline->RunOnce(), IsOk());  // the failure is recorded as an attempt
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_ESCALATING);
  // A new pipeline (as after a restart) retries after the backoff with the same idempotency
  // key: the call that did ring is returned, not placed again.
  auto restarted = Make();
  ASSERT_THAT(restarted->RunOnce(), IsOk());
  EXPECT_EQ(phone_.attempts, 1) << "within the backoff nothing is retried";
  clock_.Advance(oncall::Escalator::kFirstRetryDelay);
  ASSERT_THAT(restarted->RunOnce(), IsOk());
  EXPECT_EQ(phone_.rang.size(), 1u);
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_ACKNOWLEDGED);
}

TEST_F(PipelineTest, TelephonyDownIsRetriedWithBackoffWithinTheCapsThenUnanswered) {
  phone_.down = true;
  const std::string id = Unfixable();
  auto pipeline = Make();
  // Ten minutes of passes every two seconds, as the background loop would make.
  for (int i = 0; i < 300 && State(id) != v1::INCIDENT_STATE_UNANSWERED; ++i) {
    ASSERT_THAT(pipeline->RunOnce(), IsOk());
    clock_.Advance(absl::Seconds(2));
  }
  EXPECT_EQ(phone_.attempts, policy_.max_calls_per_incident);
  EXPECT_TRUE(phone_.rang.empty());
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_UNANSWERED);
  auto incident = store_->GetIncident(id);
  ASSERT_THAT(incident, IsOk());
  EXPECT_THAT(incident->transitions().rbegin()->note(), HasSubstr("escalation failed"));
  EXPECT_THAT(incident->transitions().rbegin()->note(), HasSubstr("failed to connect"));
  CallFilter filter;
  filter.incident_id = id;
  auto calls = store_->ListCalls(filter);
  ASSERT_THAT(calls, IsOk());
  ASSERT_EQ(calls->calls.size(), 3u);
  for (const auto& c : calls->calls) {
    EXPECT_EQ(c.outcome(), telephony::v1::CALL_OUTCOME_FAILED);
    EXPECT_EQ(c.number(), "sip:alice@127.0.0.1:5070") << "the unreached person is tried again";
  }
  // The attempts were spaced by the backoff (10 s, then 20 s), not every pass.
  EXPECT_GE(FromProtoTime(calls->calls[0].call_time()) - FromProtoTime(calls->calls[1].call_time()),
            absl::Seconds(20));
  EXPECT_GE(FromProtoTime(calls->calls[1].call_time()) - FromProtoTime(calls->calls[2].call_time()),
            absl::Seconds(10));
}

TEST_F(PipelineTest, OneFailureSeenThreeWaysIsOneCall) {
  phone_.answers = {{"sip:alice@127.0.0.1:5070", true}};
  // A crash loop, an error log line and a failing probe of one workload: three incidents.
  std::vector<DetectionToRecord> records;
  for (v1::ErrorClass c :
       {v1::ERROR_CLASS_CRASH_LOOP, v1::ERROR_CLASS_APP_ERROR_LOG, v1::ERROR_CLASS_PROBE_FAILURE}) {
    DetectionToRecord r;
    r.detection = MakeDetection("app", "reports", c);
    r.detection.set_fixable_by_manifest(false);
    r.fingerprint = "app/reports/" + std::to_string(c);
    r.severity = "critical";
    r.seen = clock_.Now();
    clock_.Advance(absl::Seconds(1));
    records.push_back(r);
  }
  auto recorded = store_->RecordDetections(records);
  ASSERT_THAT(recorded, IsOk());
  auto pipeline = Make();
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(pipeline->RunOnce(), IsOk());
    clock_.Advance(absl::Seconds(30));
  }
  EXPECT_EQ(phone_.rang.size(), 1u) << "one failure, one call";
  for (const auto& r : *recorded) {
    EXPECT_EQ(State(r.incident.id()), v1::INCIDENT_STATE_ACKNOWLEDGED) << r.incident.id();
  }
  auto follower = store_->GetIncident((*recorded)[2].incident.id());
  ASSERT_THAT(follower, IsOk());
  EXPECT_THAT(follower->transitions().rbegin()->note(), HasSubstr("escalated together with"));
}

TEST_F(PipelineTest, ManyIncidentsArePagedToTheEnd) {
  phone_.answers = {{"sip:alice@127.0.0.1:5070", true}};
  std::vector<DetectionToRecord> records;
  for (int i = 0; i < 1205; ++i) {
    DetectionToRecord r;
    r.detection = MakeDetection("app", "w" + std::to_string(i), v1::ERROR_CLASS_IMAGE_PULL);
    r.detection.set_fixable_by_manifest(false);
    r.fingerprint = "app/w" + std::to_string(i);
    r.severity = "critical";
    r.seen = clock_.Now();
    records.push_back(r);
  }
  ASSERT_THAT(store_->RecordDetections(records), IsOk());
  // One pass reads every page: no incident is left open (each escalates, and the caps end most
  // of them unanswered).
  IncidentFilter open;
  open.state = v1::INCIDENT_STATE_OPEN;
  open.page_size = 1000;
  auto with_calls = Make();
  ASSERT_THAT(with_calls->RunOnce(), IsOk());
  auto still_open = store_->ListIncidents(open);
  ASSERT_THAT(still_open, IsOk());
  EXPECT_TRUE(still_open->incidents.empty()) << still_open->incidents.size() << " left open";
}

TEST_F(PipelineTest, ObserveAndSuggestModesPlaceNoCall) {
  const std::string id = Unfixable();
  ASSERT_THAT(Make(remediation::Mode::kObserve)->RunOnce(), IsOk());
  ASSERT_THAT(Make(remediation::Mode::kSuggest)->RunOnce(), IsOk());
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_OPEN);
  EXPECT_TRUE(phone_.rang.empty());
  PipelineOptions options;
  options.modes.mode = remediation::Mode::kFix;
  options.modes.namespaces["app"] = remediation::Mode::kObserve;
  Pipeline per_namespace(*store_, nullptr, nullptr, escalator_.get(), clock_, options);
  ASSERT_THAT(per_namespace.RunOnce(), IsOk());
  EXPECT_EQ(State(id), v1::INCIDENT_STATE_OPEN);
  EXPECT_EQ(per_namespace.ModeFor("other"), remediation::Mode::kFix);
}

TEST_F(PipelineTest, QuietHoursHoldLowSeverityCalls) {
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 26, 23, 30, 0), absl::UTCTimeZone()));
  phone_.answers = {{"sip:alice@127.0.0.1:5070", true}};
  const std::string low = Unfixable("high");
  auto pipeline = Make();
  ASSERT_THAT(pipeline->RunOnce(), IsOk());
  EXPECT_TRUE(phone_.rang.empty());
  EXPECT_EQ(State(low), v1::INCIDENT_STATE_ESCALATING);
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 27, 8, 0, 0), absl::UTCTimeZone()));
  ASSERT_THAT(pipeline->RunOnce(), IsOk());
  EXPECT_EQ(phone_.rang.size(), 1u);
  EXPECT_EQ(State(low), v1::INCIDENT_STATE_ACKNOWLEDGED);
}

TEST_F(PipelineTest, ASymptomOfAFixedFailureIsResolvedWithoutACall) {
  phone_.answers = {{"sip:alice@127.0.0.1:5070", true}};
  // The OOM incident was fixed and verified; the crash loop it caused is not fixable by itself.
  DetectionToRecord oom;
  oom.detection = MakeDetection("app", "nginx", v1::ERROR_CLASS_OOM_KILLED);
  oom.fingerprint = "app/nginx/oom";
  oom.seen = clock_.Now();
  DetectionToRecord loop = oom;
  loop.detection = MakeDetection("app", "nginx", v1::ERROR_CLASS_CRASH_LOOP);
  loop.fingerprint = "app/nginx/crash_loop";
  auto recorded = store_->RecordDetections({oom, loop});
  ASSERT_THAT(recorded, IsOk());
  const std::string oom_id = (*recorded)[0].incident.id();
  const std::string loop_id = (*recorded)[1].incident.id();
  ASSERT_THAT(store_->TransitionIncident(oom_id, v1::INCIDENT_STATE_OPEN, v1::INCIDENT_STATE_FIXING,
                                         "", clock_.Now()),
              IsOk());
  auto pipeline = Make();
  ASSERT_THAT(pipeline->RunOnce(), IsOk());  // the fix is underway: the crash loop waits
  EXPECT_EQ(State(loop_id), v1::INCIDENT_STATE_OPEN);
  ASSERT_THAT(store_->TransitionIncident(oom_id, v1::INCIDENT_STATE_FIXING,
                                         v1::INCIDENT_STATE_VERIFIED, "", clock_.Now()),
              IsOk());
  ASSERT_THAT(pipeline->RunOnce(), IsOk());
  EXPECT_EQ(State(loop_id), v1::INCIDENT_STATE_RESOLVED);
  EXPECT_TRUE(phone_.rang.empty());
}

TEST(OnCallPolicyTest, BadPoliciesNameFileLineAndKey) {
  EXPECT_THAT(
      oncall::ParseOnCallPolicy("people: [{name: a, number: '0612'}]\nrotations: []\n", "p.yaml"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("p.yaml:1: key \"number\"")));
  EXPECT_THAT(oncall::ParseOnCallPolicy(
                  "people: [{name: a, number: '+33612345678'}]\nrotations:\n- {name: r, people: "
                  "[zed]}\n",
                  "p.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"zed\"")));
  EXPECT_THAT(oncall::ParseOnCallPolicy(
                  "timezone: Mars/Olympus\npeople: [{name: a, number: '+33612345678'}]\n"
                  "rotations: [{name: r, people: [a]}]\n",
                  "p.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("time zone")));
}

TEST(OnCallPolicyTest, RotationsFollowDaysHoursAndTimeZone) {
  auto policy = oncall::ParseOnCallPolicy(R"(
timezone: Europe/Paris
people: [{name: a, number: "+33612345678"}, {name: b, number: "+33687654321"}]
rotations:
- {name: office, people: [a, b], days: [mon, tue, wed, thu, fri], start: "08:00", end: "19:00"}
- {name: nights, people: [b, a]}
)",
                                          "p.yaml");
  ASSERT_THAT(policy, IsOk());
  const absl::TimeZone utc = absl::UTCTimeZone();
  // Thursday 2026-11-26 08:30 UTC = 09:30 in Paris: office hours.
  EXPECT_EQ(policy->OnDuty(absl::FromCivil(absl::CivilSecond(2026, 11, 26, 8, 30, 0), utc))->name,
            "office");
  // 18:30 UTC = 19:30 in Paris: nights.
  EXPECT_EQ(policy->OnDuty(absl::FromCivil(absl::CivilSecond(2026, 11, 26, 18, 30, 0), utc))->name,
            "nights");
  // Saturday: nights all day.
  EXPECT_EQ(policy->OnDuty(absl::FromCivil(absl::CivilSecond(2026, 11, 28, 10, 0, 0), utc))->name,
            "nights");
}

}  // namespace
}  // namespace remediator
