// Tts: text to speech. Implementations: EspeakTts (in-process), PiperTts, OpenAiTts.
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_TTS_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_TTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/telephony/core/audio.h"

namespace remediator::telephony {

struct TtsRequest {
  std::string text;          // non-empty, already redacted
  std::string language;      // "en" (default) or "fr"
  std::string voice;         // engine-specific; empty: the engine's default for `language`
  int words_per_minute = 0;  // 0: engine default
};

class Tts {
 public:
  virtual ~Tts() = default;
  // Speech at the engine's native rate (callers Resample as needed). Thread-safe.
  virtual absl::StatusOr<Audio> Synthesize(const TtsRequest& request) = 0;
  // "espeak-ng", "piper", "openai".
  virtual std::string engine() const = 0;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_TTS_H_
