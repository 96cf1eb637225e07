// Detector: turns one Observation (pod status, event, watch event, CRI log lines, pod-log text,
// Loki result) into one Detection: an error class, the workload it belongs to, whether a manifest
// edit can fix it, and redacted words and excerpts for people.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Detector> detector, Detector::Create());
//   absl::StatusOr<v1::Detection> d = detector->Detect(observation);
//   if (d.ok() && d->error_class() != v1::ERROR_CLASS_NONE) { ... Fingerprint(*d) ... }
//
// Contract of Detect:
//   - Exactly one Detection per Observation. error_class is ERROR_CLASS_NONE when nothing is
//     wrong (the workload is still filled in when it can be derived); never UNSPECIFIED.
//   - InvalidArgument, with a message naming the field and the problem, for: no payload set, bad
//     JSON, a JSON object of the wrong kind (a Pod in event_json...), a watch event without
//     "type"/"object" or with an object that is neither Pod nor Event, a CRI line that is not CRI,
//     an unparseable log_file / request path when the identity fields are empty, a Loki response
//     that is not a successful "streams" result.
//   - Fills error_class, workload {cluster (from Observation.cluster), namespace, kind, name,
//     container, pod}, fixable_by_manifest, reason, summary, evidence. Leaves index, incident_id
//     and new_incident to the caller. Fields that cannot be derived are empty (a node-scoped OOM
//     event has no namespace or workload).
//   - summary is one sentence and evidence at most Options::max_evidence excerpts of at most
//     Options::max_evidence_bytes bytes each; both pass through RedactSecrets (server/common) and
//     are valid UTF-8 (log bytes that are not become U+FFFD), as proto3 strings must be.
//   - Pure function of the observation: thread-safe, no I/O, no clock (observed_time is used
//     only for the readiness grace period).
//
// Classification (details in the .cc files of each classifier):
//   Pods   (pod_classifier.cc): Evicted > Succeeded(none) > per container OOMKilled (also a
//          runtime "container init was OOM-killed" message; checked before CrashLoopBackOff) >
//          image pull reasons > CreateContainerConfigError & mount start errors > CrashLoopBackOff
//          (classified via lastState.terminated) > PodScheduled=False/Unschedulable > running but
//          not ready (probe_failure; skipped within readiness_grace of container start when
//          observed_time is set). Workload through ownerReferences (workload_resolver.h).
//   Events (event_classifier.cc): by reason and source first, message second; "(combined from
//          similar events): " stripped; core/v1 and events.k8s.io/v1. A lone BackOff restart event
//          is crash_loop with fixable_by_manifest=false. Node-scoped OOM events have no workload.
//          Workload from involvedObject/regarding by naming patterns; container from fieldPath.
//   Watch events: ADDED/MODIFIED/DELETED unwrap to their object; BOOKMARK and ERROR are none.
//   Logs   (log_classifier.cc): LineMatcher over every logical line (CRI P chunks joined).
//          Kill/OOM signatures -> oom_killed; other signatures -> app_error_log with their own
//          fixable flag. One strong match decides; weak matches (and strong patterns on lines
//          that declare a level below error or a retry) need weak_threshold repetitions.
//          For Loki, each stream is judged alone and the strongest result is returned.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_DETECTOR_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_DETECTOR_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "remediator/v1/remediator.pb.h"
#include "server/remediator/core/detection/line_matcher.h"

namespace remediator::detection {

class Detector {
 public:
  struct Options {
    size_t max_evidence = 5;
    size_t max_evidence_bytes = 512;
    size_t max_summary_bytes = 400;
    int weak_threshold = 3;
    absl::Duration readiness_grace = absl::Seconds(60);
  };

  // With DefaultLogPatterns().
  static absl::StatusOr<std::unique_ptr<Detector>> Create();
  static absl::StatusOr<std::unique_ptr<Detector>> Create(Options options,
                                                          std::vector<PatternSpec> log_patterns);

  absl::StatusOr<v1::Detection> Detect(const v1::Observation& observation) const;

  const LineMatcher& line_matcher() const { return *matcher_; }

 private:
  Detector(Options options, std::unique_ptr<LineMatcher> matcher);

  Options options_;
  std::unique_ptr<LineMatcher> matcher_;
};

}  // namespace remediator::detection

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_DETECTOR_H_
