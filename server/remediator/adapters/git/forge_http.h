// ForgeHttp: what the three REST forges share — sending with rate-limit waits (Retry-After,
// x-ratelimit-reset / RateLimit-Reset) measured on an injected Clock, a bounded retry on 5xx,
// no retry at all on 401, and turning error responses into Status messages that say what to fix.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_FORGE_HTTP_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_FORGE_HTTP_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/common/clock.h"
#include "server/common/http_client.h"
#include "server/remediator/core/forge.h"

namespace remediator::git {

struct RetryPolicy {
  // Requests sent at most, rate-limited or 5xx answers included.
  int max_attempts = 5;
  // A rate limit that resets later than this is not waited for: ResourceExhausted.
  absl::Duration max_wait = absl::Minutes(15);
  // Wait when a rate limit gives neither Retry-After nor a reset time (doubled each time).
  absl::Duration default_rate_limit_wait = absl::Seconds(60);
  // First wait after a 502/503/504 (doubled each time).
  absl::Duration server_error_wait = absl::Seconds(1);
};

class ForgeHttp {
 public:
  // `forge` names the service in messages ("github"). `http` and `clock` must outlive this.
  ForgeHttp(std::string forge, HttpClient& http, Clock& clock, RetryPolicy policy);

  // Sends `request`, waiting out rate limits and retrying 502/503/504 per the policy. Returns the
  // first other response, whatever its status, except 401: Unauthenticated at once (no retry).
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request);

  // How many requests went out (tests check there is no retry storm).
  int requests_sent() const { return requests_sent_; }

 private:
  std::string forge_;
  HttpClient& http_;
  Clock& clock_;
  RetryPolicy policy_;
  int requests_sent_ = 0;
};

// The body as JSON, or a discarded value when it is not JSON.
nlohmann::json ParseJsonBody(const std::string& body);

// The human part of an error body: "message" (string or array of strings, GitLab) plus any
// "errors[].message" (GitHub); falls back to the first 200 bytes of the body.
std::string ErrorMessage(const HttpResponse& response);

// Maps a non-2xx response of `what` ("create pull request") to a Status: 400/422 ->
// InvalidArgument, 403 -> PermissionDenied, 404 -> NotFound, 409 -> AlreadyExists, 423 ->
// FailedPrecondition, 5xx -> Unavailable, others -> Unknown. Message: "<forge>: <what>: HTTP
// <status>: <message>".
absl::Status ResponseToStatus(const std::string& forge, const std::string& what,
                              const HttpResponse& response);

// Reads a JSON field or returns a default, never throwing.
std::string JsonString(const nlohmann::json& object, const char* key);
int64_t JsonInt(const nlohmann::json& object, const char* key);

// A pull request object in the shape GitHub's REST API returns it, which Gitea and Forgejo
// copy (number, html_url, title, body, state, merged, head.ref, base.ref), tagged with `forge`.
OpenedPullRequest PullRequestFromGithubStyleJson(const nlohmann::json& pr,
                                                 const std::string& forge);

}  // namespace remediator::git

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_GIT_FORGE_HTTP_H_
