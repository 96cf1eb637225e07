#include "server/remediator/adapters/git/forge_factory.h"

#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/remediator/adapters/git/gitea_forge.h"
#include "server/remediator/adapters/git/github_forge.h"
#include "server/remediator/adapters/git/gitlab_forge.h"
#include "server/remediator/adapters/git/local_forge.h"

namespace remediator::git {
namespace {

// Splits "owner/repo" (exactly one slash, both parts non-empty).
absl::Status SplitOwnerRepo(const std::string& kind, const std::string& repository,
                            std::string* owner, std::string* repo) {
  size_t slash = repository.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == repository.size() ||
      repository.find('/', slash + 1) != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "forge ", kind, ": repository must be \"owner/repo\", got \"", repository, "\""));
  }
  *owner = repository.substr(0, slash);
  *repo = repository.substr(slash + 1);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Forge>> NewForge(const ForgeSettings& settings, HttpClient& http,
                                                Clock& clock, IncidentStore& store,
                                                Repository& repository) {
  std::string kind = absl::AsciiStrToLower(settings.kind);
  if (kind.empty() || kind == "local") return std::make_unique<LocalForge>(store, repository);
  if (kind == "github") {
    GithubForgeOptions options;
    if (!settings.api_url.empty()) options.api_url = settings.api_url;
    RETURN_IF_ERROR(SplitOwnerRepo(kind, settings.repository, &options.owner, &options.repo));
    options.token = settings.token;
    options.retry = settings.retry;
    ASSIGN_OR_RETURN(std::unique_ptr<GithubForge> forge,
                     GithubForge::Create(std::move(options), http, clock));
    return std::unique_ptr<Forge>(std::move(forge));
  }
  if (kind == "gitlab") {
    GitlabForgeOptions options;
    if (!settings.api_url.empty()) options.api_url = settings.api_url;
    options.project = settings.repository;
    options.token = settings.token;
    options.retry = settings.retry;
    std::string auth = absl::AsciiStrToLower(settings.gitlab_auth);
    if (auth == "bearer") {
      options.auth = GitlabForgeOptions::Auth::kBearer;
    } else if (auth.empty() || auth == "private-token") {
      options.auth = GitlabForgeOptions::Auth::kPrivateToken;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("forge gitlab: auth must be \"private-token\" or \"bearer\", got \"",
                       settings.gitlab_auth, "\""));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<GitlabForge> forge,
                     GitlabForge::Create(std::move(options), http, clock));
    return std::unique_ptr<Forge>(std::move(forge));
  }
  if (kind == "gitea" || kind == "forgejo") {
    GiteaForgeOptions options;
    options.api_url = settings.api_url;
    RETURN_IF_ERROR(SplitOwnerRepo(kind, settings.repository, &options.owner, &options.repo));
    options.token = settings.token;
    options.retry = settings.retry;
    ASSIGN_OR_RETURN(std::unique_ptr<GiteaForge> forge,
                     GiteaForge::Create(std::move(options), http, clock));
    return std::unique_ptr<Forge>(std::move(forge));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "forge: unknown kind \"", settings.kind, "\" (use local, github, gitlab, gitea or forgejo)"));
}

}  // namespace remediator::git
