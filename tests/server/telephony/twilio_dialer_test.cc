// TwilioDialer against a cpp-httplib stand-in for Twilio Programmable Voice on 127.0.0.1
// (api-contracts.md §6.5): form-encoded Calls.json with Basic auth, inline TwiML, polled call
// status, and the Gather action webhook carrying SpeechResult, driven through the real CallFlow
// and AnswerDecider. Time is a FakeClock; the stand-in delivers the webhook before it reports
// the call in progress, so no test waits on wall-clock time.
#include "server/telephony/adapters/twilio_dialer.h"

#include <httplib.h>

#include <deque>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/telephony/adapters/csv_call_log.h"
#include "server/telephony/core/call_flow.h"
#include "server/telephony/core/speech_drafter.h"
#include "tests/server/telephony/test_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::telephony {
namespace {

using ::remediator::testing::FakeClock;
using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSid[] = "ACtest0123456789abcdef0123456789ab";
constexpr char kToken[] = "s3cr3t-auth-token";
constexpr char kCallSid[] = "CA0123456789abcdef0123456789abcdef";

// What Twilio does with one call, scripted by the test.
struct Script {
  std::deque<int> create_errors;     // statuses returned before the 201 (429, 503, 401...)
  std::deque<std::string> statuses;  // successive GET statuses; the last one repeats
  bool deliver_speech = false;       // POST SpeechResult to the Gather action
  std::string speech;                // the transcript (may be empty)
  std::string confidence = "0.92";
};

Script MakeScript(std::deque<std::string> statuses, bool deliver_speech = false,
                  std::string speech = "", std::string confidence = "0.92",
                  std::deque<int> create_errors = {}) {
  Script s;
  s.statuses = std::move(statuses);
  s.deliver_speech = deliver_speech;
  s.speech = std::move(speech);
  s.confidence = std::move(confidence);
  s.create_errors = std::move(create_errors);
  return s;
}

class TwilioStandIn {
 public:
  explicit TwilioStandIn(Script script) : script_(std::move(script)) {
    server_.Post(R"(/2010-04-01/Accounts/([^/]+)/Calls\.json)",
                 [this](const httplib::Request& req, httplib::Response& res) { Create(req, res); });
    server_.Get(R"(/2010-04-01/Accounts/([^/]+)/Calls/([^/]+)\.json)",
                [this](const httplib::Request& req, httplib::Response& res) { Fetch(req, res); });
    server_.Post(R"(/2010-04-01/Accounts/([^/]+)/Calls/([^/]+)\.json)",
                 [this](const httplib::Request& req, httplib::Response& res) { Update(req, res); });
    server_.set_keep_alive_max_count(1);  // stop() need not wait for idle keep-alive sockets
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (!server_.is_running() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  }
  ~TwilioStandIn() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

  // Recorded.
  absl::Mutex mu;
  int create_requests ABSL_GUARDED_BY(mu) = 0;
  std::string create_content_type, create_to, create_from, twiml, update_status;
  int webhook_status = 0;
  std::string webhook_reply;
  std::vector<std::string> errors;  // contract violations seen

 private:
  bool Authorized(const httplib::Request& req, httplib::Response& res) {
    const std::string expected = "Basic " + absl::Base64Escape(absl::StrCat(kSid, ":", kToken));
    if (req.get_header_value("Authorization") == expected && req.matches[1] == kSid) return true;
    res.status = 401;
    res.set_content(
        R"({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})",
        "application/json");
    return false;
  }
  std::string CallJson(const std::string& status) {
    return absl::StrCat(
        R"({"sid": ")", kCallSid, R"(", "account_sid": ")", kSid,
        R"(", "to": "+15551230001", "from": "+15559870002", "status": ")", status,
        R"(", "direction": "outbound-api", "api_version": "2010-04-01",)",
        R"( "date_created": "Fri, 10 Jan 2025 12:00:00 +0000", "start_time": null,)",
        R"( "uri": "/2010-04-01/Accounts/)", kSid, "/Calls/", kCallSid, R"(.json"})");
  }
  void Create(const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu);
    ++create_requests;
    if (!Authorized(req, res)) return;
    if (!script_.create_errors.empty()) {
      int code = script_.create_errors.front();
      script_.create_errors.pop_front();
      res.status = code;
      if (code == 429) res.set_header("Retry-After", "2");
      res.set_content(
          absl::StrCat(R"({"code": )", code == 429 ? 20429 : 20500,
                       R"(, "message": "Too Many Requests or Internal", "status": )", code, "}"),
          "application/json");
      return;
    }
    create_content_type = req.get_header_value("Content-Type");
    create_to = req.get_param_value("To");
    create_from = req.get_param_value("From");
    twiml = req.get_param_value("Twiml");
    if (req.has_param("Url")) errors.push_back("Url sent together with Twiml");
    if (create_to.empty() || create_from.empty() || twiml.empty()) {
      res.status = 400;
      res.set_content(
          R"({"code": 21211, "message": "The 'To' number is not valid.", "status": 400})",
          "application/json");
      return;
    }
    res.status = 201;
    res.set_content(CallJson("queued"), "application/json");
  }
  void Fetch(const httplib::Request& req, httplib::Response& res) {
    std::string status;
    bool deliver = false;
    {
      absl::MutexLock lock(&mu);
      if (!Authorized(req, res)) return;
      if (req.matches[2] != kCallSid) {
        res.status = 404;
        res.set_content(R"({"code": 20404, "message": "not found", "status": 404})",
                        "application/json");
        return;
      }
      status = script_.statuses.empty() ? "completed" : script_.statuses.front();
      if (script_.statuses.size() > 1) script_.statuses.pop_front();
      deliver = status == "in-progress" && script_.deliver_speech && webhook_status == 0;
    }
    // Twilio has played <Say> and gathered the answer: POST it to the Gather action (as Twilio,
    // form-encoded) before this poll reports the call in progress.
    if (deliver) DeliverGather();
    res.set_content(CallJson(status), "application/json");
  }
  void Update(const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu);
    if (!Authorized(req, res)) return;
    update_status = req.get_param_value("Status");
    res.set_content(CallJson(update_status), "application/json");
  }
  void DeliverGather() {
    std::string action;
    {
      absl::MutexLock lock(&mu);
      const std::string key = "action=\"";
      size_t at = twiml.find(key);
      if (at == std::string::npos) {
        errors.push_back("no Gather action in the TwiML");
        return;
      }
      size_t end = twiml.find('"', at + key.size());
      action = twiml.substr(at + key.size(), end - at - key.size());
    }
    // action = http://127.0.0.1:PORT/gather/TOKEN
    const std::string scheme = "http://";
    size_t slash = action.find('/', scheme.size());
    httplib::Client client(action.substr(0, slash));
    httplib::Params params = {{"AccountSid", kSid},
                              {"CallSid", kCallSid},
                              {"From", "+15559870002"},
                              {"To", "+15551230001"},
                              {"CallStatus", "in-progress"},
                              {"Direction", "outbound-api"},
                              {"ApiVersion", "2010-04-01"},
                              {"SpeechResult", script_.speech},
                              {"Confidence", script_.confidence}};
    auto r = client.Post(action.substr(slash), params);
    absl::MutexLock lock(&mu);
    webhook_status = r ? r->status : -1;
    webhook_reply = r ? r->body : "";
  }

  Script script_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

