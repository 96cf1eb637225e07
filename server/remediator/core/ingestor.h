// Ingestor is the detection pipeline's single entry: observations from every source (the
// ReportError RPCs, the Kubernetes watch, Loki) are classified and their failures stored as
// incidents, deduplicated by fingerprint.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_INGESTOR_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_INGESTOR_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "remediator/v1/remediator.pb.h"
#include "server/common/clock.h"
#include "server/remediator/core/classifier.h"
#include "server/remediator/core/incident_store.h"

namespace remediator {

// Thread-safe (its collaborators are).
class Ingestor {
 public:
  // All borrowed; they must outlive the Ingestor.
  Ingestor(const Classifier& classifier, IncidentStore& store, Clock& clock)
      : classifier_(classifier), store_(store), clock_(clock) {}

  // Classifies every observation, then records the failures in one store transaction. Repeats of
  // one failure in a batch are folded into one store update with their count. Returns one
  // detection per observation, in order, each failure carrying its incident id.
  // InvalidArgument "observations[i]: ..." for the first malformed observation, and then
  // nothing at all is stored (the caller can fix the batch and resend it whole).
  absl::StatusOr<std::vector<v1::Detection>> Ingest(
      const google::protobuf::RepeatedPtrField<v1::Observation>& observations);

  // Called after every Ingest that recorded a failure (the pipeline's Wake). Null: nothing.
  void OnRecorded(std::function<void()> hook) {
    absl::MutexLock lock(&hook_mu_);
    on_recorded_ = std::move(hook);
  }

 private:
  absl::Mutex hook_mu_;
  std::function<void()> on_recorded_ ABSL_GUARDED_BY(hook_mu_);
  const Classifier& classifier_;
  IncidentStore& store_;
  Clock& clock_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_INGESTOR_H_
