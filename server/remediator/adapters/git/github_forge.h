// GithubForge: pull requests through the GitHub REST API (github.com or GitHub Enterprise
// Server), per /work/shared/notes/api-contracts.md §1.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_GITHUB_FORGE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_GITHUB_FORGE_H_

#include <optional>
#include <string>

#include "server/common/clock.h"
#include "server/common/http_client.h"
#include "server/remediator/adapters/git/forge_http.h"
#include "server/remediator/core/forge.h"

namespace remediator::git {

struct GithubForgeOptions {
  // "https://api.github.com", or "https://HOST/api/v3" for GitHub Enterprise Server.
  std::string api_url = "https://api.github.com";
  std::string owner;
  std::string repo;
  // Sent as "Authorization: Bearer <token>"; kept in memory only.
  std::string token;
  std::string user_agent = "remediator/1.0";
  std::string api_version = "2022-11-28";
  RetryPolicy retry;
};

class GithubForge final : public Forge {
 public:
  // InvalidArgument when api_url, owner, repo or token is empty.
  static absl::StatusOr<std::unique_ptr<GithubForge>> Create(GithubForgeOptions options,
                                                             HttpClient& http, Clock& clock);

  std::string Name() const override { return "github"; }
  // POST /repos/{o}/{r}/pulls; a 422 "A pull request already exists" looks the PR up
  // (GET /pulls?head=owner:branch). Labels go through POST /issues/{n}/labels.
  absl::StatusOr<OpenedPullRequest> OpenPullRequest(const PullRequestSpec& spec) override;
  absl::StatusOr<std::optional<OpenedPullRequest>> FindOpenPullRequest(
      const std::string& head_branch, const std::string& base_branch) override;

  int requests_sent() const { return http_.requests_sent(); }

 private:
  GithubForge(GithubForgeOptions options, HttpClient& http, Clock& clock);
  HttpRequest Request(const std::string& method, const std::string& path_and_query,
                      std::string body = "") const;
  absl::Status AddLabels(int64_t number, const std::vector<std::string>& labels);

  GithubForgeOptions options_;
  ForgeHttp http_;
};

}  // namespace remediator::git

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_GITHUB_FORGE_H_
