// NewForge: builds the configured Forge from plain settings, so that server assembly (config
// file, flags) needs no knowledge of each forge's options.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_FORGE_FACTORY_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_FORGE_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/common/clock.h"
#include "server/common/http_client.h"
#include "server/remediator/adapters/git/forge_http.h"
#include "server/remediator/core/forge.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/repository.h"

namespace remediator::git {

struct ForgeSettings {
  // "local" (the default: PR records next to the pushed branch), "github", "gitlab", "gitea"
  // ("forgejo" is accepted as "gitea").
  std::string kind = "local";
  // API base. github: "https://api.github.com" when empty, "https://HOST/api/v3" for GHES;
  // gitlab: "https://gitlab.com/api/v4" when empty; gitea: required ("https://HOST/api/v1").
  std::string api_url;
  // "owner/repo"; for GitLab the full project path ("group/sub/proj") or the numeric id.
  std::string repository;
  // Memory only; never logged.
  std::string token;
  // GitLab only: "private-token" (default) or "bearer".
  std::string gitlab_auth = "private-token";
  RetryPolicy retry;
};

// InvalidArgument naming the setting for an unknown kind, a missing token or a repository that
// is not "owner/repo". `http`, `clock`, `store` and `repository` must outlive the forge (the
// last two are used by the local forge only).
absl::StatusOr<std::unique_ptr<Forge>> NewForge(const ForgeSettings& settings, HttpClient& http,
                                                Clock& clock, IncidentStore& store,
                                                Repository& repository);

}  // namespace remediator::git

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_FORGE_FACTORY_H_
