// Every kind of bad input to every RPC of both services, over real gRPC on port 0 (the
// remediator in process, the telephony binary as a process): no token, a wrong token, a role that
// may not call the method, bytes that are not protobuf, a string field that is not UTF-8, an
// over-long id (refused without being echoed), unknown enum values, unknown incidents. Each row
// names the RPC, the input and the code and words the answer must carry (issue 16 item 7).
#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/sync_stream.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "remediator/v1/remediator.grpc.pb.h"
#include "server/common/file_util.h"
#include "server/remediator/remediator_server.h"
#include "server/telephony/adapters/subprocess.h"
#include "telephony/v1/telephony.grpc.pb.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::FakeClock;
using ::remediator::testing::IsOk;

constexpr char kOperator[] = "operator-token-7c1e";
constexpr char kViewer[] = "viewer-token-39ab";
constexpr char kReporter[] = "reporter-token-d402";
const std::string kLongId(20000, 'x');
const std::string kNotUtf8 = "caf\xe9";
const std::string kGarbage("\xff\xff\xff\xff garbage", 12);

struct Case {
  std::string name;     // what is wrong
  std::string method;   // full method name
  std::string request;  // serialized request
  const char* token;    // nullptr: no authorization header
  grpc::StatusCode code;
  std::string says;  // a substring of the message
};

template <typename Message>
std::string Bytes(const Message& message) {
  return message.SerializeAsString();
}

class ApiHygieneTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("api_hygiene_" + std::to_string(::getpid())));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    for (auto [file, token] : {std::pair{"operator", kOperator}, std::pair{"viewer", kViewer},
                               std::pair{"reporter", kReporter}}) {
      std::ofstream(*dir_ / file) << token << "\n";
    }
    RemediatorConfig config;
    config.server.listen = "127.0.0.1:0";
    config.state_dir = (*dir_ / "remediator").string();
    config.auth_token_file = (*dir_ / "operator").string();
    config.viewer_token_file = (*dir_ / "viewer").string();
    config.reporter_token_file = (*dir_ / "reporter").string();
    clock_ = new FakeClock();
    auto server = RemediatorServer::Start(config, *clock_);
    ASSERT_THAT(server, IsOk());
    remediator_ = server->release();
    StartTelephony();
  }
  static void TearDownTestSuite() {
    delete remediator_;
    delete telephony_;
    delete clock_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static void StartTelephony() {
    std::string log = (*dir_ / "telephony.log").string();
    auto process = telephony::Subprocess::Start(
        {TELEPHONY_BINARY, "--listen", "127.0.0.1:0", "--state-dir", (*dir_ / "telephony").string(),
         "--auth-token-file", (*dir_ / "operator").string(), "--viewer-token-file",
         (*dir_ / "viewer").string()},
        log);
    ASSERT_THAT(process, IsOk());
    telephony_ = process->release();
    absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (telephony_address_.empty() && absl::Now() < deadline && telephony_->Running()) {
      for (absl::string_view line : absl::StrSplit(ReadFile(log).value_or(""), '\n')) {
        if (absl::ConsumePrefix(&line, "listening on ")) telephony_address_ = std::string(line);
      }
      if (telephony_address_.empty()) absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_FALSE(telephony_address_.empty()) << ReadFile(log).value_or("");
  }

  // One call with raw request bytes; the stream method sends them as its one batch.
  static grpc::Status Call(const Case& c) {
    std::string address =
        absl::StartsWith(c.method, "/telephony.") ? telephony_address_ : remediator_->address();
    auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (c.token != nullptr) context.AddMetadata("authorization", absl::StrCat("Bearer ", c.token));
    grpc::Slice slice(c.request);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    if (absl::EndsWith(c.method, "/ReportErrorStream")) {
      grpc::internal::RpcMethod method(c.method.c_str(),
                                       grpc::internal::RpcMethod::CLIENT_STREAMING);
      std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> writer(
          grpc::internal::ClientWriterFactory<grpc::ByteBuffer>::Create(channel.get(), method,
                                                                        &context, &response));
      writer->Write(request);
      writer->WritesDone();
      return writer->Finish();
    }
    grpc::internal::RpcMethod method(c.method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
    return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel.get(), method, &context, request, &response);
  }

  static std::filesystem::path* dir_;
  static FakeClock* clock_;
  static RemediatorServer* remediator_;
  static telephony::Subprocess* telephony_;
  static std::string telephony_address_;
};

std::filesystem::path* ApiHygieneTest::dir_ = nullptr;
FakeClock* ApiHygieneTest::clock_ = nullptr;
RemediatorServer* ApiHygieneTest::remediator_ = nullptr;
telephony::Subprocess* ApiHygieneTest::telephony_ = nullptr;
std::string ApiHygieneTest::telephony_address_;

struct Rpc {
  std::string method;
  std::string valid;  // a well-formed request (bad only in what a row changes)
  // Which role may call it: 'r' reporter, 'v' viewer, 'o' operator only.
  char access;
};

std::vector<Rpc> AllRpcs() {
  v1::ReportErrorRequest report;
  report.add_observations()->set_pod_json("{}");
  v1::GetIncidentRequest get;
  get.set_id("inc-0");
  v1::AttemptFixRequest fix;
  fix.set_incident_id("inc-0");
  v1::ListFixAttemptsRequest attempts;
  attempts.set_incident_id("inc-0");
  v1::OpenPullRequestRequest open;
  open.set_incident_id("inc-0");
  v1::GetPullRequestRequest get_pr;
  get_pr.set_id("pr-0");
  v1::PlaceCallRequest call;
  call.set_message("hello");
  call.set_number("+33612345678");
  ::telephony::v1::DraftSpeechRequest draft;
  draft.mutable_incident()->set_summary("x");
  ::telephony::v1::SynthesizeRequest synth;
  synth.set_text("hello");
  ::telephony::v1::TranscribeRequest transcribe;
  transcribe.set_audio("RIFF");
  ::telephony::v1::PlaceCallRequest tcall;
  tcall.set_number("+33612345678");
  tcall.set_message("hello");
  const std::string r = "/remediator.v1.Remediator/", t = "/telephony.v1.Telephony/";
  return {{r + "ReportError", Bytes(report), 'r'},
          {r + "ReportErrorStream", Bytes(report), 'r'},
          {r + "GetIncident", Bytes(get), 'v'},
          {r + "ListIncidents", "", 'v'},
          {r + "AttemptFix", Bytes(fix), 'o'},
          {r + "ListFixAttempts", Bytes(attempts), 'v'},
          {r + "OpenPullRequest", Bytes(open), 'o'},
          {r + "GetPullRequest", Bytes(get_pr), 'v'},
          {r + "ListPullRequests", "", 'v'},
          {r + "PlaceCall", Bytes(call), 'o'},
          {r + "ListCalls", "", 'v'},
          {t + "DraftSpeech", Bytes(draft), 'o'},
          {t + "Synthesize", Bytes(synth), 'o'},
          {t + "Transcribe", Bytes(transcribe), 'o'},
          {t + "PlaceCall", Bytes(tcall), 'o'},
          {t + "ListCalls", "", 'v'},
          {t + "GetCallLogCsv", "", 'v'}};
}

// The rows every RPC gets: authentication, roles, and bytes that do not parse.
std::vector<Case> CommonCases() {
  std::vector<Case> cases;
  for (const Rpc& rpc : AllRpcs()) {
    const grpc::StatusCode unauthenticated = grpc::StatusCode::UNAUTHENTICATED;
    const grpc::StatusCode denied = grpc::StatusCode::PERMISSION_DENIED;
    cases.push_back({"no token", rpc.method, rpc.valid, nullptr, unauthenticated, "missing"});
    cases.push_back({"wrong token", rpc.method, rpc.valid, "guess", unauthenticated, "invalid"});
    if (rpc.access != 'v' && !absl::StartsWith(rpc.method, "/telephony.")) {
      cases.push_back({"viewer token", rpc.method, rpc.valid, kViewer, denied, "viewer role"});
    }
    if (rpc.access != 'r' && !absl::StartsWith(rpc.method, "/telephony.")) {
      cases.push_back(
          {"reporter token", rpc.method, rpc.valid, kReporter, denied, "reporter role"});
    }
    if (rpc.access == 'o' && absl::StartsWith(rpc.method, "/telephony.")) {
      cases.push_back({"viewer token", rpc.method, rpc.valid, kViewer, denied, "viewer role"});
    }
    cases.push_back({"garbage bytes", rpc.method, kGarbage, kOperator,
                     grpc::StatusCode::INVALID_ARGUMENT, "malformed protobuf"});
  }
  return cases;
}

// Rows for the fields of each request: UTF-8, lengths, enums, unknown ids.
std::vector<Case> FieldCases() {
  const std::string r = "/remediator.v1.Remediator/", t = "/telephony.v1.Telephony/";
  const auto invalid = grpc::StatusCode::INVALID_ARGUMENT;
  const auto not_found = grpc::StatusCode::NOT_FOUND;
  std::vector<Case> cases;
  auto add = [&](std::string name, std::string method, const google::protobuf::Message& m,
                 grpc::StatusCode code, std::string says) {
    cases.push_back({std::move(name), std::move(method), m.SerializeAsString(), kOperator, code,
                     std::move(says)});
  };
  {
    v1::ReportErrorRequest m;
    m.add_observations()->mutable_cri_log()->set_log_file(kNotUtf8);
    add("log_file not UTF-8", r + "ReportError", m, invalid, "not valid UTF-8");
    add("log_file not UTF-8", r + "ReportErrorStream", m, invalid, "batch 0: ");
    add("empty batch", r + "ReportError", v1::ReportErrorRequest(), invalid, "empty");
    v1::ReportErrorRequest empty_observation;
    empty_observation.add_observations();
    add("observation without payload", r + "ReportErrorStream", empty_observation, invalid,
        "batch 0: observations[0]: no payload");
  }
  for (const char* method : {"GetIncident", "GetPullRequest"}) {
    v1::GetIncidentRequest m;  // GetPullRequestRequest has the same shape (id = 1)
    m.set_id(kLongId);
    add("id of 20000 bytes", r + method, m, invalid, "20000 bytes long");
    m.set_id(kNotUtf8);
    add("id not UTF-8", r + method, m, invalid, "not valid UTF-8");
    m.set_id("inc-does-not-exist");
    add("unknown id", r + method, m, not_found, "");
    add("empty id", r + method, v1::GetIncidentRequest(), invalid, "id is empty");
  }
  {
    v1::ListIncidentsRequest m;
    m.set_state(static_cast<v1::IncidentState>(42));
    add("unknown state", r + "ListIncidents", m, invalid, "state 42 is not a known value");
    m.Clear();
    m.set_error_class(static_cast<v1::ErrorClass>(-3));
    add("unknown error class", r + "ListIncidents", m, invalid, "error_class -3");
    m.Clear();
    m.set_namespace_(kLongId);
    add("namespace of 20000 bytes", r + "ListIncidents", m, invalid, "20000 bytes long");
    m.Clear();
    m.set_page_size(5000);
    add("page size 5000", r + "ListIncidents", m, invalid, "page_size");
  }
  {
    v1::AttemptFixRequest m;
    m.set_incident_id("inc-does-not-exist");
    m.set_mode(static_cast<v1::FixMode>(7));
    add("unknown mode", r + "AttemptFix", m, invalid, "mode 7 is not a known value");
    m.set_mode(v1::FIX_MODE_SUGGEST);
    add("unknown incident", r + "AttemptFix", m, not_found, "");
    m.set_incident_id(kLongId);
    add("incident_id of 20000 bytes", r + "AttemptFix", m, invalid, "20000 bytes long");
  }
  {
    v1::ListFixAttemptsRequest m;
    m.set_incident_id("inc-does-not-exist");
    add("unknown incident", r + "ListFixAttempts", m, not_found, "");
    m.set_incident_id(kLongId);
    add("incident_id of 20000 bytes", r + "ListFixAttempts", m, invalid, "20000 bytes long");
  }
  {
    v1::OpenPullRequestRequest m;
    m.set_incident_id("inc-does-not-exist");
    add("unknown incident", r + "OpenPullRequest", m, not_found, "");
    m.Clear();
    m.set_fix_attempt_id("fix-does-not-exist");
    add("unknown fix attempt", r + "OpenPullRequest", m, not_found, "");
    m.set_fix_attempt_id(kLongId);
    add("fix_attempt_id of 20000 bytes", r + "OpenPullRequest", m, invalid, "20000 bytes long");
  }
  {
    v1::ListPullRequestsRequest m;
    m.set_incident_id(kLongId);
    add("incident_id of 20000 bytes", r + "ListPullRequests", m, invalid, "20000 bytes long");
    m.Clear();
    m.set_page_size(-1);
    add("page size -1", r + "ListPullRequests", m, invalid, "page_size");
  }
  {
    v1::PlaceCallRequest m;
    m.set_number("+33612345678");
    m.set_incident_id("inc-does-not-exist");
    add("unknown incident", r + "PlaceCall", m, not_found, "");
    m.set_incident_id(kLongId);
    add("incident_id of 20000 bytes", r + "PlaceCall", m, invalid, "20000 bytes long");
    m.set_incident_id("");
    m.set_message(std::string(9000, 'a'));
    add("message of 9000 bytes", r + "PlaceCall", m, invalid, "9000 bytes long");
  }
  for (const std::string& prefix : {r, t}) {
    ::telephony::v1::ListCallsRequest m;
    m.set_incident_id(kLongId);
    add("incident_id of 20000 bytes", prefix + "ListCalls", m, invalid, "20000 bytes long");
    m.Clear();
    m.set_number(kNotUtf8);
    add("number not UTF-8", prefix + "ListCalls", m, invalid, "not valid UTF-8");
    m.Clear();
    m.set_page_size(-1);
    add("page size -1", prefix + "ListCalls", m, invalid, "page_size");
  }
  {
    ::telephony::v1::DraftSpeechRequest m;
    add("no incident", t + "DraftSpeech", m, invalid, "needs an incident");
    m.mutable_incident()->set_summary(kNotUtf8);
    add("summary not UTF-8", t + "DraftSpeech", m, invalid, "not valid UTF-8");
    m.mutable_incident()->set_summary("x");
    m.set_language(kLongId);
    add("language of 20000 bytes", t + "DraftSpeech", m, invalid, "20000 bytes long");
  }
  {
    ::telephony::v1::SynthesizeRequest m;
    add("no text", t + "Synthesize", m, invalid, "text is empty");
    m.set_text(kNotUtf8);
    add("text not UTF-8", t + "Synthesize", m, invalid, "not valid UTF-8");
    m.set_text(std::string(9000, 'a'));
    add("text of 9000 bytes", t + "Synthesize", m, invalid, "9000 bytes");
  }
  {
    ::telephony::v1::TranscribeRequest m;
    add("no audio", t + "Transcribe", m, invalid, "audio is empty");
  }
  {
    ::telephony::v1::PlaceCallRequest m;
    m.set_number("+33612345678");
    m.set_message("hello");
    m.set_idempotency_key(kLongId);
    add("idempotency_key of 20000 bytes", t + "PlaceCall", m, invalid, "20000 bytes long");
    m.set_idempotency_key("");
    m.set_number(kLongId);
    add("number of 20000 bytes", t + "PlaceCall", m, invalid, "20000 bytes long");
  }
  return cases;
}

void Check(const Case& c, const grpc::Status& status) {
  SCOPED_TRACE(c.method + " / " + c.name);
  EXPECT_EQ(status.error_code(), c.code) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr(c.says));
  // Never echoes a long id, and never answers an empty message.
  EXPECT_LT(status.error_message().size(), 1200u);
  EXPECT_EQ(status.error_message().find(std::string(200, 'x')), std::string::npos);
  EXPECT_FALSE(status.error_message().empty());
}

