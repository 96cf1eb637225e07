// LlmSpeechDrafter against a cpp-httplib stand-in for an OpenAI-compatible chat completions
// server on 127.0.0.1 (api-contracts.md §5): think-block forms, length cap, the question,
// secrets in and out, and the template fallback with its reason.
#include "server/telephony/adapters/llm_speech_drafter.h"

#include <httplib.h>

#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"

namespace remediator::telephony {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kKey[] = "sk-test-llm-key-0123456789";

class ChatStandIn {
 public:
  ChatStandIn() {
    server_.set_keep_alive_max_count(1);
    server_.Post(
        "/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
          absl::MutexLock lock(&mu);
          ++requests;
          authorization = req.get_header_value("Authorization");
          try {
            nlohmann::json j = nlohmann::json::parse(req.body);
            model = j.at("model").get<std::string>();
            prompt = j.at("messages").dump();
          } catch (const nlohmann::json::exception&) {
            res.status = 400;
            res.set_content(R"({"error":{"message":"bad body","type":"invalid_request_error"}})",
                            "application/json");
            return;
          }
          res.status = status;
          res.set_content(reply, "application/json");
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (!server_.is_running() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(2));
  }
  ~ChatStandIn() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/v1"); }
  // Answers with `content` as the assistant message (plus optional reasoning).
  void Answer(const std::string& content, const std::string& reasoning = "") {
    nlohmann::json message = {{"role", "assistant"}, {"content", content}};
    if (!reasoning.empty()) message["reasoning"] = reasoning;
    nlohmann::json j = {
        {"id", "chatcmpl-1"},
        {"object", "chat.completion"},
        {"model", "m"},
        {"choices",
         nlohmann::json::array({{{"index", 0}, {"message", message}, {"finish_reason", "stop"}}})}};
    absl::MutexLock lock(&mu);
    status = 200;
    reply = j.dump();
  }
  void Fail(int code, const std::string& body) {
    absl::MutexLock lock(&mu);
    status = code;
    reply = body;
  }

  absl::Mutex mu;
  int requests = 0;
  int status = 200;
  std::string reply, authorization, model, prompt;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

IncidentSummary Incident() {
  IncidentSummary i;
  i.set_incident_id("inc-42");
  i.set_namespace_("payments");
  i.set_workload_kind("Deployment");
  i.set_workload_name("checkout");
  i.set_error_class("CrashLoopBackOff");
  i.set_summary("checkout crashes at start: password=hunter2 rejected by the database");
  i.set_what_was_tried("raised the memory limit");
  i.set_why_it_failed("the pod still crashes");
  return i;
}

int Words(const std::string& text) {
  std::vector<std::string> w = absl::StrSplit(text, ' ', absl::SkipEmpty());
  return static_cast<int>(w.size());
}

class LlmSpeechDrafterTest : public ::testing::Test {
 protected:
  LlmSpeechDrafter Drafter(const std::string& url) {
    LlmDrafterOptions o;
    o.url = url;
    o.model = "qwen2.5-7b-cpu";
    o.api_key = kKey;
    o.timeout = absl::Seconds(10);
    return LlmSpeechDrafter(http_.get(), &template_, o);
  }
  ChatStandIn llm_;
  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient();
  TemplateSpeechDrafter template_;
};

TEST_F(LlmSpeechDrafterTest, UsesTheModelTextAndAppendsTheQuestion) {
  llm_.Answer("This is Remediator. The checkout deployment in payments keeps crashing.");
  LlmSpeechDrafter drafter = Drafter(llm_.url());
  absl::StatusOr<DraftedSpeech> d = drafter.Draft(Incident(), "en");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->source, "llm");
  EXPECT_THAT(d->llm_fallback_reason, IsEmpty());
  EXPECT_EQ(d->text, "This is Remediator. The checkout deployment in payments keeps crashing. " +
                         QuestionText("en"));
  EXPECT_GT(d->estimated_duration, absl::Seconds(3));
  absl::MutexLock lock(&llm_.mu);
  EXPECT_EQ(llm_.authorization, absl::StrCat("Bearer ", kKey));
  EXPECT_EQ(llm_.model, "qwen2.5-7b-cpu");
  EXPECT_THAT(llm_.prompt, HasSubstr("checkout"));
  EXPECT_THAT(llm_.prompt, HasSubstr("CrashLoopBackOff"));
  EXPECT_THAT(llm_.prompt, Not(HasSubstr("hunter2")));  // redacted before the prompt
}

TEST_F(LlmSpeechDrafterTest, QuestionAlreadyThereIsNotRepeated) {
  llm_.Answer("Checkout is down. " + QuestionText("en"));
  absl::StatusOr<DraftedSpeech> d = Drafter(llm_.url()).Draft(Incident(), "en");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->text, "Checkout is down. " + QuestionText("en"));
}

TEST_F(LlmSpeechDrafterTest, StripsEveryThinkForm) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"<think>\nthe user wants a call text\n</think>\n\nCheckout is down.", "inline"},
      {"the user wants a call text\n</think>\n\nCheckout is down.", "closing tag only"},
      {"<think>\n\n</think>\n\nCheckout is down.", "empty block"},
      {"<think>a</think> x </think>\nCheckout is down.", "last closing tag"},
  };
  for (const auto& [content, name] : cases) {
    llm_.Answer(content);
    absl::StatusOr<DraftedSpeech> d = Drafter(llm_.url()).Draft(Incident(), "en");
    ASSERT_THAT(d, IsOk()) << name;
    EXPECT_EQ(d->source, "llm") << name;
    EXPECT_EQ(d->text, "Checkout is down. " + QuestionText("en")) << name;
  }
  // Split fields: the reasoning field is ignored.
  llm_.Answer("Checkout is down.", "long private reasoning");
  absl::StatusOr<DraftedSpeech> d = Drafter(llm_.url()).Draft(Incident(), "en");
  ASSERT_THAT(d, IsOk());
  EXPECT_THAT(d->text, Not(HasSubstr("reasoning")));
  // An opener that never closes (cut by max_tokens) is nothing but reasoning.
  llm_.Answer("<think>\nstill thinking when the tokens ran out");
  d = Drafter(llm_.url()).Draft(Incident(), "en");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->source, "template");
  EXPECT_EQ(d->llm_fallback_reason, "llm: empty text");
}

