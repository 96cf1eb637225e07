#include "server/common/yaml_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;

TEST(YamlConfigTest, SyntaxErrorNamesFileLineAndColumn) {
  auto doc = ParseYaml("listen: 127.0.0.1:1\nstate_dir: [unclosed\n", "/etc/r.yaml");
  EXPECT_THAT(doc, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/etc/r.yaml:")));
}

TEST(YamlConfigTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadYamlFile("/nonexistent/remediator.yaml"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/remediator.yaml")));
}

TEST(YamlConfigTest, TypedReadersKeepDefaultsForAbsentKeys) {
  auto doc = ParseYaml("a: hello\nn: 3\nb: true\nd: 1m30s\nl: [x, y]\n", "c.yaml");
  ASSERT_THAT(doc, IsOk());
  std::string a, missing = "default";
  int n = 0;
  bool b = false;
  absl::Duration d;
  std::vector<std::string> l;
  EXPECT_THAT(ReadString(*doc, doc->root, "a", &a), IsOk());
  EXPECT_THAT(ReadString(*doc, doc->root, "zz", &missing), IsOk());
  EXPECT_THAT(ReadInt(*doc, doc->root, "n", &n), IsOk());
  EXPECT_THAT(ReadBool(*doc, doc->root, "b", &b), IsOk());
  EXPECT_THAT(ReadDuration(*doc, doc->root, "d", &d), IsOk());
  EXPECT_THAT(ReadStringList(*doc, doc->root, "l", &l), IsOk());
  EXPECT_EQ(a, "hello");
  EXPECT_EQ(missing, "default");
  EXPECT_EQ(n, 3);
  EXPECT_TRUE(b);
  EXPECT_EQ(d, absl::Seconds(90));
  EXPECT_EQ(l, (std::vector<std::string>{"x", "y"}));
}

TEST(YamlConfigTest, WrongTypeNamesFileLineAndKey) {
  auto doc = ParseYaml("listen: 1\nport:\n  - 1\n  - 2\n", "conf.yaml");
  ASSERT_THAT(doc, IsOk());
  int port = 0;
  EXPECT_THAT(ReadInt(*doc, doc->root, "port", &port),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("conf.yaml:3: key \"port\": wants a whole number, got a list")));
  absl::Duration d;
  auto bad = ParseYaml("timeout: soon\n", "t.yaml");
  EXPECT_THAT(ReadDuration(*bad, bad->root, "timeout", &d),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("t.yaml:1: key \"timeout\"")));
}

TEST(YamlConfigTest, UnknownKeyIsRejectedByName) {
  auto doc = ParseYaml("listen: x\nlisen: y\n", "c.yaml");
  ASSERT_THAT(doc, IsOk());
  EXPECT_THAT(CheckKnownKeys(*doc, doc->root, {"listen"}, "the top level"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c.yaml:2: key \"lisen\": unknown key")));
}

}  // namespace
}  // namespace remediator
