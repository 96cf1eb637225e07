// The simulated default-scheduler's filter phase: which node a pending pod binds to, or the
// FailedScheduling message a v1.32 scheduler gives when no node fits. Filters run per node in the
// default profile's order and stop at the first that rejects the node: NodeUnschedulable,
// TaintToleration, NodeAffinity (nodeSelector + required node affinity), NodeResourcesFit
// (requests against allocatable minus the requests of pods already bound). Pure functions.
#ifndef REMEDIATOR_SERVER_KUBESIM_SCHEDULER_H_
#define REMEDIATOR_SERVER_KUBESIM_SCHEDULER_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace remediator::kubesim {

struct ScheduleDecision {
  std::string node;     // the chosen node; empty when none fits
  std::string message;  // when none fits: "0/2 nodes are available: 2 Insufficient memory. ..."
};

// `nodes` are Node objects (spec.taints, spec.unschedulable, metadata.labels,
// status.allocatable), `pods` every pod in the cluster (bound ones count against their node).
// The message has the real grammar: "0/<N> nodes are available: <count> <reason>, ... .
// preemption: 0/<N> nodes are available: <count> No preemption victims found for incoming pod,
// <count> Preemption is not helpful for scheduling." with each list sorted as strings.
// `prefilter`, when not empty, is a PreFilter plugin's rejection (the VolumeBinding plugin's
// `persistentvolumeclaim "x" not found`): every node fails with it and preemption cannot help.
ScheduleDecision SchedulePod(const nlohmann::json& pod, const std::vector<nlohmann::json>& nodes,
                             const std::vector<nlohmann::json>& pods,
                             const std::string& prefilter = "");

// The pod's request of `resource` ("cpu" in millicores, "memory" in bytes): per container the
// request, else the limit (the apiserver defaults requests to limits).
int64_t PodRequest(const nlohmann::json& pod, const std::string& resource);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_SCHEDULER_H_
