#include "server/telephony/core/number.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace remediator::telephony {

bool IsSipUri(const std::string& number) {
  return absl::StartsWith(number, "sip:") || absl::StartsWith(number, "sips:");
}

absl::Status ValidateNumber(const std::string& number) {
  const std::string expected =
      "expected an E.164 number like +33612345678 or a SIP URI like sip:oncall@127.0.0.1:5070";
  if (number.empty()) return absl::InvalidArgumentError("number is empty; " + expected);
  if (number[0] == '+') {
    size_t digits = number.size() - 1;
    bool all_digits = true;
    for (size_t i = 1; i < number.size(); ++i) all_digits &= absl::ascii_isdigit(number[i]);
    if (all_digits && digits >= 8 && digits <= 15 && number[1] != '0') return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "number \"", number, "\" is not E.164 (\"+\" then 8 to 15 digits); ", expected));
  }
  if (IsSipUri(number)) {
    if (number.size() > 256) return absl::InvalidArgumentError("SIP URI is longer than 256 bytes");
    std::string rest = number.substr(number.find(':') + 1);
    for (char c : rest) {
      if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"') {
        return absl::InvalidArgumentError(
            "SIP URI contains a space, control character, quote or angle bracket");
      }
    }
    size_t at = rest.find('@');
    std::string host = at == std::string::npos ? rest : rest.substr(at + 1);
    if ((at != std::string::npos && at == 0) || host.empty() || host[0] == ':' || host[0] == ';') {
      return absl::InvalidArgumentError(
          absl::StrCat("SIP URI \"", number, "\" has no user or host; ", expected));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("number \"", number, "\" is neither E.164 nor a SIP URI; ", expected));
}

}  // namespace remediator::telephony
