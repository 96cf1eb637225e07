#include "server/remediator/adapters/git/libgit2_repository.h"

#include <git2.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/file_util.h"
#include "server/common/redact.h"
#include "server/common/status_macros.h"

namespace remediator::git {
namespace {

// RAII for libgit2 objects.
template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p != nullptr) Free(p);
  }
};
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;
using RemotePtr = Owned<git_remote, git_remote_free>;
using CommitPtr = Owned<git_commit, git_commit_free>;
using TreePtr = Owned<git_tree, git_tree_free>;
using EntryPtr = Owned<git_tree_entry, git_tree_entry_free>;
using BlobPtr = Owned<git_blob, git_blob_free>;
using ReferencePtr = Owned<git_reference, git_reference_free>;
using SignaturePtr = Owned<git_signature, git_signature_free>;
using RevwalkPtr = Owned<git_revwalk, git_revwalk_free>;
using DiffPtr = Owned<git_diff, git_diff_free>;
using StatsPtr = Owned<git_diff_stats, git_diff_stats_free>;

void InitLibgit2() {
  static const bool initialized = [] {
    git_libgit2_init();
    return true;
  }();
  (void)initialized;
}

std::string LastError() {
  const git_error* error = git_error_last();
  return RedactSecrets(error != nullptr && error->message != nullptr ? error->message
                                                                     : "unknown libgit2 error");
}

absl::Status GitError(int code, const std::string& context) {
  std::string message = absl::StrCat(context, ": ", LastError());
  if (code == GIT_ENOTFOUND) return absl::NotFoundError(message);
  if (code == GIT_EINVALIDSPEC || code == GIT_EAMBIGUOUS)
    return absl::InvalidArgumentError(message);
  if (code == GIT_ENONFASTFORWARD || code == GIT_EEXISTS) {
    return absl::FailedPreconditionError(message);
  }
  return absl::InternalError(message);
}

bool IsSshUrl(const std::string& url) {
  if (absl::StartsWith(url, "ssh://") || absl::StartsWith(url, "git+ssh://")) return true;
  // scp-like "user@host:path": a colon before any slash, and no scheme.
  if (absl::StrContains(url, "://")) return false;
  size_t colon = url.find(':');
  size_t slash = url.find('/');
  return colon != std::string::npos && colon > 1 && (slash == std::string::npos || colon < slash);
}

bool UrlCarriesPassword(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  std::string rest = url.substr(scheme + 3);
  std::string authority = rest.substr(0, rest.find('/'));
  size_t at = authority.rfind('@');
  if (at == std::string::npos) return false;
  return absl::StrContains(authority.substr(0, at), ':');
}

// State shared with the credentials callback for one network operation.
struct CredentialContext {
  const Libgit2RepositoryOptions* options = nullptr;
  int calls = 0;
  bool refused = false;
  // Push only: refs the remote refused, with its reason.
  std::vector<std::string> rejected;
};

