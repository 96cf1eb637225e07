// An OpenAI-compatible chat completions stand-in (api-contracts.md §5) on 127.0.0.1, port 0:
// POST /v1/chat/completions. Every request is checked against the contract (JSON content type,
// Authorization when a key is expected, model, messages with role/content, temperature,
// max_tokens, stream false, response_format json_schema shape); a request that breaks it gets the
// server's 400 and is recorded as a violation. Answers are queued: a chat answer (content,
// reasoning in `reasoning` or `reasoning_content`, finish_reason), a raw HTTP status + body
// (error bodies in each server's form), or a hang until the test ends (client timeouts).
// Optionally rejects response_format like a server without structured output.
#ifndef REMEDIATOR_TESTS_SERVER_REMEDIATOR_LLM_FAKE_OPENAI_H_
#define REMEDIATOR_TESTS_SERVER_REMEDIATOR_LLM_FAKE_OPENAI_H_

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"

namespace remediator::testing {

class FakeOpenAi {
 public:
  struct Reply {
    int status = 200;
    std::string body;  // raw body for non-200 replies (or 200 with a broken body)
    std::string content;
    std::string reasoning;
    std::string reasoning_field = "reasoning";  // or "reasoning_content" (llama.cpp)
    std::string finish_reason = "stop";
    std::string retry_after;
    bool hang = false;  // never answer (until the server stops)
    bool raw = false;   // send `body` as is with `status`
  };

