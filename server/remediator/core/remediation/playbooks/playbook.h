// A playbook is a deterministic fix for one failure whose evidence determines the fix: it reads
// the incident, the workload's pods, events and logs, and facts read from the cluster
// (ClusterFacts), never a guess. Each playbook lives in one file of this folder and is listed
// in Catalogue() (catalogue.cc); adding a playbook means adding a file and a line there.
//
// A playbook answers with a proposal, or NotFound "not applicable: <why>" when its evidence is
// not there (the next playbook is tried). Proposals still go through the guard.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_PLAYBOOKS_PLAYBOOK_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_PLAYBOOKS_PLAYBOOK_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/remediator/core/remediation/fix_strategy.h"

namespace remediator::remediation::playbooks {

struct PlaybookOptions {
  // oom-raise-memory: limit x memory_factor, at least min_memory, at most max_memory.
  double memory_factor = 4;
  std::string min_memory = "64Mi";
  std::string max_memory = "4Gi";
  // filesystem-writable-path: the sizeLimit of the emptyDir it mounts.
  std::string scratch_size = "256Mi";
};

struct Playbook {
  // "oom-raise-memory": the strategy is reported as "playbook/<name>".
  const char* name;
  // The error classes whose incidents it looks at.
  std::set<v1::ErrorClass> classes;
  absl::StatusOr<Proposal> (*propose)(const FixContext& context, const PlaybookOptions& options);
};

// Every playbook, most specific first.
const std::vector<Playbook>& Catalogue();

}  // namespace remediator::remediation::playbooks

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_PLAYBOOKS_PLAYBOOK_H_
