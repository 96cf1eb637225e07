// GithubForge, GitlabForge and GiteaForge against loopback stand-ins of each service.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "server/common/http_client.h"
#include "server/remediator/adapters/git/forge_factory.h"
#include "server/remediator/adapters/git/gitea_forge.h"
#include "server/remediator/adapters/git/github_forge.h"
#include "server/remediator/adapters/git/gitlab_forge.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "server/remediator/core/repository.h"
#include "tests/server/remediator/pr/forge_stand_ins.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::pr {
namespace {

using ::remediator::testing::FakeClock;
using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using testing::GiteaStandIn;
using testing::GithubStandIn;
using testing::GitlabStandIn;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::RateLimitMode;
using ::testing::SizeIs;

constexpr char kToken[] = "ghp_EXAMPLEtoken0123456789";

PullRequestSpec Spec() {
  PullRequestSpec spec;
  spec.head_branch = "remediator/inc-1";
  spec.base_branch = "main";
  spec.title = "fix(app/nginx): raise memory limit after OOMKilled";
  spec.body = "Automated fix.";
  spec.labels = {"remediator", "remediator/oom_killed"};
  return spec;
}

class GithubForgeTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& prefix = "") {
    stand_in_ = std::make_unique<GithubStandIn>(clock_, kToken, prefix);
    base_url_ = stand_in_->Start() + prefix;
  }
  std::unique_ptr<git::GithubForge> MakeForge(const std::string& token = kToken) {
    git::GithubForgeOptions options;
    options.api_url = base_url_;
    options.owner = "acme";
    options.repo = "widgets";
    options.token = token;
    auto forge = git::GithubForge::Create(options, *http_, clock_);
    EXPECT_THAT(forge.status(), IsOk());
    return *std::move(forge);
  }

  FakeClock clock_;
  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient();
  std::unique_ptr<GithubStandIn> stand_in_;
  std::string base_url_;
};

TEST_F(GithubForgeTest, CreatesPullRequestWithContractHeadersAndLabels) {
  StartServer();
  auto forge = MakeForge();
  auto pr = forge->OpenPullRequest(Spec());
  ASSERT_THAT(pr.status(), IsOk());
  EXPECT_EQ(pr->number, 1);
  EXPECT_EQ(pr->url, "https://github.example/acme/widgets/pull/1");
  EXPECT_EQ(pr->state, "open");
  EXPECT_FALSE(pr->existed);
  EXPECT_EQ(pr->head_branch, "remediator/inc-1");
  EXPECT_THAT(stand_in_->violations(), IsEmpty());
  EXPECT_THAT(stand_in_->requests(), ElementsAre("POST /repos/acme/widgets/pulls",
                                                 "POST /repos/acme/widgets/issues/1/labels"));
  auto pulls = stand_in_->pulls();
  ASSERT_THAT(pulls, SizeIs(1));
  EXPECT_EQ(pulls[0]["title"], Spec().title);
  EXPECT_EQ(pulls[0]["base"]["ref"], "main");
  EXPECT_THAT(stand_in_->labels_posted(),
              ElementsAre(nlohmann::json({"remediator", "remediator/oom_killed"})));
}

TEST_F(GithubForgeTest, AlreadyExistsReturnsTheOpenPullRequest) {
  StartServer();
  // Another PR first: if the client sent a bare head, the stand-in ignores the filter (as
  // GitHub does) and this one would come back first.
  stand_in_->Seed("someone/else", "main", "unrelated");
  int64_t existing = stand_in_->Seed("remediator/inc-1", "main", "opened before a crash");
  auto forge = MakeForge();
  auto pr = forge->OpenPullRequest(Spec());
  ASSERT_THAT(pr.status(), IsOk());
  EXPECT_TRUE(pr->existed);
  EXPECT_EQ(pr->number, existing);
  EXPECT_EQ(pr->title, "opened before a crash");
  EXPECT_THAT(stand_in_->pulls(), SizeIs(2));
  EXPECT_THAT(stand_in_->requests(),
              Contains(HasSubstr("GET /repos/acme/widgets/pulls?state=open&per_page=100&head="
                                 "acme%3Aremediator%2Finc-1&base=main")));
  EXPECT_THAT(stand_in_->violations(), IsEmpty());
}

TEST_F(GithubForgeTest, EnterpriseBaseUrl) {
  StartServer("/api/v3");
  auto forge = MakeForge();
  auto pr = forge->OpenPullRequest(Spec());
  ASSERT_THAT(pr.status(), IsOk());
  EXPECT_THAT(stand_in_->requests(), Contains("POST /api/v3/repos/acme/widgets/pulls"));
}

