// PullRequestOpener end to end: a real bare remote made with the git CLI, libgit2, the SQLite
// store, and LocalForge or the GitHub stand-in. Crashes are injected through the fail point.
#include "server/remediator/core/pr/pull_request_opener.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "server/common/http_client.h"
#include "server/common/time_util.h"
#include "server/remediator/adapters/git/github_forge.h"
#include "server/remediator/adapters/git/libgit2_repository.h"
#include "server/remediator/adapters/git/local_forge.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "tests/server/remediator/pr/forge_stand_ins.h"
#include "tests/server/remediator/pr/git_fixture.h"
#include "tests/testing/fake_classifier.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::pr {
namespace {

using ::remediator::testing::FakeClock;
using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using testing::Git;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kMemoryPath[] = "spec.template.spec.containers[name=nginx].resources.limits.memory";

class PullRequestOpenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTestDir("opener");
    remote_ = testing::MakeSeededRemote(dir_);
    std::filesystem::create_directories(dir_ / "state");
    auto store = SqliteIncidentStore::Open((dir_ / "state/remediator.db").string());
    ASSERT_THAT(store.status(), IsOk());
    store_ = *std::move(store);
    incident_id_ = MakeVerifiedIncident();
    OpenRepository();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void OpenRepository() {
    git::Libgit2RepositoryOptions options;
    options.remote_url = "file://" + remote_.string();
    options.local_path = (dir_ / "state/gitops.git").string();
    auto repo = git::Libgit2Repository::Open(options);
    ASSERT_THAT(repo.status(), IsOk());
    repo_ = *std::move(repo);
    local_forge_ = std::make_unique<git::LocalForge>(*store_, *repo_);
  }

  PullRequestOpenerOptions Options() {
    PullRequestOpenerOptions options;
    options.author = {"Remediator Bot", "bot@remediator.test"};
    return options;
  }

  std::string MakeVerifiedIncident() {
    v1::Detection detection = remediator::testing::MakeDetection(
        "app", "nginx", v1::ERROR_CLASS_OOM_KILLED,
        "Last State: Terminated, Reason: OOMKilled, Exit Code: 137 password=hunter2");
    detection.set_reason("OOMKilled");
    auto recorded =
        store_->RecordDetections({{detection, "fp-nginx", "critical", clock_.Now(), 3}});
    EXPECT_THAT(recorded.status(), IsOk());
    std::string id = (*recorded)[0].incident.id();
    EXPECT_THAT(store_
                    ->TransitionIncident(id, v1::INCIDENT_STATE_OPEN, v1::INCIDENT_STATE_FIXING,
                                         "fixing", clock_.Now())
                    .status(),
                IsOk());
    EXPECT_THAT(store_
                    ->TransitionIncident(id, v1::INCIDENT_STATE_FIXING, v1::INCIDENT_STATE_VERIFIED,
                                         "verified", clock_.Now())
                    .status(),
                IsOk());
    v1::FixAttempt attempt = Attempt(id, "fa-1");
    EXPECT_THAT(store_->PutFixAttempt(attempt), IsOk());
    return id;
  }

  v1::FixAttempt Attempt(const std::string& incident_id, const std::string& id) {
    v1::FixAttempt attempt;
    attempt.set_id(id);
    attempt.set_incident_id(incident_id);
    attempt.set_status(v1::FIX_STATUS_VERIFIED);
    attempt.set_strategy("playbook/oom-raise-memory");
    attempt.set_explanation("The container was OOMKilled at its 4Mi limit; raise it to 64Mi.");
    attempt.set_manifest_source("repo:deploy/app.yaml");
    attempt.set_manifest_path("deploy/app.yaml");
    attempt.set_manifest_document(1);
    attempt.mutable_workload()->set_namespace_("app");
    attempt.mutable_workload()->set_kind("Deployment");
    attempt.mutable_workload()->set_name("nginx");
    attempt.mutable_workload()->set_container("nginx");
    v1::FieldChange* change = attempt.add_changes();
    change->set_path(kMemoryPath);
    change->set_old_value_json("\"4Mi\"");
    change->set_new_value_json("\"64Mi\"");
    change->set_reason("OOMKilled at the limit");
    attempt.add_verification_evidence("rollout status: 1/1 updated replicas available");
    attempt.add_verification_evidence("no restarts and Ready for 120s");
    *attempt.mutable_started() = ToProtoTime(clock_.Now());
    return attempt;
  }

