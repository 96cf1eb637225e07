#include "server/common/phone_number.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace remediator {

absl::Status ValidatePhoneNumber(const std::string& number) {
  if (absl::StartsWith(number, "+")) {
    const std::string digits = number.substr(1);
    bool all_digits = !digits.empty();
    for (char c : digits)
      all_digits = all_digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
    if (all_digits && digits.size() >= 8 && digits.size() <= 15 && digits[0] != '0') {
      return absl::OkStatus();
    }
  } else if (absl::StartsWith(number, "sip:") || absl::StartsWith(number, "sips:")) {
    const std::string rest = number.substr(number.find(':') + 1);
    const size_t at = rest.find('@');
    bool clean = rest.find_first_of(" \t\r\n<>\"") == std::string::npos;
    if (clean && at != std::string::npos && at > 0 && at + 1 < rest.size()) {
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("number \"", number,
                   "\" is neither E.164 (like +33612345678) nor a SIP URI (like "
                   "sip:oncall@127.0.0.1:5070)"));
}

}  // namespace remediator
