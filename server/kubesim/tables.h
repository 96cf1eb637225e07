// Server-side printing: meta.k8s.io/v1 Table responses with the apiserver's column sets.
#ifndef REMEDIATOR_SERVER_KUBESIM_TABLES_H_
#define REMEDIATOR_SERVER_KUBESIM_TABLES_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/kubesim/resources.h"

namespace remediator::kubesim {

// A Table of `objects` at simulated time `now`. `resource_version` goes into metadata (needed by
// `kubectl get -w`). Without column definitions when `with_columns` is false (watch events).
nlohmann::json ToTable(const ResourceType& type, const std::vector<nlohmann::json>& objects,
                       absl::Time now, const std::string& resource_version,
                       bool with_columns = true);

// True when an Accept header asks for a Table ("as=Table").
bool WantsTable(const std::string& accept);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_TABLES_H_
