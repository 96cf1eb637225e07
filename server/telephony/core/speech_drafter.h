// SpeechDrafter: writes what the phone call says about an incident. TemplateSpeechDrafter is the
// embedded default (English and French); an LLM drafter may be added behind the same interface.
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_SPEECH_DRAFTER_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_SPEECH_DRAFTER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "telephony/v1/telephony.pb.h"

namespace remediator::telephony {

using IncidentSummary = ::telephony::v1::IncidentSummary;

struct DraftedSpeech {
  std::string text;
  std::string source;  // "template" or "llm"
  absl::Duration estimated_duration;
  std::string llm_fallback_reason;
};

class SpeechDrafter {
 public:
  virtual ~SpeechDrafter() = default;
  // InvalidArgument when the incident has neither a workload name nor a summary, or the
  // language is not supported. The text never contains a secret or a URL, and ends with one
  // yes/no question. Thread-safe.
  virtual absl::StatusOr<DraftedSpeech> Draft(const IncidentSummary& incident,
                                              const std::string& language) = 0;
};

// "en" for "", "en", "en-US"...; "fr" for "fr", "fr-FR"...; InvalidArgument otherwise.
absl::StatusOr<std::string> NormalizeLanguage(const std::string& language);

// Makes free text safe to speak: secrets redacted (RedactSecrets), every URL replaced by "a
// link" (so credentials in URLs are never spoken), redaction markers by "a hidden value",
// control characters by spaces, runs of whitespace collapsed.
std::string SanitizeForSpeech(const std::string& text, const std::string& language);

// About how long `text` takes to read aloud at `words_per_minute` (espeak-ng's default is 175).
absl::Duration EstimateSpeechDuration(const std::string& text, int words_per_minute = 175);

// The closing question, e.g. "Can you intervene? Please answer yes or no."
std::string QuestionText(const std::string& language);
// Said when the first answer was unclear.
std::string RepromptText(const std::string& language);

// Fills a fixed template from the incident: who is calling, what failed where, what was tried
// and why it did not work, the incident id, then the question. Empty fields are left out; long
// fields are shortened so that the text reads in about 20 to 40 seconds.
class TemplateSpeechDrafter final : public SpeechDrafter {
 public:
  absl::StatusOr<DraftedSpeech> Draft(const IncidentSummary& incident,
                                      const std::string& language) override;

 private:
  static absl::StatusOr<DraftedSpeech> DraftWithLimit(const IncidentSummary& incident,
                                                      const std::string& lang,
                                                      size_t max_field_words);
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_SPEECH_DRAFTER_H_