TEST_F(GithubForgeTest, PrimaryRateLimit403WaitsUntilTheReset) {
  StartServer();
  stand_in_->SetRateLimit({.count = 1, .status = 403, .reset_in = 120, .retry_after = -1});
  auto forge = MakeForge();
  absl::Time start = clock_.Now();
  auto pr = forge->OpenPullRequest(Spec());
  ASSERT_THAT(pr.status(), IsOk());
  // Waited until the reset (plus the one second the window needs), on the fake clock.
  EXPECT_EQ(clock_.Now() - start, absl::Seconds(121));
  EXPECT_EQ(pr->number, 1);
  EXPECT_THAT(stand_in_->pulls(), SizeIs(1));
}

TEST_F(GithubForgeTest, SecondaryLimit429HonoursRetryAfter) {
  StartServer();
  stand_in_->SetRateLimit({.count = 2, .status = 429, .reset_in = -1, .retry_after = 7});
  auto forge = MakeForge();
  absl::Time start = clock_.Now();
  auto pr = forge->OpenPullRequest(Spec());
  ASSERT_THAT(pr.status(), IsOk());
  EXPECT_EQ(clock_.Now() - start, absl::Seconds(14));
  EXPECT_EQ(forge->requests_sent(), 4);  // 2 refused + create + labels
}

TEST_F(GithubForgeTest, ResetTooFarAwayIsResourceExhaustedWithoutWaiting) {
  StartServer();
  stand_in_->SetRateLimit({.count = 1, .status = 403, .reset_in = 7200, .retry_after = -1});
  auto forge = MakeForge();
  absl::Time start = clock_.Now();
  EXPECT_THAT(forge->OpenPullRequest(Spec()),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("rate limit")));
  EXPECT_EQ(clock_.Now(), start);
  EXPECT_EQ(forge->requests_sent(), 1);
}

TEST_F(GithubForgeTest, RateLimitThatNeverEndsGivesUp) {
  StartServer();
  stand_in_->SetRateLimit({.count = 100, .status = 429, .reset_in = -1, .retry_after = 1});
  auto forge = MakeForge();
  EXPECT_THAT(forge->OpenPullRequest(Spec()),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("still limited")));
  EXPECT_EQ(forge->requests_sent(), 5);
}

TEST_F(GithubForgeTest, ServiceUnavailableIsRetriedWithBackoff) {
  StartServer();
  stand_in_->SetRateLimit({.count = 2, .status = 503, .reset_in = -1, .retry_after = -1});
  auto forge = MakeForge();
  absl::Time start = clock_.Now();
  ASSERT_THAT(forge->OpenPullRequest(Spec()).status(), IsOk());
  EXPECT_EQ(clock_.Now() - start, absl::Seconds(3));  // 1 s, then 2 s
  EXPECT_THAT(stand_in_->pulls(), SizeIs(1));
}

TEST_F(GithubForgeTest, BadTokenIsUnauthenticatedAndNotRetried) {
  StartServer();
  auto forge = MakeForge("ghp_wrong");
  auto pr = forge->OpenPullRequest(Spec());
  EXPECT_THAT(pr, StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("Bad credentials")));
  EXPECT_THAT(std::string(pr.status().message()), ::testing::Not(HasSubstr("ghp_wrong")));
  EXPECT_EQ(forge->requests_sent(), 1);
  EXPECT_THAT(stand_in_->pulls(), IsEmpty());
}

