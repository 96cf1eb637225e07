// Table columns and cells of the kinds beyond workloads (storage, RBAC, networking, batch,
// policy, scheduling), as kube-apiserver's printers (pkg/printers/internalversion) print them.
// Used by tables.cc.
#ifndef REMEDIATOR_SERVER_KUBESIM_TABLES_MORE_H_
#define REMEDIATOR_SERVER_KUBESIM_TABLES_MORE_H_

#include <string>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace remediator::kubesim {

// The column definitions of `resource`; false when this file does not print it.
bool MoreColumns(const std::string& resource, nlohmann::json* columns);
// The row cells of `obj` (of `resource`) at `now`; false when this file does not print it.
bool MoreCells(const std::string& resource, const nlohmann::json& obj, absl::Time now,
               nlohmann::json* cells);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_TABLES_MORE_H_
