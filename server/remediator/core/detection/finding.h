// Internal: what a classifier found, before the Detector turns it into a v1::Detection
// (redaction and bounds are applied there, once).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_FINDING_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_FINDING_H_

#include <string>
#include <vector>

#include "remediator/v1/remediator.pb.h"

namespace remediator::detection::internal {

struct Finding {
  v1::ErrorClass error_class = v1::ERROR_CLASS_NONE;
  bool fixable_by_manifest = false;
  // Kubernetes reason or pattern name.
  std::string reason;
  // One sentence, not yet redacted.
  std::string summary;
  // Excerpts, not yet redacted or bounded.
  std::vector<std::string> evidence;
  // cluster is filled by the Detector.
  v1::WorkloadRef workload;
};

// "Deployment shop/web" / "pod shop/web-1" / "node worker-1": a short subject for summaries.
std::string Subject(const v1::WorkloadRef& w);

}  // namespace remediator::detection::internal

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_FINDING_H_
