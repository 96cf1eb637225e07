#include "server/remediator/core/manifest/yaml_text_edit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_split.h"
#include "tests/testing/status_matchers.h"

namespace remediator::manifest {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr char kManifest[] = R"(# The seed app: nginx with a tiny memory limit.
---
apiVersion: v1
kind: Namespace
metadata:
  name: app
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  namespace: app   # keep me
spec:
  replicas: 1
  selector:
    matchLabels: {app: nginx}
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: "nginx:1.27"
        ports:
        - containerPort: 80
        resources:
          limits:
            memory: 4Mi   # far too small
          requests:
            cpu: 10m
      - name: sidecar
        image: busybox
        args: ["sleep", "3600"]
)";

TextChange Change(const std::string& path, json value) {
  auto parsed = ParseFieldPath(path);
  EXPECT_THAT(parsed, IsOk()) << path;
  return TextChange{parsed.value_or(FieldPath{}), std::move(value)};
}

std::string Apply(const std::vector<TextChange>& changes, int doc = 1) {
  auto edited = ApplyChangesToYamlText(kManifest, doc, changes);
  EXPECT_THAT(edited, IsOk());
  return edited.value_or("");
}

// Lines that differ between the original and the edited text.
int ChangedLines(const std::string& a, const std::string& b) {
  std::string diff = UnifiedDiff(a, b, "f.yaml");
  int changed = 0;
  std::vector<std::string> lines = absl::StrSplit(diff, '\n');
  for (const std::string& line : lines) {
    if ((line.rfind("-", 0) == 0 && line.rfind("---", 0) != 0) ||
        (line.rfind("+", 0) == 0 && line.rfind("+++", 0) != 0)) {
      ++changed;
    }
  }
  return changed;
}

TEST(YamlTextEditTest, ReplacesAScalarInPlaceKeepingComments) {
  std::string out =
      Apply({Change("spec.template.spec.containers[name=nginx].resources.limits.memory", "32Mi")});
  EXPECT_THAT(out, HasSubstr("            memory: 32Mi   # far too small\n"));
  EXPECT_THAT(out, HasSubstr("  namespace: app   # keep me\n"));
  EXPECT_THAT(out, HasSubstr("# The seed app"));
  EXPECT_EQ(ChangedLines(kManifest, out), 2);  // one line out, one line in
}

TEST(YamlTextEditTest, KeepsQuotingStyle) {
  std::string out =
      Apply({Change("spec.template.spec.containers[name=nginx].image", "nginx:1.27.5")});
  EXPECT_THAT(out, HasSubstr("image: \"nginx:1.27.5\"\n"));
}

TEST(YamlTextEditTest, InsertsMissingKeysUnderTheirParent) {
  std::string out = Apply(
      {Change("spec.template.spec.containers[name=nginx].resources.requests.memory", "16Mi")});
  EXPECT_THAT(out,
              HasSubstr("          requests:\n            cpu: 10m\n            memory: 16Mi\n"));
  EXPECT_EQ(ChangedLines(kManifest, out), 1);
  std::string limits = Apply(
      {Change("spec.template.spec.containers[name=sidecar].resources.limits.memory", "64Mi")});
  EXPECT_THAT(limits, HasSubstr("        args: [\"sleep\", \"3600\"]\n        resources:\n"
                                "          limits:\n            memory: 64Mi\n"));
}

TEST(YamlTextEditTest, EditsInsideFlowCollections) {
  std::string out = Apply({Change("spec.selector.matchLabels.tier", "web")});
  EXPECT_THAT(out, HasSubstr("matchLabels: {app: nginx, tier: web}\n"));
  std::string args = Apply({Change("spec.template.spec.containers[name=sidecar].args[1]", "60")});
  EXPECT_THAT(args, HasSubstr("args: [\"sleep\", \"60\"]"));
}

TEST(YamlTextEditTest, NumbersAndNewListElements) {
  std::string out = Apply(
      {Change("spec.replicas", 3), Change("spec.template.spec.containers[name=nginx].env[name=LOG]."
                                          "value",
                                          "debug")});
  EXPECT_THAT(out, HasSubstr("  replicas: 3\n"));
  EXPECT_THAT(out, HasSubstr("        env:\n          - name: LOG\n            value: debug\n"));
  auto docs = ParseYamlDocuments(out);
  ASSERT_THAT(docs, IsOk());
  EXPECT_EQ((*docs)[1]["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"], "debug");
}

TEST(YamlTextEditTest, RemovesKeysAndReplacesBlocks) {
  std::string out =
      Apply({Change("spec.template.spec.containers[name=nginx].resources.requests.cpu", nullptr)});
  // The only entry gone: requests becomes an explicit empty map, not null.
  EXPECT_THAT(out, HasSubstr("          requests: {}\n"));
  std::string ports = Apply({Change("spec.template.spec.containers[name=nginx].ports",
                                    json::array({{{"containerPort", 8080}}}))});
  EXPECT_THAT(ports, HasSubstr("        ports:\n          - containerPort: 8080\n"));
}

