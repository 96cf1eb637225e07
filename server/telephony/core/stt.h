// Stt: speech to text. Implementations: PocketsphinxStt (in-process, answer grammar),
// WhisperStt, OpenAiStt.
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_STT_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_STT_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/telephony/core/audio.h"

namespace remediator::telephony {

struct SttResult {
  // Lower-case words; empty when no speech was found.
  std::string transcript;
  // 0..1, how well the audio matched the transcript; engines without a measure return 1 for a
  // non-empty transcript.
  double match_score = 0;
};

class Stt {
 public:
  virtual ~Stt() = default;
  // Transcribes `audio` (any rate). Thread-safe.
  virtual absl::StatusOr<SttResult> Transcribe(const Audio& audio, const std::string& language) = 0;
  // "pocketsphinx", "whisper", "openai".
  virtual std::string engine() const = 0;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_STT_H_