TEST_F(GithubForgeTest, OtherValidationErrorsAreClear) {
  StartServer();
  auto forge = MakeForge();
  PullRequestSpec spec = Spec();
  spec.title.clear();
  EXPECT_THAT(forge->OpenPullRequest(spec), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(git::GithubForge::Create({}, *http_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("owner")));
}

// ---------------------------------------------------------------------------------------------
class GitlabForgeTest : public ::testing::Test {
 protected:
  void SetUp() override { base_url_ = stand_in_.Start() + "/api/v4"; }
  std::unique_ptr<git::GitlabForge> MakeForge(
      const std::string& token = "glpat-EXAMPLE",
      git::GitlabForgeOptions::Auth auth = git::GitlabForgeOptions::Auth::kPrivateToken) {
    git::GitlabForgeOptions options;
    options.api_url = base_url_;
    options.project = "acme/widgets";
    options.token = token;
    options.auth = auth;
    auto forge = git::GitlabForge::Create(options, *http_, clock_);
    EXPECT_THAT(forge.status(), IsOk());
    return *std::move(forge);
  }

  FakeClock clock_;
  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient();
  GitlabStandIn stand_in_{clock_, "glpat-EXAMPLE"};
  std::string base_url_;
};

TEST_F(GitlabForgeTest, CreatesMergeRequestWithEncodedProjectAndLabelString) {
  auto forge = MakeForge();
  auto mr = forge->OpenPullRequest(Spec());
  ASSERT_THAT(mr.status(), IsOk());
  EXPECT_EQ(mr->number, 1);
  EXPECT_EQ(mr->state, "open");
  EXPECT_EQ(mr->url, "https://gitlab.example/acme/widgets/-/merge_requests/1");
  EXPECT_FALSE(mr->existed);
  EXPECT_THAT(stand_in_.violations(), IsEmpty());
  auto pulls = stand_in_.pulls();
  ASSERT_THAT(pulls, SizeIs(1));
  EXPECT_EQ(pulls[0]["labels"], nlohmann::json({"remediator", "remediator/oom_killed"}));
  EXPECT_EQ(pulls[0]["description"], "Automated fix.");
}

TEST_F(GitlabForgeTest, BearerAuthWorksToo) {
  auto forge = MakeForge("glpat-EXAMPLE", git::GitlabForgeOptions::Auth::kBearer);
  EXPECT_THAT(forge->OpenPullRequest(Spec()).status(), IsOk());
}

TEST_F(GitlabForgeTest, ConflictReturnsTheExistingMergeRequest) {
  int64_t iid = stand_in_.Seed("remediator/inc-1", "main", "earlier");
  auto forge = MakeForge();
  auto mr = forge->OpenPullRequest(Spec());
  ASSERT_THAT(mr.status(), IsOk());
  EXPECT_TRUE(mr->existed);
  EXPECT_EQ(mr->number, iid);
  EXPECT_THAT(stand_in_.pulls(), SizeIs(1));
  EXPECT_THAT(stand_in_.violations(), IsEmpty());
}

TEST_F(GitlabForgeTest, TooManyRequestsHonoursRetryAfter) {
  stand_in_.SetRateLimit({.count = 1, .status = 429, .reset_in = 600, .retry_after = 30});
  auto forge = MakeForge();
  absl::Time start = clock_.Now();
  ASSERT_THAT(forge->OpenPullRequest(Spec()).status(), IsOk());
  EXPECT_EQ(clock_.Now() - start, absl::Seconds(30));  // Retry-After wins over the reset
}

TEST_F(GitlabForgeTest, TooManyRequestsWithOnlyResetWaitsForIt) {
  stand_in_.SetRateLimit({.count = 1, .status = 429, .reset_in = 45, .retry_after = -1});
  auto forge = MakeForge();
  absl::Time start = clock_.Now();
  ASSERT_THAT(forge->OpenPullRequest(Spec()).status(), IsOk());
  EXPECT_EQ(clock_.Now() - start, absl::Seconds(46));
}

TEST_F(GitlabForgeTest, UnauthorizedIsClearAndSingle) {
  auto forge = MakeForge("glpat-wrong");
  EXPECT_THAT(forge->OpenPullRequest(Spec()),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("401 Unauthorized")));
  EXPECT_EQ(forge->requests_sent(), 1);
}

// ---------------------------------------------------------------------------------------------
class GiteaForgeTest : public ::testing::Test {
 protected:
  void SetUp() override { base_url_ = stand_in_.Start() + "/api/v1"; }
  std::unique_ptr<git::GiteaForge> MakeForge(const std::string& token = "gt-token") {
    git::GiteaForgeOptions options;
    options.api_url = base_url_;
    options.owner = "acme";
    options.repo = "widgets";
    options.token = token;
    auto forge = git::GiteaForge::Create(options, *http_, clock_);
    EXPECT_THAT(forge.status(), IsOk());
    return *std::move(forge);
  }

  FakeClock clock_;
  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient();
  GiteaStandIn stand_in_{clock_, "gt-token"};
  std::string base_url_;
};

