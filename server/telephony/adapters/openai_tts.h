// OpenAiTts: text to speech through an OpenAI-compatible POST {url}/audio/speech
// (api-contracts.md §6.1): JSON {model, input, voice, response_format: "wav", speed}; the answer
// is the WAV bytes. `url` is the API base, e.g. "https://api.openai.com/v1". Thread-safe.
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_OPENAI_TTS_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_OPENAI_TTS_H_

#include <string>

#include "absl/time/time.h"
#include "server/common/http_client.h"
#include "server/telephony/core/tts.h"

namespace remediator::telephony {

struct OpenAiTtsOptions {
  std::string url;
  std::string model = "tts-1";
  std::string voice = "alloy";
  std::string api_key;  // never logged
  absl::Duration timeout = absl::Seconds(60);
};

class OpenAiTts final : public Tts {
 public:
  OpenAiTts(HttpClient* http, OpenAiTtsOptions options)
      : http_(http), options_(std::move(options)) {}

  // request.voice overrides the configured voice; words_per_minute maps to speed = wpm/175
  // (0.25..4). InvalidArgument for empty text or text over 4096 characters; Unavailable with
  // the server's message for a failure; DataLoss when the answer is not a WAV.
  absl::StatusOr<Audio> Synthesize(const TtsRequest& request) override;
  std::string engine() const override { return "openai"; }

 private:
  HttpClient* http_;
  OpenAiTtsOptions options_;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_OPENAI_TTS_H_
