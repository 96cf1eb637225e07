// Behaviour from the whole container spec, table-driven on kubesim's manual clock (in-process,
// no HTTP): for each failure a broken Deployment shows the real status/event/log text, a WRONG fix
// leaves it broken, and the right fix (a strategic-merge patch, as `kubectl patch` sends it)
// makes the new pod Running and Ready. The world is testdata/behaviour-world.yaml.
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/world.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kubesim {
namespace {

using ::remediator::testing::IsOk;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr char kRunc[] =
    "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
    "runc create failed: unable to start container process: ";

// A cluster on the behaviour world with helpers to look at one Deployment's newest pod.
class Env {
 public:
  Env() {
    auto world = LoadWorldFile(BEHAVIOUR_WORLD);
    EXPECT_THAT(world.status(), IsOk());
    ClusterOptions opts;
    opts.base_clock = &clock_;
    opts.manual_clock = true;
    auto c = Cluster::Create(*world, opts);
    EXPECT_THAT(c.status(), IsOk());
    cluster_ = std::move(*c);
  }

  Cluster& cluster() { return *cluster_; }
  void Advance(int seconds) { cluster_->AdvanceClock(absl::Seconds(seconds)); }

  absl::Status Apply(const std::string& yaml) {
    auto objs = ParseManifests(yaml, "test");
    if (!objs.ok()) return objs.status();
    for (auto& o : *objs) {
      if (absl::Status s = cluster_->ApplyManifest(o); !s.ok()) return s;
    }
    cluster_->Reconcile();
    return absl::OkStatus();
  }

  absl::Status Patch(const std::string& body) {
    bool created = false;
    auto r =
        cluster_->PatchObject(*FindResource("apps", "deployments"), "app", "demo",
                              "application/strategic-merge-patch+json", body, {}, false, &created);
    cluster_->Reconcile();
    return r.status();
  }

  // The pod of the Deployment's newest ReplicaSet (highest revision).
  json NewestPod() {
    std::string hash;
    int64_t best = -1;
    for (const json& rs : cluster_->store().List("replicasets", "app")) {
      int64_t rev = std::stoll(rs["metadata"]["annotations"].value(
          "deployment.kubernetes.io/revision", std::string("0")));
      if (rev > best) {
        best = rev;
        hash = rs["metadata"]["labels"].value("pod-template-hash", "");
      }
    }
    for (const json& p : cluster_->store().List("pods", "app")) {
      if (p["metadata"]["labels"].value("pod-template-hash", "") == hash) return p;
    }
    ADD_FAILURE() << "no pod for the newest ReplicaSet";
    return json::object();
  }

  json Container() {
    json pod = NewestPod();
    if (!pod.contains("status") || !pod["status"].contains("containerStatuses")) return json();
    return pod["status"]["containerStatuses"][0];
  }

  std::vector<std::string> Events(const std::string& reason) {
    std::string name = NewestPod()["metadata"].value("name", "");
    std::vector<std::string> out;
    for (const json& e : cluster_->store().List("events", "app")) {
      if (e["involvedObject"]["name"] == name && e["reason"] == reason) {
        out.push_back(e["message"]);
      }
    }
    return out;
  }

  std::string Logs(bool previous) {
    LogOptions opts;
    opts.previous = previous;
    auto logs = cluster_->Logs("app", NewestPod()["metadata"].value("name", ""), opts);
    return logs.ok() ? *logs : std::string(logs.status().message());
  }

  static json Condition(const json& pod, const std::string& type) {
    for (const json& c : pod["status"].value("conditions", json::array())) {
      if (c["type"] == type) return c;
    }
    return json::object();
  }

  // Every pod of the Deployment Ready, the rollout complete and nothing restarted.
  bool Healed(std::string* why) {
    json d = *cluster_->store().Get("deployments", "app", "demo");
    const json& st = d["status"];
    if (st.value("updatedReplicas", 0) != 1 || st.value("availableReplicas", 0) != 1 ||
        st.value("replicas", 0) != 1) {
      *why = "deployment status " + st.dump();
      return false;
    }
    for (const json& p : cluster_->store().List("pods", "app")) {
      json c = p["status"]["containerStatuses"][0];
      if (Condition(p, "Ready").value("status", "") != "True" || !c["state"].contains("running") ||
          c["restartCount"] != 0) {
        *why = "pod " + p["status"].dump();
        return false;
      }
    }
    return true;
  }

  // No pod Ready and nothing available: the Deployment is still broken.
  bool StillBroken() {
    json d = *cluster_->store().Get("deployments", "app", "demo");
    if (d["status"].value("availableReplicas", 0) != 0) return false;
    for (const json& p : cluster_->store().List("pods", "app")) {
      if (Condition(p, "Ready").value("status", "") == "True") return false;
    }
    return true;
  }

 private:
  testing::FakeClock clock_;
  std::unique_ptr<Cluster> cluster_;
};

struct Case {
  std::string name;
  std::string image;
  std::string container_yaml;  // extra keys of the container, indented 8
  std::string pod_yaml;        // extra keys of the pod spec, indented 6
  std::function<void(Env&)> check_broken;
  std::string wrong_fix;  // strategic-merge patch bodies of the Deployment
  std::string fix;
  std::function<void(Env&)> check_wrong = nullptr;  // extra checks after the wrong fix
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string DeploymentYaml(const Case& c) {
  return absl::StrCat(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: demo, namespace: app}\nspec:\n"
      "  replicas: 1\n  selector: {matchLabels: {app: demo}}\n  template:\n"
      "    metadata: {labels: {app: demo}}\n    spec:\n",
      c.pod_yaml, "      containers:\n      - name: main\n        image: ", c.image, "\n",
      c.container_yaml);
}

// A patch of the one container "main" (strategic merge by name).
std::string ContainerPatch(const std::string& fields) {
  return absl::StrCat(R"({"spec":{"template":{"spec":{"containers":[{"name":"main",)", fields,
                      "}]}}}}");
}
std::string PodPatch(const std::string& fields) {
  return absl::StrCat(R"({"spec":{"template":{"spec":{)", fields, "}}}}");
}

void ExpectScheduling(Env& env, const std::string& message) {
  json pod = env.NewestPod();
  EXPECT_EQ(pod["status"]["phase"], "Pending");
  json cond = Env::Condition(pod, "PodScheduled");
  EXPECT_EQ(cond["status"], "False");
  EXPECT_EQ(cond["reason"], "Unschedulable");
  EXPECT_EQ(cond["message"], message);
  EXPECT_THAT(env.Events("FailedScheduling"), Contains(message));
}

void ExpectConfigError(Env& env, const std::string& message) {
  json c = env.Container();
  EXPECT_EQ(c["state"]["waiting"]["reason"], "CreateContainerConfigError") << c.dump();
  EXPECT_EQ(c["state"]["waiting"]["message"], message);
  EXPECT_THAT(env.Events("Failed"), Contains("Error: " + message));
}

// A crash loop whose previous instance ended with `code`/`reason` and printed `log`.
void ExpectCrashLoop(Env& env, int code, const std::string& reason, const std::string& log) {
  json c = env.Container();
  EXPECT_EQ(c["state"]["waiting"]["reason"], "CrashLoopBackOff") << c.dump();
  EXPECT_EQ(c["lastState"]["terminated"]["exitCode"], code) << c.dump();
  EXPECT_EQ(c["lastState"]["terminated"]["reason"], reason);
  EXPECT_GE(c["restartCount"].get<int>(), 1);
  EXPECT_EQ(Env::Condition(env.NewestPod(), "Ready")["status"], "False");
  if (!log.empty()) {
    EXPECT_THAT(env.Logs(true), HasSubstr(log));
  }
}

// runc could not start the process: StartError 128 with `message`, no logs.
void ExpectStartError(Env& env, const std::string& message) {
  json c = env.Container();
  EXPECT_EQ(c["lastState"]["terminated"]["exitCode"], 128) << c.dump();
  EXPECT_EQ(c["lastState"]["terminated"]["reason"], "StartError");
  EXPECT_EQ(c["lastState"]["terminated"]["message"], message);
  EXPECT_EQ(c["lastState"]["terminated"]["startedAt"], "1970-01-01T00:00:00Z");
  EXPECT_EQ(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_THAT(env.Events("Failed"), Contains("Error: " + message));
  EXPECT_EQ(env.Logs(true), "");
}

std::vector<Case> Cases();

class BehaviourTest : public ::testing::TestWithParam<Case> {};

TEST_P(BehaviourTest, BrokenThenWrongFixStaysBrokenThenFixHeals) {
  const Case& c = GetParam();
  Env env;
  ASSERT_THAT(env.Apply(DeploymentYaml(c)), IsOk());
  env.Advance(40);
  {
    SCOPED_TRACE("broken");
    c.check_broken(env);
    EXPECT_TRUE(env.StillBroken());
  }
  ASSERT_THAT(env.Patch(c.wrong_fix), IsOk());
  env.Advance(40);
  {
    SCOPED_TRACE("after the wrong fix");
    EXPECT_TRUE(env.StillBroken()) << env.NewestPod()["status"].dump();
    if (c.check_wrong) c.check_wrong(env);
  }
  ASSERT_THAT(env.Patch(c.fix), IsOk());
  env.Advance(60);
  std::string why;
  EXPECT_TRUE(env.Healed(&why)) << "after the fix: " << why;
}

INSTANTIATE_TEST_SUITE_P(Behaviours, BehaviourTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

constexpr char kNoSelectorMatch[] =
    "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't "
    "match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not "
    "helpful for scheduling.";

std::string Affinity(const std::string& zone) {
  return absl::StrCat(
      R"("affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":)",
      R"({"nodeSelectorTerms":[{"matchExpressions":[{"key":"topology.kubernetes.io/zone",)",
      R"("operator":"In","values":[")", zone, R"("]}]}]}}})");
}

std::string NginxVolumes(const std::vector<std::pair<std::string, std::string>>& mounts) {
  std::vector<std::string> vols, vms;
  for (const auto& [name, path] : mounts) {
    vols.push_back(absl::StrCat(R"({"name":")", name, R"(","emptyDir":{"sizeLimit":"64Mi"}})"));
    vms.push_back(absl::StrCat(R"({"name":")", name, R"(","mountPath":")", path, R"("})"));
  }
  return absl::StrCat(R"({"spec":{"template":{"spec":{"volumes":[)", absl::StrJoin(vols, ","),
                      R"(],"containers":[{"name":"main","volumeMounts":[)", absl::StrJoin(vms, ","),
                      "]}]}}}}");
}

constexpr char kApiEnv[] =
    "        env:\n        - name: DATABASE_URL\n"
    "          valueFrom: {secretKeyRef: {name: db, key: url}}\n";

std::string ProbeYaml(const std::string& kind, const std::string& command) {
  return absl::StrCat("        ", kind, ": {exec: {command: ", command,
                      "}, periodSeconds: 5, failureThreshold: 3}\n");
}

std::vector<Case> SchedulingCases() {
  return {
      {"InsufficientMemory", "nginx:1.27", "        resources: {requests: {memory: 6Gi}}\n", "",
       [](Env& env) {
         ExpectScheduling(env,
                          "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: "
                          "gpu}, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 "
                          "Preemption is not helpful for scheduling, 2 No preemption victims "
                          "found for incoming pod.");
       },
       ContainerPatch(R"("resources":{"requests":{"memory":"5Gi"}})"),
       ContainerPatch(R"("resources":{"requests":{"memory":"256Mi"}})")},
      {"NodeSelectorMatchesNoNode", "nginx:1.27", "", "      nodeSelector: {disktype: nvme}\n",
       [](Env& env) { ExpectScheduling(env, kNoSelectorMatch); },
       PodPatch(R"("nodeSelector":{"disktype":"sdd"})"),
       PodPatch(R"("nodeSelector":{"disktype":"ssd"})")},
      {"RequiredNodeAffinityMatchesNoNode", "nginx:1.27", "",
       "      affinity:\n        nodeAffinity:\n"
       "          requiredDuringSchedulingIgnoredDuringExecution:\n"
       "            nodeSelectorTerms:\n            - matchExpressions:\n"
       "              - {key: topology.kubernetes.io/zone, operator: In, values: [zone-c]}\n",
       [](Env& env) { ExpectScheduling(env, kNoSelectorMatch); }, PodPatch(Affinity("zone-x")),
       PodPatch(Affinity("zone-b"))},
      {"UntoleratedTaint", "nginx:1.27", "", "      nodeSelector: {accelerator: nvidia}\n",
       [](Env& env) { ExpectScheduling(env, kNoSelectorMatch); },
       PodPatch(
           R"("tolerations":[{"key":"dedicated","operator":"Equal","value":"cpu","effect":"NoSchedule"}])"),
       PodPatch(
           R"("tolerations":[{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}])")},
  };
}

std::vector<Case> EnvCases() {
  const char* kFatal = "FATAL config: required environment variable DATABASE_URL is not set";
  return {
      {"SecretKeyMissing", "ghcr.io/acme/api:1",
       "        env:\n        - name: DATABASE_URL\n"
       "          valueFrom: {secretKeyRef: {name: db, key: uri}}\n",
       "", [](Env& env) { ExpectConfigError(env, "couldn't find key uri in Secret app/db"); },
       ContainerPatch(
           R"("env":[{"name":"DATABASE_URL","valueFrom":{"secretKeyRef":{"name":"db","key":"URL"}}}])"),
       ContainerPatch(
           R"("env":[{"name":"DATABASE_URL","valueFrom":{"secretKeyRef":{"name":"db","key":"url"}}}])"),
       [](Env& env) { ExpectConfigError(env, "couldn't find key URL in Secret app/db"); }},
      {"ConfigMapMissing", "ghcr.io/acme/api:1",
       "        env:\n        - name: DATABASE_URL\n"
       "          valueFrom: {configMapKeyRef: {name: api-envs, key: DATABASE_URL}}\n",
       "", [](Env& env) { ExpectConfigError(env, "configmap \"api-envs\" not found"); },
       // optional: true starts the container, which then has no DATABASE_URL.
       ContainerPatch(
           R"("env":[{"name":"DATABASE_URL","valueFrom":{"configMapKeyRef":{"optional":true}}}])"),
       ContainerPatch(
           R"("env":[{"name":"DATABASE_URL","valueFrom":{"configMapKeyRef":{"name":"api-env"}}}])"),
       [kFatal](Env& env) { ExpectCrashLoop(env, 1, "Error", kFatal); }},
      {"RequiredEnvMissing", "ghcr.io/acme/api:1", "", "",
       [kFatal](Env& env) { ExpectCrashLoop(env, 1, "Error", kFatal); },
       ContainerPatch(R"("env":[{"name":"DATABASE_UR","value":"postgres://db"}])"),
       ContainerPatch(
           R"("env":[{"name":"DATABASE_URL","valueFrom":{"secretKeyRef":{"name":"db","key":"url"}}}])")},
      {"NonEmptyEnvIsEmpty", "postgres:16",
       "        env:\n        - {name: POSTGRES_PASSWORD, value: \"\"}\n", "",
       [](Env& env) {
         ExpectCrashLoop(
             env, 1, "Error",
             "Error: Database is uninitialized and superuser password is not specified.");
       },
       ContainerPatch(
           R"("env":[{"name":"POSTGRES_PASSWORD","value":null,"valueFrom":{"secretKeyRef":{"name":"db","key":"empty"}}}])"),
       ContainerPatch(
           R"("env":[{"name":"POSTGRES_PASSWORD","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}}])")},
      {"EnvFromMissingConfigMap", "ghcr.io/acme/api:1",
       "        envFrom: [{configMapRef: {name: api-environment}}]\n", "",
       [](Env& env) { ExpectConfigError(env, "configmap \"api-environment\" not found"); },
       ContainerPatch(R"("envFrom":[{"prefix":"APP_","configMapRef":{"name":"api-env"}}])"),
       ContainerPatch(R"("envFrom":[{"configMapRef":{"name":"api-env"}}])"),
       [kFatal](Env& env) { ExpectCrashLoop(env, 1, "Error", kFatal); }},
  };
}

std::vector<Case> CommandCases() {
  return {
      {"CommandTypo", "nginx:1.27", "        command: [ngnix, -g, \"daemon off;\"]\n", "",
       [](Env& env) {
         ExpectStartError(env, absl::StrCat(kRunc,
                                            "exec: \"ngnix\": executable file not found in "
                                            "$PATH: unknown"));
       },
       ContainerPatch(R"("command":["nginxx","-g","daemon off;"])"),
       ContainerPatch(R"("command":["nginx","-g","daemon off;"])")},
      {"CommandPathMissing", "ghcr.io/acme/api:1",
       kApiEnv + std::string("        command: [/app/apiserver]\n"), "",
       [](Env& env) {
         ExpectStartError(env, absl::StrCat(kRunc,
                                            "exec: \"/app/apiserver\": stat /app/apiserver: no "
                                            "such file or directory: unknown"));
       },
       ContainerPatch(R"("command":["/bin/api"])"), ContainerPatch(R"("command":["/app/api"])")},
      {"ArgsTypoThroughEntrypoint", "nginx:1.27", "        args: [ngnix, -g, \"daemon off;\"]\n",
       "",
       [](Env& env) {
         ExpectCrashLoop(env, 127, "Error", "/docker-entrypoint.sh: 47: exec: ngnix: not found");
       },
       ContainerPatch(R"("args":["nginx","-g","daemon off;","-x"])"),
       ContainerPatch(R"("args":["nginx","-g","daemon off;"])"),
       [](Env& env) { ExpectCrashLoop(env, 1, "Error", "nginx: invalid option: \"x\""); }},
      {"ShellCommandNotFound", "nginx:1.27",
       "        command: [sh, -c, \"python3 -m http.server 80\"]\n", "",
       [](Env& env) { ExpectCrashLoop(env, 127, "Error", "sh: 1: python3: not found"); },
       ContainerPatch(R"("command":["sh","-c","python -m http.server 80"])"),
       ContainerPatch(R"("command":null)"),
       [](Env& env) { ExpectCrashLoop(env, 127, "Error", "sh: 1: python: not found"); }},
      {"UnknownFlag", "ghcr.io/acme/api:1", kApiEnv + std::string("        args: [--prot=8080]\n"),
       "",
       [](Env& env) {
         ExpectCrashLoop(env, 2, "Error",
                         "flag provided but not defined: -prot\nUsage of /app/api:");
       },
       ContainerPatch(R"("args":["--portt=8080"])"), ContainerPatch(R"("args":["--port=8080"])")},
      {"DiesWithinTenSecondsWithoutProbes", "busybox:1.36",
       "        command: [sh, -c, \"echo starting; sleep 5; exit 1\"]\n", "",
       [](Env& env) { ExpectCrashLoop(env, 1, "Error", "starting"); },
       ContainerPatch(R"("command":["sh","-c","echo starting; sleep 8; exit 1"])"),
       ContainerPatch(R"("command":["sh","-c","echo starting; sleep infinity"])")},
  };
}

std::vector<Case> RuntimeCases() {
  return {
      {"HeapAboveMemoryLimit", "ghcr.io/acme/billing:2",
       "        env: [{name: JAVA_TOOL_OPTIONS, value: -Xmx1g}]\n"
       "        resources: {limits: {memory: 512Mi}}\n",
       "",
       [](Env& env) {
         ExpectCrashLoop(env, 137, "OOMKilled", "Picked up JAVA_TOOL_OPTIONS: -Xmx1g");
       },
       ContainerPatch(R"("env":[{"name":"JAVA_TOOL_OPTIONS","value":"-Xmx128m"}])"),
       ContainerPatch(R"("env":[{"name":"JAVA_TOOL_OPTIONS","value":"-Xmx300m"}])"),
       [](Env& env) {
         ExpectCrashLoop(env, 1, "Error",
                         "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap "
                         "space");
       }},
      {"ReadOnlyRootFilesystem", "nginx:1.27",
       "        securityContext: {readOnlyRootFilesystem: true}\n", "",
       [](Env& env) {
         ExpectCrashLoop(env, 1, "Error",
                         "nginx: [emerg] mkdir() \"/var/cache/nginx/client_temp\" failed (30: "
                         "Read-only file system)");
       },
       NginxVolumes({{"cache", "/var/cache/nginx"}}),
       NginxVolumes({{"cache", "/var/cache/nginx"}, {"run", "/var/run"}}),
       [](Env& env) {
         ExpectCrashLoop(
             env, 1, "Error",
             "nginx: [emerg] open() \"/var/run/nginx.pid\" failed (30: Read-only file system)");
       }},
      {"ConfigMapMountedOverFile", "nginx:1.27",
       "        volumeMounts: [{name: conf, mountPath: /etc/nginx/nginx.conf}]\n",
       "      volumes: [{name: conf, configMap: {name: nginx-conf}}]\n",
       [](Env& env) {
         std::string src =
             absl::StrCat("/var/lib/kubelet/pods/", env.NewestPod()["metadata"].value("uid", ""),
                          "/volumes/kubernetes.io~configmap/conf");
         ExpectStartError(
             env, absl::StrCat(kRunc, "error during container init: error mounting \"", src,
                               "\" to rootfs at \"/etc/nginx/nginx.conf\": mount ", src,
                               ":/etc/nginx/nginx.conf (via /proc/self/fd/6), flags: 0x5001: "
                               "not a directory: unknown"));
       },
       ContainerPatch(
           R"("volumeMounts":[{"name":"conf","mountPath":"/etc/nginx/nginx.conf","subPath":"nginx.cnf"}])"),
       ContainerPatch(
           R"("volumeMounts":[{"name":"conf","mountPath":"/etc/nginx/nginx.conf","subPath":"nginx.conf"}])"),
       [](Env& env) {
         EXPECT_THAT(env.Container()["lastState"]["terminated"].value("message", ""),
                     HasSubstr("/volume-subpaths/conf/main/0\" to rootfs at "
                               "\"/etc/nginx/nginx.conf\""));
       }},
      {"VolumeConfigMapMissing", "nginx:1.27",
       "        volumeMounts: [{name: conf, mountPath: /etc/nginx/conf.d}]\n",
       "      volumes: [{name: conf, configMap: {name: nginx-cof}}]\n",
       [](Env& env) {
         EXPECT_THAT(env.Events("FailedMount"),
                     Contains("MountVolume.SetUp failed for volume \"conf\" : configmap "
                              "\"nginx-cof\" not found"));
         EXPECT_EQ(env.Container()["state"]["waiting"]["reason"], "ContainerCreating");
       },
       PodPatch(R"("volumes":[{"name":"conf","configMap":{"name":"nginx-conff"}}])"),
       PodPatch(R"("volumes":[{"name":"conf","configMap":{"name":"nginx-conf"}}])")},
  };
}

std::vector<Case> ProbeCases() {
  const std::string curl = "[curl, -f, \"http://localhost:8080/healthz\"]";
  const std::string http = R"({"exec":null,"httpGet":{"path":"/healthz","port":8080}})";
  return {
      {"ExecProbeBinaryNotInImage", "ghcr.io/acme/api:1",
       kApiEnv + ProbeYaml("livenessProbe", curl) + ProbeYaml("readinessProbe", curl), "",
       [](Env& env) {
         std::vector<std::string> unhealthy = env.Events("Unhealthy");
         const std::string tail =
             "\": OCI runtime exec failed: exec failed: unable to start container process: exec: "
             "\"curl\": executable file not found in $PATH: unknown";
         bool liveness = false, readiness = false;
         for (const auto& m : unhealthy) {
           const std::string head =
               "probe errored: rpc error: code = Unknown desc = failed to exec in container: "
               "failed to start exec \"";
           liveness |= m.rfind("Liveness " + head, 0) == 0 && absl::EndsWith(m, tail);
           readiness |= m.rfind("Readiness " + head, 0) == 0 && absl::EndsWith(m, tail);
         }
         EXPECT_TRUE(liveness && readiness) << absl::StrJoin(unhealthy, "\n");
         EXPECT_THAT(env.Events("Killing"),
                     Contains("Container main failed liveness probe, will be restarted"));
         EXPECT_GE(env.Container()["restartCount"].get<int>(), 1);
       },
       ContainerPatch(
           R"("livenessProbe":{"exec":{"command":["wget","-qO-","http://localhost:8080/healthz"]}},"readinessProbe":{"exec":{"command":["wget","-qO-","http://localhost:8080/healthz"]}})"),
       ContainerPatch(absl::StrCat(R"("livenessProbe":)", http, R"(,"readinessProbe":)", http))},
      {"ExecProbeCommandFails", "nginx:1.27", ProbeYaml("readinessProbe", "[cat, /tmp/healthy]"),
       "",
       [](Env& env) {
         EXPECT_THAT(env.Events("Unhealthy"),
                     Contains("Readiness probe failed: cat: /tmp/healthy: No such file or "
                              "directory"));
         json pod = env.NewestPod();
         EXPECT_EQ(pod["status"]["phase"], "Running");
         EXPECT_EQ(Env::Condition(pod, "Ready")["message"],
                   "containers with unready status: [main]");
       },
       ContainerPatch(R"("readinessProbe":{"failureThreshold":10})"),
       ContainerPatch(R"("readinessProbe":{"exec":null,"httpGet":{"path":"/healthz","port":80}})")},
  };
}

std::vector<Case> Cases() {
  std::vector<Case> all;
  for (auto part : {SchedulingCases(), EnvCases(), CommandCases(), RuntimeCases(), ProbeCases()}) {
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

}  // namespace
}  // namespace remediator::kubesim
