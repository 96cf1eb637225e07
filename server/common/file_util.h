// Small file helpers returning absl::Status instead of throwing or setting errno.
#ifndef REMEDIATOR_SERVER_COMMON_FILE_UTIL_H_
#define REMEDIATOR_SERVER_COMMON_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace remediator {

// Returns the whole content of `path`; NotFound or PermissionDenied naming the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `content` to `path` atomically (temporary file, fsync, rename) so that a crash leaves
// either the old or the new content, never a torn file.
absl::Status WriteFileAtomically(const std::string& path, const std::string& content);

// Creates `path` and its parents if missing.
absl::Status MakeDirectories(const std::string& path);

// An errno value as a Status with the right code, prefixed by `context`.
absl::Status ErrnoToStatus(int error_number, const std::string& context);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_FILE_UTIL_H_