int AcquireCredentials(git_credential** out, const char* /*url*/, const char* username_from_url,
                       unsigned int allowed_types, void* payload) {
  auto* context = static_cast<CredentialContext*>(payload);
  const Libgit2RepositoryOptions& options = *context->options;
  // libgit2 calls again after the server refused what we gave: stop there with a clear error
  // instead of looping.
  if (++context->calls > 1) {
    context->refused = true;
    git_error_set_str(GIT_ERROR_NET, "the remote refused the configured credentials");
    return GIT_EUSER;
  }
  if ((allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0 && !options.https_token.empty()) {
    return git_credential_userpass_plaintext_new(out, options.https_username.c_str(),
                                                 options.https_token.c_str());
  }
  std::string user = username_from_url != nullptr && username_from_url[0] != '\0'
                         ? username_from_url
                         : options.ssh_username;
  if ((allowed_types & GIT_CREDENTIAL_SSH_KEY) != 0) {
    if (!options.ssh_private_key_path.empty()) {
      return git_credential_ssh_key_new(
          out, user.c_str(),
          options.ssh_public_key_path.empty() ? nullptr : options.ssh_public_key_path.c_str(),
          options.ssh_private_key_path.c_str(),
          options.ssh_passphrase.empty() ? nullptr : options.ssh_passphrase.c_str());
    }
    return git_credential_ssh_key_from_agent(out, user.c_str());
  }
  if ((allowed_types & GIT_CREDENTIAL_USERNAME) != 0) {
    return git_credential_username_new(out, user.c_str());
  }
  context->refused = true;
  git_error_set_str(GIT_ERROR_NET,
                    "the remote asks for credentials and none are configured (an HTTPS token or "
                    "an SSH key)");
  return GIT_EUSER;
}

absl::Status NetworkError(int code, const CredentialContext& context, const std::string& what,
                          const std::string& url) {
  std::string message = LastError();
  std::string lower = message;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (context.refused || absl::StrContains(lower, "authentication") ||
      absl::StrContains(lower, "401") || absl::StrContains(lower, "credentials")) {
    return absl::UnauthenticatedError(
        absl::StrCat(what, " ", url, ": authentication failed (", message,
                     "); check the HTTPS token or SSH key configured for the GitOps repository"));
  }
  (void)code;
  return absl::UnavailableError(absl::StrCat(what, " ", url, " failed: ", message));
}

absl::StatusOr<git_oid> ParseOid(const std::string& text) {
  git_oid oid;
  if (text.size() != GIT_OID_HEXSZ || git_oid_fromstr(&oid, text.c_str()) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a full commit id (40 hex digits)"));
  }
  return oid;
}

std::string OidString(const git_oid& oid) {
  char buffer[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buffer, sizeof(buffer), &oid);
  return buffer;
}

absl::StatusOr<CommitPtr> LookupCommit(git_repository* repo, const std::string& id) {
  ASSIGN_OR_RETURN(git_oid oid, ParseOid(id));
  git_commit* commit = nullptr;
  int rc = git_commit_lookup(&commit, repo, &oid);
  if (rc != 0) return GitError(rc, absl::StrCat("commit ", id));
  return CommitPtr(commit);
}

absl::StatusOr<TreePtr> CommitTree(git_commit* commit) {
  git_tree* tree = nullptr;
  int rc = git_commit_tree(&tree, commit);
  if (rc != 0) return GitError(rc, "reading a commit's tree");
  return TreePtr(tree);
}

bool ValidRepoPath(const std::string& path) {
  if (path.empty() || path.front() == '/' || absl::StrContains(path, '\\')) return false;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == ".." || part == ".git") return false;
  }
  return true;
}

bool ValidBranch(const std::string& branch) {
  int valid = 0;
  std::string ref = absl::StrCat("refs/heads/", branch);
  return !branch.empty() && git_reference_name_is_valid(&valid, ref.c_str()) == 0 && valid;
}

}  // namespace

bool Libgit2SupportsSsh() {
  InitLibgit2();
  return (git_libgit2_features() & GIT_FEATURE_SSH) != 0;
}

bool Libgit2SupportsHttps() {
  InitLibgit2();
  return (git_libgit2_features() & GIT_FEATURE_HTTPS) != 0;
}

absl::StatusOr<std::unique_ptr<Libgit2Repository>> Libgit2Repository::Open(
    Libgit2RepositoryOptions options) {
  InitLibgit2();
  if (options.remote_url.empty()) {
    return absl::InvalidArgumentError("gitops repository: remote URL is empty");
  }
  if (UrlCarriesPassword(options.remote_url)) {
    return absl::InvalidArgumentError(
        "gitops repository: the remote URL carries a password or token; configure the token "
        "separately (it is then kept in memory only)");
  }
  if (IsSshUrl(options.remote_url) && !Libgit2SupportsSsh()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "gitops repository: ", options.remote_url,
        " is an SSH remote but this libgit2 was built without SSH; use https:// or file://"));
  }
  if (options.local_path.empty()) {
    return absl::InvalidArgumentError("gitops repository: local path (in the state dir) is empty");
  }
  git_repository* repo = nullptr;
  if (git_repository_open_bare(&repo, options.local_path.c_str()) != 0) {
    RETURN_IF_ERROR(MakeDirectories(options.local_path));
    int rc = git_repository_init(&repo, options.local_path.c_str(), /*is_bare=*/1);
    if (rc != 0) return GitError(rc, absl::StrCat("creating ", options.local_path));
  }
  std::unique_ptr<Libgit2Repository> result(new Libgit2Repository(std::move(options), repo));
  git_remote* remote = nullptr;
  int rc = git_remote_lookup(&remote, repo, "origin");
  if (rc == GIT_ENOTFOUND) {
    rc = git_remote_create(&remote, repo, "origin", result->options_.remote_url.c_str());
    if (rc != 0) return GitError(rc, "configuring the remote");
  } else if (rc != 0) {
    return GitError(rc, "reading the remote");
  } else if (result->options_.remote_url != git_remote_url(remote)) {
    rc = git_remote_set_url(repo, "origin", result->options_.remote_url.c_str());
    if (rc != 0) {
      git_remote_free(remote);
      return GitError(rc, "updating the remote URL");
    }
  }
  git_remote_free(remote);
  return result;
}

