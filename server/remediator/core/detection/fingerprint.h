// Incident identity and severity (design.md §4).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_FINGERPRINT_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_FINGERPRINT_H_

#include <string>

#include "remediator/v1/remediator.pb.h"

namespace remediator::detection {

// Stable hash of (cluster, namespace, workload kind, workload name, error class): 16 lower-case
// hex digits of FNV-1a 64 over the five fields joined by '\x1f', the class written as its proto
// enum name ("ERROR_CLASS_OOM_KILLED"). Container, pod, reason and text do not take part, so
// repeats of one failure of one workload (new pods, other containers, other wording) share a
// fingerprint. Stable across processes, builds and platforms; "" cluster means the default one.
std::string Fingerprint(const v1::Detection& detection);
std::string Fingerprint(const v1::WorkloadRef& workload, v1::ErrorClass error_class);

// "critical" (the workload cannot run: oom_killed, crash_loop, image_pull, config_error,
// unschedulable, admission_rejected), "high" (degraded: probe_failure, evicted, app_error_log),
// "low" (none, unspecified).
std::string SeverityForClass(v1::ErrorClass error_class);

}  // namespace remediator::detection

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_FINGERPRINT_H_
