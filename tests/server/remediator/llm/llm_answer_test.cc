// Answer parsing: think blocks in the four forms of api-contracts.md §5.4, fences, prose,
// JSON pointers, whole manifests, truncation and unusable answers.
#include "server/remediator/core/remediation/llm_answer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "tests/testing/status_matchers.h"

namespace remediator::remediation {
namespace {

using json = nlohmann::json;
using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;

json Deployment() {
  return json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop", "uid": "1234", "resourceVersion": "77"},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
          "env": [{"name": "LOG_LEVEL", "value": "info"}],
          "resources": {"limits": {"memory": "64Mi"}, "requests": {"memory": "32Mi"}}}]}}}})");
}

constexpr char kEdit[] =
    R"({"changes": [{"path": "spec.template.spec.containers[name=web].resources.limits.memory",)"
    R"( "op": "set", "value": "256Mi", "reason": "OOMKilled at 64Mi"}],)"
    R"( "explanation": "The container needs more memory."})";

std::string MemoryPath() {
  return "spec.template.spec.containers[name=web].resources.limits.memory";
}

void ExpectMemoryEdit(const absl::StatusOr<LlmEdit>& edit) {
  ASSERT_THAT(edit, IsOk());
  ASSERT_EQ(edit->changes.size(), 1u);
  EXPECT_EQ(manifest::FormatFieldPath(edit->changes[0].path), MemoryPath());
  EXPECT_EQ(edit->changes[0].value, "256Mi");
  EXPECT_EQ(edit->form, "json-edit");
}

TEST(FencedBlocksTest, LabelledAndBare) {
  auto blocks = FencedBlocks("a\n```json\n{\"x\":1}\n```\nb\n```\nkind: X\n```\n```yaml\nopen");
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[0], "{\"x\":1}\n");
  EXPECT_EQ(blocks[1], "kind: X\n");
  EXPECT_EQ(blocks[2], "open");
}

