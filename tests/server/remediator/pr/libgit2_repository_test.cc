// Libgit2Repository against real repositories made with the git CLI (file remotes) and a real
// `git http-backend` behind HTTP basic auth (token remotes).
#include "server/remediator/adapters/git/libgit2_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/str_replace.h"
#include "tests/server/remediator/pr/git_fixture.h"
#include "tests/server/remediator/pr/git_http_server.h"
#include "tests/testing/status_matchers.h"

namespace remediator::pr {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::ElementsAre;
using testing::Git;
using ::testing::HasSubstr;
using testing::IsOkAndHolds;
using testing::MakeSeededRemote;
using testing::MakeTestDir;
using ::testing::Not;
using ::testing::SizeIs;

class Libgit2RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTestDir("repo");
    remote_ = MakeSeededRemote(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<git::Libgit2Repository> OpenRepo(const std::string& url,
                                                   const std::string& local = "state/gitops.git") {
    git::Libgit2RepositoryOptions options;
    options.remote_url = url;
    options.local_path = (dir_ / local).string();
    auto repo = git::Libgit2Repository::Open(options);
    EXPECT_THAT(repo.status(), IsOk());
    return repo.ok() ? *std::move(repo) : nullptr;
  }

  std::string RemoteGit(const std::string& args) {
    return Git("--git-dir=" + remote_.string() + " " + args).output;
  }

  CommitRequest EditRequest(const std::string& parent) {
    CommitRequest request;
    request.branch = "remediator/inc-1";
    request.parent = parent;
    std::string edited = absl::StrReplaceAll(testing::kAppManifest, {{"\"4Mi\"", "\"64Mi\""}});
    request.files = {{"deploy/app.yaml", edited}};
    request.message =
        "fix(app/nginx): raise memory limit after OOMKilled\n\nRemediator-Incident: inc-1\n";
    request.author = {"Remediator Bot", "bot@remediator.test"};
    request.time = absl::FromUnixSeconds(1780000000);
    return request;
  }

  std::filesystem::path dir_;
  std::filesystem::path remote_;
};

TEST_F(Libgit2RepositoryTest, FetchReadCommitPushAndTheRemoteAgrees) {
  auto repo = OpenRepo("file://" + remote_.string());
  ASSERT_NE(repo, nullptr);
  ASSERT_THAT(repo->Fetch(), IsOk());
  auto main = repo->RemoteBranchCommit("main");
  ASSERT_THAT(main.status(), IsOk());
  EXPECT_EQ(*main + "\n", RemoteGit("rev-parse main"));
  EXPECT_THAT(repo->RemoteBranchCommit("nope"), StatusIs(absl::StatusCode::kNotFound));

  EXPECT_THAT(repo->ListFiles(*main, ""),
              IsOkAndHolds(ElementsAre("README.md", "deploy/app.yaml", "deploy/jobs/worker.yaml")));
  EXPECT_THAT(repo->ListFiles(*main, "deploy/jobs"),
              IsOkAndHolds(ElementsAre("deploy/jobs/worker.yaml")));
  EXPECT_THAT(repo->ReadFile(*main, "deploy/app.yaml"),
              IsOkAndHolds(std::string(testing::kAppManifest)));
  EXPECT_THAT(repo->ReadFile(*main, "deploy/missing.yaml"), StatusIs(absl::StatusCode::kNotFound));

  auto commit = repo->CreateCommit(EditRequest(*main));
  ASSERT_THAT(commit.status(), IsOk());
  ASSERT_THAT(repo->Push("remediator/inc-1"), IsOk());
  EXPECT_THAT(repo->RemoteBranchCommit("remediator/inc-1"), IsOkAndHolds(*commit));

  // The remote, seen by the git CLI.
  EXPECT_EQ(RemoteGit("rev-parse remediator/inc-1"), *commit + "\n");
  EXPECT_EQ(RemoteGit("log -1 --format=%an%n%ae%n%at%n%s%n%P remediator/inc-1"),
            "Remediator Bot\nbot@remediator.test\n1780000000\nfix(app/nginx): raise memory "
            "limit after OOMKilled\n" +
                *main + "\n");
  EXPECT_EQ(RemoteGit("diff --name-only main remediator/inc-1"), "deploy/app.yaml\n");
  std::string diff = RemoteGit("diff -U0 main remediator/inc-1");
  EXPECT_THAT(diff, HasSubstr("-              memory: \"4Mi\"  # far too small on purpose\n"
                              "+              memory: \"64Mi\"  # far too small on purpose\n"));
  testing::CommandResult fsck = Git("--git-dir=" + remote_.string() + " fsck --strict");
  EXPECT_EQ(fsck.exit_code, 0) << fsck.output;

  auto summary = repo->Summarize(*main, *commit);
  ASSERT_THAT(summary.status(), IsOk());
  EXPECT_EQ(summary->base_commit, *main);
  EXPECT_THAT(summary->commits, ElementsAre(commit->substr(0, 12) +
                                            " fix(app/nginx): raise memory limit after OOMKilled"));
  EXPECT_THAT(summary->diffstat, HasSubstr("deploy/app.yaml | 2 +-"));
  EXPECT_THAT(summary->diffstat, HasSubstr("1 file changed, 1 insertion(+), 1 deletion(-)"));
  EXPECT_THAT(summary->patch, HasSubstr("+              memory: \"64Mi\""));

  auto info = repo->GetCommit(*commit);
  ASSERT_THAT(info.status(), IsOk());
  EXPECT_THAT(info->parents, ElementsAre(*main));
  EXPECT_EQ(info->author.email, "bot@remediator.test");
}

TEST_F(Libgit2RepositoryTest, CommitsAreAFunctionOfTheRequest) {
  auto first = OpenRepo(remote_.string(), "a.git");  // a plain path works as a remote too
  auto second = OpenRepo("file://" + remote_.string(), "b.git");
  ASSERT_THAT(first->Fetch(), IsOk());
  ASSERT_THAT(second->Fetch(), IsOk());
  std::string main = *first->RemoteBranchCommit("main");
  auto a = first->CreateCommit(EditRequest(main));
  auto b = second->CreateCommit(EditRequest(main));
  ASSERT_THAT(a.status(), IsOk());
  EXPECT_THAT(b, IsOkAndHolds(*a));
  CommitRequest later = EditRequest(main);
  later.time += absl::Seconds(1);
  EXPECT_THAT(first->CreateCommit(later), IsOkAndHolds(Not(*a)));
}

TEST_F(Libgit2RepositoryTest, RejectedPushIsFailedPrecondition) {
  auto repo = OpenRepo("file://" + remote_.string());
  ASSERT_THAT(repo->Fetch(), IsOk());
  std::string main = *repo->RemoteBranchCommit("main");
  // Someone else pushes a different commit to the same branch first.
  std::filesystem::path other = dir_ / "other";
  ASSERT_EQ(Git("clone -q " + remote_.string() + " " + other.string()).exit_code, 0);
  testing::WriteAll(other / "README.md", "changed by someone else\n");
  ASSERT_EQ(Git("-C " + other.string() + " commit -qam other").exit_code, 0);
  ASSERT_EQ(Git("-C " + other.string() + " push -q origin HEAD:remediator/inc-1").exit_code, 0);

  ASSERT_THAT(repo->CreateCommit(EditRequest(main)).status(), IsOk());
  EXPECT_THAT(repo->Push("remediator/inc-1"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("remediator/inc-1")));
}

TEST_F(Libgit2RepositoryTest, BadInputIsInvalidArgument) {
  git::Libgit2RepositoryOptions options;
  options.local_path = (dir_ / "x.git").string();
  options.remote_url = "https://user:ghp_secret@example.com/acme/gitops.git";
  auto repo = git::Libgit2Repository::Open(options);
  EXPECT_THAT(repo, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token")));
  EXPECT_THAT(std::string(repo.status().message()), Not(HasSubstr("ghp_secret")));
  options.remote_url = "";
  EXPECT_THAT(git::Libgit2Repository::Open(options), StatusIs(absl::StatusCode::kInvalidArgument));

  auto good = OpenRepo("file://" + remote_.string());
  ASSERT_THAT(good->Fetch(), IsOk());
  CommitRequest request = EditRequest(*good->RemoteBranchCommit("main"));
  request.files[0].path = "../escape.yaml";
  EXPECT_THAT(good->CreateCommit(request), StatusIs(absl::StatusCode::kInvalidArgument));
  request = EditRequest(*good->RemoteBranchCommit("main"));
  request.branch = "bad..branch";
  EXPECT_THAT(good->CreateCommit(request), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(Libgit2RepositoryTest, UnreachableRemoteIsAClearError) {
  auto repo = OpenRepo("file://" + (dir_ / "does-not-exist.git").string());
  auto status = repo->Fetch();
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("does-not-exist.git"));
}

TEST_F(Libgit2RepositoryTest, DebianLibgit2HasSshAndHttps) {
  // The SSH path (ssh:// and scp-like remotes with a key or the agent) is enabled because of this.
  EXPECT_TRUE(git::Libgit2SupportsSsh());
  EXPECT_TRUE(git::Libgit2SupportsHttps());
}

constexpr char kHttpToken[] = "tok-DO-NOT-STORE-5f1c2e9a";

bool TreeContains(const std::filesystem::path& root, const std::string& needle,
                  std::string* where) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    if (testing::ReadAll(entry.path()).find(needle) != std::string::npos) {
      *where = entry.path().string();
      return true;
    }
  }
  return false;
}

TEST_F(Libgit2RepositoryTest, HttpTokenIsUsedButNeverWrittenToDisk) {
  testing::GitHttpServer server(dir_, dir_ / "cgi", "x-access-token", kHttpToken);
  std::string base = server.Start();
  git::Libgit2RepositoryOptions options;
  options.remote_url = base + "/remote.git";
  options.local_path = (dir_ / "state/gitops.git").string();
  options.https_token = kHttpToken;
  auto repo = git::Libgit2Repository::Open(options);
  ASSERT_THAT(repo.status(), IsOk());
  ASSERT_THAT((*repo)->Fetch(), IsOk());
  std::string main = *(*repo)->RemoteBranchCommit("main");
  auto commit = (*repo)->CreateCommit(EditRequest(main));
  ASSERT_THAT(commit.status(), IsOk());
  ASSERT_THAT((*repo)->Push("remediator/inc-1"), IsOk());
  EXPECT_EQ(RemoteGit("rev-parse remediator/inc-1"), *commit + "\n");
  EXPECT_GT(server.unauthorized(), 0);  // the server did ask for the credentials

  std::filesystem::remove_all(dir_ / "cgi");  // the stand-in's own scratch files
  std::string config = testing::ReadAll(dir_ / "state/gitops.git/config");
  EXPECT_THAT(config, HasSubstr(base + "/remote.git"));
  EXPECT_THAT(config, Not(HasSubstr(kHttpToken)));
  std::string where;
  EXPECT_FALSE(TreeContains(dir_ / "state", kHttpToken, &where)) << where;
  EXPECT_FALSE(TreeContains(
      dir_ / "state", absl::Base64Escape(std::string("x-access-token:") + kHttpToken), &where))
      << where;
}

TEST_F(Libgit2RepositoryTest, WrongHttpTokenIsUnauthenticatedWithoutALoop) {
  testing::GitHttpServer server(dir_, dir_ / "cgi", "x-access-token", kHttpToken);
  std::string base = server.Start();
  git::Libgit2RepositoryOptions options;
  options.remote_url = base + "/remote.git";
  options.local_path = (dir_ / "state/gitops.git").string();
  options.https_token = "tok-wrong";
  auto repo = git::Libgit2Repository::Open(options);
  ASSERT_THAT(repo.status(), IsOk());
  auto status = (*repo)->Fetch();
  EXPECT_THAT(status,
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("check the HTTPS token")));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("tok-wrong")));
  EXPECT_LE(server.requests(), 4);

  options.https_token.clear();
  options.local_path = (dir_ / "state2/gitops.git").string();
  auto anonymous = git::Libgit2Repository::Open(options);
  ASSERT_THAT(anonymous.status(), IsOk());
  EXPECT_THAT((*anonymous)->Fetch(), StatusIs(absl::StatusCode::kUnauthenticated));
}

}  // namespace
}  // namespace remediator::pr
