#include "server/remediator/core/kube_rollout.h"

#include <algorithm>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace remediator {
namespace {

constexpr char kPodTemplateHashLabel[] = "pod-template-hash";

int64_t IntAt(const nlohmann::json& object, const nlohmann::json::json_pointer& pointer) {
  if (!object.contains(pointer)) return 0;
  const nlohmann::json& value = object.at(pointer);
  return value.is_number_integer() ? value.get<int64_t>() : 0;
}

std::string StringAt(const nlohmann::json& object, const nlohmann::json::json_pointer& pointer) {
  if (!object.contains(pointer)) return "";
  const nlohmann::json& value = object.at(pointer);
  return value.is_string() ? value.get<std::string>() : "";
}

// The revision annotation as a number; kubectl treats a missing or bad annotation as 0.
int64_t Revision(const nlohmann::json& object) {
  int64_t revision = 0;
  const std::string text = StringAt(
      object,
      nlohmann::json::json_pointer("/metadata/annotations/deployment.kubernetes.io~1revision"));
  if (!absl::SimpleAtoi(text, &revision)) return 0;
  return revision;
}

// A pod template as compared by kubectl's EqualIgnoreHash: without the pod-template-hash label.
// `metadata.creationTimestamp: null` is dropped too: the server and kubectl's JSON disagree on it.
nlohmann::json NormalizedTemplate(nlohmann::json tmpl) {
  if (!tmpl.is_object()) return tmpl;
  if (tmpl.contains("metadata") && tmpl["metadata"].is_object()) {
    nlohmann::json& metadata = tmpl["metadata"];
    if (metadata.contains("labels") && metadata["labels"].is_object()) {
      metadata["labels"].erase(kPodTemplateHashLabel);
      if (metadata["labels"].empty()) metadata.erase("labels");
    }
    if (metadata.contains("creationTimestamp") && metadata["creationTimestamp"].is_null()) {
      metadata.erase("creationTimestamp");
    }
    if (metadata.empty()) tmpl.erase("metadata");
  }
  return tmpl;
}

bool IsControlledBy(const nlohmann::json& replicaset, const std::string& uid) {
  const nlohmann::json::json_pointer owners("/metadata/ownerReferences");
  if (!replicaset.contains(owners) || !replicaset.at(owners).is_array()) return false;
  for (const nlohmann::json& owner : replicaset.at(owners)) {
    if (owner.value("controller", false) && owner.value("uid", std::string()) == uid) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<RolloutStatus> EvaluateDeploymentRollout(const nlohmann::json& deployment) {
  if (!deployment.is_object()) {
    return absl::InvalidArgumentError("rollout status: the deployment is not a JSON object");
  }
  const std::string name = StringAt(deployment, "/metadata/name"_json_pointer);
  RolloutStatus result;
  const int64_t generation = IntAt(deployment, "/metadata/generation"_json_pointer);
  const int64_t observed = IntAt(deployment, "/status/observedGeneration"_json_pointer);
  if (generation > observed) {
    result.message = "Waiting for deployment spec update to be observed...";
    return result;
  }
  const nlohmann::json::json_pointer conditions("/status/conditions");
  if (deployment.contains(conditions) && deployment.at(conditions).is_array()) {
    for (const nlohmann::json& condition : deployment.at(conditions)) {
      if (condition.value("type", std::string()) == "Progressing" &&
          condition.value("reason", std::string()) == "ProgressDeadlineExceeded") {
        result.failed = true;
        result.message = absl::StrCat("deployment \"", name, "\" exceeded its progress deadline");
        return result;
      }
    }
  }
  const int64_t updated = IntAt(deployment, "/status/updatedReplicas"_json_pointer);
  const int64_t replicas = IntAt(deployment, "/status/replicas"_json_pointer);
  const int64_t available = IntAt(deployment, "/status/availableReplicas"_json_pointer);
  const nlohmann::json::json_pointer spec_replicas("/spec/replicas");
  if (deployment.contains(spec_replicas) && deployment.at(spec_replicas).is_number_integer()) {
    const int64_t wanted = deployment.at(spec_replicas).get<int64_t>();
    if (updated < wanted) {
      result.message =
          absl::StrCat("Waiting for deployment \"", name, "\" rollout to finish: ", updated,
                       " out of ", wanted, " new replicas have been updated...");
      return result;
    }
  }
  if (replicas > updated) {
    result.message = absl::StrCat("Waiting for deployment \"", name,
                                  "\" rollout to finish: ", replicas - updated,
                                  " old replicas are pending termination...");
    return result;
  }
  if (available < updated) {
    result.message =
        absl::StrCat("Waiting for deployment \"", name, "\" rollout to finish: ", available, " of ",
                     updated, " updated replicas are available...");
    return result;
  }
  result.done = true;
  result.message = absl::StrCat("deployment \"", name, "\" successfully rolled out");
  return result;
}

namespace {

absl::Status RequireRollingUpdate(const nlohmann::json& workload) {
  const std::string type = StringAt(workload, "/spec/updateStrategy/type"_json_pointer);
  if (!type.empty() && type != "RollingUpdate") {
    return absl::FailedPreconditionError(
        "rollout status is only available for RollingUpdate strategy type");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RolloutStatus> EvaluateDaemonSetRollout(const nlohmann::json& daemonset) {
  if (!daemonset.is_object()) {
    return absl::InvalidArgumentError("rollout status: the daemon set is not a JSON object");
  }
  if (absl::Status status = RequireRollingUpdate(daemonset); !status.ok()) return status;
  const std::string name = StringAt(daemonset, "/metadata/name"_json_pointer);
  RolloutStatus result;
  if (IntAt(daemonset, "/metadata/generation"_json_pointer) >
      IntAt(daemonset, "/status/observedGeneration"_json_pointer)) {
    result.message = "Waiting for daemon set spec update to be observed...";
    return result;
  }
  const int64_t desired = IntAt(daemonset, "/status/desiredNumberScheduled"_json_pointer);
  const int64_t updated = IntAt(daemonset, "/status/updatedNumberScheduled"_json_pointer);
  const int64_t available = IntAt(daemonset, "/status/numberAvailable"_json_pointer);
  if (updated < desired) {
    result.message =
        absl::StrCat("Waiting for daemon set \"", name, "\" rollout to finish: ", updated,
                     " out of ", desired, " new pods have been updated...");
    return result;
  }
  if (available < desired) {
    result.message =
        absl::StrCat("Waiting for daemon set \"", name, "\" rollout to finish: ", available, " of ",
                     desired, " updated pods are available...");
    return result;
  }
  result.done = true;
  result.message = absl::StrCat("daemon set \"", name, "\" successfully rolled out");
  return result;
}

absl::StatusOr<RolloutStatus> EvaluateStatefulSetRollout(const nlohmann::json& statefulset) {
  if (!statefulset.is_object()) {
    return absl::InvalidArgumentError("rollout status: the stateful set is not a JSON object");
  }
  if (absl::Status status = RequireRollingUpdate(statefulset); !status.ok()) return status;
  RolloutStatus result;
  const int64_t observed = IntAt(statefulset, "/status/observedGeneration"_json_pointer);
  if (observed == 0 || IntAt(statefulset, "/metadata/generation"_json_pointer) > observed) {
    result.message = "Waiting for statefulset spec update to be observed...";
    return result;
  }
  const nlohmann::json::json_pointer spec_replicas("/spec/replicas");
  const bool has_replicas =
      statefulset.contains(spec_replicas) && statefulset.at(spec_replicas).is_number_integer();
  const int64_t replicas = has_replicas ? statefulset.at(spec_replicas).get<int64_t>() : 0;
  const int64_t ready = IntAt(statefulset, "/status/readyReplicas"_json_pointer);
  if (has_replicas && ready < replicas) {
    result.message = absl::StrCat("Waiting for ", replicas - ready, " pods to be ready...");
    return result;
  }
  const nlohmann::json::json_pointer partition_ptr("/spec/updateStrategy/rollingUpdate/partition");
  if (has_replicas && statefulset.contains(partition_ptr) &&
      statefulset.at(partition_ptr).is_number_integer() &&
      statefulset.at(partition_ptr).get<int64_t>() > 0) {
    const int64_t partition = statefulset.at(partition_ptr).get<int64_t>();
    const int64_t updated = IntAt(statefulset, "/status/updatedReplicas"_json_pointer);
    if (updated < replicas - partition) {
      result.message =
          absl::StrCat("Waiting for partitioned roll out to finish: ", updated, " out of ",
                       replicas - partition, " new pods have been updated...");
      return result;
    }
    result.done = true;
    result.message =
        absl::StrCat("partitioned roll out complete: ", updated, " new pods have been updated...");
    return result;
  }
  const std::string update_revision = StringAt(statefulset, "/status/updateRevision"_json_pointer);
  const std::string current_revision =
      StringAt(statefulset, "/status/currentRevision"_json_pointer);
  const int64_t updated = IntAt(statefulset, "/status/updatedReplicas"_json_pointer);
  if (update_revision != current_revision) {
    result.message = absl::StrCat("waiting for statefulset rolling update to complete ", updated,
                                  " pods at revision ", update_revision, "...");
    return result;
  }
  result.done = true;
  result.message = absl::StrCat("statefulset rolling update complete ",
                                IntAt(statefulset, "/status/currentReplicas"_json_pointer),
                                " pods at revision ", current_revision, "...");
  return result;
}

absl::StatusOr<RolloutStatus> EvaluateRollout(const nlohmann::json& workload) {
  const std::string kind = workload.is_object() ? workload.value("kind", std::string()) : "";
  if (kind == "Deployment") return EvaluateDeploymentRollout(workload);
  if (kind == "DaemonSet") return EvaluateDaemonSetRollout(workload);
  if (kind == "StatefulSet") return EvaluateStatefulSetRollout(workload);
  return absl::UnimplementedError(
      absl::StrCat("rollout status: kind \"", kind, "\" has no rollout status"));
}

absl::StatusOr<RollbackPlan> PlanDeploymentRollback(const nlohmann::json& deployment,
                                                    const std::vector<nlohmann::json>& replicasets,
                                                    int64_t to_revision) {
  if (!deployment.is_object()) {
    return absl::InvalidArgumentError("rollback: the deployment is not a JSON object");
  }
  const std::string name = StringAt(deployment, "/metadata/name"_json_pointer);
  const std::string uid = StringAt(deployment, "/metadata/uid"_json_pointer);
  if (to_revision < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("rollback: revision must be >= 0, got ", to_revision));
  }
  // revision -> replicaset (kubectl keeps the last one seen for a revision).
  std::map<int64_t, const nlohmann::json*> by_revision;
  for (const nlohmann::json& rs : replicasets) {
    if (uid.empty() || !IsControlledBy(rs, uid)) continue;
    by_revision[Revision(rs)] = &rs;
  }
  const nlohmann::json* chosen = nullptr;
  int64_t revision = 0;
  if (to_revision == 0) {
    if (by_revision.size() < 2) {
      return absl::NotFoundError(
          absl::StrCat("no rollout history found for deployment \"", name, "\""));
    }
    auto it = std::prev(by_revision.end(), 2);
    revision = it->first;
    chosen = it->second;
  } else {
    auto it = by_revision.find(to_revision);
    if (it == by_revision.end()) {
      return absl::NotFoundError(
          absl::StrCat("unable to find specified revision ", to_revision, " in history"));
    }
    revision = it->first;
    chosen = it->second;
  }
  if (deployment.contains("spec") && deployment["spec"].value("paused", false)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume "
        "deployment/",
        name, "' and try again"));
  }
  nlohmann::json rs_template = chosen->contains("/spec/template"_json_pointer)
                                   ? chosen->at("/spec/template"_json_pointer)
                                   : nlohmann::json::object();
  nlohmann::json current_template = deployment.contains("/spec/template"_json_pointer)
                                        ? deployment.at("/spec/template"_json_pointer)
                                        : nlohmann::json::object();
  RollbackPlan plan;
  plan.revision = revision;
  if (NormalizedTemplate(rs_template) == NormalizedTemplate(current_template)) {
    plan.skip = true;
    return plan;
  }
  if (rs_template.contains("/metadata/labels"_json_pointer) &&
      rs_template["metadata"]["labels"].is_object()) {
    rs_template["metadata"]["labels"].erase(kPodTemplateHashLabel);
  }
  static const char* const kSkip[] = {
      "kubectl.kubernetes.io/last-applied-configuration",
      "deployment.kubernetes.io/revision",
      "deployment.kubernetes.io/revision-history",
      "deployment.kubernetes.io/desired-replicas",
      "deployment.kubernetes.io/max-replicas",
      "deprecated.deployment.rollback.to",
  };
  auto skipped = [](const std::string& key) {
    return std::any_of(std::begin(kSkip), std::end(kSkip),
                       [&](const char* skip) { return key == skip; });
  };
  nlohmann::json annotations = nlohmann::json::object();
  const nlohmann::json::json_pointer annotations_ptr("/metadata/annotations");
  if (deployment.contains(annotations_ptr) && deployment.at(annotations_ptr).is_object()) {
    for (const auto& [key, value] : deployment.at(annotations_ptr).items()) {
      if (skipped(key)) annotations[key] = value;
    }
  }
  if (chosen->contains(annotations_ptr) && chosen->at(annotations_ptr).is_object()) {
    for (const auto& [key, value] : chosen->at(annotations_ptr).items()) {
      if (!skipped(key)) annotations[key] = value;
    }
  }
  plan.json_patch = nlohmann::json::array({
      {{"op", "replace"}, {"path", "/spec/template"}, {"value", rs_template}},
      {{"op", "replace"}, {"path", "/metadata/annotations"}, {"value", annotations}},
  });
  return plan;
}

absl::StatusOr<std::string> LabelSelectorString(const nlohmann::json& selector) {
  if (!selector.is_object()) {
    return absl::InvalidArgumentError("spec.selector is missing or not an object");
  }
  std::vector<std::string> parts;
  if (selector.contains("matchLabels") && selector["matchLabels"].is_object()) {
    for (const auto& [key, value] : selector["matchLabels"].items()) {
      parts.push_back(absl::StrCat(key, "=", value.is_string() ? value.get<std::string>() : ""));
    }
  }
  if (selector.contains("matchExpressions") && selector["matchExpressions"].is_array()) {
    for (const nlohmann::json& expression : selector["matchExpressions"]) {
      const std::string key = expression.value("key", std::string());
      const std::string op = expression.value("operator", std::string());
      std::vector<std::string> values;
      if (expression.contains("values") && expression["values"].is_array()) {
        for (const nlohmann::json& v : expression["values"]) {
          if (v.is_string()) values.push_back(v.get<std::string>());
        }
      }
      if (op == "In") {
        parts.push_back(absl::StrCat(key, " in (", absl::StrJoin(values, ","), ")"));
      } else if (op == "NotIn") {
        parts.push_back(absl::StrCat(key, " notin (", absl::StrJoin(values, ","), ")"));
      } else if (op == "Exists") {
        parts.push_back(key);
      } else if (op == "DoesNotExist") {
        parts.push_back(absl::StrCat("!", key));
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("spec.selector.matchExpressions: unknown operator \"", op, "\""));
      }
    }
  }
  if (parts.empty()) return absl::InvalidArgumentError("spec.selector selects nothing");
  return absl::StrJoin(parts, ",");
}

}  // namespace remediator
