// The container process model (container_model.h) and the scheduler's filters (scheduler.h) as
// pure functions, plus lifecycle cases on a manual clock: containers that complete or fail under
// restartPolicy Never/OnFailure, and a pending pod that schedules as soon as a taint is removed.
#include "server/kubesim/container_model.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/scheduler.h"
#include "server/kubesim/world.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kubesim {
namespace {

using ::remediator::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ImageBehavior Image(const std::string& yaml) {
  auto w = ParseWorld("images:\n- name: x\n" + yaml, "w");
  EXPECT_THAT(w.status(), IsOk());
  return w.ok() ? w->images[0] : ImageBehavior{};
}

ProcessPlan Plan(const ImageBehavior& img, const json& container, int64_t limit = 0) {
  json pod = {{"metadata", {{"uid", "u1"}, {"name", "p"}}}, {"spec", json::object()}};
  ResolvedEnv env = ResolveEnv(pod, container, "app", [](auto&, auto&) { return std::nullopt; });
  ContainerInputs in;
  in.pod = &pod;
  in.container = &container;
  in.env = &env;
  in.memory_limit = limit;
  in.node_memory = 8LL << 30;
  in.lookup = [](const std::string&, const std::string&) { return std::nullopt; };
  return PlanProcess(img, in);
}

constexpr char kNginx[] =
    "  entrypoint: [/docker-entrypoint.sh]\n  cmd: [nginx, -g, \"daemon off;\"]\n"
    "  executables: [nginx, sh, /docker-entrypoint.sh, echo, sleep]\n"
    "  wrappers: [/docker-entrypoint.sh]\n  program: nginx\n";

TEST(ContainerModelTest, ArgvFollowsCommandArgsEntrypointAndCmd) {
  ImageBehavior img = Image(kNginx);
  EXPECT_THAT(EffectiveArgv(img, json::object()),
              ElementsAre("/docker-entrypoint.sh", "nginx", "-g", "daemon off;"));
  EXPECT_THAT(EffectiveArgv(img, {{"args", {"nginx-debug"}}}),
              ElementsAre("/docker-entrypoint.sh", "nginx-debug"));
  EXPECT_THAT(EffectiveArgv(img, {{"command", {"nginx"}}}), ElementsAre("nginx"));
  EXPECT_THAT(EffectiveArgv(img, {{"command", {"sh"}}, {"args", {"-c", "x"}}}),
              ElementsAre("sh", "-c", "x"));
}

TEST(ContainerModelTest, ExecutablesResolveThroughPathOrByPath) {
  ImageBehavior img = Image(kNginx);
  EXPECT_TRUE(Plan(img, {{"command", {"/usr/sbin/nginx"}}}).start_error.empty());
  EXPECT_THAT(Plan(img, {{"command", {"/opt/nginx"}}}).start_error,
              HasSubstr("exec: \"/opt/nginx\": stat /opt/nginx: no such file or directory"));
  EXPECT_THAT(Plan(img, {{"command", {"docker-entrypoint.sh"}}}).start_error,
              HasSubstr("executable file not found in $PATH"));
  EXPECT_TRUE(Plan(img, {{"command", {"/docker-entrypoint.sh"}}}).start_error.empty());
}

TEST(ContainerModelTest, ShellScriptsRunLikeDashBusyboxAndBash) {
  for (const auto& [shell, want] : std::vector<std::pair<std::string, std::string>>{
           {"dash", "sh: 2: curl: not found"},
           {"busybox", "sh: curl: not found"},
           {"bash", "sh: line 2: curl: command not found"}}) {
    ImageBehavior img = Image(std::string(kNginx) + "  shell: " + shell + "\n");
    ProcessPlan p = Plan(img, {{"command", {"sh", "-c", "echo hi\ncurl x && echo never"}}});
    EXPECT_THAT(p.start_logs, ElementsAre("hi", want)) << shell;
    EXPECT_EQ(p.exit_code, 127);
    EXPECT_EQ(p.exit_reason, "Error");
  }
  ImageBehavior img = Image(kNginx);
  ProcessPlan runs = Plan(img, {{"command", {"sh", "-c", "sleep 2; exec nginx -g 'daemon off;'"}}});
  EXPECT_TRUE(runs.serves);
  EXPECT_FALSE(runs.exits);
  ProcessPlan done = Plan(img, {{"command", {"sh", "-c", "echo ok || exit 4"}}});
  EXPECT_EQ(done.exit_code, 0);
  EXPECT_EQ(done.exit_reason, "Completed");
  ProcessPlan sleeps = Plan(img, {{"command", {"sleep", "30"}}});
  EXPECT_FALSE(sleeps.serves);
  EXPECT_DOUBLE_EQ(sleeps.exit_after_seconds, 30);
}

TEST(ContainerModelTest, HeapFlagsAddToTheWorkingSet) {
  ImageBehavior img =
      Image("  workingSet: 100Mi\n  heap: {envs: [JAVA_TOOL_OPTIONS], defaultPercent: 25}\n");
  auto mib = [](int64_t b) { return b >> 20; };
  EXPECT_EQ(mib(Plan(img, json::object(), 1024LL << 20).working_set_bytes), 100 + 256);
  EXPECT_EQ(mib(Plan(img, {{"args", {"-Xmx2g"}}}, 1024LL << 20).working_set_bytes), 100 + 2048);
  ProcessPlan pct = Plan(
      img, {{"env", {{{"name", "JAVA_TOOL_OPTIONS"}, {"value", "-XX:MaxRAMPercentage=100.0"}}}}},
      1024LL << 20);
  EXPECT_EQ(mib(pct.working_set_bytes), 1124);
  EXPECT_EQ(pct.exit_reason, "OOMKilled");
  EXPECT_EQ(pct.start_logs[0], "Picked up JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=100.0");
  // Command-line flags come after JAVA_TOOL_OPTIONS and win.
  EXPECT_EQ(mib(Plan(img, {{"env", {{{"name", "JAVA_TOOL_OPTIONS"}, {"value", "-Xmx1g"}}}},
                           {"args", {"-Xmx64m"}}})
                    .working_set_bytes),
            164);
}

TEST(ContainerModelTest, ExecProbesUseTheImagesExecutables) {
  ImageBehavior img = Image(std::string(kNginx) +
                            "  execResults: [{command: nginx -t, exitCode: 1, output: bad}]\n");
  EXPECT_TRUE(RunExec(img, {"nginx", "-s", "reload"}, "s").ok);
  ExecOutcome t = RunExec(img, {"nginx", "-t"}, "s");
  EXPECT_FALSE(t.ok);
  EXPECT_FALSE(t.errored);
  EXPECT_EQ(t.output, "bad");
  ExecOutcome missing = RunExec(img, {"curl", "-f", "localhost"}, "s");
  EXPECT_TRUE(missing.errored);
  EXPECT_THAT(missing.output, HasSubstr("exec: \"curl\": executable file not found in $PATH"));
  ExecOutcome sh = RunExec(img, {"sh", "-c", "wget -q localhost"}, "s");
  EXPECT_FALSE(sh.ok);
  EXPECT_FALSE(sh.errored);
  EXPECT_EQ(sh.output, "sh: 1: wget: not found");
}

TEST(ContainerModelTest, WorldRejectsBadProcessKeys) {
  EXPECT_FALSE(ParseWorld("images:\n- name: x\n  shell: zsh\n", "w").ok());
  EXPECT_FALSE(ParseWorld("images:\n- name: x\n  writablePaths: [tmp]\n", "w").ok());
  EXPECT_FALSE(ParseWorld("images:\n- name: x\n  heap: {xmx: 1}\n", "w").ok());
  EXPECT_FALSE(
      ParseWorld("nodes:\n- name: n\n  taints: [{key: a, effect: Sometimes}]\n", "w").ok());
}

json Node(const std::string& name, const std::string& mem, json labels, json taints) {
  json spec = json::object();
  if (!taints.empty()) spec["taints"] = taints;
  return {{"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", spec},
          {"status", {{"allocatable", {{"cpu", "2"}, {"memory", mem}, {"pods", "110"}}}}}};
}

TEST(SchedulerTest, FiltersInOrderAndPrintsTheRealGrammar) {
  std::vector<json> nodes = {
      Node("a", "4Gi", {{"zone", "a"}}, json::array()),
      Node("b", "4Gi", {{"zone", "b"}}, json::array()),
      Node("c", "4Gi", {{"zone", "c"}},
           {{{"key", "node-role.kubernetes.io/control-plane"}, {"effect", "NoSchedule"}}})};
  nodes[1]["spec"]["unschedulable"] = true;
  json pod = {
      {"spec",
       {{"containers", {{{"name", "m"}, {"resources", {{"requests", {{"memory", "5Gi"}}}}}}}}}}};
  ScheduleDecision d = SchedulePod(pod, nodes, {});
  EXPECT_EQ(d.node, "");
  EXPECT_EQ(d.message,
            "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint "
            "{node-role.kubernetes.io/control-plane: }, 1 node(s) were unschedulable. preemption: "
            "0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 "
            "Preemption is not helpful for scheduling.");
  pod["spec"]["containers"][0]["resources"]["requests"]["memory"] = "1Gi";
  pod["spec"]["tolerations"] = {{{"key", "node-role.kubernetes.io/control-plane"},
                                 {"operator", "Exists"},
                                 {"effect", "NoSchedule"}}};
  pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      {"nodeSelectorTerms",
       {{{"matchExpressions", {{{"key", "zone"}, {"operator", "NotIn"}, {"values", {"a"}}}}}}}}};
  EXPECT_EQ(SchedulePod(pod, nodes, {}).node, "c");         // b is cordoned, a excluded by affinity
  pod["spec"]["tolerations"] = {{{"operator", "Exists"}}};  // tolerates the cordon too
  EXPECT_EQ(SchedulePod(pod, nodes, {}).node, "b");
}

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto world = LoadWorldFile(BEHAVIOUR_WORLD);
    ASSERT_THAT(world.status(), IsOk());
    ClusterOptions opts;
    opts.base_clock = &clock_;
    opts.manual_clock = true;
    auto c = Cluster::Create(*world, opts);
    ASSERT_THAT(c.status(), IsOk());
    cluster_ = std::move(*c);
  }
  void Apply(const std::string& yaml) {
    auto objs = ParseManifests(yaml, "test");
    ASSERT_THAT(objs.status(), IsOk());
    for (auto& o : *objs) ASSERT_THAT(cluster_->ApplyManifest(o), IsOk());
    cluster_->Reconcile();
  }
  json Pod(const std::string& name) { return *cluster_->store().Get("pods", "app", name); }
  static std::string PodYaml(const std::string& name, const std::string& policy,
                             const std::string& script) {
    return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name +
           ", namespace: app}\nspec:\n  restartPolicy: " + policy +
           "\n  containers:\n  - name: main\n    image: busybox:1.36\n    command: [sh, -c, \"" +
           script + "\"]\n";
  }
  testing::FakeClock clock_;
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(LifecycleTest, ContainersCompleteOrFailUnderTheirRestartPolicy) {
  Apply(PodYaml("ok", "Never", "echo done"));
  Apply(PodYaml("bad", "Never", "echo failing; exit 3"));
  Apply(PodYaml("retry", "OnFailure", "exit 3"));
  cluster_->AdvanceClock(absl::Seconds(20));
  json ok = Pod("ok");
  EXPECT_EQ(ok["status"]["phase"], "Succeeded");
  EXPECT_EQ(ok["status"]["containerStatuses"][0]["state"]["terminated"]["reason"], "Completed");
  for (const json& c : ok["status"]["conditions"]) {
    if (c["type"] == "Ready") {
      EXPECT_EQ(c["reason"], "PodCompleted");
    }
  }
  EXPECT_EQ(*cluster_->Logs("app", "ok", {}), "done\n");
  json bad = Pod("bad");
  EXPECT_EQ(bad["status"]["phase"], "Failed");
  EXPECT_EQ(bad["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 3);
  EXPECT_EQ(bad["status"]["containerStatuses"][0]["restartCount"], 0);
  json retry = Pod("retry");
  EXPECT_EQ(retry["status"]["phase"], "Running");
  EXPECT_GE(retry["status"]["containerStatuses"][0]["restartCount"].get<int>(), 1);
}

TEST_F(LifecycleTest, PendingPodSchedulesAsSoonAsTheTaintIsRemoved) {
  Apply(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: gpu, namespace: app}\nspec:\n"
      "  nodeSelector: {accelerator: nvidia}\n  containers:\n  - {name: main, image: "
      "nginx:1.27}\n");
  cluster_->AdvanceClock(absl::Seconds(5));
  EXPECT_EQ(Pod("gpu")["status"]["phase"], "Pending");
  json node = *cluster_->store().Get("nodes", "", "gpu-1");
  node["spec"].erase("taints");  // kubectl taint nodes gpu-1 dedicated-
  ASSERT_THAT(cluster_->store().Update("nodes", node).status(), IsOk());
  cluster_->AdvanceClock(absl::Seconds(5));  // well before the 60 s retry
  json pod = Pod("gpu");
  EXPECT_EQ(pod["spec"]["nodeName"], "gpu-1");
  EXPECT_EQ(pod["status"]["phase"], "Running");
}

}  // namespace
}  // namespace remediator::kubesim
