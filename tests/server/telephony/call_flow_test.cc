// CallFlow with fakes next to the test (the real engines are covered by call_e2e_test.cc):
// outcomes, the re-ask after an unclear answer, recording of failures, idempotency.
#include "server/telephony/core/call_flow.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "server/common/time_util.h"
#include "server/telephony/adapters/csv_call_log.h"
#include "tests/server/telephony/test_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::telephony {
namespace {

using ::remediator::testing::FakeClock;
using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::telephony::v1::CALL_OUTCOME_ANSWERED;
using ::telephony::v1::CALL_OUTCOME_BUSY;
using ::telephony::v1::CALL_OUTCOME_FAILED;
using ::telephony::v1::DECISION_NO;
using ::telephony::v1::DECISION_UNCLEAR;
using ::telephony::v1::DECISION_YES;

// Speech is one sample per character, so tests can tell texts apart by length.
class FakeTts final : public Tts {
 public:
  absl::StatusOr<Audio> Synthesize(const TtsRequest& request) override {
    return Audio{8000, std::vector<int16_t>(request.text.size(), 1000)};
  }
  std::string engine() const override { return "fake"; }
};

// "Hears" the number of samples as an index into scripted transcripts.
class FakeStt final : public Stt {
 public:
  absl::StatusOr<SttResult> Transcribe(const Audio& audio, const std::string&) override {
    absl::MutexLock lock(&mu_);
    if (fail) return absl::UnavailableError("stt down");
    return SttResult{transcripts.at(audio.samples.size()), 1.0};
  }
  std::string engine() const override { return "fake"; }
  std::map<size_t, std::string> transcripts;
  bool fail = false;
  absl::Mutex mu_;
};

struct Script {
  CallOutcome outcome = CALL_OUTCOME_ANSWERED;
  std::deque<size_t> answers;  // answer lengths, one per PlayAndListen
};

class FakeCall final : public Call {
 public:
  FakeCall(Script script, std::vector<size_t>* played, FakeClock* clock)
      : script_(std::move(script)), played_(played), clock_(clock) {}
  CallOutcome outcome() const override { return script_.outcome; }
  std::string error() const override {
    return script_.outcome == CALL_OUTCOME_ANSWERED ? "" : "486 Busy Here";
  }
  absl::Duration setup_time() const override { return absl::Milliseconds(5); }
  absl::StatusOr<Audio> PlayAndListen(const Audio& prompt, const ListenOptions&) override {
    played_->push_back(prompt.samples.size());
    clock_->Advance(absl::Seconds(10));
    if (script_.answers.empty()) return absl::UnavailableError("hung up");
    size_t n = script_.answers.front();
    script_.answers.pop_front();
    return Audio{8000, std::vector<int16_t>(n, n == 0 ? 0 : 5000)};
  }
  void Hangup() override { hung_up = true; }
  std::string recording_path() const override { return ""; }
  bool hung_up = false;

 private:
  Script script_;
  std::vector<size_t>* played_;
  FakeClock* clock_;
};

class FakeDialer final : public Dialer {
 public:
  explicit FakeDialer(FakeClock* clock) : clock_(clock) {}
  absl::StatusOr<std::unique_ptr<Call>> Dial(const std::string& number,
                                             const DialOptions&) override {
    absl::MutexLock lock(&mu_);
    dialed.push_back(number);
    return std::make_unique<FakeCall>(script, &played, clock_);
  }
  int sample_rate() const override { return 8000; }
  std::string name() const override { return "sip"; }
  Script script;
  std::vector<std::string> dialed;
  std::vector<size_t> played;
  absl::Mutex mu_;

 private:
  FakeClock* clock_;
};

class CallFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = CsvCallLog::Open(dir_.path() + "/calls.csv");
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    stt_.transcripts = {{100, "yes i can come"}, {200, "no i am busy"}, {300, "hmm what"}};
    flow_ = std::make_unique<CallFlow>(&drafter_, &tts_, &stt_, &dialer_, log_.get(), &clock_,
                                       CallFlowOptions{});
  }
  ::telephony::v1::PlaceCallRequest Request() {
    ::telephony::v1::PlaceCallRequest r;
    r.set_number("+33612345678");
    r.set_message("Disk full on db-1. Can you intervene? Please answer yes or no.");
    r.mutable_incident()->set_incident_id("inc-1");
    return r;
  }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1790000000)};
  TemplateSpeechDrafter drafter_;
  FakeTts tts_;
  FakeStt stt_;
  FakeDialer dialer_{&clock_};
  std::unique_ptr<CsvCallLog> log_;
  std::unique_ptr<CallFlow> flow_;
};

TEST_F(CallFlowTest, YesIsRecordedWithTimeAndDuration) {
  dialer_.script.answers = {100};
  auto r = flow_->PlaceCall(Request());
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->decision(), DECISION_YES);
  EXPECT_TRUE(r->can_intervene());
  EXPECT_EQ(r->attempts(), 1);
  EXPECT_EQ(FromProtoTime(r->call_time()), absl::FromUnixSeconds(1790000000));
  EXPECT_EQ(FromProtoDuration(r->duration()), absl::Seconds(10));
  EXPECT_EQ(r->dialer(), "sip");
  auto rows = log_->List(CallFilter{});
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].call_id(), r->call_id());
}

