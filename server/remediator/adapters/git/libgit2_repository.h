// Libgit2Repository: the Repository interface over libgit2 (1.5). The local copy is a bare
// repository in the state directory with one remote, "origin"; commits are built from trees
// directly (no working tree), so nothing on disk but git objects and refs ever changes.
//
// Remotes: file:// URLs and local paths, https:// (token through the credentials callback, never
// in the URL or the config), ssh:// and scp-like user@host:path when libgit2 was built with SSH
// (Debian's is; checked with git_libgit2_features) using a key file or the ssh-agent.
// Thread-safe: one mutex serializes every call (a git_repository must not be used from two
// threads at once), so the ManifestLocator and the PullRequestOpener can share one instance.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_LIBGIT2_REPOSITORY_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_LIBGIT2_REPOSITORY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/remediator/core/repository.h"

struct git_repository;

namespace remediator::git {

struct Libgit2RepositoryOptions {
  // The remote: "file:///srv/gitops.git", "/srv/gitops.git", "https://host/acme/gitops.git",
  // "ssh://git@host/acme/gitops.git" or "git@host:acme/gitops.git". A URL with a password or
  // token in it is refused (InvalidArgument): give the token below instead.
  std::string remote_url;
  // Where the local bare copy lives (created if missing), e.g. "<state-dir>/gitops.git".
  std::string local_path;
  // HTTPS: user name and token for basic auth, asked for only when the server wants them.
  // GitHub accepts any user name with a token ("x-access-token"), GitLab wants "oauth2" for
  // OAuth tokens, Gitea any name. Memory only.
  std::string https_username = "x-access-token";
  std::string https_token;
  // SSH: a private key file (and optional public key file and passphrase); when empty the
  // ssh-agent is asked. The user name comes from the URL, else this.
  std::string ssh_username = "git";
  std::string ssh_private_key_path;
  std::string ssh_public_key_path;
  std::string ssh_passphrase;
};

class Libgit2Repository final : public Repository {
 public:
  // Opens or initializes the local copy and points "origin" at the remote. InvalidArgument for
  // an empty or credential-carrying URL, an SSH remote when libgit2 lacks SSH, or an empty
  // local path. Nothing touches the network until Fetch or Push.
  static absl::StatusOr<std::unique_ptr<Libgit2Repository>> Open(Libgit2RepositoryOptions options);
  ~Libgit2Repository() override;

  absl::Status Fetch() override;
  absl::StatusOr<std::string> RemoteBranchCommit(const std::string& branch) override;
  absl::StatusOr<std::vector<std::string>> ListFiles(const std::string& commit,
                                                     const std::string& directory) override;
  absl::StatusOr<std::string> ReadFile(const std::string& commit, const std::string& path) override;
  absl::StatusOr<std::string> CreateCommit(const CommitRequest& request) override;
  absl::StatusOr<CommitInfo> GetCommit(const std::string& commit) override;
  absl::Status Push(const std::string& branch) override;
  absl::StatusOr<ChangeSummary> Summarize(const std::string& base,
                                          const std::string& head) override;
  std::string RemoteUrl() const override { return options_.remote_url; }

 private:
  Libgit2Repository(Libgit2RepositoryOptions options, git_repository* repo);

  const Libgit2RepositoryOptions options_;
  absl::Mutex mu_;
  git_repository* repo_ ABSL_GUARDED_BY(mu_);
};

// True when this libgit2 can talk SSH (and HTTPS) — git_libgit2_features().
bool Libgit2SupportsSsh();
bool Libgit2SupportsHttps();

}  // namespace remediator::git

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_LIBGIT2_REPOSITORY_H_
