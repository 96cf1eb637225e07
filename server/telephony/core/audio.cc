#include "server/telephony/core/audio.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace remediator::telephony {
namespace {

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
uint32_t GetU32(const std::string& b, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(b[at])) |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3])) << 24;
}
uint16_t GetU16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8);
}

constexpr double kPi = 3.14159265358979323846;

// 10 ms frame RMS values.
std::vector<double> FrameRms(const Audio& audio, size_t* frame_out) {
  size_t frame = std::max<size_t>(1, static_cast<size_t>(audio.sample_rate) / 100);
  *frame_out = frame;
  std::vector<double> rms;
  for (size_t start = 0; start < audio.samples.size(); start += frame) {
    size_t end = std::min(audio.samples.size(), start + frame);
    double sum = 0;
    for (size_t i = start; i < end; ++i) sum += double(audio.samples[i]) * audio.samples[i];
    rms.push_back(std::sqrt(sum / double(end - start)));
  }
  return rms;
}

}  // namespace

std::string EncodeWav(const Audio& audio) {
  std::string out;
  uint32_t data_bytes = static_cast<uint32_t>(audio.samples.size() * 2);
  out.reserve(44 + data_bytes);
  out += "RIFF";
  PutU32(out, 36 + data_bytes);
  out += "WAVEfmt ";
  PutU32(out, 16);
  PutU16(out, 1);  // PCM
  PutU16(out, 1);  // mono
  PutU32(out, static_cast<uint32_t>(audio.sample_rate));
  PutU32(out, static_cast<uint32_t>(audio.sample_rate) * 2);
  PutU16(out, 2);
  PutU16(out, 16);
  out += "data";
  PutU32(out, data_bytes);
  for (int16_t s : audio.samples) PutU16(out, static_cast<uint16_t>(s));
  return out;
}

absl::StatusOr<Audio> DecodeWav(const std::string& bytes) {
  if (bytes.size() < 12 || bytes.compare(0, 4, "RIFF") != 0 || bytes.compare(8, 4, "WAVE") != 0) {
    return absl::InvalidArgumentError("audio is not a RIFF/WAVE file (no RIFF....WAVE header)");
  }
  size_t at = 12;
  uint16_t format = 0, channels = 0, bits = 0;
  uint32_t rate = 0;
  bool have_fmt = false;
  while (at + 8 <= bytes.size()) {
    std::string id = bytes.substr(at, 4);
    uint32_t size = GetU32(bytes, at + 4);
    size_t body = at + 8;
    if (id == "fmt ") {
      if (size < 16 || body + 16 > bytes.size()) {
        return absl::InvalidArgumentError("WAV fmt chunk is truncated");
      }
      format = GetU16(bytes, body);
      channels = GetU16(bytes, body + 2);
      rate = GetU32(bytes, body + 4);
      bits = GetU16(bytes, body + 14);
      if (format == 0xFFFE && size >= 26) format = GetU16(bytes, body + 24);  // extensible
      have_fmt = true;
    } else if (id == "data") {
      if (!have_fmt) return absl::InvalidArgumentError("WAV data chunk comes before fmt chunk");
      if (format != 1 && format != 3) {
        return absl::InvalidArgumentError(
            absl::StrCat("WAV format ", format, " is not supported (want PCM or float)"));
      }
      if (channels == 0 || rate == 0 || rate > 384000) {
        return absl::InvalidArgumentError("WAV header has no channels or a bad sample rate");
      }
      int width = bits / 8;
      if ((format == 1 && (width < 1 || width > 4)) || (format == 3 && width != 4)) {
        return absl::InvalidArgumentError(
            absl::StrCat("WAV sample width ", bits, " bits is not supported"));
      }
      size_t available = bytes.size() - body;
      // A file still being written may declare 0 (or too much): take what is there.
      size_t n = size == 0 ? available : std::min<size_t>(size, available);
      size_t stride = static_cast<size_t>(width) * channels;
      size_t count = n / stride;
      Audio audio;
      audio.sample_rate = static_cast<int>(rate);
      audio.samples.resize(count);
      const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data() + body);
      for (size_t i = 0; i < count; ++i) {
        double sum = 0;
        for (int c = 0; c < channels; ++c) {
          const unsigned char* s = p + i * stride + static_cast<size_t>(c) * width;
          double v = 0;
          if (format == 3) {
            float f;
            std::memcpy(&f, s, 4);
            v = f * 32767.0;
          } else if (width == 1) {
            v = (double(s[0]) - 128.0) * 256.0;
          } else {
            int32_t x = 0;
            for (int k = 0; k < width; ++k) x |= int32_t(s[k]) << (8 * k);
            int shift = 32 - 8 * width;
            x = static_cast<int32_t>(static_cast<uint32_t>(x) << shift) >> shift;
            v = double(x) / double(1 << (8 * width - 16 > 0 ? 8 * width - 16 : 0));
          }
          sum += v;
        }
        double m = std::clamp(sum / channels, -32768.0, 32767.0);
        audio.samples[i] = static_cast<int16_t>(std::lrint(m));
      }
      return audio;
    }
    at = body + size + (size & 1);
  }
  return absl::InvalidArgumentError("WAV file has no data chunk");
}

