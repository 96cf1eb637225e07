// GitlabForge: merge requests through the GitLab REST API v4, per
// /work/shared/notes/api-contracts.md §2.1.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_GITLAB_FORGE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_GITLAB_FORGE_H_

#include <memory>
#include <optional>
#include <string>

#include "server/common/clock.h"
#include "server/common/http_client.h"
#include "server/remediator/adapters/git/forge_http.h"
#include "server/remediator/core/forge.h"

namespace remediator::git {

struct GitlabForgeOptions {
  // "https://gitlab.com/api/v4" or "https://gitlab.example.com/api/v4".
  std::string api_url = "https://gitlab.com/api/v4";
  // Full project path ("acme/widgets", URL-encoded by the client) or numeric id.
  std::string project;
  std::string token;
  // PRIVATE-TOKEN (personal/project access tokens) or Authorization: Bearer (OAuth2 tokens).
  enum class Auth { kPrivateToken, kBearer };
  Auth auth = Auth::kPrivateToken;
  std::string user_agent = "remediator/1.0";
  // Delete the source branch when the MR is merged.
  bool remove_source_branch = true;
  RetryPolicy retry;
};

class GitlabForge final : public Forge {
 public:
  static absl::StatusOr<std::unique_ptr<GitlabForge>> Create(GitlabForgeOptions options,
                                                             HttpClient& http, Clock& clock);

  std::string Name() const override { return "gitlab"; }
  // POST /projects/:id/merge_requests (labels as a comma-separated string); 409 "Another open
  // merge request already exists" looks the MR up by source branch.
  absl::StatusOr<OpenedPullRequest> OpenPullRequest(const PullRequestSpec& spec) override;
  absl::StatusOr<std::optional<OpenedPullRequest>> FindOpenPullRequest(
      const std::string& head_branch, const std::string& base_branch) override;

  int requests_sent() const { return http_.requests_sent(); }

 private:
  GitlabForge(GitlabForgeOptions options, HttpClient& http, Clock& clock);
  HttpRequest Request(const std::string& method, const std::string& path_and_query,
                      std::string body = "") const;

  GitlabForgeOptions options_;
  ForgeHttp http_;
};

}  // namespace remediator::git

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_GITLAB_FORGE_H_
