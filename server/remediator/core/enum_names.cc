#include "server/remediator/core/enum_names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace remediator {
namespace {

// "ERROR_CLASS_OOM_KILLED" with prefix "ERROR_CLASS_" -> "oom_killed".
std::string ShortName(const std::string& full, const std::string& prefix) {
  std::string name = absl::StartsWith(full, prefix) ? full.substr(prefix.size()) : full;
  return absl::AsciiStrToLower(name);
}

template <typename Enum, typename Parser>
bool ParseShortOrFull(const std::string& text, const std::string& prefix, Parser parse, Enum* out) {
  std::string upper = absl::AsciiStrToUpper(text);
  if (!absl::StartsWith(upper, prefix)) upper = prefix + upper;
  Enum value;
  if (!parse(upper, &value)) return false;
  *out = value;
  return true;
}

}  // namespace

std::string ErrorClassName(v1::ErrorClass error_class) {
  return ShortName(v1::ErrorClass_Name(error_class), "ERROR_CLASS_");
}

std::string IncidentStateName(v1::IncidentState state) {
  return ShortName(v1::IncidentState_Name(state), "INCIDENT_STATE_");
}

std::string FixStatusName(v1::FixStatus status) {
  return ShortName(v1::FixStatus_Name(status), "FIX_STATUS_");
}

bool ParseErrorClass(const std::string& text, v1::ErrorClass* out) {
  return ParseShortOrFull(text, "ERROR_CLASS_", v1::ErrorClass_Parse, out);
}

bool ParseIncidentState(const std::string& text, v1::IncidentState* out) {
  return ParseShortOrFull(text, "INCIDENT_STATE_", v1::IncidentState_Parse, out);
}

}  // namespace remediator
