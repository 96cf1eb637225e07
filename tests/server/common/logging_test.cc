#include "server/common/logging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "nlohmann/json.hpp"

namespace remediator {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLogSinkForTesting(&out_); }
  void TearDown() override {
    SetLogSinkForTesting(nullptr);
    ConfigureLogging(LogFormat::kText, LogLevel::kInfo);
  }
  std::ostringstream out_;
};

TEST_F(LoggingTest, TextRecordHasLevelMessageAndQuotedFields) {
  ConfigureLogging(LogFormat::kText);
  LogInfo("listening", {{"addr", "127.0.0.1:5"}, {"note", "two words"}});
  EXPECT_THAT(out_.str(), HasSubstr("INFO listening addr=127.0.0.1:5 note=\"two words\""));
}

TEST_F(LoggingTest, JsonRecordIsOneParseableLine) {
  ConfigureLogging(LogFormat::kJson);
  LogWarning("slow", {{"ms", "12"}});
  auto record = nlohmann::json::parse(out_.str());
  EXPECT_EQ(record["level"], "warning");
  EXPECT_EQ(record["msg"], "slow");
  EXPECT_EQ(record["ms"], "12");
}

TEST_F(LoggingTest, BelowMinimumLevelIsDropped) {
  ConfigureLogging(LogFormat::kText, LogLevel::kWarning);
  LogInfo("quiet");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(LoggingTest, SecretsInFieldsAreRedacted) {
  ConfigureLogging(LogFormat::kText);
  LogInfo("calling", {{"header", "Authorization: Bearer s3cr3t-t0ken-value"},
                      {"url", "https://bot:hunter2@git.example/repo.git"}});
  EXPECT_THAT(out_.str(), Not(HasSubstr("s3cr3t-t0ken-value")));
  EXPECT_THAT(out_.str(), Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace remediator
