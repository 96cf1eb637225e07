// OpenAiCompatibleLlm over real libcurl against the stand-in (api-contracts.md §5): the request
// contract, reasoning fields, retries with backoff on the fake clock, timeouts, the
// response_format fallback and every server's error body.
#include "server/remediator/adapters/llm/openai_compatible_llm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/common/logging.h"
#include "tests/server/remediator/llm/fake_openai.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::llm {
namespace {

using json = nlohmann::json;
using ::remediator::testing::FakeClock;
using ::remediator::testing::FakeOpenAi;
using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Records the backoff sleeps (and advances the fake time).
class RecordingClock final : public Clock {
 public:
  absl::Time Now() const override { return clock_.Now(); }
  void SleepFor(absl::Duration d) override {
    sleeps.push_back(d);
    clock_.SleepFor(d);
  }
  std::vector<absl::Duration> sleeps;

 private:
  FakeClock clock_;
};

remediation::ChatRequest Request(bool schema = true) {
  remediation::ChatRequest r;
  r.messages = {{"system", "Return JSON."}, {"user", "Fix it."}};
  r.temperature = 0.1;
  r.max_tokens = 1024;
  if (schema) {
    r.json_schema = json{{"type", "object"}};
    r.schema_name = "manifest_edit";
  }
  return r;
}

class OpenAiCompatibleLlmTest : public ::testing::Test {
 protected:
  std::unique_ptr<OpenAiCompatibleLlm> Client(OpenAiCompatibleLlmOptions options = {}) {
    if (options.base_url.empty()) options.base_url = server_.base_url();
    if (options.model.empty()) options.model = "qwen2.5-coder-1.5b-cpu";
    auto client = OpenAiCompatibleLlm::Create(options, clock_);
    EXPECT_THAT(client, IsOk());
    return client.ok() ? *std::move(client) : nullptr;
  }

  FakeOpenAi server_;
  RecordingClock clock_;
};

TEST_F(OpenAiCompatibleLlmTest, RequestFollowsTheContract) {
  const std::string key_file = (std::filesystem::path(::testing::TempDir()) / "llm-key").string();
  std::ofstream(key_file) << "sk-test-key-1234\n";
  server_.ExpectApiKey("sk-test-key-1234");
  server_.ExpectModel("qwen2.5-coder-1.5b-cpu");
  server_.Answer("{\"changes\": []}");
  auto client = Client({.api_key_file = key_file});
  auto result = client->Chat(Request());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->content, "{\"changes\": []}");
  EXPECT_EQ(result->finish_reason, "stop");
  EXPECT_EQ(result->model, "qwen2.5-coder-1.5b-cpu");
  EXPECT_FALSE(result->schema_dropped);
  EXPECT_TRUE(server_.violations().empty()) << server_.violations()[0];
  ASSERT_EQ(server_.requests().size(), 1u);
  const json body = server_.requests()[0];
  EXPECT_EQ(body["model"], "qwen2.5-coder-1.5b-cpu");
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][1]["content"], "Fix it.");
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.1);
  EXPECT_EQ(body["max_tokens"], 1024);
  EXPECT_EQ(body["stream"], false);
  EXPECT_EQ(body["response_format"]["type"], "json_schema");
  EXPECT_EQ(body["response_format"]["json_schema"]["name"], "manifest_edit");
  EXPECT_EQ(body["response_format"]["json_schema"]["schema"], json({{"type", "object"}}));
  EXPECT_EQ(server_.authorizations()[0], "Bearer sk-test-key-1234");
}

TEST_F(OpenAiCompatibleLlmTest, WrongKeyIsUnauthenticatedAndNotLogged) {
  const std::string key_file =
      (std::filesystem::path(::testing::TempDir()) / "llm-key-wrong").string();
  std::ofstream(key_file) << "sk-wrong-9999";
  server_.ExpectApiKey("sk-right");
  auto result = Client({.api_key_file = key_file})->Chat(Request());
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnauthenticated,
                               AllOf(HasSubstr("Incorrect API key"), Not(HasSubstr("sk-wrong")))));
}

TEST_F(OpenAiCompatibleLlmTest, KeyNeverReachesTheLogs) {
  const std::string key_file =
      (std::filesystem::path(::testing::TempDir()) / "llm-key-logs").string();
  std::ofstream(key_file) << "sk-secret-in-file-5678";
  server_.ExpectApiKey("sk-secret-in-file-5678");
  server_.Fail(503, R"({"error":"Service Unavailable"})");
  server_.Answer("ok");
  std::ostringstream logs;
  SetLogSinkForTesting(&logs);
  auto result = Client({.api_key_file = key_file})->Chat(Request());
  SetLogSinkForTesting(nullptr);
  ASSERT_THAT(result, IsOk());
  EXPECT_THAT(logs.str(), HasSubstr("retrying"));
  EXPECT_THAT(logs.str(), Not(HasSubstr("sk-secret-in-file")));
}

