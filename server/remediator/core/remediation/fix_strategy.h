// FixStrategy proposes an edit of a workload's manifest that should fix an incident. Strategies
// only propose: the Guard decides, the engine applies and verifies. A proposal names every field
// it changes and says why, so that people (and the PR) can follow it.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_FIX_STRATEGY_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_FIX_STRATEGY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "remediator/v1/remediator.pb.h"
#include "server/remediator/core/manifest/field_path.h"
#include "server/remediator/core/remediation/cluster_facts.h"

namespace remediator::remediation {

// What is known about the failure when a fix is sought. Texts are already redacted.
struct Evidence {
  v1::Incident incident;
  // The workload's pods as the cluster reports them (status included).
  std::vector<nlohmann::json> pods;
  // Recent events about the workload and its pods.
  std::vector<nlohmann::json> events;
  // Recent (and previous) logs of the failing container.
  std::string logs;
  // Secrets/ConfigMaps (key names only), nodes and image history around the workload.
  ClusterFacts facts;
};

struct FixContext {
  const Evidence& evidence;
  // The object to edit: from the GitOps repository, or the live object without status.
  const nlohmann::json& manifest;
};

struct ProposedChange {
  manifest::FieldPath path;
  nlohmann::json value;  // null removes the field
  std::string reason;
};

struct Proposal {
  // "playbook/oom-raise-memory", "llm".
  std::string strategy;
  std::string model;
  // Why the strategy applies and what the edit does, for people.
  std::string explanation;
  std::vector<ProposedChange> changes;
};

// Implementations are thread-compatible; the engine runs one attempt per workload at a time.
class FixStrategy {
 public:
  virtual ~FixStrategy() = default;
  // "playbook", "llm": the name used in configuration and AttemptFix's `strategy`.
  virtual std::string name() const = 0;
  // A proposal, or NotFound "not applicable: <why>" when the strategy has nothing to offer for
  // this failure (not an error), or another error when it could not decide (model unreachable).
  virtual absl::StatusOr<Proposal> Propose(const FixContext& context) = 0;
};

// Applies `proposal` to a copy of `manifest`. InvalidArgument when a path cannot be set.
absl::StatusOr<nlohmann::json> ApplyProposal(const nlohmann::json& manifest,
                                             const Proposal& proposal);

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_FIX_STRATEGY_H_
