// The `telephony` binary as a process: flags, the "listening on" line, health, reflection,
// authentication, input validation and the read-only RPCs, and a clean SIGTERM shutdown.
#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "server/common/file_util.h"
#include "server/telephony/adapters/subprocess.h"
#include "server/telephony/core/audio.h"
#include "telephony/v1/telephony.grpc.pb.h"
#include "tests/server/telephony/test_util.h"
#include "tests/testing/grpc_probe.h"
#include "tests/testing/status_matchers.h"

namespace remediator::telephony {
namespace {

using ::remediator::testing::IsOk;
using ::testing::HasSubstr;

constexpr char kToken[] = "test-token-5f2c";

class TelephonyServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer({}); }

  void StartServer(const std::vector<std::string>& extra_args) {
    ASSERT_THAT(WriteFileAtomically(dir_.path() + "/token", std::string(kToken) + "\n"), IsOk());
    std::vector<std::string> argv = {TELEPHONY_BINARY,
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--state-dir",
                                     dir_.path() + "/state",
                                     "--auth-token-file",
                                     dir_.path() + "/token",
                                     "--log-format",
                                     "json"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    auto process = Subprocess::Start(argv, log_path());
    ASSERT_THAT(process, IsOk());
    process_ = *std::move(process);
    // Wait (bounded) for the one "listening on HOST:PORT" line.
    absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (address_.empty() && absl::Now() < deadline && process_->Running()) {
      auto log = ReadFile(log_path());
      if (log.ok()) {
        for (absl::string_view line : absl::StrSplit(*log, '\n')) {
          if (absl::ConsumePrefix(&line, "listening on ")) address_ = std::string(line);
        }
      }
      if (address_.empty()) absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_FALSE(address_.empty())
        << "no listening line; log: " << ReadFile(log_path()).value_or("");
    channel_ = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    stub_ = ::telephony::v1::Telephony::NewStub(channel_);
  }

  std::string log_path() const { return dir_.path() + "/server.log"; }

  std::unique_ptr<grpc::ClientContext> Context(bool with_token = true) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (with_token) context->AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    return context;
  }

  TempDir dir_;
  std::unique_ptr<Subprocess> process_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::telephony::v1::Telephony::Stub> stub_;
};

TEST_F(TelephonyServerTest, ServesHealthAndReflectionAndPrintsOneListeningLine) {
  EXPECT_TRUE(absl::StartsWith(address_, "127.0.0.1:"));
  EXPECT_NE(address_, "127.0.0.1:0");
  auto health = remediator::testing::HealthCheck(*channel_);
  ASSERT_THAT(health, IsOk());
  EXPECT_EQ(*health, "SERVING");
  auto named = remediator::testing::HealthCheck(*channel_, "telephony.v1.Telephony");
  ASSERT_THAT(named, IsOk());
  EXPECT_EQ(*named, "SERVING");
  auto services = remediator::testing::ListServices(*channel_);
  ASSERT_THAT(services, IsOk());
  EXPECT_THAT(*services, ::testing::Contains("telephony.v1.Telephony"));
  auto log = ReadFile(log_path());
  ASSERT_THAT(log, IsOk());
  size_t count = 0;
  for (absl::string_view line : absl::StrSplit(*log, '\n')) {
    count += absl::StartsWith(line, "listening on ") ? 1 : 0;
  }
  EXPECT_EQ(count, 1u);
}

TEST_F(TelephonyServerTest, EveryRpcNeedsTheToken) {
  ::telephony::v1::ListCallsResponse list;
  EXPECT_EQ(stub_->ListCalls(Context(false).get(), {}, &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ::telephony::v1::CallRecord record;
  ::telephony::v1::PlaceCallRequest call;
  call.set_number("sip:oncall@127.0.0.1:5070");
  call.set_message("hello");
  EXPECT_EQ(stub_->PlaceCall(Context(false).get(), call, &record).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ::telephony::v1::SynthesizeResponse wav;
  ::telephony::v1::SynthesizeRequest synth;
  synth.set_text("hello");
  EXPECT_EQ(stub_->Synthesize(Context(false).get(), synth, &wav).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto wrong = std::make_unique<grpc::ClientContext>();
  wrong->AddMetadata("authorization", "Bearer not-the-token");
  ::telephony::v1::GetCallLogCsvResponse csv;
  EXPECT_EQ(stub_->GetCallLogCsv(wrong.get(), {}, &csv).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TelephonyServerTest, BadInputIsInvalidArgumentWithAClearMessage) {
  ::telephony::v1::CallRecord record;
  ::telephony::v1::PlaceCallRequest call;
  call.set_number("06 12 34 56 78");
  call.set_message("hello");
  grpc::Status s = stub_->PlaceCall(Context().get(), call, &record);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("neither E.164 nor a SIP URI"));

  call.set_number("+33612345678");
  call.clear_message();
  s = stub_->PlaceCall(Context().get(), call, &record);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("incident or a message"));

  ::telephony::v1::SynthesizeResponse wav;
  s = stub_->Synthesize(Context().get(), {}, &wav);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("text is empty"));

  ::telephony::v1::TranscribeResponse heard;
  ::telephony::v1::TranscribeRequest bad_audio;
  bad_audio.set_audio("definitely not a wav");
  s = stub_->Transcribe(Context().get(), bad_audio, &heard);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("RIFF"));

  ::telephony::v1::ListCallsRequest page;
  page.set_page_size(5000);
  ::telephony::v1::ListCallsResponse list;
  s = stub_->ListCalls(Context().get(), page, &list);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  ::telephony::v1::DraftSpeechRequest draft;
  draft.mutable_incident();
  ::telephony::v1::DraftSpeechResponse text;
  s = stub_->DraftSpeech(Context().get(), draft, &text);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(TelephonyServerTest, DraftSynthesizeTranscribeAndTheEmptyLog) {
  ::telephony::v1::DraftSpeechRequest draft;
  draft.mutable_incident()->set_workload_name("nginx");
  draft.mutable_incident()->set_error_class("oom_killed");
  ::telephony::v1::DraftSpeechResponse text;
  ASSERT_TRUE(stub_->DraftSpeech(Context().get(), draft, &text).ok());
  EXPECT_THAT(text.text(), HasSubstr("Can you intervene?"));
  EXPECT_EQ(text.source(), "template");

  ::telephony::v1::SynthesizeRequest synth;
  synth.set_text("Yes, I can come.");
  synth.set_sample_rate_hz(8000);
  ::telephony::v1::SynthesizeResponse wav;
  ASSERT_TRUE(stub_->Synthesize(Context().get(), synth, &wav).ok());
  EXPECT_EQ(wav.sample_rate_hz(), 8000);
  EXPECT_EQ(wav.engine(), "espeak-ng");
  auto audio = DecodeWav(wav.wav());
  ASSERT_THAT(audio, IsOk());
  EXPECT_EQ(audio->sample_rate, 8000);
  EXPECT_GT(audio->duration(), absl::Milliseconds(500));

  ::telephony::v1::TranscribeRequest hear;
  hear.set_audio(wav.wav());
  ::telephony::v1::TranscribeResponse heard;
  ASSERT_TRUE(stub_->Transcribe(Context().get(), hear, &heard).ok());
  EXPECT_EQ(heard.decision(), ::telephony::v1::DECISION_YES) << heard.transcript();
  EXPECT_EQ(heard.engine(), "pocketsphinx");
  EXPECT_GT(heard.confidence(), 0.5);

  ::telephony::v1::ListCallsResponse list;
  ASSERT_TRUE(stub_->ListCalls(Context().get(), {}, &list).ok());
  EXPECT_EQ(list.calls_size(), 0);
  ::telephony::v1::GetCallLogCsvResponse csv;
  ASSERT_TRUE(stub_->GetCallLogCsv(Context().get(), {}, &csv).ok());
  EXPECT_TRUE(absl::StartsWith(
      csv.csv(), "call_time,number,speech,can_intervene,incident_id,transcript,outcome,call_id"));
}

TEST_F(TelephonyServerTest, SigtermShutsDownCleanly) {
  ASSERT_EQ(::kill(process_->pid(), SIGTERM), 0);
  ASSERT_TRUE(process_->WaitFor(absl::Seconds(10)));
  EXPECT_TRUE(WIFEXITED(process_->wait_status()));
  EXPECT_EQ(WEXITSTATUS(process_->wait_status()), 0);
}

// A Piper CLI stand-in: writes 0.5 s of a 16 kHz tone to --output_file.
constexpr char kFakePiper[] = R"(#!/bin/sh
out=""
while [ $# -gt 0 ]; do [ "$1" = --output_file ] && out="$2"; shift; done
cat > /dev/null
sox -V1 -n -r 16000 -c 1 -b 16 "$out" synth 0.5 sine 300
)";

// The binary with the other engines: Piper (a stand-in script) and a whisper.cpp stand-in.
class TelephonyServerHttpEnginesTest : public TelephonyServerTest {
 protected:
  void SetUp() override {
    whisper_.Post("/inference", [](const httplib::Request& req, httplib::Response& res) {
      if (!req.has_file("file") || req.get_file_value("language").content != "fr") {
        res.status = 400;
        res.set_content(R"({"error":"no 'file' field in the request"})", "application/json");
        return;
      }
      res.set_content(R"({"text":" Oui, j'arrive."})", "application/json");
    });
    whisper_.set_keep_alive_max_count(1);
    int port = whisper_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { whisper_.listen_after_bind(); });
    std::string piper = dir_.path() + "/piper";
    ASSERT_THAT(WriteFileAtomically(piper, kFakePiper), IsOk());
    ::chmod(piper.c_str(), 0755);
    StartServer({"--tts", "piper", "--piper-binary", piper, "--piper-model",
                 dir_.path() + "/voice.onnx", "--stt", "whisper", "--speech-url",
                 absl::StrCat("http://127.0.0.1:", port)});
  }
  void TearDown() override {
    whisper_.stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Server whisper_;
  std::thread thread_;
};

TEST_F(TelephonyServerHttpEnginesTest, PiperAndWhisperBehindTheSameRpcs) {
  ::telephony::v1::SynthesizeRequest synth;
  synth.set_text("Pouvez-vous intervenir ?");
  synth.set_language("fr");
  ::telephony::v1::SynthesizeResponse wav;
  grpc::Status s = stub_->Synthesize(Context().get(), synth, &wav);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(wav.engine(), "piper");
  EXPECT_EQ(wav.sample_rate_hz(), 16000);

  ::telephony::v1::TranscribeRequest hear;
  hear.set_audio(wav.wav());
  hear.set_language("fr");
  ::telephony::v1::TranscribeResponse heard;
  s = stub_->Transcribe(Context().get(), hear, &heard);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(heard.engine(), "whisper");
  EXPECT_EQ(heard.transcript(), "oui, j'arrive.");
  EXPECT_EQ(heard.decision(), ::telephony::v1::DECISION_YES);
}

// The shipped example configuration loads (flags still override listen and state_dir).
class TelephonyServerConfigTest : public TelephonyServerTest {
 protected:
  void SetUp() override {
    StartServer({"--config", std::string(SOURCE_DIR) + "/deploy/local/telephony-config.yaml"});
  }
};

TEST_F(TelephonyServerConfigTest, ExampleConfigServes) {
  auto health = remediator::testing::HealthCheck(*channel_, "telephony.v1.Telephony");
  ASSERT_THAT(health, IsOk());
  EXPECT_EQ(*health, "SERVING");
}

TEST(TelephonyFlagsTest, HelpAndBadUsageExitCodes) {
  TempDir dir;
  EXPECT_EQ(std::system(absl::StrCat(TELEPHONY_BINARY, " --help > /dev/null").c_str()), 0);
  int bad = std::system(absl::StrCat(TELEPHONY_BINARY, " --no-such-flag 2> /dev/null").c_str());
  EXPECT_EQ(WEXITSTATUS(bad), 2);
  int twilio = std::system(absl::StrCat(TELEPHONY_BINARY, " --dialer carrier-pigeon --state-dir ",
                                        dir.path(), " 2> /dev/null")
                               .c_str());
  EXPECT_EQ(WEXITSTATUS(twilio), 2);
  ASSERT_THAT(WriteFileAtomically(dir.path() + "/bad.yaml", "listen: [1, 2]\n"), IsOk());
  std::string out = RunCommand(
      absl::StrCat(TELEPHONY_BINARY, " --config ", dir.path(), "/bad.yaml 2>&1; echo rc=$?"));
  EXPECT_THAT(out, HasSubstr("bad.yaml:1"));
  EXPECT_THAT(out, HasSubstr("rc=2"));
}

}  // namespace
}  // namespace remediator::telephony