TEST(YamlTextEditTest, StringsThatLookLikeOtherTypesAreQuoted) {
  std::string out =
      Apply({Change("metadata.labels.version", "1.0"), Change("metadata.labels.enabled", "true")});
  EXPECT_THAT(out, HasSubstr("version: \"1.0\""));
  EXPECT_THAT(out, HasSubstr("enabled: \"true\""));
  auto docs = ParseYamlDocuments(out);
  ASSERT_THAT(docs, IsOk());
  EXPECT_EQ((*docs)[1]["metadata"]["labels"]["version"], "1.0");
}

TEST(YamlTextEditTest, OtherDocumentsAreUntouched) {
  std::string out = Apply({Change("spec.replicas", 2)});
  EXPECT_THAT(out, HasSubstr("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n"));
}

TEST(YamlTextEditTest, Errors) {
  EXPECT_THAT(ApplyChangesToYamlText(kManifest, 5, {Change("spec.replicas", 2)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not exist")));
  EXPECT_THAT(ApplyChangesToYamlText(kManifest, 1, {Change("kind.x", 2)}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ApplyChangesToYamlText("a: [1,\n", 0, {Change("a", 2)}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(YamlTextEditTest, UnifiedDiffShowsOnlyTheChangedLines) {
  std::string out =
      Apply({Change("spec.template.spec.containers[name=nginx].resources.limits.memory", "32Mi")});
  std::string diff = UnifiedDiff(kManifest, out, "app/nginx.yaml");
  EXPECT_THAT(diff, HasSubstr("--- a/app/nginx.yaml\n+++ b/app/nginx.yaml\n@@ -26,7 +26,7 @@\n"));
  EXPECT_THAT(diff, HasSubstr("\n-            memory: 4Mi   # far too small\n"
                              "+            memory: 32Mi   # far too small\n"));
  EXPECT_EQ(UnifiedDiff(kManifest, kManifest, "x"), "");
}

TEST(FieldPathTest, ParsesAndFormatsEveryForm) {
  auto path = ParseFieldPath("spec.template.spec.containers[name=nginx].env[0].value");
  ASSERT_THAT(path, IsOk());
  ASSERT_EQ(path->size(), 8u);
  EXPECT_EQ((*path)[4].kind, PathSegment::Kind::kSelector);
  EXPECT_EQ((*path)[4].value, "nginx");
  EXPECT_EQ((*path)[5].kind, PathSegment::Kind::kKey);
  EXPECT_EQ((*path)[6].kind, PathSegment::Kind::kIndex);
  EXPECT_EQ((*path)[6].index, 0u);
  EXPECT_EQ(FormatFieldPath(*path), "spec.template.spec.containers[name=nginx].env[0].value");
  auto quoted = ParseFieldPath(R"(metadata.annotations["example.com/owner"])");
  ASSERT_THAT(quoted, IsOk());
  EXPECT_EQ(quoted->back().key, "example.com/owner");
  EXPECT_THAT(ParseFieldPath("spec..x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseFieldPath("spec.x[abc"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseFieldPath(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FieldPathTest, DiffMatchesContainersByName) {
  json before = json::parse(R"({"spec":{"containers":[{"name":"a","image":"x:1"},
      {"name":"b","resources":{"limits":{"memory":"4Mi"}}}]}})");
  json after = before;
  after["spec"]["containers"][1]["resources"]["limits"]["memory"] = "32Mi";
  after["spec"]["containers"][0]["securityContext"] = {{"privileged", true}};
  auto changes = DiffDocuments(before, after);
  ASSERT_EQ(changes.size(), 2u);
  std::vector<std::string> paths;
  for (const auto& c : changes) paths.push_back(FormatFieldPath(c.path));
  EXPECT_THAT(paths,
              ::testing::UnorderedElementsAre("spec.containers[name=a].securityContext.privileged",
                                              "spec.containers[name=b].resources.limits.memory"));
  // Reordering the list is not a change.
  json reordered = before;
  std::swap(reordered["spec"]["containers"][0], reordered["spec"]["containers"][1]);
  EXPECT_TRUE(DiffDocuments(before, reordered).empty());
}

TEST(FieldPathTest, SetFieldCreatesAndRemoves) {
  json doc = json::object();
  auto path = ParseFieldPath("spec.containers[name=web].resources.limits.memory");
  ASSERT_THAT(path, IsOk());
  ASSERT_THAT(SetField(doc, *path, "1Gi"), IsOk());
  EXPECT_EQ(doc["spec"]["containers"][0]["name"], "web");
  EXPECT_EQ(*FindField(doc, *path), "1Gi");
  ASSERT_THAT(SetField(doc, *path, nullptr), IsOk());
  EXPECT_EQ(FindField(doc, *path), nullptr);
  auto bad = ParseFieldPath("spec.containers.x");
  EXPECT_THAT(SetField(doc, *bad, 1), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace remediator::manifest