TEST_F(OpenAiCompatibleLlmTest, NoKeyNoAuthorizationHeader) {
  server_.Answer("ok");
  ASSERT_THAT(Client()->Chat(Request(false)), IsOk());
  EXPECT_EQ(server_.authorizations()[0], "");
  EXPECT_FALSE(server_.requests()[0].contains("response_format"));
}

TEST_F(OpenAiCompatibleLlmTest, BadOptions) {
  EXPECT_THAT(OpenAiCompatibleLlm::Create({.base_url = "kubeai/openai/v1"}, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not an http(s) URL")));
  EXPECT_THAT(OpenAiCompatibleLlm::Create(
                  {.base_url = server_.base_url(), .api_key_file = "/nonexistent/key"}, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/nonexistent/key")));
  auto client = Client();
  remediation::ChatRequest empty;
  EXPECT_THAT(client->Chat(empty), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(OpenAiCompatibleLlmTest, UnknownModelNamesTheServersMessage) {
  server_.ExpectModel("deepseek-r1-1.5b-cpu");
  auto result = Client({.model = "deepseek-r1-1.5b"})->Chat(Request());
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kNotFound,
                               HasSubstr("model not found: \"deepseek-r1-1.5b\"")));
  EXPECT_TRUE(clock_.sleeps.empty());  // a 404 is not retried
}

TEST_F(OpenAiCompatibleLlmTest, ReasoningFieldsAreKeptApart) {
  FakeOpenAi::Reply vllm;
  vllm.content = "{\"changes\": []}";
  vllm.reasoning = "The pod is OOMKilled...";
  server_.Push(vllm);
  FakeOpenAi::Reply llamacpp = vllm;
  llamacpp.reasoning_field = "reasoning_content";
  server_.Push(llamacpp);
  auto client = Client();
  for (int i = 0; i < 2; ++i) {
    auto result = client->Chat(Request());
    ASSERT_THAT(result, IsOk());
    EXPECT_EQ(result->content, "{\"changes\": []}");
    EXPECT_EQ(result->reasoning, "The pod is OOMKilled...");
  }
}

TEST_F(OpenAiCompatibleLlmTest, ServerErrorIsRetriedWithBackoff) {
  server_.Fail(500, R"({"error":{"message":"CUDA out of memory","type":"server_error"}})");
  server_.Fail(
      503, R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})", "3");
  server_.Fail(502, R"({"error":"Bad Gateway"})");
  server_.Answer("{\"changes\": []}");
  auto result = Client({.max_attempts = 4, .initial_backoff = absl::Seconds(1)})->Chat(Request());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(server_.requests().size(), 4u);
  // 1 s, then max(2 s, Retry-After 3 s), then 4 s.
  EXPECT_THAT(clock_.sleeps,
              ::testing::ElementsAre(absl::Seconds(1), absl::Seconds(3), absl::Seconds(4)));
}

TEST_F(OpenAiCompatibleLlmTest, PersistentServerErrorIsACleanError) {
  for (int i = 0; i < 3; ++i) server_.Fail(500, R"({"error":"Internal Server Error"})");
  auto result = Client({.max_attempts = 3})->Chat(Request());
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable,
                               AllOf(HasSubstr("HTTP 500"), HasSubstr("Internal Server Error"),
                                     HasSubstr("after 3 attempts"))));
  EXPECT_EQ(server_.requests().size(), 3u);
  EXPECT_EQ(clock_.sleeps.size(), 2u);
}

TEST_F(OpenAiCompatibleLlmTest, RateLimitHonoursRetryAfterCappedByMaxBackoff) {
  server_.Fail(429, R"({"error":{"message":"Rate limit reached","type":"requests"}})", "120");
  server_.Answer("ok");
  auto result = Client({.max_backoff = absl::Seconds(30)})->Chat(Request());
  ASSERT_THAT(result, IsOk());
  EXPECT_THAT(clock_.sleeps, ::testing::ElementsAre(absl::Seconds(30)));
}

TEST_F(OpenAiCompatibleLlmTest, TimeoutIsDeadlineExceededWithoutRetry) {
  server_.Hang();
  auto result = Client({.timeout = absl::Milliseconds(300)})->Chat(Request());
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(server_.requests().size(), 1u);
  EXPECT_TRUE(clock_.sleeps.empty());
}

TEST_F(OpenAiCompatibleLlmTest, ConnectionRefusedIsRetriedThenUnavailable) {
  std::string url;
  {
    FakeOpenAi gone;
    url = gone.base_url();
  }
  auto result = Client({.base_url = url, .max_attempts = 2})->Chat(Request());
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("after 2 attempts")));
  EXPECT_EQ(clock_.sleeps.size(), 1u);
}

