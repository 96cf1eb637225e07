#include "server/remediator/core/remediation/mode.h"

#include "absl/strings/str_cat.h"

namespace remediator::remediation {

absl::StatusOr<Mode> ParseMode(const std::string& text) {
  if (text == "observe") return Mode::kObserve;
  if (text == "suggest") return Mode::kSuggest;
  if (text == "fix") return Mode::kFix;
  return absl::InvalidArgumentError(
      absl::StrCat("mode \"", text, "\" is not one of observe, suggest, fix"));
}

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kObserve:
      return "observe";
    case Mode::kSuggest:
      return "suggest";
    case Mode::kFix:
      return "fix";
  }
  return "observe";
}

}  // namespace remediator::remediation
