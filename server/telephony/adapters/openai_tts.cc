#include "server/telephony/adapters/openai_tts.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/telephony/adapters/http_stt.h"

namespace remediator::telephony {

absl::StatusOr<Audio> OpenAiTts::Synthesize(const TtsRequest& request) {
  if (request.text.empty()) return absl::InvalidArgumentError("text to synthesize is empty");
  if (request.text.size() > 4096) {
    return absl::InvalidArgumentError(
        "text is longer than the 4096 characters /audio/speech takes");
  }
  nlohmann::json body = {{"model", options_.model},
                         {"input", request.text},
                         {"voice", request.voice.empty() ? options_.voice : request.voice},
                         {"response_format", "wav"}};
  if (request.words_per_minute > 0) {
    body["speed"] = std::clamp(request.words_per_minute / 175.0, 0.25, 4.0);
  }
  std::string url = options_.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  HttpRequest http;
  http.method = "POST";
  http.url = url + "/audio/speech";
  http.headers.push_back({"Content-Type", "application/json"});
  http.headers.push_back({"Accept", "application/octet-stream"});
  if (!options_.api_key.empty()) {
    http.headers.push_back({"Authorization", absl::StrCat("Bearer ", options_.api_key)});
  }
  http.body = body.dump();
  http.timeout = options_.timeout;
  absl::StatusOr<HttpResponse> response = http_->Send(http);
  if (!response.ok()) {
    return absl::UnavailableError(
        absl::StrCat("speech synthesis at ", http.url, " failed: ", response.status().message()));
  }
  if (response->status < 200 || response->status > 299) {
    return absl::UnavailableError(absl::StrCat("speech synthesis answered HTTP ", response->status,
                                               ": ", HttpErrorMessage(*response)));
  }
  absl::StatusOr<Audio> audio = DecodeWav(response->body);
  if (!audio.ok()) {
    return absl::DataLossError(
        absl::StrCat("speech synthesis did not answer a WAV: ", audio.status().message()));
  }
  return audio;
}

}  // namespace remediator::telephony
