// Stand-in GitHub, GitLab and Gitea servers that follow /work/shared/notes/api-contracts.md
// §1-2: they check each request (method, path, headers, JSON body), answer like the real
// service (201 objects, "already exists" 422/409, 401, rate limits) and record violations.
#ifndef REMEDIATOR_TESTS_SERVER_REMEDIATOR_PR_FORGE_STAND_INS_H_
#define REMEDIATOR_TESTS_SERVER_REMEDIATOR_PR_FORGE_STAND_INS_H_

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "server/common/clock.h"
#include "tests/server/remediator/pr/stand_in_server.h"

namespace remediator::pr::testing {

// Rate-limit behaviour shared by the stand-ins.
struct RateLimitMode {
  // The next `count` requests are refused.
  int count = 0;
  int status = 403;
  // Seconds until x-ratelimit-reset / RateLimit-Reset (relative to the injected clock); <0: none.
  int64_t reset_in = -1;
  // Retry-After seconds; <0: none.
  int64_t retry_after = -1;
};

class ForgeStandIn {
 public:
  ForgeStandIn(Clock& clock, std::string token) : clock_(clock), token_(std::move(token)) {}
  virtual ~ForgeStandIn() = default;

  std::string Start() { return http_.Start(); }
  StandInServer& http() { return http_; }
  std::vector<std::string> violations() { return http_.violations(); }
  std::vector<std::string> requests() { return http_.requests(); }

  void SetRateLimit(RateLimitMode mode) {
    absl::MutexLock lock(&mu_);
    rate_limit_ = mode;
  }
  // Open pull requests as stored: the JSON objects the service returns.
  std::vector<nlohmann::json> pulls() {
    absl::MutexLock lock(&mu_);
    return pulls_;
  }
  // Adds an open PR as if created earlier (by a previous run).
  int64_t Seed(const std::string& head, const std::string& base, const std::string& title) {
    absl::MutexLock lock(&mu_);
    return AddLocked(head, base, title, "seeded", nlohmann::json::array());
  }

 protected:
  // Applies a pending rate limit; true when the request was refused.
  bool RateLimited(httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    if (rate_limit_.count <= 0) return false;
    --rate_limit_.count;
    res.status = rate_limit_.status;
    if (rate_limit_.reset_in >= 0) {
      std::string reset = std::to_string(absl::ToUnixSeconds(clock_.Now()) + rate_limit_.reset_in);
      res.set_header("x-ratelimit-remaining", "0");
      res.set_header("x-ratelimit-reset", reset);
      res.set_header("RateLimit-Remaining", "0");
      res.set_header("RateLimit-Reset", reset);
    }
    if (rate_limit_.retry_after >= 0) {
      res.set_header("Retry-After", std::to_string(rate_limit_.retry_after));
    }
    res.set_content(R"({"message":"API rate limit exceeded for user ID 1."})", "application/json");
    return true;
  }

  virtual int64_t AddLocked(const std::string& head, const std::string& base,
                            const std::string& title, const std::string& body,
                            const nlohmann::json& labels) = 0;

  Clock& clock_;
  std::string token_;
  StandInServer http_;
  absl::Mutex mu_;
  RateLimitMode rate_limit_;
  std::vector<nlohmann::json> pulls_;
  int64_t next_number_ = 1;
};

// GitHub REST (owner "acme", repo "widgets") under `prefix` ("" for api.github.com,
// "/api/v3" for GitHub Enterprise Server).
class GithubStandIn final : public ForgeStandIn {
 public:
  GithubStandIn(Clock& clock, std::string token, const std::string& prefix = "");
  std::vector<nlohmann::json> labels_posted() {
    absl::MutexLock lock(&mu_);
    return labels_posted_;
  }

 private:
  bool Admit(const httplib::Request& req, httplib::Response& res);
  int64_t AddLocked(const std::string& head, const std::string& base, const std::string& title,
                    const std::string& body, const nlohmann::json& labels) override;
  std::vector<nlohmann::json> labels_posted_;
};

// GitLab v4, project "acme/widgets".
class GitlabStandIn final : public ForgeStandIn {
 public:
  GitlabStandIn(Clock& clock, std::string token);

 private:
  bool Admit(const httplib::Request& req, httplib::Response& res);
  int64_t AddLocked(const std::string& head, const std::string& base, const std::string& title,
                    const std::string& body, const nlohmann::json& labels) override;
};

// Gitea v1, repository "acme/widgets", labels "remediator" (id 11) and "bug" (id 12).
class GiteaStandIn final : public ForgeStandIn {
 public:
  GiteaStandIn(Clock& clock, std::string token);

 private:
  bool Admit(const httplib::Request& req, httplib::Response& res);
  int64_t AddLocked(const std::string& head, const std::string& base, const std::string& title,
                    const std::string& body, const nlohmann::json& labels) override;
};

}  // namespace remediator::pr::testing

#endif  // REMEDIATOR_TESTS_SERVER_REMEDIATOR_PR_FORGE_STAND_INS_H_
