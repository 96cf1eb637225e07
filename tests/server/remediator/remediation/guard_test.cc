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
        Case{"volume mount refused", "allowed-path",
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
             [](json& d) { Container(d)["resources"]["limits"]["memory"] = "lots"; }}),
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

TEST(GuardTest, ImageRepositoryStripsTagAndDigestButNotPort) {
  EXPECT_EQ(ImageRepository("registry:5000/team/app:1.2"), "registry:5000/team/app");
  EXPECT_EQ(ImageRepository("nginx@sha256:abc"), "nginx");
  EXPECT_EQ(ImageRepository("nginx"), "nginx");
}

}  // namespace
}  // namespace remediator::remediation
