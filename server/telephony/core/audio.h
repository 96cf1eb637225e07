// Mono 16-bit PCM audio in memory, and the few signal operations the telephony flow needs:
// RIFF/WAVE encoding and decoding, resampling, silence trimming and speech-activity analysis.
// All functions are pure and thread-safe.
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_AUDIO_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_AUDIO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace remediator::telephony {

struct Audio {
  int sample_rate = 0;
  std::vector<int16_t> samples;

  absl::Duration duration() const {
    return sample_rate > 0 ? absl::Seconds(static_cast<double>(samples.size()) / sample_rate)
                           : absl::ZeroDuration();
  }
};

// A complete RIFF/WAVE file: mono, 16-bit PCM, `audio.sample_rate`.
std::string EncodeWav(const Audio& audio);

// Decodes a RIFF/WAVE file with 8/16/24/32-bit integer or 32-bit float PCM, any channel count
// (channels are averaged to mono). A data chunk whose declared size runs past the end of the
// file (a recording still being written, or liblinphone's header) is clamped to the bytes present,
// and a declared size of 0 (a header not yet updated by a recorder) means "up to the end".
// InvalidArgument saying what is wrong for anything else.
absl::StatusOr<Audio> DecodeWav(const std::string& bytes);

// Band-limited resampling (windowed sinc, with an anti-alias cutoff when going down).
// Returns `audio` unchanged when the rates are equal. `rate` must be 1000..192000.
Audio Resample(const Audio& audio, int rate);

// Cuts leading and trailing silence: keeps from the first to the last 10 ms frame whose RMS is
// within `threshold_db` of the loudest frame (and above an absolute floor, so that digital
// silence or faint noise yields empty audio), widened by `pad` on each side.
Audio TrimSilence(const Audio& audio, double threshold_db = 40.0,
                  absl::Duration pad = absl::Milliseconds(300));

// True when some 10 ms frame is louder than `min_rms` (on the int16 scale).
bool HasSpeech(const Audio& audio, double min_rms = 300.0);

// Appends `duration` of digital silence.
void AppendSilence(Audio& audio, absl::Duration duration);

// Speech activity over time, used to stop listening once an answer is over: returns the end
// time of the last frame louder than `min_rms` at or after `from`, or -1 s when none.
absl::Duration LastSpeechEnd(const Audio& audio, absl::Duration from, double min_rms = 300.0);

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_AUDIO_H_
