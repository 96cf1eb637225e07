// The pod identity encoded in a kubelet log symlink name (k8s-failures.md §3.11):
//   /var/log/containers/<pod>_<namespace>_<container>-<64 hex container id>.log
#ifndef REMEDIATOR_CLIENTS_LOG_SHIPPER_CRI_FILE_NAME_H_
#define REMEDIATOR_CLIENTS_LOG_SHIPPER_CRI_FILE_NAME_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace remediator::log_shipper {

struct PodIdentity {
  std::string namespace_name;
  std::string pod;
  std::string container;
};

// InvalidArgument naming the file when its base name does not have the shape above.
absl::StatusOr<PodIdentity> ParseCriLogFileName(const std::string& path);

// `text` with every byte that is not part of a valid UTF-8 sequence written as "\xNN" (and every
// backslash that starts such an escape doubled, so the result reads back unambiguously). Valid
// UTF-8 comes back unchanged. File names are bytes on Linux, but the API's string fields must be
// UTF-8: a batch with a raw non-UTF-8 name cannot be parsed by the server.
std::string EscapeInvalidUtf8(std::string_view text);

}  // namespace remediator::log_shipper

#endif  // REMEDIATOR_CLIENTS_LOG_SHIPPER_CRI_FILE_NAME_H_
