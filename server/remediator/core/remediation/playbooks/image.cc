// image-rollback: the container's image cannot be pulled because the registry says it does not
// exist (ErrImagePull "not found" / "manifest unknown"), and an earlier revision of the workload
// ran another tag of the same repository: go back to the newest such tag. A registry that
// cannot be reached or refuses the credentials is not a manifest problem: not applicable.
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/remediation/guard.h"
#include "server/remediator/core/remediation/playbooks/playbook.h"
#include "server/remediator/core/remediation/playbooks/playbook_util.h"

namespace remediator::remediation::playbooks {
namespace {

using json = nlohmann::json;
using manifest::At;
using manifest::Str;

bool Contains(const std::string& lower, std::initializer_list<const char*> words) {
  for (const char* w : words) {
    if (absl::StrContains(lower, w)) return true;
  }
  return false;
}

absl::StatusOr<Proposal> RollBackImage(const FixContext& context, const PlaybookOptions&) {
  ASSIGN_OR_RETURN(Target target, TargetContainer(context));
  const std::string text = absl::AsciiStrToLower(StatusText(context.evidence));
  if (Contains(text, {"no such host", "i/o timeout", "connection refused", "tls:", "x509",
                      "dial tcp", "network is unreachable"})) {
    return NotApplicable("the registry cannot be reached: not a manifest problem");
  }
  if (Contains(text, {"unauthorized", "denied", "authentication required", "forbidden"})) {
    return NotApplicable("the registry refuses the credentials: a person must fix the pull secret");
  }
  if (!Contains(text, {"not found", "manifest unknown", "failed to resolve reference",
                       "does not exist", "name unknown"})) {
    return NotApplicable("the evidence does not say the image does not exist");
  }
  const std::string current = Str(*target.container, "image");
  const std::string repository = ImageRepository(current);
  const char* list = target.init ? "initContainers" : "containers";
  for (const json& spec : context.evidence.facts.older_pod_specs) {
    for (const json& c : At(spec, list)) {
      const std::string image = Str(c, "image");
      if (Str(c, "name") != target.name || image == current ||
          ImageRepository(image) != repository) {
        continue;
      }
      Proposal proposal;
      proposal.strategy = "playbook/image-rollback";
      proposal.changes.push_back({Join(target.path, {Key("image")}), image,
                                  absl::StrCat(current, " does not exist in the registry; ", image,
                                               " is what the previous revision ran")});
      proposal.explanation = absl::StrCat(
          "The image ", current, " of container ", target.name,
          " cannot be pulled: the registry says it does not exist. The playbook goes back to ",
          image, ", the image of the same repository that the workload's previous revision ran.");
      return proposal;
    }
  }
  return NotApplicable(absl::StrCat("no earlier revision ran another tag of ", repository,
                                    ": which image to use is not known"));
}

}  // namespace

extern const Playbook kRollBackImage = {
    "image-rollback", {v1::ERROR_CLASS_IMAGE_PULL}, RollBackImage};

}  // namespace remediator::remediation::playbooks
