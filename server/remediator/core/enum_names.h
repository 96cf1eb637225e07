// The short names used by the CLI, the corpus files, CSVs and config: "oom_killed",
// "pr_opened"... (the enum value without its prefix, lower case), and back.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_ENUM_NAMES_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_ENUM_NAMES_H_

#include <string>

#include "remediator/v1/remediator.pb.h"

namespace remediator {

std::string ErrorClassName(v1::ErrorClass error_class);
std::string IncidentStateName(v1::IncidentState state);
std::string FixStatusName(v1::FixStatus status);

// Accept the short name ("oom_killed") or the full enum name ("ERROR_CLASS_OOM_KILLED").
// Return false for anything else.
bool ParseErrorClass(const std::string& text, v1::ErrorClass* out);
bool ParseIncidentState(const std::string& text, v1::IncidentState* out);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_ENUM_NAMES_H_
