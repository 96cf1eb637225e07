// Kubernetes API errors (metav1.Status) carried inside absl::Status.
#ifndef REMEDIATOR_SERVER_KUBESIM_API_ERROR_H_
#define REMEDIATOR_SERVER_KUBESIM_API_ERROR_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace remediator::kubesim {

// Builds a Status error with the exact HTTP code, reason and message kubectl prints, plus
// `details` ({name, group, kind, causes}). The absl code is derived from `http_code`.
absl::Status ApiError(int http_code, const std::string& reason, const std::string& message,
                      const nlohmann::json& details = nlohmann::json::object());

// Common shapes. `group_resource` is like "deployments.apps" or "pods".
absl::Status NotFoundError(const std::string& group_resource, const std::string& name);
absl::Status AlreadyExistsError(const std::string& group_resource, const std::string& name);
absl::Status ConflictError(const std::string& group_resource, const std::string& name);
absl::Status BadRequestError(const std::string& message);
// 422 Invalid: `kind_group` like "Deployment.apps"; causes are {field, message, reason}.
struct FieldCause {
  std::string field;
  std::string message;  // "Required value", "Invalid value: ...: must be ..."
  std::string reason;   // FieldValueRequired / FieldValueInvalid
};
absl::Status InvalidError(const std::string& kind_group, const std::string& name,
                          const std::vector<FieldCause>& causes);

// The metav1.Status JSON for `status` (and its HTTP code). A status without an ApiError payload
// maps by code: NotFound 404, AlreadyExists 409, Aborted 409 Conflict, InvalidArgument 422
// Invalid, FailedPrecondition 400, OutOfRange 410 Expired, Unauthenticated 401,
// Unimplemented 415, everything else 500.
nlohmann::json StatusJson(const absl::Status& status, int* http_code);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_API_ERROR_H_
