// Mapping of Kubernetes `Status` errors (api-contracts.md §3.3) to absl::Status, as documented in
// server/remediator/core/cluster.h. The HTTP code and the reason travel as payloads.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_KUBE_STATUS_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_KUBE_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace remediator::kube {

// The error for a non-2xx answer. `body` is the response body (a Status object when the server is
// a real API server; anything else is tolerated). `what` names the request, e.g.
// "GET /api/v1/namespaces/app/pods/web-0". The message is "<what>: <code> <reason>: <message>".
absl::Status KubeHttpError(long http_code, const std::string& body, const std::string& what);

// The error for a Status object received in a watch stream (type ERROR); its `code` field stands
// for the HTTP code (410 -> OutOfRange).
absl::Status KubeStatusObjectError(const nlohmann::json& status, const std::string& what);

}  // namespace remediator::kube

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_KUBE_STATUS_H_