class TwilioDialerTest : public ::testing::Test {
 protected:
  std::unique_ptr<TwilioDialer> MakeDialer(const TwilioStandIn& twilio,
                                           const std::string& token = kToken) {
    TwilioOptions o;
    o.account_sid = kSid;
    o.auth_token = token;
    o.from = "+15559870002";
    o.api_url = twilio.url();
    o.webhook_listen = "127.0.0.1:0";
    auto d = TwilioDialer::Create(http_.get(), &clock_, o);
    EXPECT_THAT(d, IsOk());
    return d.ok() ? *std::move(d) : nullptr;
  }
  absl::StatusOr<CallRecord> Place(TwilioDialer* dialer) {
    auto log = CsvCallLog::Open(dir_.path() + "/calls.csv");
    if (!log.ok()) return log.status();
    CallFlowOptions options;
    CallFlow flow(&drafter_, &tts_, &stt_, dialer, log->get(), &clock_, options);
    ::telephony::v1::PlaceCallRequest request;
    request.set_number("+15551230001");
    request.set_message("The payments pod is crash looping. Can you intervene? Say yes or no.");
    return flow.PlaceCall(request);
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient();
  TemplateSpeechDrafter drafter_;
  TwilioSayTts tts_;
  TwilioSpeechResultStt stt_;
};

TEST_F(TwilioDialerTest, YesAnswerMeansCanIntervene) {
  TwilioStandIn twilio(MakeScript({"ringing", "in-progress", "completed"}, true, "Yes I can come"));
  auto dialer = MakeDialer(twilio);
  ASSERT_NE(dialer, nullptr);
  absl::StatusOr<CallRecord> record = Place(dialer.get());
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), ::telephony::v1::CALL_OUTCOME_ANSWERED) << record->error();
  EXPECT_EQ(record->dialer(), "twilio");
  EXPECT_EQ(record->transcript(), "yes i can come");
  EXPECT_EQ(record->decision(), ::telephony::v1::DECISION_YES);
  EXPECT_TRUE(record->can_intervene());

  absl::MutexLock lock(&twilio.mu);
  EXPECT_THAT(twilio.errors, ::testing::IsEmpty());
  EXPECT_EQ(twilio.create_requests, 1);
  EXPECT_EQ(twilio.create_content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(twilio.create_to, "+15551230001");
  EXPECT_EQ(twilio.create_from, "+15559870002");
  EXPECT_THAT(twilio.twiml, HasSubstr("<Gather input=\"speech\""));
  EXPECT_THAT(twilio.twiml, HasSubstr("actionOnEmptyResult=\"true\""));
  EXPECT_THAT(twilio.twiml, HasSubstr("<Say language=\"en-US\">The payments pod is crash "
                                      "looping. Can you intervene? Say yes or no.</Say>"));
  EXPECT_THAT(twilio.twiml, HasSubstr(dialer->webhook_url() + "/gather/"));
  EXPECT_EQ(twilio.webhook_status, 200);
  EXPECT_THAT(twilio.webhook_reply, HasSubstr("<Hangup/>"));
}

