#include "server/telephony/adapters/http_stt.h"

#include <mutex>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "server/telephony/core/speech_drafter.h"

namespace remediator::telephony {
namespace {

std::string Boundary() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  return absl::StrFormat("remediator-%016x", rng());
}

void AddField(std::string& body, const std::string& boundary, const std::string& name,
              const std::string& value) {
  absl::StrAppend(&body, "--", boundary, "\r\nContent-Disposition: form-data; name=\"", name,
                  "\"\r\n\r\n", value, "\r\n");
}

std::string TrimUrl(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

std::string HttpErrorMessage(const HttpResponse& response) {
  nlohmann::json j = nlohmann::json::parse(response.body, nullptr, false);
  if (j.is_object()) {
    if (auto it = j.find("error"); it != j.end()) {
      if (it->is_string()) return it->get<std::string>();
      if (it->is_object() && it->contains("message") && (*it)["message"].is_string()) {
        return (*it)["message"].get<std::string>();
      }
    }
    if (auto it = j.find("message"); it != j.end() && it->is_string())
      return it->get<std::string>();
  }
  std::string body(absl::StripAsciiWhitespace(response.body));
  return body.size() > 200 ? body.substr(0, 200) + "..." : body;
}

absl::StatusOr<SttResult> HttpStt::Transcribe(const Audio& audio, const std::string& language) {
  if (audio.sample_rate <= 0) return absl::InvalidArgumentError("audio has no sample rate");
  absl::StatusOr<std::string> lang = NormalizeLanguage(language);
  if (!lang.ok()) return lang.status();
  SttResult result;
  Audio speech = TrimSilence(audio);
  if (speech.samples.empty()) return result;
  speech = Resample(speech, 16000);

  const std::string boundary = Boundary();
  std::string body;
  absl::StrAppend(&body, "--", boundary,
                  "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"answer.wav\"\r\n"
                  "Content-Type: audio/wav\r\n\r\n",
                  EncodeWav(speech), "\r\n");
  const bool openai = options_.kind == "openai";
  if (openai) AddField(body, boundary, "model", options_.model);
  AddField(body, boundary, "language", *lang);
  AddField(body, boundary, "response_format", "json");
  AddField(body, boundary, "temperature", "0");
  absl::StrAppend(&body, "--", boundary, "--\r\n");

  HttpRequest request;
  request.method = "POST";
  request.url = TrimUrl(options_.url) + (openai ? "/audio/transcriptions" : "/inference");
  request.headers.push_back(
      {"Content-Type", absl::StrCat("multipart/form-data; boundary=", boundary)});
  request.headers.push_back({"Accept", "application/json"});
  if (!options_.api_key.empty()) {
    request.headers.push_back({"Authorization", absl::StrCat("Bearer ", options_.api_key)});
  }
  request.body = std::move(body);
  request.timeout = options_.timeout;
  absl::StatusOr<HttpResponse> response = http_->Send(request);
  if (!response.ok()) {
    return absl::UnavailableError(absl::StrCat(options_.kind, " transcription at ", request.url,
                                               " failed: ", response.status().message()));
  }
  if (response->status < 200 || response->status > 299) {
    return absl::UnavailableError(absl::StrCat(options_.kind, " transcription answered HTTP ",
                                               response->status, ": ",
                                               HttpErrorMessage(*response)));
  }
  nlohmann::json j = nlohmann::json::parse(response->body, nullptr, false);
  if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) {
    return absl::DataLossError(
        absl::StrCat(options_.kind, " transcription answer has no \"text\" string"));
  }
  std::string text = j["text"].get<std::string>();
  result.transcript = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  result.match_score = result.transcript.empty() ? 0.0 : 1.0;
  return result;
}

}  // namespace remediator::telephony
