// Pure decision logic of `kubectl rollout status` and `kubectl rollout undo` for Deployments, on
// the JSON objects the API server returns (api-contracts.md §3.7, §3.8). Cluster implementations
// call these after reading the objects, so every implementation decides the same way.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_KUBE_ROLLOUT_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_KUBE_ROLLOUT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "server/remediator/core/cluster.h"

namespace remediator {

// Evaluates a Deployment like kubectl's DeploymentStatusViewer, in kubectl's order:
//   generation > observedGeneration        -> not done, "Waiting for deployment spec update..."
//   Progressing reason ProgressDeadlineExceeded -> failed, `deployment "X" exceeded its progress
//                                              deadline`
//   updatedReplicas < spec.replicas        -> not done, "N out of M new replicas have been updated"
//   replicas > updatedReplicas             -> not done, "N old replicas are pending termination"
//   availableReplicas < updatedReplicas    -> not done, "N of M updated replicas are available"
//   otherwise                              -> done, `deployment "X" successfully rolled out`
// Missing counters count as 0 (as in Go). InvalidArgument when `deployment` is not an object.
absl::StatusOr<RolloutStatus> EvaluateDeploymentRollout(const nlohmann::json& deployment);

// kubectl's DaemonSetStatusViewer: FailedPrecondition unless updateStrategy is RollingUpdate (the
// default); "Waiting for daemon set spec update to be observed...", "N out of M new pods have been
// updated...", "N of M updated pods are available...", `daemon set "X" successfully rolled out`.
absl::StatusOr<RolloutStatus> EvaluateDaemonSetRollout(const nlohmann::json& daemonset);

// kubectl's StatefulSetStatusViewer: FailedPrecondition unless updateStrategy is RollingUpdate;
// observedGeneration, readyReplicas, a partitioned rollout, then updateRevision vs
// currentRevision ("statefulset rolling update complete N pods at revision R...").
absl::StatusOr<RolloutStatus> EvaluateStatefulSetRollout(const nlohmann::json& statefulset);

// Dispatches on `kind` ("Deployment", "DaemonSet", "StatefulSet"); Unimplemented otherwise.
absl::StatusOr<RolloutStatus> EvaluateRollout(const nlohmann::json& workload);

// What `kubectl rollout undo` would send.
struct RollbackPlan {
  bool skip = false;          // the chosen template already matches the current one
  int64_t revision = 0;       // the revision rolled back to
  nlohmann::json json_patch;  // [{"op":"replace","path":"/spec/template",...},
                              //  {"op":"replace","path":"/metadata/annotations",...}]
};

// Picks the ReplicaSet controlled by `deployment` (ownerReferences controller=true, uid match)
// with the second-highest `deployment.kubernetes.io/revision` (to_revision == 0) or exactly
// `to_revision`, and builds the JSON patch: its template without the pod-template-hash label, and
// the Deployment's annotations merged like kubectl (keep the Deployment's last-applied, revision,
// revision-history, desired-replicas, max-replicas, rollback.to; copy the others from the RS).
// NotFound `no rollout history found for deployment "X"` / `unable to find specified revision N in
// history`; FailedPrecondition for a paused Deployment.
absl::StatusOr<RollbackPlan> PlanDeploymentRollback(const nlohmann::json& deployment,
                                                    const std::vector<nlohmann::json>& replicasets,
                                                    int64_t to_revision);

// spec.selector.matchLabels (+ matchExpressions In/NotIn/Exists/DoesNotExist) as a label selector
// string. InvalidArgument for a missing selector or an unknown operator.
absl::StatusOr<std::string> LabelSelectorString(const nlohmann::json& selector);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_KUBE_ROLLOUT_H_
