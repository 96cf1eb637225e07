// EspeakTts: text to speech with libespeak-ng, in-process. espeak-ng keeps global state, so
// every instance shares one process-wide engine guarded by a mutex (synthesis is serialized;
// it runs at several hundred times real time). Native rate 22050 Hz.
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_ESPEAK_TTS_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_ESPEAK_TTS_H_

#include <string>

#include "server/telephony/core/tts.h"

namespace remediator::telephony {

class EspeakTts final : public Tts {
 public:
  // `data_path` is espeak-ng's data directory; empty for the default.
  explicit EspeakTts(std::string data_path = "") : data_path_(std::move(data_path)) {}

  // Voice: request.voice if set (any espeak-ng voice name, e.g. "en-gb", "en-us+f3", "fr"),
  // else "en-us" for English and "fr" for French. InvalidArgument for empty text, an unknown
  // voice or a rate outside 80..450 words per minute.
  absl::StatusOr<Audio> Synthesize(const TtsRequest& request) override;
  std::string engine() const override { return "espeak-ng"; }

 private:
  std::string data_path_;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_ESPEAK_TTS_H_
