// Null-safe reads of JSON objects from outside (API servers, repositories, models): a missing
// key, a null or a value of another type reads as the default instead of throwing, which
// nlohmann::json::value() does when the key exists with another type (e.g. "eventTime": null).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_MANIFEST_JSON_ACCESS_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_MANIFEST_JSON_ACCESS_H_

#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"

namespace remediator::manifest {

// The member `key` of `object`, or a null value.
inline const nlohmann::json& At(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

inline std::string Str(const nlohmann::json& object, const char* key,
                       const std::string& fallback = "") {
  const nlohmann::json& v = At(object, key);
  return v.is_string() ? v.get<std::string>() : fallback;
}

inline int64_t Int(const nlohmann::json& object, const char* key, int64_t fallback = 0) {
  const nlohmann::json& v = At(object, key);
  return v.is_number_integer() || v.is_number_unsigned() ? v.get<int64_t>() : fallback;
}

}  // namespace remediator::manifest

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_MANIFEST_JSON_ACCESS_H_
