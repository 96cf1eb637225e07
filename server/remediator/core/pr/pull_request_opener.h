// PullRequestOpener turns a verified fix into a branch, a commit and a pull request — exactly
// once per incident, across retries and crashes.
//
// Steps and checkpoints (the store's named value "pr_opener/<incident-id>", a JSON object):
//   1. read the manifest at the head of the base branch, apply the attempt's field changes to
//      the YAML text (formatting and comments kept), build the commit on
//      "<branch_prefix><incident-id>"; the commit's inputs (parent, time, message) and id are
//      checkpointed *before* the push (stage "committed");
//   2. push, unless the remote branch already points at that commit; checkpoint "pushed";
//   3. open the PR on the forge (an existing PR for the branch is reused); record it with
//      IncidentStore::PutPullRequest (exactly-once per incident), link it to the incident and
//      move the incident VERIFIED -> PR_OPENED; checkpoint "opened".
// A restart resumes from the checkpoint: the commit is re-created bit for bit when the local copy
// lost it, a branch already on the remote with that commit (or with a commit carrying this
// incident's trailer when the checkpoint is gone) is reused, and the forge answers "already
// exists" with the PR opened before the crash. So a crash anywhere ends with one branch and one
// PR.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_PR_PULL_REQUEST_OPENER_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_PR_PULL_REQUEST_OPENER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "remediator/v1/remediator.pb.h"
#include "server/common/clock.h"
#include "server/remediator/core/forge.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/repository.h"

namespace remediator::pr {

struct PullRequestOpenerOptions {
  // The branch PRs merge into (the GitOps branch, --gitops-branch).
  std::string base_branch = "main";
  // Branch name = prefix + incident id.
  std::string branch_prefix = "remediator/";
  CommitAuthor author = {"Remediator", "remediator@localhost"};
  // Labels on every PR ("remediator/<error class>" is added).
  std::vector<std::string> labels = {"remediator"};
  // Test hook: called with "committed", "pushed" and "opened" right after each checkpoint is
  // written, and with "forge_opened" between the forge call and recording the PR; a non-OK
  // status aborts the flow there, like a crash would.
  std::function<absl::Status(const std::string& stage)> fail_point;
};

class PullRequestOpener {
 public:
  // All references must outlive the opener. `forge` and `repository` point at the same
  // repository (for LocalForge, the Repository's remote).
  PullRequestOpener(IncidentStore& store, Repository& repository, Forge& forge, Clock& clock,
                    PullRequestOpenerOptions options);

  // The OpenPullRequest RPC. Give `fix_attempt_id` (that attempt) or `incident_id` (its latest
  // VERIFIED attempt); both must agree when both are given. Returns the incident's pull request:
  // the existing one when it has one already (a second call opens nothing).
  // Errors: InvalidArgument (neither id, or ids that disagree); NotFound (unknown incident or
  // attempt); FailedPrecondition when the attempt is not VERIFIED, when it has no manifest_path
  // (the manifest came from the live object, so there is no file to change: no PR possible),
  // when the base branch already contains the change, or when the branch exists on the remote
  // with commits Remediator did not make; Unauthenticated / Unavailable / ResourceExhausted from
  // git or the forge (then calling again resumes where it stopped).
  absl::StatusOr<v1::PullRequest> Open(const std::string& incident_id,
                                       const std::string& fix_attempt_id);

  // "remediator/<incident-id>".
  std::string BranchName(const std::string& incident_id) const;

 private:
  struct Checkpoint;
  absl::StatusOr<v1::FixAttempt> ResolveAttempt(const std::string& incident_id,
                                                const std::string& fix_attempt_id);
  absl::StatusOr<std::optional<v1::PullRequest>> ExistingPullRequest(const v1::Incident& incident);
  absl::StatusOr<std::string> EditedManifest(const v1::FixAttempt& attempt,
                                             const std::string& base_commit, std::string* path);
  absl::Status Commit(const v1::Incident& incident, const v1::FixAttempt& attempt,
                      Checkpoint& checkpoint);
  absl::Status EnsurePushed(const v1::Incident& incident, const v1::FixAttempt& attempt,
                            Checkpoint& checkpoint);
  absl::StatusOr<v1::PullRequest> OpenAndRecord(const v1::Incident& incident,
                                                const v1::FixAttempt& attempt,
                                                Checkpoint& checkpoint);
  absl::Status SaveCheckpoint(const std::string& incident_id, Checkpoint& checkpoint,
                              const std::string& stage);

  IncidentStore& store_;
  Repository& repository_;
  Forge& forge_;
  Clock& clock_;
  PullRequestOpenerOptions options_;
  absl::Mutex mu_;
};

}  // namespace remediator::pr

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_PR_PULL_REQUEST_OPENER_H_
