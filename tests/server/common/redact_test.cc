#include "server/common/redact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace remediator {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RedactTest, BearerTokens) {
  std::string out = RedactSecrets("GET / Authorization: Bearer abcdefghijklmnop123 done");
  EXPECT_THAT(out, Not(HasSubstr("abcdefghijklmnop123")));
  EXPECT_THAT(out, HasSubstr("Bearer [REDACTED]"));
  EXPECT_THAT(out, HasSubstr("done"));
}

TEST(RedactTest, UrlPasswordsKeepUserAndHost) {
  std::string out = RedactSecrets("dial postgres://app:Sup3rS3cret@db.svc:5432/app failed");
  EXPECT_EQ(out, "dial postgres://app:[REDACTED]@db.svc:5432/app failed");
}

TEST(RedactTest, PasswordStylePairs) {
  EXPECT_EQ(RedactSecrets("password=hunter2 user=bob"), "password=[REDACTED] user=bob");
  EXPECT_EQ(RedactSecrets("DB_PASSWORD: 'x1'"), "DB_PASSWORD: '[REDACTED]'");
  EXPECT_EQ(RedactSecrets(R"({"api_key":"abc123","n":1})"), R"({"api_key":"[REDACTED]","n":1})");
  EXPECT_EQ(RedactSecrets("client_secret=zzz&x=1"), "client_secret=[REDACTED]&x=1");
}

TEST(RedactTest, AwsKeysAndTokens) {
  EXPECT_THAT(RedactSecrets("key AKIAIOSFODNN7EXAMPLE used"),
              Not(HasSubstr("AKIAIOSFODNN7EXAMPLE")));
  EXPECT_THAT(RedactSecrets("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
              Not(HasSubstr("abcdefghijklmnopqrstuvwxyz")));
}

TEST(RedactTest, PrivateKeyBlocks) {
  std::string pem =
      "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc\n-----END RSA PRIVATE "
      "KEY-----\nafter";
  std::string out = RedactSecrets(pem);
  EXPECT_THAT(out, Not(HasSubstr("MIIEpAIBAAKCAQEA")));
  EXPECT_THAT(out, HasSubstr("before"));
  EXPECT_THAT(out, HasSubstr("after"));
}

TEST(RedactTest, OrdinaryTextIsUntouched) {
  const std::string text =
      "level=error msg=\"failed to sync\" key=default/web tokens_used=5 OOMKilled exit 137";
  // "tokens_used" names no secret value pattern we mask... except it contains "token": keep the
  // rule strict enough to leave log keys like this one readable is not required, but ordinary
  // error text must survive.
  EXPECT_THAT(RedactSecrets(text), HasSubstr("OOMKilled exit 137"));
  EXPECT_FALSE(ContainsSecret("Back-off restarting failed container nginx"));
}

}  // namespace
}  // namespace remediator