TEST_F(TwilioDialerTest, NoAnswerWordMeansCannotIntervene) {
  TwilioStandIn twilio(MakeScript({"in-progress"}, true, "no"));
  auto dialer = MakeDialer(twilio);
  ASSERT_NE(dialer, nullptr);
  absl::StatusOr<CallRecord> record = Place(dialer.get());
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), ::telephony::v1::CALL_OUTCOME_ANSWERED) << record->error();
  EXPECT_EQ(record->decision(), ::telephony::v1::DECISION_NO);
  EXPECT_FALSE(record->can_intervene());
  // The call was still live: the dialer hung it up.
  absl::MutexLock lock(&twilio.mu);
  EXPECT_EQ(twilio.update_status, "completed");
}

TEST_F(TwilioDialerTest, SilenceIsUnclearAndNeverYes) {
  TwilioStandIn twilio(MakeScript({"in-progress", "completed"}, true, "", "0"));
  auto dialer = MakeDialer(twilio);
  ASSERT_NE(dialer, nullptr);
  absl::StatusOr<CallRecord> record = Place(dialer.get());
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), ::telephony::v1::CALL_OUTCOME_ANSWERED);
  EXPECT_EQ(record->decision(), ::telephony::v1::DECISION_UNCLEAR);
  EXPECT_FALSE(record->can_intervene());
}

