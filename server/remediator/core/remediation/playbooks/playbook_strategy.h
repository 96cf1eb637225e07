// PlaybookStrategy: the FixStrategy that asks the playbooks of Catalogue() whose classes include
// the incident's, in order, and proposes the first proposal. When none applies, its error lists
// why each one did not.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_PLAYBOOKS_PLAYBOOK_STRATEGY_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_PLAYBOOKS_PLAYBOOK_STRATEGY_H_

#include <string>

#include "server/remediator/core/remediation/fix_strategy.h"
#include "server/remediator/core/remediation/playbooks/playbook.h"

namespace remediator::remediation {

class PlaybookStrategy final : public FixStrategy {
 public:
  explicit PlaybookStrategy(playbooks::PlaybookOptions options = {})
      : options_(std::move(options)) {}
  std::string name() const override { return "playbook"; }
  absl::StatusOr<Proposal> Propose(const FixContext& context) override;

 private:
  playbooks::PlaybookOptions options_;
};

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_PLAYBOOKS_PLAYBOOK_STRATEGY_H_
