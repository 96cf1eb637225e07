// ManifestLocator over a real repository (git CLI remote, libgit2 copy).
#include "server/remediator/core/pr/manifest_locator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "server/remediator/adapters/git/libgit2_repository.h"
#include "tests/server/remediator/pr/git_fixture.h"
#include "tests/testing/status_matchers.h"

namespace remediator::pr {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::AllOf;
using testing::Git;
using ::testing::HasSubstr;

class ManifestLocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTestDir("locator");
    remote_ = testing::MakeSeededRemote(dir_);
    git::Libgit2RepositoryOptions options;
    options.remote_url = remote_.string();
    options.local_path = (dir_ / "state/gitops.git").string();
    auto repo = git::Libgit2Repository::Open(options);
    ASSERT_THAT(repo.status(), IsOk());
    repo_ = *std::move(repo);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Adds files to main on the remote.
  void PushFiles(const std::vector<std::pair<std::string, std::string>>& files) {
    std::filesystem::path work = dir_ / "work";
    if (!std::filesystem::exists(work)) {
      ASSERT_EQ(Git("clone -q " + remote_.string() + " " + work.string()).exit_code, 0);
    }
    for (const auto& [path, content] : files) testing::WriteAll(work / path, content);
    ASSERT_EQ(Git("-C " + work.string() + " add -A").exit_code, 0);
    ASSERT_EQ(Git("-C " + work.string() + " commit -qm more").exit_code, 0);
    ASSERT_EQ(Git("-C " + work.string() + " push -q origin main").exit_code, 0);
  }

  std::filesystem::path dir_;
  std::filesystem::path remote_;
  std::unique_ptr<git::Libgit2Repository> repo_;
};

TEST_F(ManifestLocatorTest, FindsTheDocumentInAMultiDocumentFile) {
  ManifestLocator locator(*repo_, {});
  auto found = locator.Locate({"apps/v1", "Deployment", "app", "nginx"});
  ASSERT_THAT(found.status(), IsOk());
  EXPECT_EQ(found->path, "deploy/app.yaml");
  EXPECT_EQ(found->document_index, 1);
  EXPECT_EQ(found->text, testing::kAppManifest);
  EXPECT_EQ(found->commit + "\n", Git("--git-dir=" + remote_.string() + " rev-parse main").output);

  auto service = locator.Locate({"v1", "Service", "app", "nginx"});
  ASSERT_THAT(service.status(), IsOk());
  EXPECT_EQ(service->document_index, 2);
}

TEST_F(ManifestLocatorTest, DocumentWithoutNamespaceMatchesByKindAndName) {
  ManifestLocator locator(*repo_, {});
  auto found = locator.Locate({"", "Deployment", "jobs", "worker"});
  ASSERT_THAT(found.status(), IsOk());
  EXPECT_EQ(found->path, "deploy/jobs/worker.yaml");
  EXPECT_EQ(found->document_index, 0);
}

TEST_F(ManifestLocatorTest, NamespacedMatchWinsOverNamespaceLessOne) {
  PushFiles(
      {{"base/nginx.yml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx\n"}});
  ManifestLocator locator(*repo_, {});
  auto found = locator.Locate({"apps/v1", "Deployment", "app", "nginx"});
  ASSERT_THAT(found.status(), IsOk());
  EXPECT_EQ(found->path, "deploy/app.yaml");
}

TEST_F(ManifestLocatorTest, TwoEqualCandidatesAreReportedAsAmbiguous) {
  PushFiles({{"overlays/prod/worker.yaml", testing::kWorkerManifest},
             {"charts/templates/broken.yaml", "{{ if .Values.x }}\nkind: [\n"}});
  ManifestLocator locator(*repo_, {});
  EXPECT_THAT(locator.Locate({"", "Deployment", "jobs", "worker"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("ambiguous"), HasSubstr("deploy/jobs/worker.yaml#0"),
                             HasSubstr("overlays/prod/worker.yaml#0"))));
  // Restricting the directories settles it.
  ManifestLocator narrowed(*repo_, {.branch = "main", .directories = {"overlays/prod"}});
  auto found = narrowed.Locate({"", "Deployment", "jobs", "worker"});
  ASSERT_THAT(found.status(), IsOk());
  EXPECT_EQ(found->path, "overlays/prod/worker.yaml");
}

TEST_F(ManifestLocatorTest, NothingMatchingIsNotFound) {
  ManifestLocator locator(*repo_, {});
  EXPECT_THAT(locator.Locate({"", "Deployment", "other", "nginx"}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("Deployment other/nginx")));
  EXPECT_THAT(locator.Locate({"extensions/v1beta1", "Deployment", "app", "nginx"}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(locator.Locate({"", "StatefulSet", "app", "nginx"}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(locator.Locate({"", "", "app", "nginx"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace remediator::pr