Libgit2Repository::Libgit2Repository(Libgit2RepositoryOptions options, git_repository* repo)
    : options_(std::move(options)), repo_(repo) {}

Libgit2Repository::~Libgit2Repository() { git_repository_free(repo_); }

absl::Status Libgit2Repository::Fetch() {
  absl::MutexLock lock(&mu_);
  git_remote* raw = nullptr;
  int rc = git_remote_lookup(&raw, repo_, "origin");
  if (rc != 0) return GitError(rc, "reading the remote");
  RemotePtr remote(raw);
  CredentialContext context;
  context.options = &options_;
  git_fetch_options fetch = GIT_FETCH_OPTIONS_INIT;
  fetch.callbacks.credentials = &AcquireCredentials;
  fetch.callbacks.payload = &context;
  fetch.prune = GIT_FETCH_PRUNE;
  fetch.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  rc = git_remote_fetch(remote.get(), nullptr, &fetch, "remediator fetch");
  if (rc != 0) return NetworkError(rc, context, "fetch from", options_.remote_url);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Libgit2Repository::RemoteBranchCommit(const std::string& branch) {
  absl::MutexLock lock(&mu_);
  if (!ValidBranch(branch)) {
    return absl::InvalidArgumentError(absl::StrCat("'", branch, "' is not a valid branch name"));
  }
  git_oid oid;
  std::string ref = absl::StrCat("refs/remotes/origin/", branch);
  int rc = git_reference_name_to_id(&oid, repo_, ref.c_str());
  if (rc == GIT_ENOTFOUND) {
    return absl::NotFoundError(
        absl::StrCat("branch ", branch, " is not on the remote ", options_.remote_url));
  }
  if (rc != 0) return GitError(rc, absl::StrCat("reading ", ref));
  return OidString(oid);
}

absl::StatusOr<std::vector<std::string>> Libgit2Repository::ListFiles(
    const std::string& commit, const std::string& directory) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(CommitPtr c, LookupCommit(repo_, commit));
  ASSIGN_OR_RETURN(TreePtr tree, CommitTree(c.get()));
  struct Walk {
    std::string prefix;
    std::vector<std::string> files;
  } walk;
  walk.prefix = directory;
  while (!walk.prefix.empty() && walk.prefix.back() == '/') walk.prefix.pop_back();
  if (!walk.prefix.empty()) walk.prefix += '/';
  auto callback = [](const char* root, const git_tree_entry* entry, void* payload) -> int {
    auto* w = static_cast<Walk*>(payload);
    if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return 0;
    git_filemode_t mode = git_tree_entry_filemode(entry);
    if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) return 0;
    std::string path = absl::StrCat(root, git_tree_entry_name(entry));
    if (absl::StartsWith(path, w->prefix)) w->files.push_back(std::move(path));
    return 0;
  };
  int rc = git_tree_walk(tree.get(), GIT_TREEWALK_PRE, callback, &walk);
  if (rc != 0) return GitError(rc, "listing files");
  std::sort(walk.files.begin(), walk.files.end());
  return walk.files;
}

absl::StatusOr<std::string> Libgit2Repository::ReadFile(const std::string& commit,
                                                        const std::string& path) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(CommitPtr c, LookupCommit(repo_, commit));
  ASSIGN_OR_RETURN(TreePtr tree, CommitTree(c.get()));
  git_tree_entry* raw_entry = nullptr;
  int rc = git_tree_entry_bypath(&raw_entry, tree.get(), path.c_str());
  if (rc == GIT_ENOTFOUND) {
    return absl::NotFoundError(absl::StrCat(path, " does not exist at commit ", commit));
  }
  if (rc != 0) return GitError(rc, absl::StrCat("reading ", path));
  EntryPtr entry(raw_entry);
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) {
    return absl::NotFoundError(absl::StrCat(path, " is not a file at commit ", commit));
  }
  git_blob* raw_blob = nullptr;
  rc = git_blob_lookup(&raw_blob, repo_, git_tree_entry_id(entry.get()));
  if (rc != 0) return GitError(rc, absl::StrCat("reading ", path));
  BlobPtr blob(raw_blob);
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                     static_cast<size_t>(git_blob_rawsize(blob.get())));
}

