// How far Remediator may go on a namespace: observe (detect only), suggest (propose fixes, apply
// nothing) or fix (apply, verify, PR, call). The configured mode is a ceiling: an AttemptFix
// request may ask for less, never for more.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_MODE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_MODE_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace remediator::remediation {

// Ordered: a larger mode allows more.
enum class Mode { kObserve = 0, kSuggest = 1, kFix = 2 };

// "observe", "suggest", "fix" -> Mode; InvalidArgument naming the three otherwise.
absl::StatusOr<Mode> ParseMode(const std::string& text);
const char* ModeName(Mode mode);

struct ModePolicy {
  Mode mode = Mode::kFix;
  std::map<std::string, Mode> namespaces;

  Mode For(const std::string& namespace_name) const {
    const auto it = namespaces.find(namespace_name);
    return it == namespaces.end() ? mode : it->second;
  }
};

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_MODE_H_