TEST_F(ApiHygieneTest, EveryRpcRefusesMissingAndWrongTokensOtherRolesAndGarbage) {
  std::vector<Case> cases = CommonCases();
  ASSERT_GE(cases.size(), 17u * 3);
  for (const Case& c : cases) Check(c, Call(c));
  std::cout << "[ hygiene  ] " << cases.size() << " authentication/role/garbage rows\n";
}

TEST_F(ApiHygieneTest, EveryFieldKindOfBadInputIsAClearError) {
  std::vector<Case> cases = FieldCases();
  for (const Case& c : cases) Check(c, Call(c));
  std::cout << "[ hygiene  ] " << cases.size() << " field rows\n";
}

TEST_F(ApiHygieneTest, RolesLetTheirOwnMethodsThrough) {
  // The viewer reads, the reporter reports; neither is refused by the guard.
  for (const Rpc& rpc : AllRpcs()) {
    const char* token = rpc.access == 'v' ? kViewer : rpc.access == 'r' ? kReporter : nullptr;
    if (token == nullptr) continue;
    Case c{"own role", rpc.method, rpc.valid, token, grpc::StatusCode::OK, ""};
    grpc::Status status = Call(c);
    SCOPED_TRACE(rpc.method);
    EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
    EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  }
  // Refusals are counted (and logged without the token).
  for (const char* token : {static_cast<const char*>(nullptr), kReporter}) {
    Call({"refused", "/remediator.v1.Remediator/ListIncidents", "", token,
          grpc::StatusCode::UNAUTHENTICATED, ""});
  }
  EXPECT_GT(remediator_->rpc_guard().authentication_failures(), 0);
  EXPECT_GT(remediator_->rpc_guard().permission_denials(), 0);
}

}  // namespace
}  // namespace remediator
