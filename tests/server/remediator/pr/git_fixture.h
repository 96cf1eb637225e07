// Test helpers for the pull-request tests: temporary directories, running the git CLI, and a
// bare "GitOps" remote seeded with a commented multi-document manifest.
#ifndef REMEDIATOR_TESTS_SERVER_REMEDIATOR_PR_GIT_FIXTURE_H_
#define REMEDIATOR_TESTS_SERVER_REMEDIATOR_PR_GIT_FIXTURE_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace remediator::pr::testing {

// A StatusOr that is OK and whose value matches `inner`.
MATCHER_P(IsOkAndHolds, inner, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(inner, *arg, result_listener);
}

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// Runs `command` with sh, stderr merged into the output.
inline CommandResult Run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Runs git with a fixed identity and no user/system config.
inline CommandResult Git(const std::string& args) {
  return Run(
      "env GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null git -c user.name=Seed "
      "-c user.email=seed@example.com -c init.defaultBranch=main " +
      args);
}

inline std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void WriteAll(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// A fresh directory per test, removed afterwards.
inline std::filesystem::path MakeTestDir(const std::string& tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("pr_test_" + tag + "_" + std::to_string(::getpid()) + "_" +
                               info->test_suite_name() + "_" + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline constexpr char kAppManifest[] = R"(# Demo app: nginx with a tiny memory limit.
apiVersion: v1
kind: Namespace
metadata:
  name: app
---
# The web server. Keep the comments!
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  namespace: app
  labels:
    app: nginx   # used by the service
spec:
  replicas: 1  # one is enough for the demo
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
        # the only container
        - name: nginx
          image: nginx:1.25
          resources:
            limits:
              memory: "4Mi"  # far too small on purpose
---
apiVersion: v1
kind: Service
metadata:
  name: nginx
  namespace: app
spec:
  ports:
    - port: 80
)";

inline constexpr char kWorkerManifest[] = R"(# no namespace here: applied with -n jobs
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  template:
    spec:
      containers:
        - name: worker
          image: busybox:1.36
)";

// A bare repository at `dir`/remote.git whose main branch has deploy/app.yaml (kAppManifest),
// deploy/jobs/worker.yaml (kWorkerManifest) and README.md. Returns the remote path.
inline std::filesystem::path MakeSeededRemote(const std::filesystem::path& dir) {
  std::filesystem::path remote = dir / "remote.git";
  std::filesystem::path seed = dir / "seed";
  EXPECT_EQ(Git("init -q --bare -b main " + remote.string()).exit_code, 0);
  EXPECT_EQ(Git("init -q -b main " + seed.string()).exit_code, 0);
  WriteAll(seed / "deploy/app.yaml", kAppManifest);
  WriteAll(seed / "deploy/jobs/worker.yaml", kWorkerManifest);
  WriteAll(seed / "README.md", "# gitops\n");
  EXPECT_EQ(Git("-C " + seed.string() + " add -A").exit_code, 0);
  CommandResult commit = Git("-C " + seed.string() + " commit -q -m 'seed manifests'");
  EXPECT_EQ(commit.exit_code, 0) << commit.output;
  CommandResult push = Git("-C " + seed.string() + " push -q " + remote.string() + " main");
  EXPECT_EQ(push.exit_code, 0) << push.output;
  return remote;
}

}  // namespace remediator::pr::testing

#endif  // REMEDIATOR_TESTS_SERVER_REMEDIATOR_PR_GIT_FIXTURE_H_
