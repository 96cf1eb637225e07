// Validation of the numbers Remediator and Telephony dial: E.164 ("+" then 8 to 15 digits, no
// leading zero) or a SIP URI ("sip:user@host[:port]" or "sips:..."). Shared by both servers so
// that one rule decides what is dialable.
#ifndef REMEDIATOR_SERVER_COMMON_PHONE_NUMBER_H_
#define REMEDIATOR_SERVER_COMMON_PHONE_NUMBER_H_

#include <string>

#include "absl/status/status.h"

namespace remediator {

// OK for a dialable number; InvalidArgument saying what a valid number looks like otherwise.
absl::Status ValidatePhoneNumber(const std::string& number);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_PHONE_NUMBER_H_
