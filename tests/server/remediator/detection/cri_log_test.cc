#include "server/remediator/core/detection/cri_log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace remediator::detection {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CriLogTest, ParsesFullAndPartialRecords) {
  auto rec = ParseCriLine("2016-10-06T00:17:09.669794202Z stdout F log content 2\n");
  ASSERT_THAT(rec, IsOk());
  EXPECT_EQ(rec->stream, "stdout");
  EXPECT_FALSE(rec->partial);
  EXPECT_EQ(rec->text, "log content 2");
  rec = ParseCriLine("2016-10-06T00:17:09.669794202Z stderr P:x part");
  ASSERT_THAT(rec, IsOk());
  EXPECT_TRUE(rec->partial);
  EXPECT_EQ(rec->text, "part");
  rec = ParseCriLine("2025-05-29T04:20:17.192643851Z stderr F ");
  ASSERT_THAT(rec, IsOk());
  EXPECT_EQ(rec->text, "");
}

TEST(CriLogTest, RejectsNonCriLines) {
  EXPECT_THAT(ParseCriLine("hello world"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a CRI log line")));
  EXPECT_THAT(ParseCriLine("2016-10-06T00:17:09Z stdin F x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stdout|stderr")));
  EXPECT_THAT(ParseCriLine("2016-10-06T00:17:09Z stdout X x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("P or F")));
  EXPECT_THAT(ParseCriLine("{\"log\":\"x\",\"stream\":\"stdout\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseCriLine(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CriLogTest, JoinsPartialChunksUpToTheFullRecord) {
  auto lines = JoinCriLines(
      {"2024-01-01T00:00:00Z stderr P panic: runt", "2024-01-01T00:00:00Z stderr P ime error: ",
       "2024-01-01T00:00:00Z stderr F index out of range", "2024-01-01T00:00:01Z stdout F next",
       "2024-01-01T00:00:02Z stdout P tail"});
  ASSERT_THAT(lines, IsOk());
  EXPECT_THAT(*lines, ElementsAre("panic: runtime error: index out of range", "next", "tail"));
  EXPECT_THAT(JoinCriLines({"2024-01-01T00:00:00Z stdout F ok", "garbage"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 1")));
}

TEST(CriLogTest, ReadsIdentityFromLogPaths) {
  ContainerLogIdentity id;
  ASSERT_TRUE(
      ParseContainerLogPath("/var/log/containers/web-7d4b9c6f5-x2x9z_shop_nginx-"
                            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log",
                            &id));
  EXPECT_EQ(id.pod, "web-7d4b9c6f5-x2x9z");
  EXPECT_EQ(id.namespace_, "shop");
  EXPECT_EQ(id.container, "nginx");
  ASSERT_TRUE(ParseContainerLogPath(
      "/var/log/pods/data_redis-0_bc9c76aa-3887-470b-ac54-1c347a6c72ee/redis/3.log", &id));
  EXPECT_EQ(id.namespace_, "data");
  EXPECT_EQ(id.pod, "redis-0");
  EXPECT_EQ(id.container, "redis");
  // Container names with dashes keep them; only the id after the last dash goes.
  ASSERT_TRUE(ParseContainerLogPath("/var/log/containers/p_ns_my-side-car-abc123.log", &id));
  EXPECT_EQ(id.container, "my-side-car");
  EXPECT_FALSE(ParseContainerLogPath("/var/log/syslog", &id));
  EXPECT_FALSE(ParseContainerLogPath("/var/log/containers/nounderscore.log", &id));
}

}  // namespace
}  // namespace remediator::detection
