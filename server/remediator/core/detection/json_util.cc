#include "server/remediator/core/detection/json_util.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace remediator::detection::internal {

const Json* Field(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const Json* Path(const Json& obj, std::initializer_list<std::string_view> keys) {
  const Json* cur = &obj;
  for (std::string_view k : keys) {
    cur = Field(*cur, k);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::string Str(const Json& obj, std::string_view key) {
  const Json* v = Field(obj, key);
  return (v != nullptr && v->is_string()) ? v->get<std::string>() : std::string();
}

std::string StrPath(const Json& obj, std::initializer_list<std::string_view> keys) {
  const Json* v = Path(obj, keys);
  return (v != nullptr && v->is_string()) ? v->get<std::string>() : std::string();
}

int64_t Int(const Json& obj, std::string_view key, int64_t fallback) {
  const Json* v = Field(obj, key);
  if (v == nullptr || !v->is_number()) return fallback;
  return v->is_number_float() ? static_cast<int64_t>(v->get<double>()) : v->get<int64_t>();
}

const Json& Array(const Json& obj, std::string_view key) {
  static const Json* const kEmpty = new Json(Json::array());
  const Json* v = Field(obj, key);
  return (v != nullptr && v->is_array()) ? *v : *kEmpty;
}

absl::StatusOr<Json> ParseObject(std::string_view text, const std::string& what) {
  Json json;
  try {
    json = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not valid JSON: ", e.what()));
  }
  if (!json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected a JSON object, got ", json.type_name()));
  }
  return json;
}

}  // namespace remediator::detection::internal