TEST(ParseModelPathTest, FieldPathSyntax) {
  auto path = ParseModelPath(MemoryPath());
  ASSERT_THAT(path, IsOk());
  EXPECT_EQ(manifest::FormatFieldPath(*path), MemoryPath());
}
TEST(ParseModelPathTest, JsonPointerWithIndexAndEscapes) {
  auto path = ParseModelPath("/spec/template/spec/containers/0/resources/limits/memory");
  ASSERT_THAT(path, IsOk());
  EXPECT_EQ(manifest::FormatFieldPath(*path),
            "spec.template.spec.containers[0].resources.limits.memory");
  auto escaped = ParseModelPath("/metadata/annotations/example.com~1owner");
  ASSERT_THAT(escaped, IsOk());
  ASSERT_EQ(escaped->size(), 3u);
  EXPECT_EQ((*escaped)[2].key, "example.com/owner");
}
TEST(ParseModelPathTest, DollarAndLeadingDot) {
  auto a = ParseModelPath("$.spec.replicas");
  auto b = ParseModelPath(".spec.replicas");
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(manifest::FormatFieldPath(*a), "spec.replicas");
  EXPECT_EQ(*a, *b);
}
TEST(ParseModelPathTest, BadPaths) {
  EXPECT_THAT(ParseModelPath("/spec//replicas"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseModelPath("spec.containers[name=web"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseModelPath(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ParseLlmAnswerTest, BareJsonEdit) {
  auto edit = ParseLlmAnswer(kEdit, "stop", Deployment());
  ExpectMemoryEdit(edit);
  EXPECT_THAT(edit->explanation, HasSubstr("needs more memory"));
  EXPECT_THAT(edit->explanation, HasSubstr("OOMKilled at 64Mi"));
}

TEST(ParseLlmAnswerTest, EachThinkForm) {
  for (const std::string& answer :
       {"<think>\nLet me think. Maybe {\"changes\": \"no\"}\n</think>\n\n" + std::string(kEdit),
        "The limit is 64Mi, so raise it.\n</think>\n\n" + std::string(kEdit),
        std::string(kEdit),  // split field: content is the answer alone
        "<think>\n\n</think>\n\n" + std::string(kEdit)}) {
    SCOPED_TRACE(answer);
    ExpectMemoryEdit(ParseLlmAnswer(answer, "stop", Deployment()));
  }
}

TEST(ParseLlmAnswerTest, ProseAndFenceAround) {
  const std::string answer = "Sure! The pod was killed {for memory}. Here is the fix:\n```json\n" +
                             std::string(kEdit) + "\n```\nLet me know {if} it helps.";
  ExpectMemoryEdit(ParseLlmAnswer(answer, "stop", Deployment()));
}

TEST(ParseLlmAnswerTest, FirstObjectWithChangesWins) {
  const std::string answer = R"(Context: {"pod": "web-1"} then )" + std::string(kEdit) +
                             R"( and {"changes": [{"path": "spec.replicas", "value": 9}]})";
  ExpectMemoryEdit(ParseLlmAnswer(answer, "stop", Deployment()));
}

TEST(ParseLlmAnswerTest, BracesInsideStrings) {
  auto edit = ParseLlmAnswer(
      R"({"changes": [{"path": "spec.template.spec.containers[name=web].args", "op": "set",)"
      R"( "value": ["--format={json}", "}"], "reason": "quote } right"}]})",
      "stop", Deployment());
  ASSERT_THAT(edit, IsOk());
  ASSERT_EQ(edit->changes.size(), 1u);
  EXPECT_EQ(edit->changes[0].value, json({"--format={json}", "}"}));
}

TEST(ParseLlmAnswerTest, JsonPointerAndRemove) {
  auto edit = ParseLlmAnswer(
      R"({"changes": [{"path": "/spec/template/spec/containers/0/command", "op": "remove",)"
      R"( "value": null, "reason": "python3 is not in the nginx image"},)"
      R"( {"path": "/spec/replicas", "value": 3}]})",
      "stop", Deployment());
  ASSERT_THAT(edit, IsOk());
  ASSERT_EQ(edit->changes.size(), 2u);
  EXPECT_EQ(manifest::FormatFieldPath(edit->changes[0].path),
            "spec.template.spec.containers[0].command");
  EXPECT_TRUE(edit->changes[0].value.is_null());
  EXPECT_EQ(edit->changes[1].value, 3);
}

TEST(ParseLlmAnswerTest, NoChangeKeepsTheReason) {
  auto edit = ParseLlmAnswer(
      R"({"changes": [], "explanation": "the Service selector is wrong, not the Deployment"})",
      "stop", Deployment());
  ASSERT_THAT(edit, IsOk());
  EXPECT_TRUE(edit->changes.empty());
  EXPECT_THAT(edit->explanation, HasSubstr("Service selector"));
}

TEST(ParseLlmAnswerTest, MalformedChanges) {
  EXPECT_THAT(ParseLlmAnswer(R"({"changes": [{"value": 1}]})", "stop", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no \"path\"")));
  EXPECT_THAT(ParseLlmAnswer(R"({"changes": [{"path": "spec.replicas"}]})", "stop", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has no \"value\"")));
  EXPECT_THAT(ParseLlmAnswer(R"({"changes": [{"path": "spec.replicas", "op": "exec",)"
                             R"( "value": "rm -rf /"}]})",
                             "stop", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown op")));
  EXPECT_THAT(ParseLlmAnswer(R"({"changes": ["spec.replicas=3"]})", "stop", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not an object")));
}

TEST(ParseLlmAnswerTest, MaskedValueIsRefused) {
  EXPECT_THAT(
      ParseLlmAnswer(
          R"({"changes": [{"path": "spec.template.spec.containers[name=web].env[name=DB_PASSWORD].value",)"
          R"( "value": "[REDACTED]"}]})",
          "stop", Deployment()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[REDACTED]")));
}

TEST(ParseLlmAnswerTest, TruncatedByLength) {
  EXPECT_THAT(ParseLlmAnswer(std::string(kEdit).substr(0, 60), "length", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cut off")));
  // Even a complete-looking object is not trusted after a length stop.
  EXPECT_THAT(ParseLlmAnswer(kEdit, "length", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cut off")));
  EXPECT_THAT(ParseLlmAnswer("<think>\nwell, the memory", "length", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inside its reasoning")));
}

TEST(ParseLlmAnswerTest, ContentFilter) {
  EXPECT_THAT(ParseLlmAnswer(kEdit, "content_filter", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("content filter")));
}

TEST(ParseLlmAnswerTest, UnbalancedWithoutLengthIsCutOff) {
  EXPECT_THAT(ParseLlmAnswer(std::string(kEdit).substr(0, 90), "stop", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("never closes")));
}

TEST(ParseLlmAnswerTest, EmptyAndUnusable) {
  EXPECT_THAT(ParseLlmAnswer("  \n", "stop", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(ParseLlmAnswer("<think>\nhmm", "stop", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("only reasoning")));
  EXPECT_THAT(ParseLlmAnswer("Increase the memory limit to 256Mi.", "stop", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("neither a JSON edit")));
  EXPECT_THAT(ParseLlmAnswer(std::string(kMaxAnswerBytes + 1, ' '), "stop", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too long")));
}

TEST(ParseLlmAnswerTest, HostileBracesAreBounded) {
  // 200k unbalanced braces: the scan gives up after a bounded number of candidates.
  EXPECT_THAT(ParseLlmAnswer(std::string(200000, '{'), "stop", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cut off")));
}

constexpr char kYamlManifest[] = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        resources:
          limits:
            memory: 256Mi
          requests:
            memory: 32Mi
)";

TEST(ParseLlmAnswerTest, FencedYamlManifestIsDiffed) {
  const std::string answer = "Here is the corrected manifest:\n\n```yaml\n" +
                             std::string(kYamlManifest) + "```\n\nThis raises the limit.";
  auto edit = ParseLlmAnswer(answer, "stop", Deployment());
  ASSERT_THAT(edit, IsOk());
  EXPECT_EQ(edit->form, "manifest");
  // The model left env out: that is a removal, proposed as one so that the guard judges it
  // (metadata uid/resourceVersion are not read at all).
  ASSERT_EQ(edit->changes.size(), 3u) << edit->explanation;
  std::map<std::string, json> by_path;
  for (const auto& c : edit->changes) by_path[manifest::FormatFieldPath(c.path)] = c.value;
  EXPECT_EQ(by_path[MemoryPath()], "256Mi");
  const std::string env = "spec.template.spec.containers[name=web].env[name=LOG_LEVEL]";
  ASSERT_TRUE(by_path.count(env + ".value"));
  EXPECT_TRUE(by_path[env + ".value"].is_null());
  EXPECT_THAT(edit->explanation, HasSubstr("removes 2"));
}

TEST(ParseLlmAnswerTest, BareYamlManifestWithTrailingProse) {
  const std::string answer = "Updated:\n" + std::string(kYamlManifest) +
                             "\nI raised the memory limit because of the OOMKilled event.";
  auto edit = ParseLlmAnswer(answer, "stop", Deployment());
  ASSERT_THAT(edit, IsOk());
  ASSERT_EQ(edit->changes.size(), 3u);  // the memory limit, and env's removal
  bool memory = false;
  for (const auto& c : edit->changes) memory = memory || c.value == "256Mi";
  EXPECT_TRUE(memory);
}

TEST(ParseLlmAnswerTest, JsonManifestIsDiffed) {
  json proposed = Deployment();
  proposed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27";
  auto edit = ParseLlmAnswer("```json\n" + proposed.dump(2) + "\n```", "stop", Deployment());
  ASSERT_THAT(edit, IsOk());
  ASSERT_EQ(edit->changes.size(), 1u);
  EXPECT_EQ(manifest::FormatFieldPath(edit->changes[0].path),
            "spec.template.spec.containers[name=web].image");
}

TEST(ParseLlmAnswerTest, ManifestOfAnotherObjectIsRefused) {
  std::string other = kYamlManifest;
  other.replace(other.find("name: web"), 9, "name: api");
  EXPECT_THAT(ParseLlmAnswer("```yaml\n" + other + "```", "stop", Deployment()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Deployment/api, not of Deployment/web")));
}

}  // namespace
}  // namespace remediator::remediation
