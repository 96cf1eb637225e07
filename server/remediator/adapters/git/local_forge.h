// LocalForge: the embedded default. The branch is pushed to the configured remote (a bare
// repository in the demo) by the caller; the "pull request" is a record kept in the store's named
// values: title, body and a `git request-pull` style summary (commits, diffstat) appended to
// the body. Numbers count up from 1 per store. Idempotent per head branch.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_LOCAL_FORGE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_LOCAL_FORGE_H_

#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "server/remediator/core/forge.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/repository.h"

namespace remediator::git {

class LocalForge final : public Forge {
 public:
  // `store` and `repository` must outlive this.
  LocalForge(IncidentStore& store, Repository& repository);

  std::string Name() const override { return "local"; }
  // FailedPrecondition when the head or base branch is not on the remote (push first).
  // URL: "<remote url>#pull/<number>".
  absl::StatusOr<OpenedPullRequest> OpenPullRequest(const PullRequestSpec& spec) override;
  absl::StatusOr<std::optional<OpenedPullRequest>> FindOpenPullRequest(
      const std::string& head_branch, const std::string& base_branch) override;

 private:
  IncidentStore& store_;
  Repository& repository_;
  absl::Mutex mu_;
};

// The `git request-pull` style text for a summary: "The following changes since commit ...".
std::string RequestPullText(const ChangeSummary& summary, const std::string& remote_url,
                            const std::string& head_branch);

}  // namespace remediator::git

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_LOCAL_FORGE_H_
