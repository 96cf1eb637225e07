// The protobuf request decoder on bodies captured from kubectl v1.32.4 (testdata/kubectl-protobuf:
// one per `kubectl create` generator and `auth can-i`, recorded by a logging HTTP server), and
// on malformed input.
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/kubesim/protobuf_codec.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(PROTOBUF_TESTDATA) + "/" + name + ".bin", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json Decode(const std::string& name) {
  std::string body = Fixture(name);
  EXPECT_FALSE(body.empty()) << name;
  auto obj = DecodeProtobufObject(body);
  EXPECT_TRUE(obj.ok()) << name << ": " << obj.status();
  return obj.ok() ? *obj : json();
}

TEST(ProtobufCodecTest, NamespaceKeepsOnlySetFields) {
  json ns = Decode("create-namespace");
  EXPECT_EQ(ns["apiVersion"], "v1");
  EXPECT_EQ(ns["kind"], "Namespace");
  EXPECT_EQ(ns["metadata"], json({{"name", "demo"}}));  // empty strings and zero Time dropped
  EXPECT_EQ(ns["spec"], json::object());
}

TEST(ProtobufCodecTest, DeploymentGenerator) {
  json d = Decode("create-deployment");
  EXPECT_EQ(d["apiVersion"], "apps/v1");
  EXPECT_EQ(d["metadata"]["labels"], json({{"app", "web"}}));
  EXPECT_EQ(d["spec"]["replicas"], 2);
  EXPECT_EQ(d["spec"]["selector"]["matchLabels"]["app"], "web");
  EXPECT_EQ(d["spec"]["strategy"], json::object());
  const json& c = d["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["name"], "nginx");
  EXPECT_EQ(c["image"], "nginx:1.27");
  EXPECT_EQ(c["ports"], json::parse(R"([{"containerPort":80}])"));
  EXPECT_EQ(c["resources"], json::object());
  EXPECT_FALSE(c.contains("stdin"));  // a false value field is "unset"
}

TEST(ProtobufCodecTest, ServiceGenerators) {
  json cip = Decode("create-service-clusterip");
  EXPECT_EQ(cip["spec"]["type"], "ClusterIP");
  EXPECT_EQ(cip["spec"]["ports"],
            json::parse(R"([{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080}])"));
  EXPECT_EQ(cip["spec"]["selector"], json({{"app", "svc1"}}));
  EXPECT_EQ(Decode("create-service-nodeport")["spec"]["ports"][0]["nodePort"], 30080);
  EXPECT_EQ(Decode("create-service-loadbalancer")["spec"]["type"], "LoadBalancer");
  json ext = Decode("create-service-externalname");
  EXPECT_EQ(ext["spec"]["type"], "ExternalName");
  EXPECT_EQ(ext["spec"]["externalName"], "example.com");
}

TEST(ProtobufCodecTest, ConfigAndSecretGenerators) {
  EXPECT_EQ(Decode("create-configmap")["data"], json({{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(Decode("create-secret-generic")["data"], json({{"u", "YWRtaW4="}}));  // base64
  json docker = Decode("create-secret-docker-registry");
  EXPECT_EQ(docker["type"], "kubernetes.io/dockerconfigjson");
  EXPECT_TRUE(docker["data"].contains(".dockerconfigjson"));
  EXPECT_EQ(Decode("create-serviceaccount")["metadata"]["name"], "sa1");
}

TEST(ProtobufCodecTest, RbacGenerators) {
  json role = Decode("create-role");
  EXPECT_EQ(role["kind"], "Role");
  // The core group is the empty string and must survive in a repeated field.
  EXPECT_EQ(role["rules"][0]["apiGroups"], json::array({""}));
  EXPECT_EQ(role["rules"][0]["resources"], json::array({"pods"}));
  EXPECT_EQ(role["rules"][0]["verbs"], json::array({"get", "list"}));
  EXPECT_EQ(role["rules"][1]["apiGroups"], json::array({"apps"}));
  EXPECT_EQ(role["rules"][1]["resourceNames"], json::array({"a"}));
  EXPECT_EQ(Decode("create-clusterrole")["rules"][0]["nonResourceURLs"], json::array({"/healthz"}));
  json rb = Decode("create-rolebinding");
  EXPECT_EQ(rb["roleRef"], json::parse(R"({"apiGroup":"rbac.authorization.k8s.io",
                                            "kind":"Role","name":"r1"})"));
  ASSERT_EQ(rb["subjects"].size(), 3u);
  EXPECT_EQ(rb["subjects"][2],
            json::parse(R"({"kind":"ServiceAccount","name":"sa1","namespace":"default"})"));
  json crb = Decode("create-clusterrolebinding");
  EXPECT_EQ(crb["kind"], "ClusterRoleBinding");
  EXPECT_EQ(crb["subjects"][0]["name"], "bob");
}

TEST(ProtobufCodecTest, BatchPolicySchedulingNetworkingGenerators) {
  json job = Decode("create-job");
  const json& jc = job["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(jc["command"], json::array({"echo", "hi"}));
  EXPECT_EQ(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
  json cj = Decode("create-cronjob");
  EXPECT_EQ(cj["spec"]["schedule"], "*/5 * * * *");
  EXPECT_EQ(cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"], "OnFailure");
  EXPECT_EQ(Decode("create-quota")["spec"]["hard"],
            json({{"cpu", "1"}, {"memory", "1G"}, {"pods", "2"}}));
  EXPECT_EQ(Decode("create-poddisruptionbudget")["spec"]["minAvailable"], 1);
  json pc = Decode("create-priorityclass");
  EXPECT_EQ(pc["value"], 1000);
  EXPECT_EQ(pc["description"], "hi");
  json ing = Decode("create-ingress");
  EXPECT_EQ(ing["spec"]["tls"], json::parse(R"([{"hosts":["foo.com"],"secretName":"my-cert"}])"));
  const json& path = ing["spec"]["rules"][0]["http"]["paths"][0];  // IngressRuleValue inlined
  EXPECT_EQ(path["path"], "/bar");
  EXPECT_EQ(path["pathType"], "Exact");
  EXPECT_EQ(path["backend"]["service"], json::parse(R"({"name":"svc1","port":{"number":80}})"));
}

TEST(ProtobufCodecTest, ReviewsAndTokenRequest) {
  json ssar = Decode("auth-can-i-sa");
  EXPECT_EQ(ssar["kind"], "SelfSubjectAccessReview");
  EXPECT_EQ(ssar["spec"]["resourceAttributes"],
            json::parse(R"({"namespace":"default","verb":"list","resource":"secrets"})"));
  EXPECT_EQ(Decode("auth-can-i-list")["spec"]["namespace"], "default");
  EXPECT_EQ(Decode("create-token")["spec"]["expirationSeconds"], 3600);
}

TEST(ProtobufCodecTest, RejectsMalformedBodies) {
  EXPECT_EQ(DecodeProtobufObject("{\"kind\":\"Namespace\"}").status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string body = Fixture("create-namespace");
  for (size_t cut : {size_t{5}, body.size() / 2, body.size() - 1}) {
    EXPECT_EQ(DecodeProtobufObject(body.substr(0, cut)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << "cut at " << cut;
  }
  // An envelope for a kind without a field table.
  std::string widget("k8s\0\x0a\x0f\x0a\x02v1\x12\x09Widgetabc\x12\x00", 23);
  auto unknown = DecodeProtobufObject(widget);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnimplemented) << unknown.status();
  EXPECT_TRUE(IsProtobufContentType("application/vnd.kubernetes.protobuf"));
  EXPECT_FALSE(IsProtobufContentType("application/json"));
}

}  // namespace
}  // namespace remediator::kubesim
