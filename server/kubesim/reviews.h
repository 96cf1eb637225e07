// Answers to the authorization.k8s.io and authentication.k8s.io review requests
// (SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview,
// SelfSubjectRulesReview, SelfSubjectReview) from RBAC (rbac.h), and the TokenRequest of
// `kubectl create token`.
#ifndef REMEDIATOR_SERVER_KUBESIM_REVIEWS_H_
#define REMEDIATOR_SERVER_KUBESIM_REVIEWS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/kubesim/rbac.h"
#include "server/kubesim/store.h"

namespace remediator::kubesim {

// The review object answered for a POST to `/apis/<group>/v1[/namespaces/<ns>]/<resource>` by
// `requester`: the request's spec with a status. 404 NotFound for an unknown review resource,
// 400 when the body lacks the attributes the review needs.
absl::StatusOr<nlohmann::json> AnswerReview(const Store& store, const UserInfo& requester,
                                            const std::string& group, const std::string& resource,
                                            const std::string& ns, const nlohmann::json& body);

// The TokenRequest answer for service account `sa`: a JWT-shaped token for
// system:serviceaccount:<ns>:<name> expiring after spec.expirationSeconds (default 1 h).
nlohmann::json IssueToken(const nlohmann::json& sa, const nlohmann::json& request, absl::Time now);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_REVIEWS_H_
