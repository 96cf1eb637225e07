#include "server/remediator/core/ingestor.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/common/time_util.h"

namespace remediator {

absl::StatusOr<std::vector<v1::Detection>> Ingestor::Ingest(
    const google::protobuf::RepeatedPtrField<v1::Observation>& observations) {
  const absl::Time now = clock_.Now();
  std::vector<v1::Detection> detections;
  detections.reserve(observations.size());
  // Failures folded by fingerprint, in first-seen order, with the detections they stand for.
  std::vector<DetectionToRecord> to_record;
  std::vector<std::vector<size_t>> members;
  std::map<std::string, size_t> slot_by_fingerprint;

  for (int i = 0; i < observations.size(); ++i) {
    const v1::Observation& observation = observations[i];
    absl::StatusOr<v1::Detection> detection = classifier_.Classify(observation);
    if (!detection.ok()) {
      return absl::Status(detection.status().code(),
                          absl::StrCat("observations[", i, "]: ", detection.status().message()));
    }
    detection->set_index(i);
    if (detection->workload().cluster().empty() && !observation.cluster().empty()) {
      detection->mutable_workload()->set_cluster(observation.cluster());
    }
    const bool failure = detection->error_class() != v1::ERROR_CLASS_NONE &&
                         detection->error_class() != v1::ERROR_CLASS_UNSPECIFIED;
    if (failure) {
      const absl::Time seen =
          observation.has_observed_time() ? FromProtoTime(observation.observed_time()) : now;
      std::string fingerprint = classifier_.Fingerprint(*detection);
      auto [it, inserted] = slot_by_fingerprint.emplace(fingerprint, to_record.size());
      if (inserted) {
        to_record.push_back(DetectionToRecord{*detection, std::move(fingerprint),
                                              classifier_.Severity(*detection), seen, 1});
        members.emplace_back();
      } else {
        DetectionToRecord& slot = to_record[it->second];
        ++slot.count;
        if (seen > slot.seen) slot.seen = seen;
        // Keep the latest evidence and pod, as the store keeps the latest.
        for (const auto& line : detection->evidence()) slot.detection.add_evidence(line);
        if (!detection->workload().pod().empty()) {
          slot.detection.mutable_workload()->set_pod(detection->workload().pod());
        }
      }
      members[it->second].push_back(detections.size());
    }
    detections.push_back(*std::move(detection));
  }

  if (to_record.empty()) return detections;
  ASSIGN_OR_RETURN(std::vector<RecordedIncident> recorded, store_.RecordDetections(to_record));
  for (size_t slot = 0; slot < recorded.size(); ++slot) {
    bool first = true;
    for (size_t index : members[slot]) {
      detections[index].set_incident_id(recorded[slot].incident.id());
      detections[index].set_new_incident(recorded[slot].created && first);
      first = false;
    }
  }
  {
    absl::MutexLock lock(&hook_mu_);
    if (on_recorded_) on_recorded_();
  }
  return detections;
}

}  // namespace remediator
