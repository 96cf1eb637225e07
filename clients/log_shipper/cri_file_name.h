// The pod identity encoded in a kubelet log symlink name (k8s-failures.md §3.11):
//   /var/log/containers/<pod>_<namespace>_<container>-<64 hex container id>.log
#ifndef REMEDIATOR_CLIENTS_LOG_SHIPPER_CRI_FILE_NAME_H_
#define REMEDIATOR_CLIENTS_LOG_SHIPPER_CRI_FILE_NAME_H_

#include <string>

#include "absl/status/statusor.h"

namespace remediator::log_shipper {

struct PodIdentity {
  std::string namespace_name;
  std::string pod;
  std::string container;
};

// InvalidArgument naming the file when its base name does not have the shape above.
absl::StatusOr<PodIdentity> ParseCriLogFileName(const std::string& path);

}  // namespace remediator::log_shipper

#endif  // REMEDIATOR_CLIENTS_LOG_SHIPPER_CRI_FILE_NAME_H_