absl::StatusOr<std::string> Libgit2Repository::CreateCommit(const CommitRequest& request) {
  absl::MutexLock lock(&mu_);
  if (!ValidBranch(request.branch)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", request.branch, "' is not a valid branch name"));
  }
  if (request.message.empty()) return absl::InvalidArgumentError("a commit needs a message");
  if (request.author.name.empty() || request.author.email.empty()) {
    return absl::InvalidArgumentError("a commit needs an author name and email");
  }
  if (request.files.empty()) return absl::InvalidArgumentError("a commit needs at least one file");
  ASSIGN_OR_RETURN(CommitPtr parent, LookupCommit(repo_, request.parent));
  ASSIGN_OR_RETURN(TreePtr parent_tree, CommitTree(parent.get()));
  std::vector<git_tree_update> updates;
  updates.reserve(request.files.size());
  for (const FileContent& file : request.files) {
    if (!ValidRepoPath(file.path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", file.path, "' is not a path inside the repository"));
    }
    git_tree_update update{};
    int rc =
        git_blob_create_from_buffer(&update.id, repo_, file.content.data(), file.content.size());
    if (rc != 0) return GitError(rc, absl::StrCat("writing ", file.path));
    update.action = GIT_TREE_UPDATE_UPSERT;
    update.filemode = GIT_FILEMODE_BLOB;
    update.path = file.path.c_str();
    updates.push_back(update);
  }
  git_oid tree_id;
  int rc =
      git_tree_create_updated(&tree_id, repo_, parent_tree.get(), updates.size(), updates.data());
  if (rc != 0) return GitError(rc, "building the commit tree");
  git_tree* raw_tree = nullptr;
  rc = git_tree_lookup(&raw_tree, repo_, &tree_id);
  if (rc != 0) return GitError(rc, "reading the commit tree");
  TreePtr tree(raw_tree);
  git_signature* raw_signature = nullptr;
  rc = git_signature_new(&raw_signature, request.author.name.c_str(), request.author.email.c_str(),
                         static_cast<git_time_t>(absl::ToUnixSeconds(request.time)), 0);
  if (rc != 0) return GitError(rc, "author");
  SignaturePtr signature(raw_signature);
  const git_commit* parents[] = {parent.get()};
  git_oid commit_id;
  rc = git_commit_create(&commit_id, repo_, nullptr, signature.get(), signature.get(), nullptr,
                         request.message.c_str(), tree.get(), 1, parents);
  if (rc != 0) return GitError(rc, "creating the commit");
  git_reference* raw_ref = nullptr;
  std::string ref = absl::StrCat("refs/heads/", request.branch);
  rc = git_reference_create(&raw_ref, repo_, ref.c_str(), &commit_id, /*force=*/1,
                            "remediator commit");
  if (rc != 0) return GitError(rc, absl::StrCat("pointing ", request.branch, " at the commit"));
  git_reference_free(raw_ref);
  return OidString(commit_id);
}

absl::StatusOr<CommitInfo> Libgit2Repository::GetCommit(const std::string& commit) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(CommitPtr c, LookupCommit(repo_, commit));
  CommitInfo info;
  info.id = OidString(*git_commit_id(c.get()));
  for (unsigned i = 0; i < git_commit_parentcount(c.get()); ++i) {
    info.parents.push_back(OidString(*git_commit_parent_id(c.get(), i)));
  }
  info.message = git_commit_message(c.get());
  const git_signature* author = git_commit_author(c.get());
  info.author = {author->name, author->email};
  info.time = absl::FromUnixSeconds(author->when.time);
  return info;
}

