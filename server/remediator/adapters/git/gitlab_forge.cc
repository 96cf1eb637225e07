#include "server/remediator/adapters/git/gitlab_forge.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/status_macros.h"

namespace remediator::git {
namespace {

OpenedPullRequest FromJson(const nlohmann::json& mr) {
  OpenedPullRequest out;
  out.forge = "gitlab";
  out.number = JsonInt(mr, "iid");
  out.url = JsonString(mr, "web_url");
  out.title = JsonString(mr, "title");
  out.body = JsonString(mr, "description");
  out.head_branch = JsonString(mr, "source_branch");
  out.base_branch = JsonString(mr, "target_branch");
  // GitLab says "opened"; the PullRequest record says "open".
  std::string state = JsonString(mr, "state");
  out.state = state == "opened" ? "open" : state;
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GitlabForge>> GitlabForge::Create(GitlabForgeOptions options,
                                                                 HttpClient& http, Clock& clock) {
  if (options.api_url.empty() || options.project.empty()) {
    return absl::InvalidArgumentError(
        "gitlab forge: api_url and project are required (e.g. https://gitlab.com/api/v4, "
        "acme/widgets)");
  }
  if (options.token.empty()) return absl::InvalidArgumentError("gitlab forge: a token is required");
  while (!options.api_url.empty() && options.api_url.back() == '/') options.api_url.pop_back();
  return std::unique_ptr<GitlabForge>(new GitlabForge(std::move(options), http, clock));
}

GitlabForge::GitlabForge(GitlabForgeOptions options, HttpClient& http, Clock& clock)
    : options_(std::move(options)), http_("gitlab", http, clock, options_.retry) {}

HttpRequest GitlabForge::Request(const std::string& method, const std::string& path_and_query,
                                 std::string body) const {
  HttpRequest request;
  request.method = method;
  request.url =
      absl::StrCat(options_.api_url, "/projects/", UrlEncode(options_.project), path_and_query);
  if (options_.auth == GitlabForgeOptions::Auth::kBearer) {
    request.headers.emplace_back("Authorization", absl::StrCat("Bearer ", options_.token));
  } else {
    request.headers.emplace_back("PRIVATE-TOKEN", options_.token);
  }
  request.headers.emplace_back("Accept", "application/json");
  request.headers.emplace_back("User-Agent", options_.user_agent);
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::move(body);
  return request;
}

absl::StatusOr<OpenedPullRequest> GitlabForge::OpenPullRequest(const PullRequestSpec& spec) {
  if (spec.head_branch.empty() || spec.base_branch.empty() || spec.title.empty()) {
    return absl::InvalidArgumentError(
        "gitlab: a merge request needs a source branch, a target branch and a title");
  }
  nlohmann::json body = {{"source_branch", spec.head_branch},
                         {"target_branch", spec.base_branch},
                         {"title", spec.title},
                         {"description", spec.body},
                         {"remove_source_branch", options_.remove_source_branch}};
  if (!spec.labels.empty()) body["labels"] = absl::StrJoin(spec.labels, ",");
  ASSIGN_OR_RETURN(HttpResponse response,
                   http_.Send(Request("POST", "/merge_requests", body.dump())));
  if (response.status == 201) {
    OpenedPullRequest mr = FromJson(ParseJsonBody(response.body));
    if (mr.number <= 0) {
      return absl::InternalError("gitlab: create merge request: 201 without an iid");
    }
    return mr;
  }
  if (response.status == 409 && absl::StrContains(ErrorMessage(response), "already exists")) {
    ASSIGN_OR_RETURN(std::optional<OpenedPullRequest> existing,
                     FindOpenPullRequest(spec.head_branch, spec.base_branch));
    if (!existing.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("gitlab says a merge request already exists for ", spec.head_branch,
                       " but none is open into ", spec.base_branch, ": ", ErrorMessage(response)));
    }
    existing->existed = true;
    return *existing;
  }
  return ResponseToStatus("gitlab", "create merge request", response);
}

absl::StatusOr<std::optional<OpenedPullRequest>> GitlabForge::FindOpenPullRequest(
    const std::string& head_branch, const std::string& base_branch) {
  std::string query =
      absl::StrCat("/merge_requests?state=opened&source_branch=", UrlEncode(head_branch));
  if (!base_branch.empty()) absl::StrAppend(&query, "&target_branch=", UrlEncode(base_branch));
  ASSIGN_OR_RETURN(HttpResponse response, http_.Send(Request("GET", query)));
  if (response.status != 200) return ResponseToStatus("gitlab", "list merge requests", response);
  nlohmann::json list = ParseJsonBody(response.body);
  if (!list.is_array()) {
    return absl::InternalError("gitlab: list merge requests: the answer is not a JSON array");
  }
  for (const auto& item : list) {
    OpenedPullRequest mr = FromJson(item);
    if (mr.head_branch == head_branch && (base_branch.empty() || mr.base_branch == base_branch)) {
      return mr;
    }
  }
  return std::nullopt;
}

}  // namespace remediator::git
