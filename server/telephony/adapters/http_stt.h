// HttpStt: speech to text through an HTTP speech service (api-contracts.md §6.2, §6.3):
//   - kind "whisper": a whisper.cpp server, POST {url}/inference, multipart fields file,
//     response_format=json, temperature, language;
//   - kind "openai": an OpenAI-compatible server (OpenAI, KubeAI, vLLM), POST
//     {url}/audio/transcriptions with file, model, language, response_format=json;
//     `url` is the API base, e.g. "http://kubeai/openai/v1".
// Either answers {"text": "..."}. The audio is sent as 16 kHz mono WAV with silence trimmed.
// These engines give no match score, so match_score is 1 for any transcript: the yes/no rule
// alone decides (an explicit yes-word is still required). Thread-safe.
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_HTTP_STT_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_HTTP_STT_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "server/common/http_client.h"
#include "server/telephony/core/stt.h"

namespace remediator::telephony {

struct HttpSttOptions {
  std::string kind = "whisper";  // "whisper" or "openai"
  std::string url;               // server (whisper) or API base (openai)
  std::string model = "whisper-1";
  std::string api_key;  // sent as "Authorization: Bearer"; never logged
  absl::Duration timeout = absl::Seconds(60);
};

class HttpStt final : public Stt {
 public:
  // `http` is borrowed.
  HttpStt(HttpClient* http, HttpSttOptions options) : http_(http), options_(std::move(options)) {}

  // Unavailable (with the server's error message) for a transport failure or a non-2xx answer;
  // DataLoss when the answer is not {"text": ...}.
  absl::StatusOr<SttResult> Transcribe(const Audio& audio, const std::string& language) override;
  std::string engine() const override { return options_.kind; }

 private:
  HttpClient* http_;
  HttpSttOptions options_;
};

// The message of an error body from OpenAI-compatible or whisper.cpp servers: {"error":"..."},
// {"error":{"message":...}}, {"message":...}, or the raw body (shortened).
std::string HttpErrorMessage(const HttpResponse& response);

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_HTTP_STT_H_