absl::Status Libgit2Repository::Push(const std::string& branch) {
  absl::MutexLock lock(&mu_);
  if (!ValidBranch(branch)) {
    return absl::InvalidArgumentError(absl::StrCat("'", branch, "' is not a valid branch name"));
  }
  std::string ref = absl::StrCat("refs/heads/", branch);
  git_oid local;
  int rc = git_reference_name_to_id(&local, repo_, ref.c_str());
  if (rc != 0) return GitError(rc, absl::StrCat("local branch ", branch));
  git_remote* raw = nullptr;
  rc = git_remote_lookup(&raw, repo_, "origin");
  if (rc != 0) return GitError(rc, "reading the remote");
  RemotePtr remote(raw);
  CredentialContext context;
  context.options = &options_;
  git_push_options push = GIT_PUSH_OPTIONS_INIT;
  push.callbacks.credentials = &AcquireCredentials;
  push.callbacks.payload = &context;
  push.callbacks.push_update_reference = [](const char* refname, const char* status,
                                            void* data) -> int {
    if (status != nullptr) {
      static_cast<CredentialContext*>(data)->rejected.push_back(
          absl::StrCat(refname, ": ", status));
    }
    return 0;
  };
  std::string refspec = absl::StrCat(ref, ":", ref);
  char* specs[] = {refspec.data()};
  git_strarray refspecs = {specs, 1};
  rc = git_remote_push(remote.get(), &refspecs, &push);
  if (rc != 0) {
    if (rc == GIT_ENONFASTFORWARD) {
      return absl::FailedPreconditionError(
          absl::StrCat("push of ", branch, " to ", options_.remote_url,
                       " rejected: the remote branch has other commits (", LastError(), ")"));
    }
    return NetworkError(rc, context, "push to", options_.remote_url);
  }
  if (!context.rejected.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "push of ", branch, " to ", options_.remote_url, " rejected: ", context.rejected.front()));
  }
  // Keep the remote-tracking ref in step so RemoteBranchCommit sees the push without a fetch.
  git_reference* tracking = nullptr;
  std::string tracking_ref = absl::StrCat("refs/remotes/origin/", branch);
  rc = git_reference_create(&tracking, repo_, tracking_ref.c_str(), &local, 1, "remediator push");
  if (rc != 0) return GitError(rc, absl::StrCat("updating ", tracking_ref));
  git_reference_free(tracking);
  return absl::OkStatus();
}

absl::StatusOr<ChangeSummary> Libgit2Repository::Summarize(const std::string& base,
                                                           const std::string& head) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(CommitPtr base_commit, LookupCommit(repo_, base));
  ASSIGN_OR_RETURN(CommitPtr head_commit, LookupCommit(repo_, head));
  git_oid merge_base;
  int rc = git_merge_base(&merge_base, repo_, git_commit_id(base_commit.get()),
                          git_commit_id(head_commit.get()));
  if (rc != 0) return GitError(rc, "finding the merge base");
  ChangeSummary summary;
  summary.base_commit = OidString(merge_base);
  summary.head_commit = OidString(*git_commit_id(head_commit.get()));

  git_revwalk* raw_walk = nullptr;
  rc = git_revwalk_new(&raw_walk, repo_);
  if (rc != 0) return GitError(rc, "walking commits");
  RevwalkPtr walk(raw_walk);
  git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
  git_revwalk_push(walk.get(), git_commit_id(head_commit.get()));
  git_revwalk_hide(walk.get(), &merge_base);
  git_oid oid;
  while (git_revwalk_next(&oid, walk.get()) == 0) {
    git_commit* raw = nullptr;
    if (git_commit_lookup(&raw, repo_, &oid) != 0) continue;
    CommitPtr c(raw);
    summary.commits.push_back(
        absl::StrCat(OidString(oid).substr(0, 12), " ", git_commit_summary(c.get())));
  }

  ASSIGN_OR_RETURN(CommitPtr merge_base_commit, LookupCommit(repo_, summary.base_commit));
  ASSIGN_OR_RETURN(TreePtr old_tree, CommitTree(merge_base_commit.get()));
  ASSIGN_OR_RETURN(TreePtr new_tree, CommitTree(head_commit.get()));
  git_diff* raw_diff = nullptr;
  rc = git_diff_tree_to_tree(&raw_diff, repo_, old_tree.get(), new_tree.get(), nullptr);
  if (rc != 0) return GitError(rc, "diffing");
  DiffPtr diff(raw_diff);
  git_diff_stats* raw_stats = nullptr;
  rc = git_diff_get_stats(&raw_stats, diff.get());
  if (rc != 0) return GitError(rc, "diffstat");
  StatsPtr stats(raw_stats);
  git_buf buffer = GIT_BUF_INIT;
  rc = git_diff_stats_to_buf(&buffer, stats.get(), GIT_DIFF_STATS_FULL, 80);
  if (rc != 0) return GitError(rc, "diffstat");
  summary.diffstat.assign(buffer.ptr, buffer.size);
  git_buf_dispose(&buffer);
  rc = git_diff_to_buf(&buffer, diff.get(), GIT_DIFF_FORMAT_PATCH);
  if (rc != 0) return GitError(rc, "patch");
  summary.patch.assign(buffer.ptr, buffer.size);
  git_buf_dispose(&buffer);
  return summary;
}

}  // namespace remediator::git
