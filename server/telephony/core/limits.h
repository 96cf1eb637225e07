// Limits on what the Telephony RPCs accept and on what a call says (issue 12 §4). Each check
// returns InvalidArgument naming the field and the limit.
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_LIMITS_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_LIMITS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "telephony/v1/telephony.pb.h"

namespace remediator::telephony {

// A free-text message to speak (PlaceCallRequest.message): about 30 s of speech.
inline constexpr size_t kMaxMessageBytes = 600;
// Each text field of an IncidentSummary, and all of them together.
inline constexpr size_t kMaxIncidentFieldBytes = 4096;
inline constexpr size_t kMaxIncidentBytes = 16384;
// idempotency_key, language.
inline constexpr size_t kMaxKeyBytes = 256;
inline constexpr size_t kMaxLanguageBytes = 35;  // BCP 47's longest common form
// What the drafter aims for, and what no prompt may exceed (the question included).
inline constexpr absl::Duration kTargetSpeech = absl::Seconds(20);
inline constexpr absl::Duration kMaxPrompt = absl::Seconds(30);

// InvalidArgument "FIELD is not valid UTF-8 (first bad byte at offset N)".
absl::Status ValidateUtf8(const std::string& value, const std::string& field);
absl::Status ValidateIncident(const ::telephony::v1::IncidentSummary& incident);
// Number, message, language, key and incident sizes and encodings (not the number's syntax).
absl::Status ValidatePlaceCallLimits(const ::telephony::v1::PlaceCallRequest& request);

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_LIMITS_H_