TEST_F(TwilioDialerTest, LowConfidenceYesIsNotYes) {
  TwilioStandIn twilio(MakeScript({"in-progress"}, true, "yes", "0.2"));
  auto dialer = MakeDialer(twilio);
  ASSERT_NE(dialer, nullptr);
  absl::StatusOr<CallRecord> record = Place(dialer.get());
  ASSERT_THAT(record, IsOk());
  EXPECT_NE(record->decision(), ::telephony::v1::DECISION_YES);
  EXPECT_FALSE(record->can_intervene());
}

TEST_F(TwilioDialerTest, NoAnswerStatus) {
  TwilioStandIn twilio(MakeScript({"ringing", "ringing", "no-answer"}));
  auto dialer = MakeDialer(twilio);
  ASSERT_NE(dialer, nullptr);
  absl::StatusOr<CallRecord> record = Place(dialer.get());
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), ::telephony::v1::CALL_OUTCOME_NO_ANSWER);
  EXPECT_FALSE(record->can_intervene());
}

TEST_F(TwilioDialerTest, Busy) {
  TwilioStandIn twilio(MakeScript({"busy"}));
  auto dialer = MakeDialer(twilio);
  ASSERT_NE(dialer, nullptr);
  absl::StatusOr<CallRecord> record = Place(dialer.get());
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), ::telephony::v1::CALL_OUTCOME_BUSY);
  EXPECT_FALSE(record->can_intervene());
}

TEST_F(TwilioDialerTest, RingingPastTheTimeoutIsCanceledAsNoAnswer) {
  TwilioStandIn twilio(MakeScript({"ringing"}));
  auto dialer = MakeDialer(twilio);
  ASSERT_NE(dialer, nullptr);
  const absl::Time start = clock_.Now();
  absl::StatusOr<CallRecord> record = Place(dialer.get());
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), ::telephony::v1::CALL_OUTCOME_NO_ANSWER);
  EXPECT_GE(clock_.Now() - start, absl::Seconds(35));  // connect 5 s + ring 30 s
  absl::MutexLock lock(&twilio.mu);
  EXPECT_EQ(twilio.update_status, "canceled");
}

TEST_F(TwilioDialerTest, BadCredentialsFailWithTwilioErrorAndNoSecret) {
  TwilioStandIn twilio(MakeScript({"in-progress"}));
  auto dialer = MakeDialer(twilio, "wrong-token");
  ASSERT_NE(dialer, nullptr);
  absl::StatusOr<CallRecord> record = Place(dialer.get());
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), ::telephony::v1::CALL_OUTCOME_FAILED);
  EXPECT_THAT(record->error(), HasSubstr("401"));
  EXPECT_THAT(record->error(), HasSubstr("20003"));
  EXPECT_THAT(record->error(), HasSubstr("Authenticate"));
  EXPECT_THAT(record->error(), Not(HasSubstr("wrong-token")));
  absl::MutexLock lock(&twilio.mu);
  EXPECT_EQ(twilio.create_requests, 1);  // 401 is not retried
}

TEST_F(TwilioDialerTest, RetriesRateLimitAndServerErrors) {
  TwilioStandIn twilio(MakeScript({"in-progress"}, true, "yes sure", "0.92", {429, 503}));
  auto dialer = MakeDialer(twilio);
  ASSERT_NE(dialer, nullptr);
  const absl::Time start = clock_.Now();
  absl::StatusOr<CallRecord> record = Place(dialer.get());
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), ::telephony::v1::CALL_OUTCOME_ANSWERED) << record->error();
  EXPECT_TRUE(record->can_intervene());
  EXPECT_GE(clock_.Now() - start, absl::Seconds(2));  // honoured Retry-After: 2
  absl::MutexLock lock(&twilio.mu);
  EXPECT_EQ(twilio.create_requests, 3);
}