TEST_F(LlmSpeechDrafterTest, CapsTheLength) {
  std::string rambling;
  for (int i = 0; i < 60; ++i) absl::StrAppend(&rambling, "The pod restarted again and again. ");
  llm_.Answer(rambling);
  absl::StatusOr<DraftedSpeech> d = Drafter(llm_.url()).Draft(Incident(), "en");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->source, "llm");
  EXPECT_LE(Words(d->text), 100);
  EXPECT_GE(Words(d->text), 50);
  EXPECT_THAT(d->text, EndsWith("again. " + QuestionText("en")));
}

TEST_F(LlmSpeechDrafterTest, RedactsSecretsAndUrlsInTheReply) {
  llm_.Answer("The database said password=hunter2 and see https://user:pw@grafana.example.com/d.");
  absl::StatusOr<DraftedSpeech> d = Drafter(llm_.url()).Draft(Incident(), "en");
  ASSERT_THAT(d, IsOk());
  EXPECT_THAT(d->text, Not(HasSubstr("hunter2")));
  EXPECT_THAT(d->text, Not(HasSubstr("grafana")));
  EXPECT_THAT(d->text, EndsWith(QuestionText("en")));
}

TEST_F(LlmSpeechDrafterTest, FrenchGetsTheFrenchQuestion) {
  llm_.Answer("Ici Remediator. Le déploiement checkout redémarre en boucle.");
  absl::StatusOr<DraftedSpeech> d = Drafter(llm_.url()).Draft(Incident(), "fr-FR");
  ASSERT_THAT(d, IsOk());
  EXPECT_THAT(d->text, EndsWith(QuestionText("fr")));
  absl::MutexLock lock(&llm_.mu);
  EXPECT_THAT(llm_.prompt, HasSubstr("French"));
}

TEST_F(LlmSpeechDrafterTest, FallsBackToTheTemplateWithTheReason) {
  absl::StatusOr<DraftedSpeech> expected = template_.Draft(Incident(), "en");
  ASSERT_THAT(expected, IsOk());

  llm_.Answer("   ");
  absl::StatusOr<DraftedSpeech> d = Drafter(llm_.url()).Draft(Incident(), "en");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->source, "template");
  EXPECT_EQ(d->text, expected->text);
  EXPECT_EQ(d->llm_fallback_reason, "llm: empty text");

  llm_.Fail(502, R"({"error":"Bad Gateway"})");  // KubeAI: error is a string
  d = Drafter(llm_.url()).Draft(Incident(), "en");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->source, "template");
  EXPECT_EQ(d->llm_fallback_reason, "llm: HTTP 502: Bad Gateway");

  llm_.Fail(404, R"({"error":{"message":"model \"x\" not found","type":"not_found_error"}})");
  d = Drafter(llm_.url()).Draft(Incident(), "en");
  ASSERT_THAT(d, IsOk());
  EXPECT_THAT(d->llm_fallback_reason, HasSubstr("HTTP 404: model \"x\" not found"));

  llm_.Fail(200, "not json");
  d = Drafter(llm_.url()).Draft(Incident(), "en");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->llm_fallback_reason, "llm: the reply is not a chat completion");

  d = Drafter("http://127.0.0.1:1/v1").Draft(Incident(), "en");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->source, "template");
  EXPECT_THAT(d->llm_fallback_reason, Not(IsEmpty()));
  EXPECT_THAT(d->llm_fallback_reason, Not(HasSubstr(kKey)));
}

TEST_F(LlmSpeechDrafterTest, BadIncidentIsAnErrorWithoutAskingTheModel) {
  llm_.Answer("Checkout is down.");
  IncidentSummary empty;
  EXPECT_THAT(Drafter(llm_.url()).Draft(empty, "en"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Drafter(llm_.url()).Draft(Incident(), "de"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  absl::MutexLock lock(&llm_.mu);
  EXPECT_EQ(llm_.requests, 0);
}

}  // namespace
}  // namespace remediator::telephony
