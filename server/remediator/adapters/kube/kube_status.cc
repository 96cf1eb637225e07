#include "server/remediator/adapters/kube/kube_status.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "server/common/redact.h"
#include "server/remediator/core/cluster.h"

namespace remediator::kube {
namespace {

absl::StatusCode CodeFor(long http_code, const std::string& reason) {
  switch (http_code) {
    case 400:
    case 415:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return reason == "AlreadyExists" ? absl::StatusCode::kAlreadyExists
                                       : absl::StatusCode::kAborted;
    case 410:
      return absl::StatusCode::kOutOfRange;
    case 429:
      return absl::StatusCode::kUnavailable;
    default:
      break;
  }
  if (http_code >= 500) return absl::StatusCode::kUnavailable;
  if (reason == "Expired" || reason == "Gone") return absl::StatusCode::kOutOfRange;
  return absl::StatusCode::kUnknown;
}

absl::Status Build(long http_code, const nlohmann::json& status, const std::string& fallback,
                   const std::string& what) {
  std::string reason;
  std::string message = fallback;
  if (status.is_object()) {
    reason = status.value("reason", std::string());
    message = status.value("message", fallback);
    if (status.contains("/details/causes"_json_pointer) &&
        status.at("/details/causes"_json_pointer).is_array()) {
      for (const nlohmann::json& cause : status.at("/details/causes"_json_pointer)) {
        if (!cause.is_object()) continue;
        const std::string field = cause.value("field", std::string());
        const std::string text = cause.value("message", std::string());
        if (text.empty() || message.find(text) != std::string::npos) continue;
        absl::StrAppend(&message, "; ", field.empty() ? "" : field + ": ", text);
      }
    }
  }
  if (message.size() > 2000) message.resize(2000);
  absl::Status out(CodeFor(http_code, reason),
                   absl::StrCat(what, ": ", http_code, reason.empty() ? "" : " " + reason,
                                message.empty() ? "" : ": " + RedactSecrets(message)));
  out.SetPayload(kKubeHttpCodePayload, absl::Cord(absl::StrCat(http_code)));
  if (!reason.empty()) out.SetPayload(kKubeReasonPayload, absl::Cord(reason));
  return out;
}

}  // namespace

absl::Status KubeHttpError(long http_code, const std::string& body, const std::string& what) {
  nlohmann::json status = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string fallback = body.substr(0, 300);
  while (!fallback.empty() && (fallback.back() == '\n' || fallback.back() == '\r')) {
    fallback.pop_back();
  }
  if (status.is_object() && status.value("kind", std::string()) != "Status") {
    status = nlohmann::json();
  }
  return Build(http_code, status, fallback, what);
}

absl::Status KubeStatusObjectError(const nlohmann::json& status, const std::string& what) {
  long code = 500;
  if (status.is_object() && status.contains("code") && status["code"].is_number_integer()) {
    code = status["code"].get<long>();
  }
  return Build(code, status, "watch error event", what);
}

}  // namespace remediator::kube
