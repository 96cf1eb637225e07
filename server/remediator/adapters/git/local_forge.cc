#include "server/remediator/adapters/git/local_forge.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/common/status_macros.h"

namespace remediator::git {
namespace {

constexpr char kNextNumberKey[] = "local_forge/next_number";

std::string RecordKey(const std::string& head_branch) {
  return absl::StrCat("local_forge/pull/", head_branch);
}

OpenedPullRequest FromJson(const nlohmann::json& record) {
  OpenedPullRequest pr;
  pr.forge = "local";
  pr.number = record.value("number", int64_t{0});
  pr.url = record.value("url", "");
  pr.state = record.value("state", "open");
  pr.head_branch = record.value("head", "");
  pr.base_branch = record.value("base", "");
  pr.title = record.value("title", "");
  pr.body = record.value("body", "");
  return pr;
}

}  // namespace

std::string RequestPullText(const ChangeSummary& summary, const std::string& remote_url,
                            const std::string& head_branch) {
  std::string text =
      absl::StrCat("The following changes since commit ", summary.base_commit,
                   ":\n\nare available in the Git repository at:\n\n  ", remote_url, " ",
                   head_branch, "\n\nfor you to fetch changes up to ", summary.head_commit,
                   ":\n\n----------------------------------------------------------------\n");
  for (const std::string& commit : summary.commits) absl::StrAppend(&text, commit, "\n");
  absl::StrAppend(&text, "\n", summary.diffstat);
  return text;
}

LocalForge::LocalForge(IncidentStore& store, Repository& repository)
    : store_(store), repository_(repository) {}

absl::StatusOr<OpenedPullRequest> LocalForge::OpenPullRequest(const PullRequestSpec& spec) {
  if (spec.head_branch.empty() || spec.base_branch.empty() || spec.title.empty()) {
    return absl::InvalidArgumentError(
        "local forge: a pull request needs a head, a base and a title");
  }
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> existing,
                   store_.GetValue(RecordKey(spec.head_branch)));
  if (existing.has_value()) {
    nlohmann::json record = nlohmann::json::parse(*existing, nullptr, false);
    if (record.is_object() && record.value("state", "") == "open") {
      OpenedPullRequest pr = FromJson(record);
      pr.existed = true;
      return pr;
    }
  }
  absl::StatusOr<std::string> head = repository_.RemoteBranchCommit(spec.head_branch);
  absl::StatusOr<std::string> base = repository_.RemoteBranchCommit(spec.base_branch);
  if (!head.ok() || !base.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("local forge: both branches must be on the remote before a pull request: ",
                     (!head.ok() ? head.status() : base.status()).message()));
  }
  ASSIGN_OR_RETURN(ChangeSummary summary, repository_.Summarize(*base, *head));
  if (summary.commits.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("local forge: no commits between ",
                                                      spec.base_branch, " and ", spec.head_branch));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> next, store_.GetValue(kNextNumberKey));
  int64_t number = 1;
  if (next.has_value() && !absl::SimpleAtoi(*next, &number)) number = 1;
  RETURN_IF_ERROR(store_.PutValue(kNextNumberKey, std::to_string(number + 1)));
  nlohmann::json record = {
      {"number", number},
      {"url", absl::StrCat(repository_.RemoteUrl(), "#pull/", number)},
      {"state", "open"},
      {"head", spec.head_branch},
      {"base", spec.base_branch},
      {"head_commit", summary.head_commit},
      {"title", spec.title},
      {"labels", spec.labels},
      {"body",
       absl::StrCat(spec.body, "\n\n---\n\n```text\n",
                    RequestPullText(summary, repository_.RemoteUrl(), spec.head_branch), "```\n")}};
  RETURN_IF_ERROR(store_.PutValue(RecordKey(spec.head_branch), record.dump()));
  return FromJson(record);
}

absl::StatusOr<std::optional<OpenedPullRequest>> LocalForge::FindOpenPullRequest(
    const std::string& head_branch, const std::string& base_branch) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> existing, store_.GetValue(RecordKey(head_branch)));
  if (!existing.has_value()) return std::nullopt;
  nlohmann::json record = nlohmann::json::parse(*existing, nullptr, false);
  if (!record.is_object() || record.value("state", "") != "open") return std::nullopt;
  OpenedPullRequest pr = FromJson(record);
  if (!base_branch.empty() && pr.base_branch != base_branch) return std::nullopt;
  return pr;
}

}  // namespace remediator::git