  std::string RemoteGit(const std::string& args) {
    return Git("--git-dir=" + remote_.string() + " " + args).output;
  }
  int RemoteBranchCount() {
    std::string out = RemoteGit("for-each-ref '--format=%(refname)' refs/heads/remediator/");
    return static_cast<int>(std::count(out.begin(), out.end(), '\n'));
  }
  int StoredPullRequests() {
    auto page = store_->ListPullRequests("", 100, "");
    EXPECT_THAT(page.status(), IsOk());
    return static_cast<int>(page->pull_requests.size());
  }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::filesystem::path remote_;
  std::unique_ptr<SqliteIncidentStore> store_;
  std::unique_ptr<git::Libgit2Repository> repo_;
  std::unique_ptr<git::LocalForge> local_forge_;
  std::string incident_id_;
};

TEST_F(PullRequestOpenerTest, VerifiedFixBecomesBranchCommitAndLocalPullRequest) {
  PullRequestOpener opener(*store_, *repo_, *local_forge_, clock_, Options());
  auto pr = opener.Open(incident_id_, "");
  ASSERT_THAT(pr.status(), IsOk());
  const std::string branch = "remediator/" + incident_id_;
  EXPECT_EQ(pr->forge(), "local");
  EXPECT_EQ(pr->number(), 1);
  EXPECT_EQ(pr->branch(), branch);
  EXPECT_EQ(pr->base_branch(), "main");
  EXPECT_EQ(pr->fix_attempt_id(), "fa-1");
  EXPECT_EQ(pr->state(), "open");
  EXPECT_EQ(pr->title(), "fix(app/nginx): raise memory limit after OOMKilled");
  EXPECT_EQ(pr->url(), "file://" + remote_.string() + "#pull/1");

  // The remote has the branch, at the recorded commit, by the configured author.
  EXPECT_EQ(RemoteGit("rev-parse " + branch), pr->commit() + "\n");
  EXPECT_EQ(RemoteGit("log -1 --format=%an%n%ae " + branch),
            "Remediator Bot\nbot@remediator.test\n");
  std::string message = RemoteGit("log -1 --format=%B " + branch);
  EXPECT_THAT(message, HasSubstr("fix(app/nginx): raise memory limit after OOMKilled"));
  EXPECT_THAT(message, HasSubstr("Remediator-Incident: " + incident_id_));
  EXPECT_EQ(RemoteGit("rev-parse " + branch + "^"), RemoteGit("rev-parse main"));
  testing::CommandResult fsck = Git("--git-dir=" + remote_.string() + " fsck --strict");
  EXPECT_EQ(fsck.exit_code, 0) << fsck.output;

  // Only the fixed field changed; every comment line is still there.
  EXPECT_EQ(RemoteGit("diff --name-only main " + branch), "deploy/app.yaml\n");
  std::string diff = RemoteGit("diff -U0 main " + branch + " -- deploy/app.yaml");
  std::vector<std::string> changed;
  for (const std::string& line : std::vector<std::string>(absl::StrSplit(diff, '\n'))) {
    if ((line.starts_with("-") || line.starts_with("+")) && !line.starts_with("---") &&
        !line.starts_with("+++")) {
      changed.push_back(line);
    }
  }
  ASSERT_THAT(changed, SizeIs(2)) << diff;
  EXPECT_THAT(changed[0], HasSubstr("memory: \"4Mi\""));
  EXPECT_THAT(changed[1], HasSubstr("64Mi"));
  std::string after = RemoteGit("show " + branch + ":deploy/app.yaml");
  for (const std::string& line :
       std::vector<std::string>(absl::StrSplit(testing::kAppManifest, '\n'))) {
    if (absl::StrContains(line, "#") && !absl::StrContains(line, "4Mi")) {
      EXPECT_THAT(after, HasSubstr(line));
    }
  }

  // The PR body: incident, evidence (redacted), diff, strategy, verification, request-pull.
  EXPECT_THAT(pr->body(), HasSubstr(incident_id_));
  EXPECT_THAT(pr->body(), HasSubstr("oom_killed"));
  EXPECT_THAT(pr->body(), HasSubstr("Exit Code: 137"));
  EXPECT_THAT(pr->body(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(pr->body(), HasSubstr("+              memory: "));
  EXPECT_THAT(pr->body(), HasSubstr("playbook/oom-raise-memory"));
  EXPECT_THAT(pr->body(), HasSubstr("no restarts and Ready for 120s"));
  EXPECT_THAT(pr->body(), HasSubstr("The following changes since commit"));
  EXPECT_THAT(pr->body(), HasSubstr("deploy/app.yaml | 2 +-"));

  // The store: one PR, linked, and the incident moved on.
  EXPECT_EQ(StoredPullRequests(), 1);
  auto incident = store_->GetIncident(incident_id_);
  ASSERT_THAT(incident.status(), IsOk());
  EXPECT_EQ(incident->state(), v1::INCIDENT_STATE_PR_OPENED);
  EXPECT_EQ(incident->pull_request_id(), pr->id());
  auto listed = local_forge_->FindOpenPullRequest(branch, "main");
  ASSERT_THAT(listed.status(), IsOk());
  ASSERT_TRUE(listed->has_value());
  EXPECT_EQ((*listed)->number, 1);
}

TEST_F(PullRequestOpenerTest, CallingTwiceReturnsTheSamePullRequest) {
  PullRequestOpener opener(*store_, *repo_, *local_forge_, clock_, Options());
  auto first = opener.Open(incident_id_, "");
  ASSERT_THAT(first.status(), IsOk());
  clock_.Advance(absl::Minutes(5));
  auto second = opener.Open("", "fa-1");
  ASSERT_THAT(second.status(), IsOk());
  EXPECT_EQ(second->id(), first->id());
  EXPECT_EQ(second->number(), first->number());
  EXPECT_EQ(second->commit(), first->commit());
  EXPECT_EQ(RemoteBranchCount(), 1);
  EXPECT_EQ(StoredPullRequests(), 1);
  EXPECT_EQ(*store_->GetValue("local_forge/next_number"), std::optional<std::string>("2"));
}

TEST_F(PullRequestOpenerTest, CrashBetweenPushAndPullRequestEndsWithOneBranchAndOnePr) {
  std::string pushed_commit;
  {
    PullRequestOpenerOptions options = Options();
    options.fail_point = [](const std::string& stage) {
      return stage == "pushed" ? absl::UnavailableError("injected crash after push")
                               : absl::OkStatus();
    };
    PullRequestOpener opener(*store_, *repo_, *local_forge_, clock_, options);
    EXPECT_THAT(opener.Open(incident_id_, ""), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_EQ(RemoteBranchCount(), 1);
    EXPECT_EQ(StoredPullRequests(), 0);
    pushed_commit = RemoteGit("rev-parse remediator/" + incident_id_);
  }
  // Restart: new repository object, forge and opener over the same store and state dir.
  clock_.Advance(absl::Hours(1));
  repo_.reset();
  OpenRepository();
  PullRequestOpener restarted(*store_, *repo_, *local_forge_, clock_, Options());
  auto pr = restarted.Open(incident_id_, "");
  ASSERT_THAT(pr.status(), IsOk());
  EXPECT_EQ(pr->commit() + "\n", pushed_commit);
  EXPECT_EQ(RemoteGit("rev-parse remediator/" + incident_id_), pushed_commit);
  EXPECT_EQ(RemoteBranchCount(), 1);
  EXPECT_EQ(StoredPullRequests(), 1);
  EXPECT_EQ(pr->number(), 1);
}

TEST_F(PullRequestOpenerTest, CrashAfterCommitWithLostLocalCopyRecreatesTheSameCommit) {
  std::string checkpointed;
  {
    PullRequestOpenerOptions options = Options();
    options.fail_point = [](const std::string& stage) {
      return stage == "committed" ? absl::UnavailableError("injected crash before push")
                                  : absl::OkStatus();
    };
    PullRequestOpener opener(*store_, *repo_, *local_forge_, clock_, options);
    EXPECT_THAT(opener.Open(incident_id_, ""), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_EQ(RemoteBranchCount(), 0);
  }
  repo_.reset();
  std::filesystem::remove_all(dir_ / "state/gitops.git");
  clock_.Advance(absl::Hours(1));  // a new commit time would change the id: the checkpoint's wins
  OpenRepository();
  PullRequestOpener restarted(*store_, *repo_, *local_forge_, clock_, Options());
  auto pr = restarted.Open(incident_id_, "");
  ASSERT_THAT(pr.status(), IsOk());
  EXPECT_EQ(RemoteGit("log -1 --format=%at remediator/" + incident_id_),
            std::to_string(absl::ToUnixSeconds(clock_.Now() - absl::Hours(1))) + "\n");
  EXPECT_EQ(RemoteBranchCount(), 1);
  EXPECT_EQ(StoredPullRequests(), 1);
}

TEST_F(PullRequestOpenerTest, CrashAfterTheForgeCallReusesTheForgesPullRequest) {
  testing::GithubStandIn github(clock_, "ghp_token");
  std::string url = github.Start();
  std::unique_ptr<HttpClient> http = NewCurlHttpClient();
  git::GithubForgeOptions forge_options;
  forge_options.api_url = url;
  forge_options.owner = "acme";
  forge_options.repo = "widgets";
  forge_options.token = "ghp_token";
  auto forge = git::GithubForge::Create(forge_options, *http, clock_);
  ASSERT_THAT(forge.status(), IsOk());
  {
    PullRequestOpenerOptions options = Options();
    options.fail_point = [](const std::string& stage) {
      return stage == "forge_opened" ? absl::UnavailableError("injected crash after the forge")
                                     : absl::OkStatus();
    };
    PullRequestOpener opener(*store_, *repo_, **forge, clock_, options);
    EXPECT_THAT(opener.Open(incident_id_, ""), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_THAT(github.pulls(), SizeIs(1));
    EXPECT_EQ(StoredPullRequests(), 0);
  }
  PullRequestOpener restarted(*store_, *repo_, **forge, clock_, Options());
  auto pr = restarted.Open(incident_id_, "");
  ASSERT_THAT(pr.status(), IsOk());
  EXPECT_EQ(pr->forge(), "github");
  EXPECT_EQ(pr->number(), 1);
  EXPECT_EQ(pr->url(), "https://github.example/acme/widgets/pull/1");
  EXPECT_THAT(github.pulls(), SizeIs(1));
  EXPECT_EQ(RemoteBranchCount(), 1);
  EXPECT_EQ(StoredPullRequests(), 1);
  EXPECT_THAT(github.violations(), ::testing::IsEmpty());
  EXPECT_EQ(github.pulls()[0]["head"]["ref"], "remediator/" + incident_id_);
  EXPECT_EQ(github.pulls()[0]["title"], "fix(app/nginx): raise memory limit after OOMKilled");
}

TEST_F(PullRequestOpenerTest, UnverifiedOrLiveManifestAttemptsAreRefused) {
  PullRequestOpener opener(*store_, *repo_, *local_forge_, clock_, Options());
  v1::FixAttempt proposed = Attempt(incident_id_, "fa-proposed");
  proposed.set_status(v1::FIX_STATUS_PROPOSED);
  ASSERT_THAT(store_->PutFixAttempt(proposed), IsOk());
  EXPECT_THAT(opener.Open("", "fa-proposed"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("proposed")));

  v1::FixAttempt live = Attempt(incident_id_, "fa-live");
  live.set_manifest_source("live");
  live.clear_manifest_path();
  ASSERT_THAT(store_->PutFixAttempt(live), IsOk());
  EXPECT_THAT(
      opener.Open(incident_id_, "fa-live"),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no pull request is possible")));
  EXPECT_THAT(opener.Open("", ""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(opener.Open("other-incident", "fa-1"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(opener.Open("", "fa-missing"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(RemoteBranchCount(), 0);
  EXPECT_EQ(StoredPullRequests(), 0);
}

TEST_F(PullRequestOpenerTest, IncidentWithoutVerifiedAttemptIsFailedPrecondition) {
  v1::Detection detection =
      remediator::testing::MakeDetection("app", "api", v1::ERROR_CLASS_CRASH_LOOP);
  auto recorded = store_->RecordDetections({{detection, "fp-api", "high", clock_.Now(), 1}});
  ASSERT_THAT(recorded.status(), IsOk());
  PullRequestOpener opener(*store_, *repo_, *local_forge_, clock_, Options());
  EXPECT_THAT(opener.Open((*recorded)[0].incident.id(), ""),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no verified")));
}

TEST_F(PullRequestOpenerTest, ForeignBranchWithTheSameNameIsNotTouched) {
  std::filesystem::path other = dir_ / "other";
  ASSERT_EQ(Git("clone -q " + remote_.string() + " " + other.string()).exit_code, 0);
  testing::WriteAll(other / "README.md", "someone else\n");
  ASSERT_EQ(Git("-C " + other.string() + " commit -qam other").exit_code, 0);
  ASSERT_EQ(
      Git("-C " + other.string() + " push -q origin HEAD:remediator/" + incident_id_).exit_code, 0);
  std::string before = RemoteGit("rev-parse remediator/" + incident_id_);
  PullRequestOpener opener(*store_, *repo_, *local_forge_, clock_, Options());
  EXPECT_THAT(opener.Open(incident_id_, ""),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("did not make")));
  EXPECT_EQ(RemoteGit("rev-parse remediator/" + incident_id_), before);
}

}  // namespace
}  // namespace remediator::pr
