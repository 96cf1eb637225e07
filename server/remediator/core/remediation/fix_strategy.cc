#include "server/remediator/core/remediation/fix_strategy.h"

#include "server/common/status_macros.h"

namespace remediator::remediation {

absl::StatusOr<nlohmann::json> ApplyProposal(const nlohmann::json& manifest_object,
                                             const Proposal& proposal) {
  nlohmann::json edited = manifest_object;
  for (const ProposedChange& change : proposal.changes) {
    RETURN_IF_ERROR(manifest::SetField(edited, change.path, change.value));
  }
  return edited;
}

}  // namespace remediator::remediation
