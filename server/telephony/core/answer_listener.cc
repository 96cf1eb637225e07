#include "server/telephony/core/answer_listener.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "server/common/status_macros.h"

namespace remediator::telephony {

absl::StatusOr<HeardAnswer> HearAnswer(Stt& stt, const Audio& audio, const std::string& language) {
  HeardAnswer out;
  if (!HasSpeech(audio)) {
    out.decision = DecideAnswer("");
    return out;
  }
  ASSIGN_OR_RETURN(SttResult result, stt.Transcribe(audio, language));
  out.transcript = result.transcript;
  out.decision = DecideAnswer(result.transcript, result.match_score);
  return out;
}

SpeechSpan FindSpeech(const Audio& audio, const EndpointOptions& options) {
  SpeechSpan span;
  if (audio.sample_rate <= 0 || audio.samples.empty()) return span;
  const size_t frame = std::max<size_t>(1, static_cast<size_t>(audio.sample_rate) / 100);
  std::vector<double> rms;
  rms.reserve(audio.samples.size() / frame + 1);
  for (size_t start = 0; start < audio.samples.size(); start += frame) {
    const size_t end = std::min(audio.samples.size(), start + frame);
    double sum = 0;
    for (size_t i = start; i < end; ++i) sum += double(audio.samples[i]) * audio.samples[i];
    rms.push_back(std::sqrt(sum / double(end - start)));
  }
  std::vector<double> sorted = rms;
  const size_t p10 = sorted.size() / 10;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(p10), sorted.end());
  const double threshold = std::max(options.min_rms, options.noise_margin * sorted[p10]);
  size_t frames = 0;
  for (size_t i = 0; i < rms.size(); ++i) {
    if (rms[i] > threshold) {
      ++frames;
      span.end = std::min(audio.samples.size(), (i + 1) * frame);
    }
  }
  span.speech_samples = frames * frame;
  const size_t min_speech =
      static_cast<size_t>(absl::ToDoubleSeconds(options.min_speech) * audio.sample_rate);
  if (span.speech_samples < min_speech) span = SpeechSpan{};
  return span;
}

std::optional<size_t> EndpointOf(const Audio& audio, const EndpointOptions& options) {
  // The endpointer sees the audio grow; its answer at each poll is what FindSpeech says about
  // the prefix. Checked every 10 ms here (the dialers poll more coarsely).
  const size_t step = std::max<size_t>(1, static_cast<size_t>(audio.sample_rate) / 100);
  const size_t silence =
      static_cast<size_t>(absl::ToDoubleSeconds(options.end_silence) * audio.sample_rate);
  Audio prefix{audio.sample_rate, {}};
  for (size_t n = step; n <= audio.samples.size(); n += step) {
    prefix.samples.assign(audio.samples.begin(), audio.samples.begin() + static_cast<long>(n));
    SpeechSpan span = FindSpeech(prefix, options);
    if (span.end > 0 && n >= span.end + silence) return n;
  }
  return std::nullopt;
}

AnswerListener::AnswerListener(Stt* stt, std::string language, EndpointOptions options)
    : stt_(stt), language_(std::move(language)), options_(options) {}

AnswerListener::~AnswerListener() {
  if (speculation_.valid()) speculation_.wait();
}

Audio AnswerListener::Cut(const Audio& audio, const SpeechSpan& span) const {
  Audio out{audio.sample_rate, {}};
  const size_t tail = static_cast<size_t>(absl::ToDoubleSeconds(options_.tail) * audio.sample_rate);
  const size_t end = std::min(audio.samples.size(), span.end + tail);
  out.samples.assign(audio.samples.begin(), audio.samples.begin() + static_cast<long>(end));
  return out;
}

bool AnswerListener::OnAudio(const Audio& so_far) {
  const SpeechSpan span = FindSpeech(so_far, options_);
  if (span.end == 0) return false;
  const size_t rate = static_cast<size_t>(so_far.sample_rate);
  auto samples = [rate](absl::Duration d) {
    return static_cast<size_t>(absl::ToDoubleSeconds(d) * static_cast<double>(rate));
  };
  const size_t now = so_far.samples.size();
  const bool idle = !speculation_.valid() ||
                    speculation_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  if (now >= span.end + samples(options_.tail) && speculated_end_ != span.end && idle) {
    // The pause may be the end: decode what was said while listening on.
    if (speculation_.valid()) speculation_.wait();
    speculated_end_ = span.end;
    Audio answer = Cut(so_far, span);
    auto decode = [this, answer = std::move(answer)] {
      return HearAnswer(*stt_, answer, language_);
    };
    speculation_ = std::async(options_.synchronous ? std::launch::deferred : std::launch::async,
                              std::move(decode));
    if (options_.synchronous) speculation_.wait();
  }
  if (now < span.end + samples(options_.end_silence)) return false;
  // The decode of this very answer must be known: a yes waits for more silence.
  if (speculated_end_ != span.end || !speculation_.valid()) return true;
  if (speculation_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
  if (!speculated_yes_.has_value() || speculated_yes_->first != span.end) {
    absl::StatusOr<HeardAnswer> heard = speculation_.get();
    speculated_yes_ = std::make_pair(
        span.end, heard.ok() && heard->decision.decision == ::telephony::v1::DECISION_YES);
    // Keep the result for Finish: the future can be read once.
    speculation_ = std::async(std::launch::deferred, [heard] { return heard; });
    speculation_.wait();
  }
  return !speculated_yes_->second || now >= span.end + samples(options_.yes_confirm_silence);
}

absl::StatusOr<HeardAnswer> AnswerListener::Finish(const Audio& answer) {
  const SpeechSpan span = FindSpeech(answer, options_);
  used_speculation_ = false;
  if (speculation_.valid()) {
    absl::StatusOr<HeardAnswer> speculated = speculation_.get();
    if (speculated_end_ == span.end && span.end > 0) {
      used_speculation_ = true;
      return speculated;
    }
  }
  if (span.end == 0) return HearAnswer(*stt_, answer, language_);
  return HearAnswer(*stt_, Cut(answer, span), language_);
}

}  // namespace remediator::telephony
