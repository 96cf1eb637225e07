// ManifestSource finds the manifest a workload was deployed from — in the GitOps repository —
// so that a fix edits the file people maintain and can become a pull request.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_MANIFEST_SOURCE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_MANIFEST_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "remediator/v1/remediator.pb.h"

namespace remediator::remediation {

struct ManifestRecord {
  // The workload's document, parsed.
  nlohmann::json object;
  // The file (relative to the repository root), the document's index in it, the whole file's
  // text, and the commit it was read at.
  std::string path;
  int document = 0;
  std::string text;
  std::string commit;
};

// Thread-safe.
class ManifestSource {
 public:
  virtual ~ManifestSource() = default;
  // The manifest of `workload` (kind, namespace, name). NotFound when the repository does not
  // hold it; other errors when the repository cannot be read.
  virtual absl::StatusOr<ManifestRecord> Find(const v1::WorkloadRef& workload) = 0;
};

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_MANIFEST_SOURCE_H_
