// Internal: exception-free access to nlohmann::json values of Kubernetes objects. Missing keys
// and values of the wrong type read as empty/default; nothing here throws.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_JSON_UTIL_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_JSON_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace remediator::detection::internal {

using Json = nlohmann::json;

// The member `key` of `obj`, or nullptr when obj is not an object or has no such member.
const Json* Field(const Json& obj, std::string_view key);
// Follows a path of members: Path(pod, {"status", "phase"}).
const Json* Path(const Json& obj, std::initializer_list<std::string_view> keys);
// The string member `key`, or "" when missing or not a string.
std::string Str(const Json& obj, std::string_view key);
std::string StrPath(const Json& obj, std::initializer_list<std::string_view> keys);
// The integer member `key`, or `fallback`.
int64_t Int(const Json& obj, std::string_view key, int64_t fallback);
// The member as an array (empty static array when missing or not an array).
const Json& Array(const Json& obj, std::string_view key);

// Parses `text`; InvalidArgument "<what>: not valid JSON: <parser message>" on error, and
// "<what>: expected a JSON object" when the top level is not an object.
absl::StatusOr<Json> ParseObject(std::string_view text, const std::string& what);

}  // namespace remediator::detection::internal

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_JSON_UTIL_H_
