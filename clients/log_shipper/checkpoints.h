// Per-file read positions acknowledged by the server, kept in <state-dir>/checkpoints: one line
// per file, "<device> <inode> <offset> <path>", replaced atomically (write + rename) so a crash
// leaves the previous or the new version, never a mix.
#ifndef REMEDIATOR_CLIENTS_LOG_SHIPPER_CHECKPOINTS_H_
#define REMEDIATOR_CLIENTS_LOG_SHIPPER_CHECKPOINTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/log_shipper/file_tailer.h"

namespace remediator::log_shipper {

struct Checkpoint {
  std::string path;
  FileId id;
  uint64_t offset = 0;
};

// An absent file is an empty list. InvalidArgument naming file and line for a malformed line.
absl::StatusOr<std::vector<Checkpoint>> LoadCheckpoints(const std::string& file);
absl::Status SaveCheckpoints(const std::string& file, const std::vector<Checkpoint>& checkpoints);

}  // namespace remediator::log_shipper

#endif  // REMEDIATOR_CLIENTS_LOG_SHIPPER_CHECKPOINTS_H_