TEST_F(CallFlowTest, UnclearIsAskedOnceMoreThenDecided) {
  dialer_.script.answers = {300, 200};
  auto r = flow_->PlaceCall(Request());
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->decision(), DECISION_NO);
  EXPECT_FALSE(r->can_intervene());
  EXPECT_EQ(r->attempts(), 2);
  EXPECT_EQ(r->transcript(), "hmm what | no i am busy");
  ASSERT_EQ(dialer_.played.size(), 2u);
  EXPECT_EQ(dialer_.played[1], RepromptText("en").size());  // the second prompt is the re-ask
}

TEST_F(CallFlowTest, TwoUnclearAnswersStayUnclearAndNeverYes) {
  dialer_.script.answers = {300, 0};
  auto r = flow_->PlaceCall(Request());
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->decision(), DECISION_UNCLEAR);
  EXPECT_FALSE(r->can_intervene());
  EXPECT_EQ(r->attempts(), 2);
}

TEST_F(CallFlowTest, BusyAndSttFailuresAreRecordedNotLost) {
  dialer_.script.outcome = CALL_OUTCOME_BUSY;
  auto busy = flow_->PlaceCall(Request());
  ASSERT_THAT(busy, IsOk());
  EXPECT_EQ(busy->outcome(), CALL_OUTCOME_BUSY);
  EXPECT_EQ(busy->error(), "486 Busy Here");
  EXPECT_FALSE(busy->can_intervene());

  dialer_.script = Script{CALL_OUTCOME_ANSWERED, {100}};
  stt_.fail = true;
  auto deaf = flow_->PlaceCall(Request());
  ASSERT_THAT(deaf, IsOk());
  EXPECT_EQ(deaf->outcome(), CALL_OUTCOME_ANSWERED);
  EXPECT_EQ(deaf->decision(), DECISION_UNCLEAR);
  EXPECT_THAT(deaf->error(), ::testing::HasSubstr("stt down"));
  auto rows = log_->List(CallFilter{});
  ASSERT_THAT(rows, IsOk());
  EXPECT_EQ(rows->size(), 2u);
}

TEST_F(CallFlowTest, HangUpBeforeAnsweringIsUnclear) {
  dialer_.script.answers = {};
  auto r = flow_->PlaceCall(Request());
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->decision(), DECISION_UNCLEAR);
  EXPECT_THAT(r->error(), ::testing::HasSubstr("hung up"));
}

TEST_F(CallFlowTest, ConcurrentRetriesWithOneKeyRingOnce) {
  dialer_.script.answers = {100};
  auto request = Request();
  request.set_idempotency_key("inc-1/escalation/1");
  std::vector<std::string> ids(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto r = flow_->PlaceCall(request);
      EXPECT_THAT(r, IsOk());
      if (r.ok()) ids[i] = r->call_id();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(dialer_.dialed.size(), 1u);
  for (const auto& id : ids) EXPECT_EQ(id, ids[0]);
  // Also across a restart: a new flow on the same log.
  CallFlow restarted(&drafter_, &tts_, &stt_, &dialer_, log_.get(), &clock_, CallFlowOptions{});
  auto again = restarted.PlaceCall(request);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->call_id(), ids[0]);
  EXPECT_EQ(dialer_.dialed.size(), 1u);
}

TEST_F(CallFlowTest, DraftsFromTheIncidentAndRedactsMessages) {
  dialer_.script.answers = {200};
  ::telephony::v1::PlaceCallRequest r;
  r.set_number("sip:oncall@127.0.0.1:5070");
  r.mutable_incident()->set_workload_name("nginx");
  r.mutable_incident()->set_error_class("crash_loop");
  auto drafted = flow_->PlaceCall(r);
  ASSERT_THAT(drafted, IsOk());
  EXPECT_THAT(drafted->speech(), ::testing::HasSubstr("keeps crashing"));
  EXPECT_THAT(drafted->speech(), ::testing::EndsWith("Please answer yes or no."));

  dialer_.script.answers = {200};
  r.clear_incident();
  r.set_message("db at postgres://app:hunter2@db:5432 is down. Can you intervene?");
  auto message = flow_->PlaceCall(r);
  ASSERT_THAT(message, IsOk());
  EXPECT_THAT(message->speech(), ::testing::Not(::testing::HasSubstr("hunter2")));
}

TEST_F(CallFlowTest, RejectsBadRequestsWithoutDialing) {
  auto r = Request();
  r.set_number("12345");
  EXPECT_THAT(flow_->PlaceCall(r), StatusIs(absl::StatusCode::kInvalidArgument));
  r = Request();
  r.clear_message();
  r.clear_incident();
  EXPECT_THAT(flow_->PlaceCall(r), StatusIs(absl::StatusCode::kInvalidArgument));
  r = Request();
  r.set_language("de");
  EXPECT_THAT(flow_->PlaceCall(r), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(dialer_.dialed.empty());
}

}  // namespace
}  // namespace remediator::telephony
