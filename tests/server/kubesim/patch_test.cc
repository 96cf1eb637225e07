#include "server/kubesim/patch.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;
using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;

json Deploy() {
  return json::parse(R"({
    "metadata": {"name": "web", "labels": {"app": "web", "tier": "fe"}},
    "spec": {"replicas": 1, "template": {"spec": {
      "containers": [
        {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}, {"containerPort": 443}],
         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
         "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]},
        {"name": "sidecar", "image": "busybox"}],
      "volumes": [{"name": "cfg", "configMap": {"name": "cfg"}}]}}}})");
}

const json& Containers(const json& d) { return d["spec"]["template"]["spec"]["containers"]; }

TEST(StrategicMergePatchTest, MergesContainersByNameAndKeepsTheSidecar) {
  auto r = StrategicMergePatch(Deploy(), json::parse(R"({"spec":{"template":{"spec":{"containers":[
      {"name":"web","image":"nginx:1.28"}]}}}})"));
  ASSERT_THAT(r.status(), IsOk());
  ASSERT_EQ(Containers(*r).size(), 2u);
  EXPECT_EQ(Containers(*r)[0]["image"], "nginx:1.28");
  EXPECT_EQ(Containers(*r)[0]["ports"].size(), 2u);  // untouched fields survive
  EXPECT_EQ(Containers(*r)[1]["name"], "sidecar");
}

TEST(StrategicMergePatchTest, MergesEnvPortsAndVolumeMountsByTheirKeys) {
  auto r = StrategicMergePatch(Deploy(), json::parse(R"({"spec":{"template":{"spec":{
      "containers":[{"name":"web",
        "env":[{"name":"B","value":"20"},{"name":"C","value":"3"}],
        "ports":[{"containerPort":443,"name":"https"}],
        "volumeMounts":[{"mountPath":"/etc/cfg","readOnly":true}]}],
      "volumes":[{"name":"data","emptyDir":{}}]}}}})"));
  ASSERT_THAT(r.status(), IsOk());
  const json& web = Containers(*r)[0];
  ASSERT_EQ(web["env"].size(), 3u);
  EXPECT_EQ(web["env"][0], json({{"name", "A"}, {"value", "1"}}));
  EXPECT_EQ(web["env"][1]["value"], "20");
  EXPECT_EQ(web["env"][2]["name"], "C");
  ASSERT_EQ(web["ports"].size(), 2u);
  EXPECT_EQ(web["ports"][1]["name"], "https");
  EXPECT_EQ(web["volumeMounts"][0]["readOnly"], true);
  EXPECT_EQ(web["volumeMounts"][0]["name"], "cfg");
  EXPECT_EQ((*r)["spec"]["template"]["spec"]["volumes"].size(), 2u);
}

TEST(StrategicMergePatchTest, NullDeletesAndPatchDeleteRemovesAnElement) {
  auto r = StrategicMergePatch(Deploy(), json::parse(R"({
      "metadata":{"labels":{"tier":null}},
      "spec":{"template":{"spec":{"containers":[
        {"name":"sidecar","$patch":"delete"},
        {"name":"web","ports":null,"env":[{"name":"A","$patch":"delete"}]}]}}}})"));
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_FALSE((*r)["metadata"]["labels"].contains("tier"));
  EXPECT_EQ((*r)["metadata"]["labels"]["app"], "web");
  ASSERT_EQ(Containers(*r).size(), 1u);
  EXPECT_FALSE(Containers(*r)[0].contains("ports"));
  ASSERT_EQ(Containers(*r)[0]["env"].size(), 1u);
  EXPECT_EQ(Containers(*r)[0]["env"][0]["name"], "B");
}

