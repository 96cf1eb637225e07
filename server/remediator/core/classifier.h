// Classifier turns one observation of a cluster into a detection: an error class, the workload it
// belongs to, and the evidence. It is the seam between the ingestion pipeline (which stores
// incidents) and the detection rules (server/remediator/core/detection).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_CLASSIFIER_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_CLASSIFIER_H_

#include <string>

#include "absl/status/statusor.h"
#include "remediator/v1/remediator.pb.h"

namespace remediator {

// Implementations are thread-safe and hold no per-call state.
class Classifier {
 public:
  virtual ~Classifier() = default;

  // Returns exactly one detection for `observation`: ERROR_CLASS_NONE when nothing is wrong.
  // InvalidArgument, saying what is malformed, when the observation cannot be read (bad JSON,
  // an object of the wrong kind, an empty payload).
  virtual absl::StatusOr<v1::Detection> Classify(const v1::Observation& observation) const = 0;

  // The dedup key of a failure: stable across restarts and replicas, built from the cluster,
  // namespace, workload kind and name, and error class (design.md §4).
  virtual std::string Fingerprint(const v1::Detection& detection) const = 0;

  // "critical", "high" or "low", from the error class.
  virtual std::string Severity(const v1::Detection& detection) const = 0;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_CLASSIFIER_H_
