// Playbooks: deterministic fixes for failures whose evidence determines the fix. No model.
//
//   oom-raise-memory   oom_killed: memory limit x memory_factor (at least min_memory, at most
//                      max_memory); requests stay <= limit.
//   probe-port         probe_failure: a probe aims at a port the container does not expose and
//                      the container exposes exactly one port: aim at that port.
//   probe-path         probe_failure with HTTP 404: another probe of the same container on the
//                      same port uses a path that works (it is not failing): use that path.
//   probe-timeout      probe_failure by timeout ("context deadline exceeded", "Client.Timeout"):
//                      the container is CPU-starved or slow to answer: timeoutSeconds x3
//                      (5..30 s), and a CPU limit under 500m is doubled.
// Each proposal's explanation says why the playbook applies.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_PLAYBOOKS_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_PLAYBOOKS_H_

#include <string>

#include "server/remediator/core/remediation/fix_strategy.h"

namespace remediator::remediation {

struct PlaybookOptions {
  double memory_factor = 4;
  std::string min_memory = "32Mi";
  std::string max_memory = "4Gi";
};

// Tries every playbook that fits the incident's class, in the order above.
class PlaybookStrategy final : public FixStrategy {
 public:
  explicit PlaybookStrategy(PlaybookOptions options = {}) : options_(std::move(options)) {}
  std::string name() const override { return "playbook"; }
  absl::StatusOr<Proposal> Propose(const FixContext& context) override;

 private:
  absl::StatusOr<Proposal> RaiseMemory(const FixContext& context);
  absl::StatusOr<Proposal> FixProbe(const FixContext& context);
  PlaybookOptions options_;
};

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_PLAYBOOKS_H_
