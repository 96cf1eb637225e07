// The phone channel of a SIP call, in-process: 8 kHz, G.711 mu-law (PCMU, the codec the SIP
// calls negotiate, deploy/local/telephony-sip-trunk.yaml) and line noise, so that big grids of
// spoken answers stay cheap (no sox or baresip process per answer).
#ifndef REMEDIATOR_TESTS_SERVER_TELEPHONY_PHONE_CHANNEL_H_
#define REMEDIATOR_TESTS_SERVER_TELEPHONY_PHONE_CHANNEL_H_

#include <algorithm>
#include <cstdint>
#include <random>

#include "server/telephony/core/audio.h"

namespace remediator::telephony {

// ITU-T G.711 mu-law, as in the reference implementation (bias 0x84, clip 32635).
inline uint8_t MuLawEncode(int16_t pcm) {
  constexpr int kBias = 0x84, kClip = 32635;
  int sign = (pcm >> 8) & 0x80;
  int magnitude = sign ? -static_cast<int>(pcm) : pcm;
  magnitude = std::min(magnitude, kClip) + kBias;
  int exponent = 7;
  for (int mask = 0x4000; (magnitude & mask) == 0 && exponent > 0; mask >>= 1) --exponent;
  const int mantissa = (magnitude >> (exponent + 3)) & 0x0F;
  return static_cast<uint8_t>(~(sign | (exponent << 4) | mantissa));
}

inline int16_t MuLawDecode(uint8_t ulaw) {
  ulaw = static_cast<uint8_t>(~ulaw);
  const int sign = ulaw & 0x80, exponent = (ulaw >> 4) & 0x07, mantissa = ulaw & 0x0F;
  const int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return static_cast<int16_t>(sign ? -magnitude : magnitude);
}

// `speech` resampled to 8 kHz, padded with `before` and `after` of silence, white noise of
// RMS `noise_rms` (int16 scale; 0 for none) added along the whole line, through mu-law.
inline Audio PhoneLine(const Audio& speech, double noise_rms, uint32_t seed,
                       absl::Duration before = absl::Seconds(1),
                       absl::Duration after = absl::Milliseconds(1500)) {
  Audio line{8000, {}};
  AppendSilence(line, before);
  Audio narrow = Resample(speech, 8000);
  line.samples.insert(line.samples.end(), narrow.samples.begin(), narrow.samples.end());
  AppendSilence(line, after);
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, noise_rms);
  for (int16_t& s : line.samples) {
    double v = s + (noise_rms > 0 ? noise(rng) : 0.0);
    v = std::clamp(v, -32768.0, 32767.0);
    s = MuLawDecode(MuLawEncode(static_cast<int16_t>(v)));
  }
  return line;
}

}  // namespace remediator::telephony

#endif  // REMEDIATOR_TESTS_SERVER_TELEPHONY_PHONE_CHANNEL_H_
