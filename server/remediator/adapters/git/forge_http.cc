#include "server/remediator/adapters/git/forge_http.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/logging.h"

namespace remediator::git {
namespace {

bool IsRateLimited(const HttpResponse& response) {
  if (response.status == 429) return true;
  if (response.status != 403) return false;
  // A 403 is a rate limit only with these signs; anything else is a real permission error.
  return response.Header("x-ratelimit-remaining") == "0" ||
         !response.Header("retry-after").empty() ||
         absl::StrContains(absl::AsciiStrToLower(response.body), "rate limit");
}

// GitHub documents the order: Retry-After, then the reset time when nothing remains, then a
// default that grows. GitLab sends RateLimit-Reset (epoch seconds) and sometimes Retry-After.
absl::Duration RateLimitWait(const HttpResponse& response, absl::Time now, int attempt,
                             const RetryPolicy& policy) {
  int64_t seconds = 0;
  if (absl::SimpleAtoi(response.Header("retry-after"), &seconds) && seconds >= 0) {
    return absl::Seconds(std::max<int64_t>(seconds, 1));
  }
  for (const char* header : {"x-ratelimit-reset", "ratelimit-reset"}) {
    int64_t reset = 0;
    if (absl::SimpleAtoi(response.Header(header), &reset) && reset > 0) {
      absl::Duration wait = absl::FromUnixSeconds(reset) - now;
      // One extra second: the reset is the first second of the new window.
      return std::max(wait + absl::Seconds(1), absl::Seconds(1));
    }
  }
  return policy.default_rate_limit_wait * (int64_t{1} << std::min(attempt, 10));
}

}  // namespace

ForgeHttp::ForgeHttp(std::string forge, HttpClient& http, Clock& clock, RetryPolicy policy)
    : forge_(std::move(forge)), http_(http), clock_(clock), policy_(policy) {}

absl::StatusOr<HttpResponse> ForgeHttp::Send(const HttpRequest& request) {
  int rate_limited = 0;
  int server_errors = 0;
  for (int attempt = 1;; ++attempt) {
    ++requests_sent_;
    absl::StatusOr<HttpResponse> response = http_.Send(request);
    if (!response.ok()) return response.status();
    if (response->status == 401) {
      return absl::UnauthenticatedError(
          absl::StrCat(forge_, " refused the token (HTTP 401: ", ErrorMessage(*response),
                       "): check the configured token and its scopes"));
    }
    absl::Duration wait;
    if (IsRateLimited(*response)) {
      wait = RateLimitWait(*response, clock_.Now(), rate_limited++, policy_);
      if (wait > policy_.max_wait) {
        return absl::ResourceExhaustedError(absl::StrCat(
            forge_, " rate limit: the limit resets in ", absl::FormatDuration(wait),
            ", longer than the maximum wait of ", absl::FormatDuration(policy_.max_wait), " (HTTP ",
            response->status, ": ", ErrorMessage(*response), ")"));
      }
    } else if (response->status == 502 || response->status == 503 || response->status == 504) {
      wait = policy_.server_error_wait * (int64_t{1} << std::min(server_errors++, 10));
    } else {
      return response;
    }
    if (attempt >= policy_.max_attempts) {
      if (IsRateLimited(*response)) {
        return absl::ResourceExhaustedError(
            absl::StrCat(forge_, " rate limit: still limited after ", attempt, " attempts (HTTP ",
                         response->status, ": ", ErrorMessage(*response), ")"));
      }
      return ResponseToStatus(forge_, absl::StrCat(request.method, " after ", attempt, " attempts"),
                              *response);
    }
    LogWarning("forge request limited, waiting", {{"forge", forge_},
                                                  {"status", std::to_string(response->status)},
                                                  {"wait", absl::FormatDuration(wait)}});
    clock_.SleepFor(wait);
  }
}

nlohmann::json ParseJsonBody(const std::string& body) {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string ErrorMessage(const HttpResponse& response) {
  nlohmann::json body = ParseJsonBody(response.body);
  std::vector<std::string> parts;
  if (body.is_object()) {
    auto message = body.find("message");
    if (message != body.end()) {
      if (message->is_string()) {
        parts.push_back(message->get<std::string>());
      } else if (message->is_array()) {
        for (const auto& item : *message) {
          if (item.is_string()) parts.push_back(item.get<std::string>());
        }
      } else {
        parts.push_back(message->dump());
      }
    }
    auto errors = body.find("errors");
    if (errors != body.end() && errors->is_array()) {
      for (const auto& error : *errors) {
        if (error.is_object() && error.contains("message") && error["message"].is_string()) {
          parts.push_back(error["message"].get<std::string>());
        } else if (error.is_object()) {
          parts.push_back(error.dump());
        }
      }
    }
  }
  if (parts.empty()) return response.body.substr(0, 200);
  return absl::StrJoin(parts, "; ");
}

absl::Status ResponseToStatus(const std::string& forge, const std::string& what,
                              const HttpResponse& response) {
  std::string message =
      absl::StrCat(forge, ": ", what, ": HTTP ", response.status, ": ", ErrorMessage(response));
  switch (response.status) {
    case 400:
    case 422:
      return absl::InvalidArgumentError(message);
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
      return absl::NotFoundError(message);
    case 409:
      return absl::AlreadyExistsError(message);
    case 423:
      return absl::FailedPreconditionError(message);
    default:
      if (response.status >= 500) return absl::UnavailableError(message);
      return absl::UnknownError(message);
  }
}

std::string JsonString(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

int64_t JsonInt(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return 0;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return 0;
  return it->get<int64_t>();
}

OpenedPullRequest PullRequestFromGithubStyleJson(const nlohmann::json& pr,
                                                 const std::string& forge) {
  OpenedPullRequest out;
  out.forge = forge;
  out.number = JsonInt(pr, "number");
  out.url = JsonString(pr, "html_url");
  out.title = JsonString(pr, "title");
  out.body = JsonString(pr, "body");
  out.state = JsonString(pr, "state");
  if (pr.is_object() && pr.contains("merged") && pr["merged"].is_boolean() &&
      pr["merged"].get<bool>()) {
    out.state = "merged";
  }
  if (pr.is_object() && pr.contains("head")) out.head_branch = JsonString(pr["head"], "ref");
  if (pr.is_object() && pr.contains("base")) out.base_branch = JsonString(pr["base"], "ref");
  return out;
}

}  // namespace remediator::git
