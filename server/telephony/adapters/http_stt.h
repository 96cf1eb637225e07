// HttpStt: speech to text through an HTTP speech service (api-contracts.md §6.2, §6.3):
//   - kind "whisper": a whisper.cpp server, POST {url}/inference, multipart fields file,
//     response_format=verbose_json, temperature, language;
//   - kind "openai": an OpenAI-compatible server (OpenAI, KubeAI, vLLM), POST
//     {url}/audio/transcriptions with file, model, language, response_format=verbose_json;
//     `url` is the API base, e.g. "http://kubeai/openai/v1".
// Either answers {"text": "...", "segments": [{"text", "avg_logprob", "no_speech_prob"}...]}
// (whisper.cpp's server leaves out no_speech_prob). The audio is sent as 16 kHz mono WAV with
// silence trimmed. match_score comes from the segments (SegmentConfidence); a server that
// answers plain {"text"} gets kUnknownConfidence. Thread-safe.
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

// Confidence of one Whisper segment, 0..1: 1 + avg_logprob / 2 (so Whisper's own
// "decoding failed" threshold, logprob -1.0, maps to AnswerDecider's kMinYesConfidence 0.5),
// times 1 - no_speech_prob.
double SegmentConfidence(double avg_logprob, double no_speech_prob);
// match_score of a transcript from a server that reports no confidence: just enough for a yes
// that the words alone support.
inline constexpr double kUnknownConfidence = 0.5;

// The message of an error body from OpenAI-compatible or whisper.cpp servers: {"error":"..."},
// {"error":{"message":...}}, {"message":...}, or the raw body (shortened).
std::string HttpErrorMessage(const HttpResponse& response);

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_HTTP_STT_H_