TEST_F(GiteaForgeTest, CreatesPullRequestWithLabelIds) {
  auto forge = MakeForge();
  PullRequestSpec spec = Spec();
  spec.labels = {"remediator", "no-such-label"};
  auto pr = forge->OpenPullRequest(spec);
  ASSERT_THAT(pr.status(), IsOk());
  EXPECT_EQ(pr->number, 1);
  EXPECT_EQ(pr->url, "https://gitea.example/acme/widgets/pulls/1");
  EXPECT_THAT(stand_in_.violations(), IsEmpty());
  auto pulls = stand_in_.pulls();
  ASSERT_THAT(pulls, SizeIs(1));
  EXPECT_EQ(pulls[0]["labels"], nlohmann::json::array({{{"id", 11}}}));
}

TEST_F(GiteaForgeTest, ConflictReturnsTheExistingPullRequest) {
  stand_in_.Seed("other", "main", "unrelated");
  int64_t number = stand_in_.Seed("remediator/inc-1", "main", "earlier");
  auto forge = MakeForge();
  auto pr = forge->OpenPullRequest(Spec());
  ASSERT_THAT(pr.status(), IsOk());
  EXPECT_TRUE(pr->existed);
  EXPECT_EQ(pr->number, number);
  EXPECT_THAT(stand_in_.pulls(), SizeIs(2));
}

TEST_F(GiteaForgeTest, UnauthorizedIsClearAndSingle) {
  auto forge = MakeForge("wrong");
  EXPECT_THAT(forge->OpenPullRequest(Spec()),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("token is required")));
  EXPECT_EQ(forge->requests_sent(), 1);
}

TEST_F(GiteaForgeTest, SameHeadAndBaseIsInvalidArgument) {
  auto forge = MakeForge();
  PullRequestSpec spec = Spec();
  spec.head_branch = "main";
  EXPECT_THAT(forge->OpenPullRequest(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no changes")));
}

// ---------------------------------------------------------------------------------------------
TEST(ForgeFactoryTest, BuildsEachKindAndRejectsBadSettings) {
  FakeClock clock;
  std::unique_ptr<HttpClient> http = NewCurlHttpClient();
  auto store = SqliteIncidentStore::Open(":memory:");
  ASSERT_THAT(store.status(), IsOk());
  // The local forge only keeps references; a repository is not touched here.
  class NoRepository final : public Repository {
   public:
    absl::Status Fetch() override { return absl::UnimplementedError(""); }
    absl::StatusOr<std::string> RemoteBranchCommit(const std::string&) override {
      return absl::UnimplementedError("");
    }
    absl::StatusOr<std::vector<std::string>> ListFiles(const std::string&,
                                                       const std::string&) override {
      return absl::UnimplementedError("");
    }
    absl::StatusOr<std::string> ReadFile(const std::string&, const std::string&) override {
      return absl::UnimplementedError("");
    }
    absl::StatusOr<std::string> CreateCommit(const CommitRequest&) override {
      return absl::UnimplementedError("");
    }
    absl::StatusOr<CommitInfo> GetCommit(const std::string&) override {
      return absl::UnimplementedError("");
    }
    absl::Status Push(const std::string&) override { return absl::UnimplementedError(""); }
    absl::StatusOr<ChangeSummary> Summarize(const std::string&, const std::string&) override {
      return absl::UnimplementedError("");
    }
    std::string RemoteUrl() const override { return ""; }
  } repository;
  auto make = [&](const std::string& kind, const std::string& repo, const std::string& token,
                  const std::string& api_url = "", const std::string& auth = "") {
    git::ForgeSettings settings;
    settings.kind = kind;
    settings.repository = repo;
    settings.token = token;
    settings.api_url = api_url;
    settings.gitlab_auth = auth;
    return git::NewForge(settings, *http, clock, **store, repository);
  };
  EXPECT_EQ((*make("", "", ""))->Name(), "local");
  EXPECT_EQ((*make("local", "", ""))->Name(), "local");
  EXPECT_EQ((*make("github", "acme/widgets", "t"))->Name(), "github");
  EXPECT_EQ((*make("gitlab", "group/sub/proj", "t", "", "bearer"))->Name(), "gitlab");
  EXPECT_EQ((*make("Forgejo", "acme/widgets", "t", "https://git.example/api/v1"))->Name(), "gitea");
  EXPECT_THAT(make("bitbucket", "a/b", "t"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown kind")));
  EXPECT_THAT(make("github", "widgets", "t"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("owner/repo")));
  EXPECT_THAT(make("github", "acme/widgets", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token")));
  EXPECT_THAT(make("gitea", "acme/widgets", "t"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("api_url")));
  EXPECT_THAT(make("gitlab", "a/b", "t", "", "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("private-token")));
}

}  // namespace
}  // namespace remediator::pr
