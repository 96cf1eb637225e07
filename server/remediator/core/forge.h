// Forge is where a pull request (GitLab: merge request) is opened for a pushed branch.
//
// Implementations (server/remediator/adapters/git): GithubForge, GitlabForge, GiteaForge (also
// Forgejo) and LocalForge (the embedded default: a PR record kept next to a bare repository).
// OpenPullRequest is idempotent: when the forge already has an open PR for the same head
// branch, that PR is returned (`existed` = true) instead of an error or a duplicate.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_FORGE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_FORGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace remediator {

struct PullRequestSpec {
  // Branch with the change (already pushed) and the branch it should merge into.
  std::string head_branch;
  std::string base_branch;
  // The commit the head branch is expected to point at (for the record; may be empty).
  std::string head_commit;
  std::string title;
  // Markdown.
  std::string body;
  // Label names. GitHub and GitLab create unknown labels; Gitea only attaches existing ones.
  std::vector<std::string> labels;
};

struct OpenedPullRequest {
  // "github", "gitlab", "gitea", "local".
  std::string forge;
  // The PR number (GitLab: the merge request iid).
  int64_t number = 0;
  std::string url;
  // "open", "closed", "merged".
  std::string state;
  std::string head_branch;
  std::string base_branch;
  std::string title;
  std::string body;
  // True when the PR was there already (this call created nothing).
  bool existed = false;
};

class Forge {
 public:
  virtual ~Forge() = default;

  // "github", "gitlab", "gitea" or "local".
  virtual std::string Name() const = 0;

  // Opens a PR for `spec`, or returns the open one for the same head branch. Errors say what to
  // fix: Unauthenticated (token refused, never retried), PermissionDenied, NotFound (repository
  // or branch), ResourceExhausted (rate limit whose reset is further away than the configured
  // maximum wait), InvalidArgument (spec incomplete), Unavailable (transport, 5xx after retries).
  // Rate limits are waited out (Retry-After, x-ratelimit-reset) with the injected Clock.
  virtual absl::StatusOr<OpenedPullRequest> OpenPullRequest(const PullRequestSpec& spec) = 0;

  // The open PR whose head is `head_branch` (and base `base_branch`), if any.
  virtual absl::StatusOr<std::optional<OpenedPullRequest>> FindOpenPullRequest(
      const std::string& head_branch, const std::string& base_branch) = 0;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_FORGE_H_
