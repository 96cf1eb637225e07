#include "server/kubesim/api_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;

constexpr char kPayloadUrl[] = "type.kubesim/metav1.Status";

absl::StatusCode CodeFor(int http) {
  switch (http) {
    case 400:
      return absl::StatusCode::kFailedPrecondition;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 405:
      return absl::StatusCode::kUnimplemented;
    case 409:
      return absl::StatusCode::kAborted;
    case 410:
      return absl::StatusCode::kOutOfRange;
    case 415:
      return absl::StatusCode::kUnimplemented;
    case 422:
      return absl::StatusCode::kInvalidArgument;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status ApiError(int http_code, const std::string& reason, const std::string& message,
                      const json& details) {
  json status = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
                 {"status", "Failure"}, {"message", message}, {"reason", reason},
                 {"code", http_code}};
  if (!details.empty()) status["details"] = details;
  absl::Status s(CodeFor(http_code), message);
  s.SetPayload(kPayloadUrl, absl::Cord(status.dump()));
  return s;
}

namespace {
json DetailsFor(const std::string& group_resource, const std::string& name) {
  size_t dot = group_resource.find('.');
  json d = {{"name", name}, {"kind", group_resource.substr(0, dot)}};
  if (dot != std::string::npos) d["group"] = group_resource.substr(dot + 1);
  return d;
}
}  // namespace

absl::Status NotFoundError(const std::string& group_resource, const std::string& name) {
  return ApiError(404, "NotFound", absl::StrCat(group_resource, " \"", name, "\" not found"),
                  DetailsFor(group_resource, name));
}

absl::Status AlreadyExistsError(const std::string& group_resource, const std::string& name) {
  return ApiError(409, "AlreadyExists",
                  absl::StrCat(group_resource, " \"", name, "\" already exists"),
                  DetailsFor(group_resource, name));
}

absl::Status ConflictError(const std::string& group_resource, const std::string& name) {
  return ApiError(409, "Conflict",
                  absl::StrCat("Operation cannot be fulfilled on ", group_resource, " \"", name,
                               "\": the object has been modified; please apply your changes to "
                               "the latest version and try again"),
                  DetailsFor(group_resource, name));
}

absl::Status BadRequestError(const std::string& message) {
  return ApiError(400, "BadRequest", message);
}

absl::Status InvalidError(const std::string& kind_group, const std::string& name,
                          const std::vector<FieldCause>& causes) {
  std::vector<std::string> parts;
  json jcauses = json::array();
  for (const auto& c : causes) {
    parts.push_back(absl::StrCat(c.field, ": ", c.message));
    jcauses.push_back({{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
  }
  std::string list =
      parts.size() == 1 ? parts[0] : absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
  size_t dot = kind_group.find('.');
  json details = {{"name", name}, {"kind", kind_group.substr(0, dot)}, {"causes", jcauses}};
  if (dot != std::string::npos) details["group"] = kind_group.substr(dot + 1);
  return ApiError(422, "Invalid", absl::StrCat(kind_group, " \"", name, "\" is invalid: ", list),
                  details);
}

json StatusJson(const absl::Status& status, int* http_code) {
  if (auto payload = status.GetPayload(kPayloadUrl); payload.has_value()) {
    json j = json::parse(std::string(*payload), nullptr, false);
    if (!j.is_discarded()) {
      *http_code = j.value("code", 500);
      return j;
    }
  }
  int code = 500;
  std::string reason = "InternalError";
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      code = 404;
      reason = "NotFound";
      break;
    case absl::StatusCode::kAlreadyExists:
      code = 409;
      reason = "AlreadyExists";
      break;
    case absl::StatusCode::kAborted:
      code = 409;
      reason = "Conflict";
      break;
    case absl::StatusCode::kInvalidArgument:
      code = 422;
      reason = "Invalid";
      break;
    case absl::StatusCode::kFailedPrecondition:
      code = 400;
      reason = "BadRequest";
      break;
    case absl::StatusCode::kOutOfRange:
      code = 410;
      reason = "Expired";
      break;
    case absl::StatusCode::kUnauthenticated:
      code = 401;
      reason = "Unauthorized";
      break;
    case absl::StatusCode::kUnimplemented:
      code = 415;
      reason = "UnsupportedMediaType";
      break;
    default:
      break;
  }
  *http_code = code;
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", json::object()},
          {"status", "Failure"},
          {"message", std::string(status.message())},
          {"reason", reason},
          {"code", code}};
}

}  // namespace remediator::kubesim
