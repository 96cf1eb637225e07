// HttpStt (whisper.cpp /inference, OpenAI /v1/audio/transcriptions) and OpenAiTts
// (/v1/audio/speech) against cpp-httplib stand-ins on 127.0.0.1 that follow
// api-contracts.md §6.1-6.3: they check the method, path, auth and multipart/JSON fields.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "server/common/http_client.h"
#include "server/telephony/adapters/http_stt.h"
#include "server/telephony/adapters/openai_tts.h"
#include "tests/testing/status_matchers.h"

namespace remediator::telephony {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;

Audio Tone(int rate, double seconds) {
  Audio a{rate, {}};
  for (int i = 0; i < static_cast<int>(rate * seconds); ++i) {
    a.samples.push_back(static_cast<int16_t>(8000 * std::sin(2 * M_PI * 300 * i / rate)));
  }
  return a;
}

// A stand-in speech server; records what it was sent.
class SpeechStandIn {
 public:
  SpeechStandIn() {
    auto transcribe = [this](const httplib::Request& req, httplib::Response& res) {
      absl::MutexLock lock(&mu_);
      last_path_ = req.path;
      last_auth_ = req.get_header_value("Authorization");
      fields_.clear();
      for (const auto& [name, file] : req.files) fields_[name] = file.content;
      if (!req.has_file("file")) {
        res.status = 400;
        res.set_content(R"({"error":"no 'file' field in the request"})", "application/json");
        return;
      }
      auto wav = DecodeWav(req.get_file_value("file").content);
      if (!wav.ok()) {
        res.status = 400;
        res.set_content(R"({"error":"failed to read audio data"})", "application/json");
        return;
      }
      file_rate_ = wav->sample_rate;
      res.set_content(nlohmann::json{{"text", reply_}}.dump(), "application/json");
    };
    server_.Post("/inference", transcribe);
    server_.Post("/v1/audio/transcriptions", transcribe);
    server_.Post("/v1/audio/speech", [this](const httplib::Request& req, httplib::Response& res) {
      absl::MutexLock lock(&mu_);
      last_path_ = req.path;
      last_auth_ = req.get_header_value("Authorization");
      last_json_ = req.body;
      auto j = nlohmann::json::parse(req.body, nullptr, false);
      if (!j.is_object() || !j.contains("input") || !j.contains("model") || !j.contains("voice")) {
        res.status = 400;
        res.set_content(
            R"({"error":{"message":"missing field","type":"invalid_request_error","param":"input","code":null}})",
            "application/json");
        return;
      }
      res.set_content(EncodeWav(Tone(24000, 0.5)), "audio/wav");
    });
    server_.Post("/broken/inference", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content(R"({"error":"failed to process audio"})", "application/json");
    });
    server_.set_keep_alive_max_count(1);  // stop() need not wait for idle keep-alive sockets
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (!server_.is_running() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  }
  ~SpeechStandIn() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path = "") const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  void set_reply(const std::string& text) {
    absl::MutexLock lock(&mu_);
    reply_ = text;
  }

  absl::Mutex mu_;
  std::string reply_ = "Yes, I can come.";
  std::string last_path_, last_auth_, last_json_;
  std::map<std::string, std::string> fields_;
  int file_rate_ = 0;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

class HttpSpeechTest : public ::testing::Test {
 protected:
  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient();
  SpeechStandIn server_;
};

TEST_F(HttpSpeechTest, WhisperInference) {
  HttpStt stt(http_.get(), HttpSttOptions{"whisper", server_.url(), "", "", absl::Seconds(10)});
  Audio answer{8000, std::vector<int16_t>(4000, 0)};
  Audio tone = Tone(8000, 1.0);
  answer.samples.insert(answer.samples.end(), tone.samples.begin(), tone.samples.end());
  auto result = stt.Transcribe(answer, "fr");
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->transcript, "yes, i can come.");
  EXPECT_EQ(result->match_score, 1.0);
  absl::MutexLock lock(&server_.mu_);
  EXPECT_EQ(server_.last_path_, "/inference");
  EXPECT_EQ(server_.last_auth_, "");
  EXPECT_EQ(server_.fields_["language"], "fr");
  EXPECT_EQ(server_.fields_["response_format"], "json");
  EXPECT_EQ(server_.fields_.count("model"), 0u);
  EXPECT_EQ(server_.file_rate_, 16000);
}

