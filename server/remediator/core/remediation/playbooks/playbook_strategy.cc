#include "server/remediator/core/remediation/playbooks/playbook_strategy.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace remediator::remediation {

absl::StatusOr<Proposal> PlaybookStrategy::Propose(const FixContext& context) {
  const v1::ErrorClass error_class = context.evidence.incident.error_class();
  std::vector<std::string> reasons;
  for (const playbooks::Playbook& playbook : playbooks::Catalogue()) {
    if (playbook.classes.count(error_class) == 0) continue;
    absl::StatusOr<Proposal> proposal = playbook.propose(context, options_);
    if (proposal.ok()) return proposal;
    if (proposal.status().code() != absl::StatusCode::kNotFound) return proposal.status();
    reasons.push_back(absl::StrCat(playbook.name, ": ", proposal.status().message()));
  }
  if (reasons.empty()) {
    return absl::NotFoundError(absl::StrCat("not applicable: no playbook for ",
                                            v1::ErrorClass_Name(error_class),
                                            ": its evidence does not determine a fix"));
  }
  return absl::NotFoundError(absl::StrJoin(reasons, "; "));
}

}  // namespace remediator::remediation
