// Validation of the numbers PlaceCall dials.
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_NUMBER_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_NUMBER_H_

#include <string>

#include "absl/status/status.h"

namespace remediator::telephony {

// OK for an E.164 number ("+" then 8 to 15 digits, first digit not 0) or a SIP URI
// ("sip:" or "sips:" user@host[:port][;params], no spaces or control characters, at most 256
// bytes). InvalidArgument saying which form was expected otherwise.
absl::Status ValidateNumber(const std::string& number);

bool IsSipUri(const std::string& number);

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_NUMBER_H_
