// Repository is the GitOps repository a fix is proposed to: a local copy of a configured remote
// that can be read at any commit, extended with a commit on a branch, and pushed back.
//
// Implementation: Libgit2Repository (server/remediator/adapters/git). Credentials (HTTPS token,
// SSH key) live only in memory: they are never written into the copy's config, URLs or logs.
// Implementations are thread-safe (the ManifestLocator and the PullRequestOpener share one).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REPOSITORY_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REPOSITORY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace remediator {

struct CommitAuthor {
  std::string name;
  std::string email;
};

// A file to write in a commit: `path` relative to the repository root ("deploy/app.yaml").
struct FileContent {
  std::string path;
  std::string content;
};

// A commit to create on top of `parent` with `files` replaced (others unchanged). The commit is a
// pure function of these fields: the same request always yields the same commit id, which is how
// a restarted flow recognizes the commit it pushed before a crash.
struct CommitRequest {
  // The local branch to point at the new commit ("remediator/<incident-id>"); created or moved.
  std::string branch;
  // Full commit id of the parent.
  std::string parent;
  std::vector<FileContent> files;
  std::string message;
  CommitAuthor author;
  // Author and committer time (whole seconds, UTC).
  absl::Time time;
};

struct CommitInfo {
  std::string id;
  std::vector<std::string> parents;
  std::string message;
  CommitAuthor author;
  absl::Time time;
};

// What `git request-pull` prints for base..head: the commits, the diffstat and the patch.
struct ChangeSummary {
  std::string base_commit;
  std::string head_commit;
  // Newest first; "<short id> <subject>".
  std::vector<std::string> commits;
  // "deploy/app.yaml | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n".
  std::string diffstat;
  std::string patch;
};

class Repository {
 public:
  virtual ~Repository() = default;

  // Clones the remote on first use, fetches all its branches afterwards. Unauthenticated (naming
  // the remote, never the secret) when the credentials are refused; Unavailable when the remote
  // cannot be reached.
  virtual absl::Status Fetch() = 0;

  // The commit the remote's `branch` pointed at as of the last Fetch or Push; NotFound when the
  // remote has no such branch.
  virtual absl::StatusOr<std::string> RemoteBranchCommit(const std::string& branch) = 0;

  // Paths (relative to the root, sorted) of the regular files under `directory` ("" for all) at
  // `commit`. NotFound for an unknown commit.
  virtual absl::StatusOr<std::vector<std::string>> ListFiles(const std::string& commit,
                                                             const std::string& directory) = 0;

  // The content of `path` at `commit`. NotFound when either is missing.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& commit,
                                               const std::string& path) = 0;

  // Creates the commit described by `request` (see CommitRequest) in the local copy, points the
  // local `request.branch` at it and returns its full id. InvalidArgument for an empty branch,
  // message or author, or a path that leaves the repository.
  virtual absl::StatusOr<std::string> CreateCommit(const CommitRequest& request) = 0;

  // Commit metadata; NotFound when the local copy does not have `commit`.
  virtual absl::StatusOr<CommitInfo> GetCommit(const std::string& commit) = 0;

  // Pushes local `branch` to the remote branch of the same name. FailedPrecondition naming the
  // branch and the remote's reason when the push is rejected (e.g. not a fast-forward),
  // Unauthenticated for refused credentials.
  virtual absl::Status Push(const std::string& branch) = 0;

  // The request-pull style summary of base..head (both commit ids known locally).
  virtual absl::StatusOr<ChangeSummary> Summarize(const std::string& base,
                                                  const std::string& head) = 0;

  // The remote as configured, safe to show (no credentials).
  virtual std::string RemoteUrl() const = 0;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REPOSITORY_H_