TEST(StrategicMergePatchTest, SetElementOrderIsADirectiveNotAField) {
  // The shape kubectl's client-side apply sends.
  auto r = StrategicMergePatch(Deploy(), json::parse(R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"sidecar"},{"name":"web"}],
      "containers":[{"image":"nginx:1.28","name":"web","ports":null}]}}}})"));
  ASSERT_THAT(r.status(), IsOk());
  const json& spec = (*r)["spec"]["template"]["spec"];
  EXPECT_FALSE(spec.contains("$setElementOrder/containers"));
  ASSERT_EQ(spec["containers"].size(), 2u);
  EXPECT_EQ(spec["containers"][0]["name"], "sidecar");
  EXPECT_EQ(spec["containers"][1]["image"], "nginx:1.28");
  EXPECT_FALSE(spec["containers"][1].contains("ports"));
}

TEST(StrategicMergePatchTest, PatchReplaceAndRetainKeysAndPrimitiveDeletes) {
  json orig = {{"spec",
                {{"strategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 1}}}}},
                 {"selector", {{"matchLabels", {{"a", "1"}, {"b", "2"}}}}}}},
               {"metadata", {{"finalizers", {"x", "y"}}}}};
  auto r = StrategicMergePatch(orig, json::parse(R"({
      "metadata":{"$deleteFromPrimitiveList/finalizers":["x"]},
      "spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"},
              "selector":{"matchLabels":{"$patch":"replace","c":"3"}}}})"));
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ((*r)["spec"]["strategy"], json({{"type", "Recreate"}}));
  EXPECT_EQ((*r)["spec"]["selector"]["matchLabels"], json({{"c", "3"}}));
  EXPECT_EQ((*r)["metadata"]["finalizers"], json({"y"}));
}

TEST(StrategicMergePatchTest, ListElementWithoutMergeKeyIsAnError) {
  auto r = StrategicMergePatch(Deploy(), json::parse(R"({"spec":{"template":{"spec":{
      "containers":[{"image":"nginx"}]}}}})"));
  EXPECT_THAT(r.status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("does not contain declared merge key: name")));
}

TEST(MergePatchTest, ReplacesArraysWholesaleAndNullDeletes) {
  json r = MergePatch(Deploy(), json::parse(R"({"metadata":{"labels":{"tier":null,"x":"y"}},
      "spec":{"template":{"spec":{"containers":[{"name":"only","image":"busybox"}]}}}})"));
  EXPECT_EQ(r["metadata"]["labels"], json({{"app", "web"}, {"x", "y"}}));
  ASSERT_EQ(Containers(r).size(), 1u);
  EXPECT_EQ(Containers(r)[0], json({{"name", "only"}, {"image", "busybox"}}));
}

TEST(JsonPatchTest, AppliesOperationsInOrder) {
  auto r = JsonPatch(Deploy(), json::parse(R"([
      {"op":"test","path":"/spec/replicas","value":1},
      {"op":"replace","path":"/spec/replicas","value":3},
      {"op":"add","path":"/metadata/labels/new","value":"v"},
      {"op":"remove","path":"/metadata/labels/tier"},
      {"op":"copy","from":"/metadata/labels/app","path":"/metadata/labels/copy"},
      {"op":"move","from":"/metadata/labels/copy","path":"/metadata/labels/moved"},
      {"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"third"}}])"));
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ((*r)["spec"]["replicas"], 3);
  EXPECT_EQ((*r)["metadata"]["labels"], json({{"app", "web"}, {"new", "v"}, {"moved", "web"}}));
  EXPECT_EQ(Containers(*r).size(), 3u);
}

TEST(JsonPatchTest, FailedTestAndMissingPathAreErrors) {
  EXPECT_THAT(
      JsonPatch(Deploy(), json::parse(R"([{"op":"test","path":"/spec/replicas","value":2}])"))
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("test operation")));
  EXPECT_THAT(JsonPatch(Deploy(), json::parse(R"([{"op":"remove","path":"/nope/x"}])")).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("remove")));
  EXPECT_THAT(JsonPatch(Deploy(), json::object()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace remediator::kubesim
