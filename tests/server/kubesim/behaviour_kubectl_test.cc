// The spec-derived behaviours through the real /usr/bin/kubectl: a broken workload is applied,
// inspected (get, describe, logs --previous, events) and fixed (patch, taint, delete pod) the way
// an operator or a playbook would, on an in-process kubesim with the behaviour world and a
// manual clock.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/file_util.h"
#include "server/kubesim/kubesim.h"
#include "tests/server/kubesim/run_command.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;
using ::remediator::testing::IsOk;
using testing::CommandResult;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

constexpr char kKubectlPath[] = "/usr/bin/kubectl";

class BehaviourKubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kKubectlPath, X_OK) != 0) GTEST_SKIP() << "/usr/bin/kubectl is not installed";
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "kubesim-behaviour-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    KubeSimOptions opts;
    opts.world_file = BEHAVIOUR_WORLD;
    opts.manual_clock = true;
    auto sim = KubeSim::Start(opts);
    ASSERT_THAT(sim.status(), IsOk());
    sim_ = std::move(*sim);
    ASSERT_THAT(sim_->WriteKubeconfig(dir_ + "/kubeconfig", "app"), IsOk());
  }
  void TearDown() override {
    if (sim_) sim_->Stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  CommandResult Kubectl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kKubectlPath, "--kubeconfig", dir_ + "/kubeconfig",
                                     "--cache-dir", dir_ + "/cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv, dir_, absl::Seconds(60));
  }
  void ApplyFile(const std::string& yaml) {
    const std::string path = dir_ + "/manifest.yaml";
    ASSERT_THAT(WriteFileAtomically(path, yaml), IsOk());
    CommandResult r = Kubectl({"apply", "-f", path});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string OnlyPod(const std::string& selector) {
    auto pods = sim_->List("pods", "app", selector);
    EXPECT_TRUE(pods.ok() && pods->size() == 1) << (pods.ok() ? pods->size() : 0);
    return pods.ok() && !pods->empty() ? (*pods)[0]["metadata"]["name"].get<std::string>() : "";
  }

  std::string dir_;
  std::unique_ptr<KubeSim> sim_;
};

constexpr char kTypoDeployment[] = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        command: [ngnix, -g, "daemon off;"]
)";

