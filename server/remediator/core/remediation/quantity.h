// Kubernetes resource quantities ("128Mi", "1.5Gi", "500m", "2", "1e3", "4k") as numbers, and
// back, so that playbooks and the guard can compare and scale memory and CPU.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_QUANTITY_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_QUANTITY_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace remediator::remediation {

// The quantity in base units (bytes for memory, cores for CPU). Accepts a JSON string or number.
// InvalidArgument for anything Kubernetes would not accept.
absl::StatusOr<double> ParseQuantity(const nlohmann::json& value);

// Bytes as the largest binary unit that keeps a whole number of it ("96Mi", "1536Mi", "2Gi"),
// rounded up to a whole Mi.
std::string FormatMemory(double bytes);

// Cores as millicores ("250m") or whole cores ("2"), rounded up to a whole millicore.
std::string FormatCpu(double cores);

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_QUANTITY_H_
