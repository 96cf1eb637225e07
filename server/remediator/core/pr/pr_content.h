// What a verified fix's pull request says: the title, the Markdown body and the commit message.
// Everything that comes from the cluster or a model passes through RedactSecrets again here,
// even though evidence is redacted when stored: a PR body is public to everyone with repository
// access.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_PR_PR_CONTENT_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_PR_PR_CONTENT_H_

#include <string>
#include <vector>

#include "remediator/v1/remediator.pb.h"

namespace remediator::pr {

struct PrContent {
  // "fix(app/nginx): raise memory limit after OOMKilled"
  std::string title;
  std::string body;
  // Title, a paragraph naming the incident and the attempt, and trailers
  // "Remediator-Incident: <id>" / "Remediator-Fix-Attempt: <id>" (how a restarted flow
  // recognizes its own branch).
  std::string commit_message;
  // `base_labels` plus "remediator/<error class>".
  std::vector<std::string> labels;
};

// `diff` is the unified diff of the manifest as committed (the attempt's own diff is used when
// empty). Deterministic: the same inputs give the same text.
PrContent BuildPrContent(const v1::Incident& incident, const v1::FixAttempt& attempt,
                         const std::string& diff, const std::vector<std::string>& base_labels);

// "fix(<namespace>/<name>): <what changed> after <failure>".
std::string PullRequestTitle(const v1::Incident& incident, const v1::FixAttempt& attempt);

// The trailer that marks a commit as the fix for `incident_id`.
std::string IncidentTrailer(const std::string& incident_id);

}  // namespace remediator::pr

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_PR_PR_CONTENT_H_
