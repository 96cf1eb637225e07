#include "server/remediator/core/pr/repository_manifest_source.h"

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

TEST(RepositoryManifestSourceTest, FindsTheWorkloadsDocument) {
  std::filesystem::path dir = testing::MakeTestDir("source");
  std::filesystem::path remote = testing::MakeSeededRemote(dir);
  git::Libgit2RepositoryOptions options;
  options.remote_url = "file://" + remote.string();
  options.local_path = (dir / "state/gitops.git").string();
  auto repo = git::Libgit2Repository::Open(options);
  ASSERT_THAT(repo.status(), IsOk());
  RepositoryManifestSource source(**repo, {});

  v1::WorkloadRef workload;
  workload.set_namespace_("app");
  workload.set_kind("Deployment");
  workload.set_name("nginx");
  auto record = source.Find(workload);
  ASSERT_THAT(record.status(), IsOk());
  EXPECT_EQ(record->path, "deploy/app.yaml");
  EXPECT_EQ(record->document, 1);
  EXPECT_EQ(record->text, testing::kAppManifest);
  EXPECT_EQ(record->object["metadata"]["name"], "nginx");
  EXPECT_EQ(
      record->object["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
      "4Mi");
  EXPECT_EQ(record->commit + "\n",
            testing::Git("--git-dir=" + remote.string() + " rev-parse main").output);

  workload.set_name("missing");
  EXPECT_THAT(source.Find(workload), StatusIs(absl::StatusCode::kNotFound));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace remediator::pr
