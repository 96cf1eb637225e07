// PiperTts: text to speech with the Piper CLI (rhasspy/piper, api-contracts.md §6.4) run as a
// subprocess per request:
//   piper --model VOICE.onnx --output_file OUT.wav [--length_scale X] [--speaker N] < text
// The text goes in on stdin as one line (Piper joins lines with --output_file); the WAV is
// 16-bit mono at the voice's rate (22050 Hz for medium/high voices). Thread-safe (one process
// per request, each in its own temporary directory).
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_PIPER_TTS_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_PIPER_TTS_H_

#include <string>

#include "absl/time/time.h"
#include "server/telephony/core/tts.h"

namespace remediator::telephony {

struct PiperOptions {
  std::string binary = "piper";
  // The default voice model (.onnx; its .onnx.json must sit next to it).
  std::string model;
  // French voice model; empty: `model` for every language.
  std::string model_fr;
  std::string work_dir = "/tmp";
  absl::Duration timeout = absl::Seconds(60);
};

class PiperTts final : public Tts {
 public:
  explicit PiperTts(PiperOptions options) : options_(std::move(options)) {}

  // request.voice, when set, is a model path (.onnx) or a speaker number ("3").
  // words_per_minute maps to --length_scale 175/wpm. FailedPrecondition when no model is
  // configured; Unavailable when piper fails (with the tail of its output); DeadlineExceeded
  // after the timeout (the process is killed).
  absl::StatusOr<Audio> Synthesize(const TtsRequest& request) override;
  std::string engine() const override { return "piper"; }

 private:
  PiperOptions options_;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_PIPER_TTS_H_