TEST_F(TwilioDialerTest, PersistentServerErrorsFail) {
  TwilioStandIn twilio(MakeScript({"in-progress"}, false, "", "0.92", {500, 502, 503, 503}));
  auto dialer = MakeDialer(twilio);
  ASSERT_NE(dialer, nullptr);
  absl::StatusOr<CallRecord> record = Place(dialer.get());
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), ::telephony::v1::CALL_OUTCOME_FAILED);
  EXPECT_THAT(record->error(), HasSubstr("HTTP 503"));
  absl::MutexLock lock(&twilio.mu);
  EXPECT_EQ(twilio.create_requests, 3);
}

TEST_F(TwilioDialerTest, UnreachableApiIsFailedNotAnError) {
  TwilioStandIn twilio(MakeScript({}));
  TwilioOptions o;
  o.account_sid = kSid;
  o.auth_token = kToken;
  o.from = "+15559870002";
  o.api_url = "http://127.0.0.1:1";
  auto dialer = TwilioDialer::Create(http_.get(), &clock_, o);
  ASSERT_THAT(dialer, IsOk());
  absl::StatusOr<CallRecord> record = Place(dialer->get());
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), ::telephony::v1::CALL_OUTCOME_FAILED);
  EXPECT_FALSE(record->error().empty());
}

TEST(TwilioDialerCreateTest, RejectsBadSettings) {
  FakeClock clock;
  auto http = NewCurlHttpClient();
  TwilioOptions o;
  o.account_sid = kSid;
  o.auth_token = kToken;
  o.from = "+15559870002";
  TwilioOptions no_sid = o;
  no_sid.account_sid = "";
  EXPECT_THAT(TwilioDialer::Create(http.get(), &clock, no_sid),
              StatusIs(absl::StatusCode::kInvalidArgument));
  TwilioOptions no_from = o;
  no_from.from = "";
  EXPECT_THAT(TwilioDialer::Create(http.get(), &clock, no_from),
              StatusIs(absl::StatusCode::kInvalidArgument));
  TwilioOptions bad_listen = o;
  bad_listen.webhook_listen = "nowhere";
  EXPECT_THAT(TwilioDialer::Create(http.get(), &clock, bad_listen),
              StatusIs(absl::StatusCode::kInvalidArgument));
  TwilioOptions public_url = o;
  public_url.webhook_public_url = "https://telephony.example.com/";
  auto d = TwilioDialer::Create(http.get(), &clock, public_url);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ((*d)->webhook_url(), "https://telephony.example.com");
}

TEST(TwilioTextTest, PackedTextRoundTripsAndRealAudioIsRejected) {
  Audio packed = PackText("Oui, j'arrive <tout de suite> & vite", "fr", 0.87, 8000);
  EXPECT_TRUE(HasSpeech(packed));
  std::string text, language;
  double confidence = 0;
  ASSERT_TRUE(UnpackText(packed, &text, &language, &confidence));
  EXPECT_EQ(text, "Oui, j'arrive <tout de suite> & vite");
  EXPECT_EQ(language, "fr");
  EXPECT_NEAR(confidence, 0.87, 1e-3);
  EXPECT_FALSE(HasSpeech(PackText("", "en", 0, 8000)));

  Audio tone;
  tone.sample_rate = 8000;
  tone.samples.assign(8000, 5000);
  TwilioSpeechResultStt stt;
  EXPECT_THAT(stt.Transcribe(tone, "en"), StatusIs(absl::StatusCode::kInvalidArgument));
  absl::StatusOr<SttResult> heard = stt.Transcribe(PackText("YES", "en", 0.9, 8000), "en");
  ASSERT_THAT(heard, IsOk());
  EXPECT_EQ(heard->transcript, "yes");
  EXPECT_NEAR(heard->match_score, 0.9, 1e-3);
}

}  // namespace
}  // namespace remediator::telephony
