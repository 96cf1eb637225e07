#include "server/remediator/adapters/git/gitea_forge.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/logging.h"
#include "server/common/status_macros.h"

namespace remediator::git {
namespace {

OpenedPullRequest FromJson(const nlohmann::json& pr) {
  return PullRequestFromGithubStyleJson(pr, "gitea");
}

}  // namespace

absl::StatusOr<std::unique_ptr<GiteaForge>> GiteaForge::Create(GiteaForgeOptions options,
                                                               HttpClient& http, Clock& clock) {
  if (options.api_url.empty() || options.owner.empty() || options.repo.empty()) {
    return absl::InvalidArgumentError(
        "gitea forge: api_url, owner and repo are required (e.g. "
        "https://gitea.example.com/api/v1, acme, widgets)");
  }
  if (options.token.empty()) return absl::InvalidArgumentError("gitea forge: a token is required");
  while (!options.api_url.empty() && options.api_url.back() == '/') options.api_url.pop_back();
  return std::unique_ptr<GiteaForge>(new GiteaForge(std::move(options), http, clock));
}

GiteaForge::GiteaForge(GiteaForgeOptions options, HttpClient& http, Clock& clock)
    : options_(std::move(options)), http_("gitea", http, clock, options_.retry) {}

HttpRequest GiteaForge::Request(const std::string& method, const std::string& path_and_query,
                                std::string body) const {
  HttpRequest request;
  request.method = method;
  request.url = absl::StrCat(options_.api_url, "/repos/", UrlEncode(options_.owner), "/",
                             UrlEncode(options_.repo), path_and_query);
  request.headers = {{"Authorization", absl::StrCat("token ", options_.token)},
                     {"Accept", "application/json"},
                     {"User-Agent", options_.user_agent}};
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::move(body);
  return request;
}

absl::StatusOr<std::vector<int64_t>> GiteaForge::LabelIds(const std::vector<std::string>& names) {
  std::vector<int64_t> ids;
  if (names.empty()) return ids;
  ASSIGN_OR_RETURN(HttpResponse response, http_.Send(Request("GET", "/labels?limit=50")));
  if (response.status != 200) return ResponseToStatus("gitea", "list labels", response);
  nlohmann::json labels = ParseJsonBody(response.body);
  for (const std::string& name : names) {
    bool found = false;
    if (labels.is_array()) {
      for (const auto& label : labels) {
        if (JsonString(label, "name") == name) {
          ids.push_back(JsonInt(label, "id"));
          found = true;
          break;
        }
      }
    }
    if (!found) {
      LogWarning("gitea has no such label in the repository; not attached",
                 {{"label", name}, {"repo", options_.owner + "/" + options_.repo}});
    }
  }
  return ids;
}

absl::StatusOr<OpenedPullRequest> GiteaForge::OpenPullRequest(const PullRequestSpec& spec) {
  if (spec.head_branch.empty() || spec.base_branch.empty() || spec.title.empty()) {
    return absl::InvalidArgumentError("gitea: a pull request needs a head, a base and a title");
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> label_ids, LabelIds(spec.labels));
  nlohmann::json body = {{"head", spec.head_branch},
                         {"base", spec.base_branch},
                         {"title", spec.title},
                         {"body", spec.body}};
  if (!label_ids.empty()) body["labels"] = label_ids;
  ASSIGN_OR_RETURN(HttpResponse response, http_.Send(Request("POST", "/pulls", body.dump())));
  if (response.status == 201) {
    OpenedPullRequest pr = FromJson(ParseJsonBody(response.body));
    if (pr.number <= 0)
      return absl::InternalError("gitea: create pull request: 201 without a number");
    return pr;
  }
  bool exists =
      response.status == 409 ||
      (response.status == 422 && absl::StrContains(ErrorMessage(response), "already exists"));
  if (exists) {
    ASSIGN_OR_RETURN(std::optional<OpenedPullRequest> existing,
                     FindOpenPullRequest(spec.head_branch, spec.base_branch));
    if (!existing.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("gitea says a pull request already exists for ", spec.head_branch,
                       " but none is open into ", spec.base_branch, ": ", ErrorMessage(response)));
    }
    existing->existed = true;
    return *existing;
  }
  return ResponseToStatus("gitea", "create pull request", response);
}

absl::StatusOr<std::optional<OpenedPullRequest>> GiteaForge::FindOpenPullRequest(
    const std::string& head_branch, const std::string& base_branch) {
  // Gitea has no head filter on the list endpoint: page through the open PRs and match head.ref.
  for (int page = 1; page <= 20; ++page) {
    ASSIGN_OR_RETURN(
        HttpResponse response,
        http_.Send(Request("GET", absl::StrCat("/pulls?state=open&limit=50&page=", page))));
    if (response.status != 200) return ResponseToStatus("gitea", "list pull requests", response);
    nlohmann::json list = ParseJsonBody(response.body);
    if (!list.is_array()) {
      return absl::InternalError("gitea: list pull requests: the answer is not a JSON array");
    }
    for (const auto& item : list) {
      OpenedPullRequest pr = FromJson(item);
      if (pr.head_branch == head_branch && (base_branch.empty() || pr.base_branch == base_branch)) {
        return pr;
      }
    }
    if (list.size() < 50) break;
  }
  return std::nullopt;
}

}  // namespace remediator::git
