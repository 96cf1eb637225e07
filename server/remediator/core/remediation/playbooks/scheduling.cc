// The scheduling playbooks, for a pod the scheduler cannot place (FailedScheduling):
//   request-fit    "Insufficient memory|cpu" and the container's request is larger than what
//                  any node can allocate at all (no amount of waiting helps): the request is
//                  lowered to half of the largest node's allocatable, and stays within the
//                  limit. A request that fits an empty node is a capacity problem: not here.
//   node-selector  "didn't match Pod's node affinity/selector" and a nodeSelector or required
//                  node affinity value matches no node, while exactly one node label value of
//                  that key is close to it (a typo): that value. Taints are for people.
#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/remediation/playbooks/playbook.h"
#include "server/remediator/core/remediation/playbooks/playbook_util.h"
#include "server/remediator/core/remediation/quantity.h"

namespace remediator::remediation::playbooks {
namespace {

using json = nlohmann::json;
using manifest::At;
using manifest::Str;

absl::StatusOr<Proposal> FitRequest(const FixContext& context, const PlaybookOptions&) {
  ASSIGN_OR_RETURN(Target target, TargetContainer(context));
  const std::string text = StatusText(context.evidence);
  const ClusterFacts& facts = context.evidence.facts;
  if (!facts.known || facts.nodes.empty()) return NotApplicable("the nodes could not be read");
  Proposal proposal;
  std::vector<std::string> reasons;
  for (const std::string resource : {"memory", "cpu"}) {
    if (!absl::StrContains(text, "Insufficient " + resource)) continue;
    const json& resources = At(*target.container, "resources");
    json request = At(At(resources, "requests"), resource.c_str());
    const json limit = At(At(resources, "limits"), resource.c_str());
    if (request.is_null()) request = limit;  // the API server defaults the request to the limit
    if (request.is_null()) continue;
    ASSIGN_OR_RETURN(double wanted, ParseQuantity(request));
    const bool memory = resource == "memory";
    double largest = 0;
    for (const NodeFacts& node : facts.nodes) {
      largest = std::max(largest, memory ? static_cast<double>(node.allocatable_memory_bytes)
                                         : node.allocatable_cpu_millis / 1000.0);
    }
    if (wanted <= largest) continue;  // it would fit an empty node: a capacity problem
    const double fitted = memory ? std::floor(largest / 2 / (1024.0 * 1024)) * 1024 * 1024
                                 : std::floor(largest / 2 * 1000) / 1000;
    const std::string value = memory ? FormatMemory(fitted) : FormatCpu(fitted);
    proposal.changes.push_back(
        {Join(target.path, {Key("resources"), Key("requests"), Key(resource)}), value,
         absl::StrCat("the ", resource, " request ", request.dump(),
                      " is more than any node can allocate (the largest: ",
                      memory ? FormatMemory(largest) : FormatCpu(largest), ")")});
    reasons.push_back(absl::StrCat(
        resource, " request ", request.is_string() ? request.get<std::string>() : request.dump(),
        " -> ", value));
  }
  if (proposal.changes.empty()) {
    return NotApplicable("no request is larger than every node: the cluster lacks capacity");
  }
  proposal.strategy = "playbook/request-fit";
  proposal.explanation = absl::StrCat(
      "Pods of container ", target.name, " cannot be scheduled: they request more than any node ",
      "can allocate. The playbook lowers the request to half of the largest node's allocatable (",
      absl::StrJoin(reasons, "; "), "); limits are kept.");
  return proposal;
}

std::vector<std::string> ValuesOf(const ClusterFacts& facts, const std::string& key) {
  std::vector<std::string> values;
  for (const NodeFacts& node : facts.nodes) {
    const auto it = node.labels.find(key);
    if (it != node.labels.end() &&
        std::find(values.begin(), values.end(), it->second) == values.end()) {
      values.push_back(it->second);
    }
  }
  return values;
}

// nodeSelector entries: key -> value that no node has, with their closest existing value.
void FixSelectors(const ClusterFacts& facts, const json& pod, const manifest::FieldPath& pod_path,
                  Proposal& proposal) {
  const json& selector = At(pod, "nodeSelector");
  if (!selector.is_object()) return;
  for (auto it = selector.begin(); it != selector.end(); ++it) {
    if (!it.value().is_string()) continue;
    const std::vector<std::string> values = ValuesOf(facts, it.key());
    const std::string value = it.value().get<std::string>();
    if (std::find(values.begin(), values.end(), value) != values.end()) continue;
    std::optional<std::string> right = UniqueClosest(value, values);
    if (!right) continue;
    proposal.changes.push_back({Join(pod_path, {Key("nodeSelector"), Key(it.key())}), *right,
                                absl::StrCat("no node has ", it.key(), "=", value, "; nodes have ",
                                             it.key(), "=", *right)});
  }
}

// Required node affinity: each In value no node has becomes its one close existing value, and
// values with none are dropped (In matches any value; the guard lets only existing ones
// through). The terms list has no merge key, so it is proposed whole (patches replace it).
void FixAffinity(const ClusterFacts& facts, const json& pod, const manifest::FieldPath& pod_path,
                 Proposal& proposal) {
  const json& terms = At(
      At(At(At(pod, "affinity"), "nodeAffinity"), "requiredDuringSchedulingIgnoredDuringExecution"),
      "nodeSelectorTerms");
  if (!terms.is_array()) return;
  json fixed_terms = terms;
  std::vector<std::string> reasons;
  for (json& term : fixed_terms) {
    if (!term.contains("matchExpressions") || !term["matchExpressions"].is_array()) continue;
    for (json& expression : term["matchExpressions"]) {
      if (Str(expression, "operator") != "In") continue;
      const std::string key = Str(expression, "key");
      const std::vector<std::string> values = ValuesOf(facts, key);
      json kept = json::array();
      bool changed = false;
      for (const json& v : At(expression, "values")) {
        const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
        if (std::find(values.begin(), values.end(), text) != values.end()) {
          kept.push_back(v);
          continue;
        }
        changed = true;
        std::optional<std::string> right = UniqueClosest(text, values);
        if (right && std::find(kept.begin(), kept.end(), json(*right)) == kept.end()) {
          kept.push_back(*right);
        }
      }
      if (!changed || kept.empty()) continue;
      reasons.push_back(
          absl::StrCat(key, " in ", At(expression, "values").dump(), " -> ", kept.dump()));
      expression["values"] = kept;
    }
  }
  if (reasons.empty()) return;
  proposal.changes.push_back({Join(pod_path, {Key("affinity"), Key("nodeAffinity"),
                                              Key("requiredDuringSchedulingIgnoredDuringExecution"),
                                              Key("nodeSelectorTerms")}),
                              fixed_terms,
                              absl::StrCat("no node has these label values; the nodes have: ",
                                           absl::StrJoin(reasons, "; "))});
}

absl::StatusOr<Proposal> FixNodeSelector(const FixContext& context, const PlaybookOptions&) {
  const std::string text = StatusText(context.evidence);
  if (absl::StrContains(text, "untolerated taint") && !absl::StrContains(text, "affinity")) {
    return NotApplicable("the nodes are tainted: tolerating a taint is a decision for people");
  }
  if (!absl::StrContains(text, "node affinity/selector") &&
      !absl::StrContains(text, "node(s) didn't match")) {
    return NotApplicable("the scheduler does not say the node selector matches no node");
  }
  const ClusterFacts& facts = context.evidence.facts;
  if (!facts.known || facts.nodes.empty()) return NotApplicable("the nodes could not be read");
  const manifest::FieldPath pod_path = PodPath(context.manifest);
  const json* pod = manifest::FindField(context.manifest, pod_path);
  if (pod == nullptr) return NotApplicable("no pod template");
  Proposal proposal;
  FixSelectors(facts, *pod, pod_path, proposal);
  FixAffinity(facts, *pod, pod_path, proposal);
  if (proposal.changes.empty()) {
    return NotApplicable("no selector value has exactly one close label value on the nodes");
  }
  std::vector<std::string> reasons;
  for (const ProposedChange& c : proposal.changes) reasons.push_back(c.reason);
  proposal.strategy = "playbook/node-selector";
  proposal.explanation =
      absl::StrCat("The pods match no node: ", absl::StrJoin(reasons, "; "),
                   ". The playbook uses the node label value that exists (only one is close).");
  return proposal;
}

}  // namespace

extern const Playbook kFitRequest = {"request-fit", {v1::ERROR_CLASS_UNSCHEDULABLE}, FitRequest};
extern const Playbook kFixNodeSelector = {
    "node-selector", {v1::ERROR_CLASS_UNSCHEDULABLE}, FixNodeSelector};

}  // namespace remediator::remediation::playbooks
