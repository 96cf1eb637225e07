// Listening to an answer: when it is over (endpointing), and its decision ready as soon as it
// is over (the answer is decoded during the end-of-speech pause, while the line is still
// open, instead of after it).
//
//   AnswerListener listener(&stt, "en", options);
//   listen.on_audio = [&](const Audio& so_far) { return listener.OnAudio(so_far); };
//   ASSIGN_OR_RETURN(Audio answer, call->PlayAndListen(prompt, listen));
//   ASSIGN_OR_RETURN(HeardAnswer heard, listener.Finish(answer));
//
// The endpoint: speech is a 10 ms frame louder than both EndpointOptions::min_rms and
// noise_margin times the line's noise floor (its 10th-percentile frame), so a hiss does not
// hold the line open. The answer ends `end_silence` after the last speech frame. The answer
// that is decided is always the audio up to `tail` after the last speech frame, so a decode
// started at that moment is the final one unless the person speaks again.
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_ANSWER_LISTENER_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_ANSWER_LISTENER_H_

#include <future>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/telephony/core/answer_decider.h"
#include "server/telephony/core/audio.h"
#include "server/telephony/core/stt.h"

namespace remediator::telephony {

// Transcribes and decides (shared by PlaceCall and the Transcribe RPC).
struct HeardAnswer {
  std::string transcript;
  AnswerDecision decision;
};
absl::StatusOr<HeardAnswer> HearAnswer(Stt& stt, const Audio& audio, const std::string& language);

struct EndpointOptions {
  // Silence after the last speech that ends the answer.
  absl::Duration end_silence = absl::Milliseconds(400);
  // Audio kept after the last speech frame for the decoder; the speculative decode starts then.
  absl::Duration tail = absl::Milliseconds(300);
  double min_rms = 300;
  double noise_margin = 3.0;  // ~ +9.5 dB over the noise floor
  // Less speech than this (a click, a breath) is not an answer.
  absl::Duration min_speech = absl::Milliseconds(80);
  // A yes is only taken once this much silence followed it: "Yes? ... Who is this?" must not
  // end at "Yes?". No and unclear answers end at end_silence.
  absl::Duration yes_confirm_silence = absl::Milliseconds(800);
  // Decode in OnAudio itself instead of on another thread (deterministic, for test grids).
  bool synchronous = false;
};

struct SpeechSpan {
  size_t speech_samples = 0;  // how many samples were speech frames
  size_t end = 0;             // sample just after the last speech frame (0: none)
};
// Where the speech of `audio` ends (see the file comment).
SpeechSpan FindSpeech(const Audio& audio, const EndpointOptions& options);

// The sample count at which an endpointer fed `audio` progressively stops listening: the end
// of the last speech + end_silence, when the audio is that long. nullopt when it never stops
// (no speech, or the audio ends first).
std::optional<size_t> EndpointOf(const Audio& audio, const EndpointOptions& options);

class AnswerListener {
 public:
  // `stt` is borrowed. Not thread-safe: one call drives it.
  AnswerListener(Stt* stt, std::string language, EndpointOptions options);
  ~AnswerListener();

  // The answer so far (from the start of listening). True when the answer is over: end_silence
  // after the last speech, or yes_confirm_silence when the decode of the answer so far says
  // yes. Starts that decode once `tail` of silence followed speech.
  bool OnAudio(const Audio& so_far);
  // The decision for `answer` (what PlayAndListen returned): the speculative decode's when it
  // covered the same speech, otherwise a decode now.
  absl::StatusOr<HeardAnswer> Finish(const Audio& answer);
  // Whether the last Finish used the speculative decode (for tests and the benchmark).
  bool used_speculation() const { return used_speculation_; }

 private:
  Audio Cut(const Audio& audio, const SpeechSpan& span) const;

  Stt* stt_;
  std::string language_;
  EndpointOptions options_;
  std::optional<size_t> speculated_end_;
  std::future<absl::StatusOr<HeardAnswer>> speculation_;
  // For the speech that ended at .first: whether its decode said yes.
  std::optional<std::pair<size_t, bool>> speculated_yes_;
  bool used_speculation_ = false;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_ANSWER_LISTENER_H_
