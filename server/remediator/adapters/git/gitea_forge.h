// GiteaForge: pull requests through the Gitea / Forgejo API v1, per
// /work/shared/notes/api-contracts.md §2.2.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_GITEA_FORGE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_GITEA_FORGE_H_

#include <memory>
#include <optional>
#include <string>

#include "server/common/clock.h"
#include "server/common/http_client.h"
#include "server/remediator/adapters/git/forge_http.h"
#include "server/remediator/core/forge.h"

namespace remediator::git {

struct GiteaForgeOptions {
  // "https://gitea.example.com/api/v1" (Forgejo: the same).
  std::string api_url;
  std::string owner;
  std::string repo;
  // Sent as "Authorization: token <token>".
  std::string token;
  std::string user_agent = "remediator/1.0";
  RetryPolicy retry;
};

class GiteaForge final : public Forge {
 public:
  static absl::StatusOr<std::unique_ptr<GiteaForge>> Create(GiteaForgeOptions options,
                                                            HttpClient& http, Clock& clock);

  std::string Name() const override { return "gitea"; }
  // POST /repos/{o}/{r}/pulls. Labels are sent as ids: names are resolved through
  // GET /repos/{o}/{r}/labels and unknown names are skipped (Gitea does not create labels).
  // 409 (or 422 saying "already exists") looks the PR up among the open ones by head.ref.
  absl::StatusOr<OpenedPullRequest> OpenPullRequest(const PullRequestSpec& spec) override;
  absl::StatusOr<std::optional<OpenedPullRequest>> FindOpenPullRequest(
      const std::string& head_branch, const std::string& base_branch) override;

  int requests_sent() const { return http_.requests_sent(); }

 private:
  GiteaForge(GiteaForgeOptions options, HttpClient& http, Clock& clock);
  HttpRequest Request(const std::string& method, const std::string& path_and_query,
                      std::string body = "") const;
  absl::StatusOr<std::vector<int64_t>> LabelIds(const std::vector<std::string>& names);

  GiteaForgeOptions options_;
  ForgeHttp http_;
};

}  // namespace remediator::git

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_GITEA_FORGE_H_
