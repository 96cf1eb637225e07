// The `telephony` binary with --dialer twilio and --llm-url, over gRPC, against cpp-httplib
// stand-ins for Twilio Programmable Voice (api-contracts.md §6.5) and an OpenAI-compatible chat
// server (§5) on 127.0.0.1: PlaceCall drafts with the LLM, Twilio gets the text in <Say> inside
// <Gather input="speech">, the SpeechResult posted to the Gather webhook decides the call.
#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/common/file_util.h"
#include "server/telephony/adapters/subprocess.h"
#include "telephony/v1/telephony.grpc.pb.h"
#include "tests/server/telephony/test_util.h"
#include "tests/testing/status_matchers.h"

namespace remediator::telephony {
namespace {

using ::remediator::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSid[] = "ACserver0123456789abcdef012345678";
constexpr char kAuthToken[] = "twilio-secret-7d1e";
constexpr char kCallSid[] = "CAserver0123456789abcdef012345678";

// Twilio and the LLM on one stand-in server (different paths).
class StandIns {
 public:
  StandIns() {
    server_.set_keep_alive_max_count(1);
    server_.Post(R"(/2010-04-01/Accounts/([^/]+)/Calls\.json)",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   if (!Authorized(req, res)) return;
                   absl::MutexLock lock(&mu);
                   twiml = req.get_param_value("Twiml");
                   from = req.get_param_value("From");
                   res.status = 201;
                   res.set_content(Call("queued"), "application/json");
                 });
    server_.Get(R"(/2010-04-01/Accounts/([^/]+)/Calls/([^/]+)\.json)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  if (!Authorized(req, res)) return;
                  bool first;
                  {
                    absl::MutexLock lock(&mu);
                    first = polls++ == 0;
                  }
                  if (first) Gather("Yes, I can come.");
                  res.set_content(Call(first ? "in-progress" : "completed"), "application/json");
                });
    server_.Post(R"(/2010-04-01/Accounts/([^/]+)/Calls/([^/]+)\.json)",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   if (!Authorized(req, res)) return;
                   res.set_content(Call(req.get_param_value("Status")), "application/json");
                 });
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req,
                                                httplib::Response& res) {
      {
        absl::MutexLock lock(&mu);
        prompt = req.body;
      }
      res.set_content(
          R"({"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"<think>\nplan the call\n</think>\n\nThis is Remediator calling about checkout in payments, which keeps crashing."},"finish_reason":"stop"}]})",
          "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (!server_.is_running() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(2));
  }
  ~StandIns() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

  absl::Mutex mu;
  std::string twiml, from, prompt;
  int polls = 0;
  int webhook_status = 0;

 private:
  bool Authorized(const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") ==
        "Basic " + absl::Base64Escape(absl::StrCat(kSid, ":", kAuthToken))) {
      return true;
    }
    res.status = 401;
    res.set_content(R"({"code": 20003, "message": "Authenticate", "status": 401})",
                    "application/json");
    return false;
  }
  static std::string Call(const std::string& status) {
    return absl::StrCat(R"({"sid": ")", kCallSid, R"(", "status": ")", status, R"("})");
  }
  void Gather(const std::string& speech) {
    std::string action;
    {
      absl::MutexLock lock(&mu);
      size_t at = twiml.find("action=\"");
      if (at == std::string::npos) return;
      at += 8;
      action = twiml.substr(at, twiml.find('"', at) - at);
    }
    size_t slash = action.find('/', 7);
    httplib::Client client(action.substr(0, slash));
    auto r = client.Post(action.substr(slash), httplib::Params{{"AccountSid", kSid},
                                                               {"CallSid", kCallSid},
                                                               {"CallStatus", "in-progress"},
                                                               {"SpeechResult", speech},
                                                               {"Confidence", "0.9"}});
    absl::MutexLock lock(&mu);
    webhook_status = r ? r->status : -1;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(TelephonyTwilioServerTest, PlaceCallThroughTwilioWithTheLlmDraft) {
  StandIns stand_ins;
  TempDir dir;
  ASSERT_THAT(WriteFileAtomically(dir.path() + "/twilio-token", std::string(kAuthToken) + "\n"),
              IsOk());
  const std::string log_path = dir.path() + "/server.log";
  auto process = Subprocess::Start({TELEPHONY_BINARY,
                                    "--listen",
                                    "127.0.0.1:0",
                                    "--state-dir",
                                    dir.path() + "/state",
                                    "--dialer",
                                    "twilio",
                                    "--twilio-account-sid",
                                    kSid,
                                    "--twilio-auth-token-file",
                                    dir.path() + "/twilio-token",
                                    "--twilio-from",
                                    "+15559870002",
                                    "--twilio-api-url",
                                    stand_ins.url(),
                                    "--twilio-webhook-listen",
                                    "127.0.0.1:0",
                                    "--llm-url",
                                    stand_ins.url() + "/v1",
                                    "--llm-model",
                                    "qwen2.5-7b-cpu"},
                                   log_path);
  ASSERT_THAT(process, IsOk());
  std::string address;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (address.empty() && absl::Now() < deadline && (*process)->Running()) {
    auto log = ReadFile(log_path);
    if (log.ok()) {
      for (absl::string_view line : absl::StrSplit(*log, '\n')) {
        if (absl::ConsumePrefix(&line, "listening on ")) address = std::string(line);
      }
    }
    if (address.empty()) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_FALSE(address.empty()) << ReadFile(log_path).value_or("");
  auto stub = ::telephony::v1::Telephony::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));

  ::telephony::v1::PlaceCallRequest request;
  request.set_number("+15551230001");
  ::telephony::v1::IncidentSummary* incident = request.mutable_incident();
  incident->set_incident_id("inc-7");
  incident->set_namespace_("payments");
  incident->set_workload_kind("Deployment");
  incident->set_workload_name("checkout");
  incident->set_summary("crash loop; token=ghp_abcdefghijklmnopqrstuvwxyz0123456789 rejected");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  ::telephony::v1::CallRecord record;
  grpc::Status s = stub->PlaceCall(&context, request, &record);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(record.dialer(), "twilio");
  EXPECT_EQ(record.outcome(), ::telephony::v1::CALL_OUTCOME_ANSWERED) << record.error();
  EXPECT_EQ(record.decision(), ::telephony::v1::DECISION_YES);
  EXPECT_TRUE(record.can_intervene());
  EXPECT_THAT(record.transcript(), HasSubstr("yes, i can come"));
  EXPECT_THAT(record.speech(), HasSubstr("This is Remediator calling about checkout"));
  EXPECT_THAT(record.speech(), Not(HasSubstr("plan the call")));

  absl::MutexLock lock(&stand_ins.mu);
  EXPECT_EQ(stand_ins.webhook_status, 200);
  EXPECT_EQ(stand_ins.from, "+15559870002");
  EXPECT_THAT(stand_ins.twiml, HasSubstr("<Gather input=\"speech\""));
  EXPECT_THAT(stand_ins.twiml, HasSubstr("This is Remediator calling about checkout"));
  EXPECT_THAT(stand_ins.prompt, HasSubstr("checkout"));
  EXPECT_THAT(stand_ins.prompt, Not(HasSubstr("ghp_abcdefghij")));
  const std::string server_log = ReadFile(log_path).value_or("");
  EXPECT_THAT(server_log, Not(HasSubstr(kAuthToken)));
}

}  // namespace
}  // namespace remediator::telephony
