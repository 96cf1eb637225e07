#include "server/remediator/adapters/git/github_forge.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"

namespace remediator::git {
namespace {

OpenedPullRequest FromJson(const nlohmann::json& pr) {
  return PullRequestFromGithubStyleJson(pr, "github");
}

bool IsAlreadyExists(const HttpResponse& response) {
  return response.status == 422 && absl::StrContains(ErrorMessage(response), "already exists");
}

}  // namespace

absl::StatusOr<std::unique_ptr<GithubForge>> GithubForge::Create(GithubForgeOptions options,
                                                                 HttpClient& http, Clock& clock) {
  if (options.api_url.empty() || options.owner.empty() || options.repo.empty()) {
    return absl::InvalidArgumentError(
        "github forge: api_url, owner and repo are required (e.g. https://api.github.com, "
        "acme, widgets)");
  }
  if (options.token.empty()) {
    return absl::InvalidArgumentError("github forge: a token is required");
  }
  while (!options.api_url.empty() && options.api_url.back() == '/') options.api_url.pop_back();
  return std::unique_ptr<GithubForge>(new GithubForge(std::move(options), http, clock));
}

GithubForge::GithubForge(GithubForgeOptions options, HttpClient& http, Clock& clock)
    : options_(std::move(options)), http_("github", http, clock, options_.retry) {}

HttpRequest GithubForge::Request(const std::string& method, const std::string& path_and_query,
                                 std::string body) const {
  HttpRequest request;
  request.method = method;
  request.url = absl::StrCat(options_.api_url, "/repos/", UrlEncode(options_.owner), "/",
                             UrlEncode(options_.repo), path_and_query);
  request.headers = {{"Authorization", absl::StrCat("Bearer ", options_.token)},
                     {"Accept", "application/vnd.github+json"},
                     {"X-GitHub-Api-Version", options_.api_version},
                     {"User-Agent", options_.user_agent}};
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::move(body);
  return request;
}

absl::StatusOr<OpenedPullRequest> GithubForge::OpenPullRequest(const PullRequestSpec& spec) {
  if (spec.head_branch.empty() || spec.base_branch.empty() || spec.title.empty()) {
    return absl::InvalidArgumentError("github: a pull request needs a head, a base and a title");
  }
  nlohmann::json body = {{"title", spec.title},      {"head", spec.head_branch},
                         {"base", spec.base_branch}, {"body", spec.body},
                         {"draft", false},           {"maintainer_can_modify", true}};
  ASSIGN_OR_RETURN(HttpResponse response, http_.Send(Request("POST", "/pulls", body.dump())));
  OpenedPullRequest pr;
  if (response.status == 201) {
    pr = FromJson(ParseJsonBody(response.body));
    if (pr.number <= 0) {
      return absl::InternalError("github: create pull request: 201 without a PR number");
    }
  } else if (IsAlreadyExists(response)) {
    ASSIGN_OR_RETURN(std::optional<OpenedPullRequest> existing,
                     FindOpenPullRequest(spec.head_branch, spec.base_branch));
    if (!existing.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("github says a pull request already exists for ", spec.head_branch,
                       " but none is open into ", spec.base_branch));
    }
    pr = *existing;
    pr.existed = true;
  } else {
    return ResponseToStatus("github", "create pull request", response);
  }
  RETURN_IF_ERROR(AddLabels(pr.number, spec.labels));
  return pr;
}

absl::StatusOr<std::optional<OpenedPullRequest>> GithubForge::FindOpenPullRequest(
    const std::string& head_branch, const std::string& base_branch) {
  // `head` must carry the owner: GitHub silently ignores a bare branch and lists every PR.
  std::string query = absl::StrCat("/pulls?state=open&per_page=100&head=",
                                   UrlEncode(absl::StrCat(options_.owner, ":", head_branch)));
  if (!base_branch.empty()) absl::StrAppend(&query, "&base=", UrlEncode(base_branch));
  ASSIGN_OR_RETURN(HttpResponse response, http_.Send(Request("GET", query)));
  if (response.status != 200) return ResponseToStatus("github", "list pull requests", response);
  nlohmann::json list = ParseJsonBody(response.body);
  if (!list.is_array()) {
    return absl::InternalError("github: list pull requests: the answer is not a JSON array");
  }
  // Filter again here, in case the server ignored the filter.
  for (const auto& item : list) {
    OpenedPullRequest pr = FromJson(item);
    if (pr.head_branch == head_branch && (base_branch.empty() || pr.base_branch == base_branch)) {
      return pr;
    }
  }
  return std::nullopt;
}

absl::Status GithubForge::AddLabels(int64_t number, const std::vector<std::string>& labels) {
  if (labels.empty()) return absl::OkStatus();
  nlohmann::json body = {{"labels", labels}};
  ASSIGN_OR_RETURN(
      HttpResponse response,
      http_.Send(Request("POST", absl::StrCat("/issues/", number, "/labels"), body.dump())));
  if (response.status != 200) return ResponseToStatus("github", "add labels", response);
  return absl::OkStatus();
}

}  // namespace remediator::git