Audio Resample(const Audio& audio, int rate) {
  if (audio.sample_rate == rate || audio.sample_rate <= 0 || audio.samples.empty()) {
    Audio copy = audio;
    if (copy.samples.empty()) copy.sample_rate = rate;
    return copy;
  }
  const double ratio = double(rate) / audio.sample_rate;
  // Cutoff relative to the input Nyquist: the lower of both rates, with a little margin.
  const double cutoff = std::min(1.0, ratio) * 0.95;
  const int half_taps = 16;
  const double support = half_taps / cutoff;
  const long taps = 2 * static_cast<long>(std::ceil(support)) + 1;
  // Output sample j sits at input position j * in / out. With in/out = M/L in lowest terms there
  // are only L distinct fractional offsets, so the filter is computed once per offset (a
  // polyphase table) instead of evaluating sin/cos per tap and sample.
  const long g = std::gcd(static_cast<long>(audio.sample_rate), static_cast<long>(rate));
  const long up = rate / g, down = audio.sample_rate / g;
  const bool table = up <= 4096;
  std::vector<double> filters;
  auto kernel = [&](double d) {  // d = k - t, in input samples
    double x = d * cutoff;
    double sinc = x == 0 ? 1.0 : std::sin(kPi * x) / (kPi * x);
    return std::abs(d) >= support ? 0.0 : sinc * (0.5 + 0.5 * std::cos(kPi * d / support));
  };
  const long first_offset = -(taps / 2);
  if (table) {
    filters.resize(static_cast<size_t>(up * taps));
    for (long phase = 0; phase < up; ++phase) {
      double frac = double(phase) / up;  // t = base + frac
      double sum = 0;
      for (long i = 0; i < taps; ++i) {
        double h = kernel(double(first_offset + i) - frac);
        filters[static_cast<size_t>(phase * taps + i)] = h;
        sum += h;
      }
      for (long i = 0; i < taps; ++i) filters[static_cast<size_t>(phase * taps + i)] /= sum;
    }
  }
  Audio out;
  out.sample_rate = rate;
  const size_t n_out = static_cast<size_t>(std::floor(audio.samples.size() * ratio));
  out.samples.resize(n_out);
  const long n_in = static_cast<long>(audio.samples.size());
  const int16_t* in = audio.samples.data();
  for (size_t j = 0; j < n_out; ++j) {
    long base = static_cast<long>(j) * down / up;
    long phase = static_cast<long>(j) * down % up;
    double acc = 0, wsum = 0;
    const double* h = table ? &filters[static_cast<size_t>(phase * taps)] : nullptr;
    double frac = double(phase) / up;
    for (long i = 0; i < taps; ++i) {
      long k = base + first_offset + i;
      if (k < 0 || k >= n_in) continue;
      double w = h != nullptr ? h[i] : kernel(double(first_offset + i) - frac);
      acc += w * in[k];
      wsum += w;
    }
    // Near the edges part of the window falls outside the signal: renormalize.
    double v = wsum != 0 ? acc / wsum : 0;
    out.samples[j] = static_cast<int16_t>(std::lrint(std::clamp(v, -32768.0, 32767.0)));
  }
  return out;
}

Audio TrimSilence(const Audio& audio, double threshold_db, absl::Duration pad) {
  size_t frame;
  std::vector<double> rms = FrameRms(audio, &frame);
  Audio out;
  out.sample_rate = audio.sample_rate;
  if (rms.empty()) return out;
  double peak = *std::max_element(rms.begin(), rms.end());
  // Below this absolute level (about -50 dBFS) nothing is treated as speech.
  constexpr double kFloor = 100.0;
  if (peak < kFloor) return out;
  double threshold = std::max(kFloor, peak * std::pow(10.0, -threshold_db / 20.0));
  size_t first = rms.size(), last = 0;
  for (size_t i = 0; i < rms.size(); ++i) {
    if (rms[i] >= threshold) {
      first = std::min(first, i);
      last = i;
    }
  }
  size_t pad_samples = static_cast<size_t>(absl::ToDoubleSeconds(pad) * audio.sample_rate);
  size_t begin = first * frame > pad_samples ? first * frame - pad_samples : 0;
  size_t end = std::min(audio.samples.size(), (last + 1) * frame + pad_samples);
  out.samples.assign(audio.samples.begin() + static_cast<long>(begin),
                     audio.samples.begin() + static_cast<long>(end));
  return out;
}

bool HasSpeech(const Audio& audio, double min_rms) {
  size_t frame;
  for (double r : FrameRms(audio, &frame)) {
    if (r > min_rms) return true;
  }
  return false;
}

void AppendSilence(Audio& audio, absl::Duration duration) {
  size_t n = static_cast<size_t>(absl::ToDoubleSeconds(duration) * audio.sample_rate);
  audio.samples.insert(audio.samples.end(), n, 0);
}

absl::Duration LastSpeechEnd(const Audio& audio, absl::Duration from, double min_rms) {
  size_t frame;
  std::vector<double> rms = FrameRms(audio, &frame);
  if (audio.sample_rate <= 0) return absl::Seconds(-1);
  size_t first = static_cast<size_t>(absl::ToDoubleSeconds(from) * 100);
  for (size_t i = rms.size(); i > first; --i) {
    if (rms[i - 1] > min_rms) {
      return absl::Seconds(double(i * frame) / audio.sample_rate);
    }
  }
  return absl::Seconds(-1);
}

}  // namespace remediator::telephony