TEST_F(OpenAiCompatibleLlmTest, ResponseFormatRejectedFallsBackOnce) {
  server_.RejectResponseFormat(
      R"({"object":"error","message":"response_format json_schema is not supported","type":"BadRequestError","param":null,"code":400})");
  server_.Answer("```json\n{\"changes\": []}\n```");
  auto result = Client()->Chat(Request());
  ASSERT_THAT(result, IsOk());
  EXPECT_TRUE(result->schema_dropped);
  ASSERT_EQ(server_.requests().size(), 2u);
  EXPECT_TRUE(server_.requests()[0].contains("response_format"));
  EXPECT_FALSE(server_.requests()[1].contains("response_format"));
  EXPECT_EQ(server_.requests()[1]["messages"], server_.requests()[0]["messages"]);
}

TEST_F(OpenAiCompatibleLlmTest, ResponseFormatRejectionIsRemembered) {
  server_.RejectResponseFormat(R"({"error":"unsupported field response_format"})");
  server_.Answer("{}");
  server_.Answer("{}");
  auto client = Client();
  ASSERT_THAT(client->Chat(Request()), IsOk());
  auto second = client->Chat(Request());
  ASSERT_THAT(second, IsOk());
  EXPECT_TRUE(second->schema_dropped);
  EXPECT_EQ(server_.requests().size(), 3u);  // 400 + retry, then one request without the schema
}

TEST_F(OpenAiCompatibleLlmTest, OtherBadRequestIsNotRetried) {
  server_.Fail(
      400,
      R"({"error":{"code":400,"message":"the request exceeds the available context size","type":"exceed_context_size_error"}})");
  auto result = Client()->Chat(Request());
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                               AllOf(HasSubstr("exceeds the available context size"),
                                     HasSubstr("exceed_context_size_error"))));
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(OpenAiCompatibleLlmTest, NotAChatCompletion) {
  server_.Fail(200, R"({"object":"list","data":[]})");
  EXPECT_THAT(Client()->Chat(Request()),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("not a chat completion")));
  server_.Fail(200, "<html>proxy</html>");
  EXPECT_THAT(Client()->Chat(Request()), StatusIs(absl::StatusCode::kInternal));
}

struct ErrorBodyCase {
  const char* server;
  const char* body;
  const char* message;
};

TEST(ErrorMessageFromBodyTest, EachServersForm) {
  for (
      const ErrorBodyCase& c : std::vector<ErrorBodyCase>{
          {"openai",
           R"({"error":{"message":"The model `x` does not exist","type":"invalid_request_error","param":"model","code":"model_not_found"}})",
           "The model `x` does not exist (invalid_request_error)"},
          {"kubeai", R"({"error":"model not found: \"x\""})", "model not found: \"x\""},
          {"vllm-new",
           R"({"error":{"message":"max_tokens too large","type":"BadRequestError","param":null,"code":400}})",
           "max_tokens too large (BadRequestError)"},
          {"vllm-flat",
           R"({"object":"error","message":"bad schema","type":"BadRequestError","param":null,"code":400})",
           "bad schema"},
          {"ollama",
           R"({"error":{"message":"model \"llama9\" not found, try pulling it first","type":"not_found_error","param":null,"code":null}})",
           "model \"llama9\" not found, try pulling it first (not_found_error)"},
          {"llama.cpp",
           R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})",
           "Loading model (unavailable_error)"},
          {"fastapi", R"({"detail":"Not Found"})", "Not Found"},
          {"plain", "upstream connect error\n", "upstream connect error"},
          {"none", "", ""},
          {"odd", R"({"error":{"code":7}})", R"({"code":7})"},
          {"secret", R"({"error":"bad header Authorization: Bearer sk-abcdefghijklmnopqrstuvwx"})",
           "bad header Authorization: Bearer [REDACTED]"},
      }) {
    EXPECT_EQ(ErrorMessageFromBody(c.body), c.message) << c.server;
  }
}

}  // namespace
}  // namespace remediator::llm