TEST_F(HttpSpeechTest, OpenAiTranscriptionsWithModelAndKey) {
  HttpStt stt(http_.get(), HttpSttOptions{"openai", server_.url("/v1/"), "whisper-1", "sk-test",
                                          absl::Seconds(10)});
  server_.set_reply("No, I am busy.");
  auto result = stt.Transcribe(Tone(16000, 0.8), "en");
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->transcript, "no, i am busy.");
  EXPECT_EQ(stt.engine(), "openai");
  absl::MutexLock lock(&server_.mu_);
  EXPECT_EQ(server_.last_path_, "/v1/audio/transcriptions");
  EXPECT_EQ(server_.last_auth_, "Bearer sk-test");
  EXPECT_EQ(server_.fields_["model"], "whisper-1");
}

TEST_F(HttpSpeechTest, SilenceIsNotSentAndErrorsCarryTheServerMessage) {
  HttpStt stt(http_.get(), HttpSttOptions{"whisper", server_.url(), "", "", absl::Seconds(10)});
  auto silent = stt.Transcribe(Audio{8000, std::vector<int16_t>(16000, 0)}, "en");
  ASSERT_THAT(silent, IsOk());
  EXPECT_EQ(silent->transcript, "");
  HttpStt broken(http_.get(),
                 HttpSttOptions{"whisper", server_.url("/broken"), "", "", absl::Seconds(10)});
  EXPECT_THAT(broken.Transcribe(Tone(8000, 1), "en"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("failed to process audio")));
  HttpStt nowhere(http_.get(),
                  HttpSttOptions{"whisper", "http://127.0.0.1:1", "", "", absl::Seconds(2)});
  EXPECT_THAT(nowhere.Transcribe(Tone(8000, 1), "en"), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(HttpSpeechTest, OpenAiSpeechReturnsTheWav) {
  OpenAiTts tts(http_.get(), OpenAiTtsOptions{server_.url("/v1"), "tts-1", "alloy", "sk-test",
                                              absl::Seconds(10)});
  TtsRequest request;
  request.text = "Can you intervene?";
  request.words_per_minute = 350;
  auto audio = tts.Synthesize(request);
  ASSERT_THAT(audio, IsOk());
  EXPECT_EQ(audio->sample_rate, 24000);
  EXPECT_EQ(audio->samples.size(), 12000u);
  absl::MutexLock lock(&server_.mu_);
  EXPECT_EQ(server_.last_path_, "/v1/audio/speech");
  EXPECT_EQ(server_.last_auth_, "Bearer sk-test");
  auto j = nlohmann::json::parse(server_.last_json_);
  EXPECT_EQ(j["model"], "tts-1");
  EXPECT_EQ(j["input"], "Can you intervene?");
  EXPECT_EQ(j["voice"], "alloy");
  EXPECT_EQ(j["response_format"], "wav");
  EXPECT_DOUBLE_EQ(j["speed"].get<double>(), 2.0);
}

TEST_F(HttpSpeechTest, OpenAiSpeechErrors) {
  OpenAiTts tts(http_.get(),
                OpenAiTtsOptions{server_.url("/nope"), "tts-1", "alloy", "", absl::Seconds(10)});
  TtsRequest request;
  request.text = "hello";
  EXPECT_THAT(tts.Synthesize(request), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("404")));
  request.text = std::string(5000, 'a');
  EXPECT_THAT(tts.Synthesize(request), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HttpErrorMessageTest, ReadsEveryErrorShape) {
  HttpResponse r;
  r.body = R"({"error":"model not found: \"x\""})";
  EXPECT_EQ(HttpErrorMessage(r), "model not found: \"x\"");
  r.body = R"({"error":{"message":"bad model","type":"invalid_request_error"}})";
  EXPECT_EQ(HttpErrorMessage(r), "bad model");
  r.body = R"({"object":"error","message":"flat vllm"})";
  EXPECT_EQ(HttpErrorMessage(r), "flat vllm");
  r.body = "  Bad Gateway \n";
  EXPECT_EQ(HttpErrorMessage(r), "Bad Gateway");
}

}  // namespace
}  // namespace remediator::telephony