  FakeOpenAi() {
    server_.Post("/v1/chat/completions",
                 [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    server_.set_keep_alive_timeout(0);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the listen loop runs would be lost (cpp-httplib 0.11 has no
    // wait_until_ready): poll for it with a bounded deadline.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  }
  ~FakeOpenAi() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_.stop();
    thread_.join();
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  void ExpectApiKey(std::string key) {
    std::lock_guard<std::mutex> lock(mu_);
    api_key_ = std::move(key);
  }
  void ExpectModel(std::string model) {
    std::lock_guard<std::mutex> lock(mu_);
    model_ = std::move(model);
  }
  // Like a server without structured output: 400 `body` whenever response_format is present.
  void RejectResponseFormat(std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    reject_format_body_ = std::move(body);
  }
  void Answer(std::string content, std::string finish_reason = "stop") {
    Reply r;
    r.content = std::move(content);
    r.finish_reason = std::move(finish_reason);
    Push(std::move(r));
  }
  void Fail(int status, std::string body, std::string retry_after = "") {
    Reply r;
    r.status = status;
    r.body = std::move(body);
    r.raw = true;
    r.retry_after = std::move(retry_after);
    Push(std::move(r));
  }
  void Hang() {
    Reply r;
    r.hang = true;
    Push(std::move(r));
  }
  void Push(Reply reply) {
    std::lock_guard<std::mutex> lock(mu_);
    replies_.push_back(std::move(reply));
  }

  // The JSON bodies of the requests received (also those refused).
  std::vector<nlohmann::json> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> authorizations() {
    std::lock_guard<std::mutex> lock(mu_);
    return authorizations_;
  }
  std::vector<std::string> violations() {
    std::lock_guard<std::mutex> lock(mu_);
    return violations_;
  }

 private:
  static std::string OpenAiError(const std::string& message, const std::string& type) {
    return nlohmann::json{
        {"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}}
        .dump();
  }

  // The contract violation in `req`, or "".
  std::string Check(const httplib::Request& req, const nlohmann::json& body) {
    if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
      return "Content-Type is not application/json";
    }
    if (!api_key_.empty() && req.get_header_value("Authorization") != "Bearer " + api_key_) {
      return "401";
    }
    if (api_key_.empty() && req.has_header("Authorization")) return "unexpected Authorization";
    if (!body.is_object()) return "body is not a JSON object";
    if (!body.contains("model") || !body["model"].is_string() ||
        body["model"].get<std::string>().empty()) {
      return "model missing";
    }
    if (!model_.empty() && body["model"] != model_) return "404";
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty()) {
      return "messages missing";
    }
    for (const auto& m : body["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
          !m.contains("content") || !m["content"].is_string()) {
        return "message without role/content strings";
      }
      const std::string role = m["role"];
      if (role != "system" && role != "user" && role != "assistant") return "bad role " + role;
    }
    if (!body.contains("temperature") || !body["temperature"].is_number()) {
      return "temperature missing (Ollama would force 1.0)";
    }
    if (!body.contains("max_tokens") || !body["max_tokens"].is_number_integer()) {
      return "max_tokens missing";
    }
    if (body.contains("stream") && body["stream"] != false) return "stream must be false";
    if (body.contains("response_format")) {
      const auto& f = body["response_format"];
      if (!f.is_object() || f.value("type", "") != "json_schema" || !f.contains("json_schema") ||
          !f["json_schema"].is_object() || !f["json_schema"].contains("name") ||
          !f["json_schema"].contains("schema") || !f["json_schema"]["schema"].is_object()) {
        return "response_format is not a json_schema format";
      }
    }
    return "";
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(mu_);
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    requests_.push_back(body);
    authorizations_.push_back(req.get_header_value("Authorization"));
    const std::string violation = Check(req, body);
    if (violation == "401") {
      res.status = 401;
      res.set_content(OpenAiError("Incorrect API key provided", "invalid_request_error"),
                      "application/json");
      return;
    }
    if (violation == "404") {
      res.status = 404;
      // KubeAI's form: error is a string.
      res.set_content(
          nlohmann::json{{"error", "model not found: \"" + body["model"].get<std::string>() + "\""}}
              .dump(),
          "application/json");
      return;
    }
    if (!violation.empty()) {
      violations_.push_back(violation);
      res.status = 400;
      res.set_content(OpenAiError(violation, "invalid_request_error"), "application/json");
      return;
    }
    if (!reject_format_body_.empty() && body.contains("response_format")) {
      res.status = 400;
      res.set_content(reject_format_body_, "application/json");
      return;
    }
    if (replies_.empty()) {
      res.status = 500;
      res.set_content(OpenAiError("stand-in has no reply queued", "server_error"),
                      "application/json");
      return;
    }
    Reply reply = replies_.front();
    replies_.pop_front();
    if (reply.hang) {
      // Holds the request until the test ends; the client's timeout is what is tested.
      cv_.wait_for(lock, std::chrono::seconds(30), [this] { return stopping_; });
      res.status = 503;
      return;
    }
    if (!reply.retry_after.empty()) res.set_header("Retry-After", reply.retry_after);
    if (reply.raw) {
      res.status = reply.status;
      res.set_content(reply.body, reply.body.empty() || reply.body[0] != '{' ? "text/plain"
                                                                             : "application/json");
      return;
    }
    nlohmann::json message = {{"role", "assistant"}, {"content", reply.content}};
    if (!reply.reasoning.empty()) message[reply.reasoning_field] = reply.reasoning;
    nlohmann::json out = {
        {"id", "chatcmpl-" + std::to_string(requests_.size())},
        {"object", "chat.completion"},
        {"created", 1736510400},
        {"model", body["model"]},
        {"choices", {{{"index", 0}, {"message", message}, {"finish_reason", reply.finish_reason}}}},
        {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 20}, {"total_tokens", 120}}}};
    res.status = 200;
    res.set_content(out.dump(), "application/json");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::string api_key_;
  std::string model_;
  std::string reject_format_body_;
  std::deque<Reply> replies_;
  std::vector<nlohmann::json> requests_;
  std::vector<std::string> authorizations_;
  std::vector<std::string> violations_;
};

}  // namespace remediator::testing

#endif  // REMEDIATOR_TESTS_SERVER_REMEDIATOR_LLM_FAKE_OPENAI_H_
