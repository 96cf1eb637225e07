// Internal: the classifiers behind Detector, one per kind of input. Each returns a Finding
// (ERROR_CLASS_NONE when nothing is wrong) or InvalidArgument for input of the wrong shape.
// The rules and their precedence are documented in detector.h.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_CLASSIFIERS_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_CLASSIFIERS_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/remediator/core/detection/finding.h"
#include "server/remediator/core/detection/json_util.h"
#include "server/remediator/core/detection/line_matcher.h"
#include "server/remediator/core/detection/log_sources.h"

namespace remediator::detection::internal {

struct PodContext {
  // When the pod was observed; unset disables the readiness grace period.
  std::optional<absl::Time> observed;
  absl::Duration readiness_grace = absl::Seconds(60);
};

// `pod` is a core/v1 Pod object (kind "Pod" or no kind).
absl::StatusOr<Finding> ClassifyPod(const Json& pod, const PodContext& context);

// `event` is a core/v1 or events.k8s.io/v1 Event.
absl::StatusOr<Finding> ClassifyEvent(const Json& event);

struct LogRules {
  const LineMatcher* matcher = nullptr;
  // Weak matches (or matches demoted by the line's own level) needed for a detection.
  int weak_threshold = 3;
};

// Shared message rules (k8s_rules.cc).
// "(combined from similar events): " removed (client-go event aggregation).
std::string StripCombinedPrefix(std::string message);
// Whether a FailedScheduling / Unschedulable message points at something the workload's manifest
// controls (requests, nodeSelector/affinity, anti-affinity, topology spread) and at nothing it
// does not (GPUs and other extended resources, PVCs, cordoned/tainted-only, pod count).
bool SchedulingFixableByManifest(const std::string& message);
// Whether an image pull error says the registry could not be reached (node/network problem).
bool RegistryUnreachable(const std::string& message);
// The container named in an eviction message ("Container x was using ..."), or "".
std::string EvictedContainer(const std::string& message);
// Whether an eviction message blames the pod's own usage (requests/limits) rather than the node.
bool EvictionFixableByManifest(const std::string& message);
// The container in a fieldPath "spec.containers{c}" / "spec.initContainers{c}", or "".
std::string ContainerFromFieldPath(const std::string& field_path);

// One finding for all batches: the strongest across them (see detector.h).
Finding ClassifyLogs(const std::vector<LogBatch>& batches, const LogRules& rules);

}  // namespace remediator::detection::internal

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_CLASSIFIERS_H_