TEST_F(BehaviourKubectlTest, CommandTypoIsAStartErrorUntilAJsonPatchFixesTheCommand) {
  ApplyFile(kTypoDeployment);
  sim_->AdvanceClock(absl::Seconds(30));
  const std::string pod = OnlyPod("app=web");
  CommandResult r = Kubectl({"get", "pods", "-l", "app=web"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ContainsRegex(pod + " +0/1 +CrashLoopBackOff +[12] "));
  r = Kubectl({"describe", "pod", pod});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Reason:       StartError"));
  EXPECT_THAT(r.out, HasSubstr("Exit Code:    128"));
  EXPECT_THAT(r.out, HasSubstr("exec: \"ngnix\": executable file not found in $PATH: unknown"));
  r = Kubectl(
      {"get", "events", "--field-selector", "reason=Failed", "-o", "jsonpath={.items[*].message}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Error: failed to create containerd task: failed to create shim "
                               "task: OCI runtime create failed: runc create failed: unable to "
                               "start container process: exec: \"ngnix\""));

  r = Kubectl(
      {"patch", "deployment", "web", "--type=json", "-p",
       R"([{"op":"replace","path":"/spec/template/spec/containers/0/command/0","value":"nginx"}])"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  sim_->AdvanceClock(absl::Seconds(20));
  r = Kubectl({"rollout", "status", "deployment/web", "--timeout=10s"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_THAT(r.out, HasSubstr("successfully rolled out"));
  r = Kubectl({"get", "pods", "-l", "app=web"});
  EXPECT_THAT(r.out, ContainsRegex(OnlyPod("app=web") + " +1/1 +Running +0 "));
}

TEST_F(BehaviourKubectlTest, MissingKeyAndShellErrorsShowInDescribeAndPreviousLogs) {
  ApplyFile(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: app}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: ghcr.io/acme/api:1
        env:
        - name: DATABASE_URL
          valueFrom: {secretKeyRef: {name: db, key: uri}}
      - name: sidecar
        image: busybox:1.36
        command: [sh, -c, "curl -s http://localhost:8080/healthz"]
)");
  sim_->AdvanceClock(absl::Seconds(30));
  const std::string pod = OnlyPod("app=api");
  CommandResult r = Kubectl({"get", "pods", "-l", "app=api"});
  EXPECT_THAT(r.out, ContainsRegex(pod + " +0/2 +CreateContainerConfigError"));
  r = Kubectl({"logs", pod, "-c", "sidecar", "--previous"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "sh: curl: not found\n");
  r = Kubectl({"describe", "pod", pod});
  EXPECT_THAT(r.out, HasSubstr("couldn't find key uri in Secret app/db"));
  EXPECT_THAT(r.out, HasSubstr("Exit Code:    127"));

  r = Kubectl({"set", "env", "deployment/api", "-c", "api", "--from=secret/db", "--keys=url",
               "--prefix=DATABASE_"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Kubectl({"patch", "deployment", "api", "--type=strategic", "-p",
               R"({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","command":)"
               R"(["sh","-c","wget -q -O- http://localhost:8080/healthz; sleep infinity"]}]}}}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  sim_->AdvanceClock(absl::Seconds(30));
  r = Kubectl({"get", "pods", "-l", "app=api"});
  EXPECT_THAT(r.out, ContainsRegex(OnlyPod("app=api") + " +2/2 +Running +0 ")) << r.out;
}

TEST_F(BehaviourKubectlTest, TaintRemovalSchedulesThePendingPod) {
  ApplyFile(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: trainer, namespace: app}
spec:
  selector: {matchLabels: {app: trainer}}
  template:
    metadata: {labels: {app: trainer}}
    spec:
      nodeSelector: {accelerator: nvidia}
      containers:
      - {name: main, image: busybox:1.36, command: [sleep, infinity]}
)");
  sim_->AdvanceClock(absl::Seconds(5));
  const std::string pod = OnlyPod("app=trainer");
  CommandResult r = Kubectl({"get", "events", "--field-selector",
                             "reason=FailedScheduling,involvedObject.name=" + pod, "-o",
                             "jsonpath={.items[0].message}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) "
            "didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 "
            "Preemption is not helpful for scheduling.");
  r = Kubectl({"taint", "nodes", "gpu-1", "dedicated=gpu:NoSchedule-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("node/gpu-1 untainted"));
  sim_->AdvanceClock(absl::Seconds(5));
  r = Kubectl({"get", "pods", "-l", "app=trainer", "-o", "wide"});
  EXPECT_THAT(r.out, ContainsRegex(pod + " +1/1 +Running +0 .* gpu-1 ")) << r.out;
}

TEST_F(BehaviourKubectlTest, StatefulSetFixNeedsTheBrokenPodDeleted) {
  ApplyFile(R"(apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: app}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: postgres
        image: postgres:16
)");
  sim_->AdvanceClock(absl::Seconds(30));
  CommandResult r = Kubectl({"logs", "db-0", "--previous"});
  EXPECT_THAT(r.out, HasSubstr("You must specify POSTGRES_PASSWORD to a non-empty value"));
  r = Kubectl({"set", "env", "statefulset/db", "--from=secret/db", "--keys=password",
               "--prefix=POSTGRES_"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  sim_->AdvanceClock(absl::Seconds(30));
  r = Kubectl({"get", "pod", "db-0", "-o", "jsonpath={.metadata.labels.controller-revision-hash}"});
  auto sts = sim_->Get("statefulsets", "app", "db");
  ASSERT_THAT(sts.status(), IsOk());
  EXPECT_NE(r.out, (*sts)["status"]["updateRevision"]);  // still the broken revision
  r = Kubectl({"delete", "pod", "db-0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  sim_->AdvanceClock(absl::Seconds(30));
  r = Kubectl({"rollout", "status", "statefulset/db", "--timeout=10s"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_THAT(r.out, HasSubstr("partitioned roll out complete"));
}

}  // namespace
}  // namespace remediator::kubesim
