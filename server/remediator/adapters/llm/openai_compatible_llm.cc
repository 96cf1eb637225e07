#include "server/remediator/adapters/llm/openai_compatible_llm.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/common/file_util.h"
#include "server/common/logging.h"
#include "server/common/redact.h"
#include "server/remediator/core/manifest/json_access.h"

namespace remediator::llm {
namespace {

using json = nlohmann::json;
using manifest::At;
using manifest::Str;

constexpr size_t kMaxMessageBytes = 500;

bool RetryableStatus(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::string Bound(std::string text) {
  if (text.size() > kMaxMessageBytes) {
    text.resize(kMaxMessageBytes);
    text += "...";
  }
  return text;
}

absl::StatusCode CodeForHttp(int status) {
  switch (status) {
    case 400:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 408:
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    case 413:
      return absl::StatusCode::kInvalidArgument;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    default:
      return status >= 500 ? absl::StatusCode::kUnavailable : absl::StatusCode::kUnknown;
  }
}

absl::Status HttpError(const HttpResponse& response, int attempts) {
  std::string message = ErrorMessageFromBody(response.body);
  if (message.empty()) message = "no error message in the response";
  return absl::Status(
      CodeForHttp(response.status),
      absl::StrCat("LLM server answered HTTP ", response.status, ": ", message,
                   attempts > 1 ? absl::StrCat(" (after ", attempts, " attempts)") : ""));
}

// A 400 that says the server does not do structured output.
bool RejectsResponseFormat(const HttpResponse& response) {
  if (response.status != 400 && response.status != 422) return false;
  const std::string text = absl::AsciiStrToLower(response.body);
  return absl::StrContains(text, "response_format") || absl::StrContains(text, "json_schema") ||
         absl::StrContains(text, "structured output") || absl::StrContains(text, "guided_json");
}

// Retry-After as seconds (the HTTP-date form is not used by these servers).
absl::Duration RetryAfter(const HttpResponse& response) {
  int seconds = 0;
  if (absl::SimpleAtoi(response.Header("retry-after"), &seconds) && seconds > 0) {
    return absl::Seconds(seconds);
  }
  return absl::ZeroDuration();
}

std::string TextOf(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  // Some servers send content as a list of parts: [{"type":"text","text":"..."}].
  std::string out;
  if (content.is_array()) {
    for (const json& part : content) out += Str(part, "text");
  }
  return out;
}

}  // namespace

std::string ErrorMessageFromBody(const std::string& body) {
  const std::string trimmed(absl::StripAsciiWhitespace(body));
  if (trimmed.empty()) return "";
  json parsed = json::parse(trimmed, nullptr, /*allow_exceptions=*/false);
  std::string message;
  if (parsed.is_object()) {
    const json& error = At(parsed, "error");
    if (error.is_string()) {
      message = error.get<std::string>();  // KubeAI
    } else if (error.is_object()) {
      message = Str(error, "message");  // OpenAI, new vLLM, Ollama, llama.cpp
      const std::string type = Str(error, "type");
      if (!type.empty() && !message.empty()) message = absl::StrCat(message, " (", type, ")");
    }
    if (message.empty()) message = Str(parsed, "message");  // old vLLM: flat
    if (message.empty()) {
      const json& detail = At(parsed, "detail");  // FastAPI
      message = detail.is_string() ? detail.get<std::string>()
                : detail.is_null() ? ""
                                   : detail.dump();
    }
    if (message.empty() && !error.is_null()) message = error.dump();
  } else if (!parsed.is_discarded() && parsed.is_string()) {
    message = parsed.get<std::string>();
  } else if (parsed.is_discarded()) {
    message = trimmed;  // text/plain or an HTML error page from a proxy
  }
  return Bound(RedactSecrets(std::string(absl::StripAsciiWhitespace(message))));
}

absl::StatusOr<std::unique_ptr<OpenAiCompatibleLlm>> OpenAiCompatibleLlm::Create(
    OpenAiCompatibleLlmOptions options, Clock& clock, std::unique_ptr<HttpClient> http) {
  if (!absl::StartsWith(options.base_url, "http://") &&
      !absl::StartsWith(options.base_url, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("llm url \"", options.base_url,
                     "\" is not an http(s) URL (expected e.g. http://kubeai/openai/v1)"));
  }
  while (absl::EndsWith(options.base_url, "/")) options.base_url.pop_back();
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError("llm max_attempts must be at least 1");
  }
  std::string key;
  if (!options.api_key_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(options.api_key_file);
    if (!text.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("llm api key file ", options.api_key_file, ": ", text.status().message()));
    }
    key = std::string(absl::StripAsciiWhitespace(*text));
    if (key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("llm api key file ", options.api_key_file, " is empty"));
    }
  }
  if (http == nullptr) http = NewCurlHttpClient();
  return std::unique_ptr<OpenAiCompatibleLlm>(
      new OpenAiCompatibleLlm(std::move(options), std::move(key), clock, std::move(http)));
}

absl::StatusOr<HttpResponse> OpenAiCompatibleLlm::SendWithRetries(const std::string& body) {
  HttpRequest request;
  request.method = "POST";
  request.url = absl::StrCat(options_.base_url, "/chat/completions");
  request.headers = {{"Content-Type", "application/json"},
                     {"Accept", "application/json"},
                     {"User-Agent", options_.user_agent}};
  if (!api_key_.empty()) request.headers.push_back({"Authorization", "Bearer " + api_key_});
  request.body = body;
  request.timeout = options_.timeout;
  request.connect_timeout = options_.connect_timeout;
  request.ca_pem = options_.ca_pem;
  request.insecure_skip_verify = options_.insecure_skip_verify;

  absl::Duration backoff = options_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<HttpResponse> response = http_->Send(request);
    bool retry = false;
    absl::Duration wait = backoff;
    if (!response.ok()) {
      // A timeout already waited options_.timeout; only connection failures are retried.
      retry = absl::IsUnavailable(response.status());
    } else if (RetryableStatus(response->status)) {
      retry = true;
      wait = std::max(wait, RetryAfter(*response));
    }
    if (!retry || attempt >= options_.max_attempts) {
      if (!response.ok()) {
        return absl::Status(
            response.status().code(),
            absl::StrCat("LLM server ", options_.base_url, ": ", response.status().message(),
                         attempt > 1 ? absl::StrCat(" (after ", attempt, " attempts)") : ""));
      }
      if (response->status >= 300) {
        response->headers["x-remediator-attempts"] = std::to_string(attempt);
      }
      return response;
    }
    wait = std::min(wait, options_.max_backoff);
    LogWarning("LLM request failed, retrying",
               {{"url", request.url},
                {"attempt", std::to_string(attempt)},
                {"error", response.ok() ? absl::StrCat("HTTP ", response->status)
                                        : std::string(response.status().message())},
                {"wait", absl::FormatDuration(wait)}});
    clock_.SleepFor(wait);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

absl::StatusOr<remediation::ChatResult> OpenAiCompatibleLlm::Chat(
    const remediation::ChatRequest& request) {
  if (request.messages.empty()) {
    return absl::InvalidArgumentError("chat request has no messages");
  }
  json body;
  body["model"] = request.model.empty() ? options_.model : request.model;
  if (body["model"].get<std::string>().empty()) {
    return absl::InvalidArgumentError("chat request names no model and no default is configured");
  }
  body["messages"] = json::array();
  for (const auto& m : request.messages) {
    body["messages"].push_back({{"role", m.role}, {"content", m.content}});
  }
  // Always sent: Ollama forces temperature 1.0 when it is omitted (§5.2).
  body["temperature"] = request.temperature;
  body["max_tokens"] = request.max_tokens;
  body["stream"] = false;
  bool schema_dropped = request.json_schema.has_value() && schema_unsupported_.load();
  if (request.json_schema.has_value() && !schema_dropped) {
    body["response_format"] = {
        {"type", "json_schema"},
        {"json_schema",
         {{"name", request.schema_name}, {"strict", true}, {"schema", *request.json_schema}}}};
  }
  absl::StatusOr<HttpResponse> response = SendWithRetries(body.dump());
  if (!response.ok()) return response.status();
  if (request.json_schema.has_value() && !schema_dropped && RejectsResponseFormat(*response)) {
    LogWarning("LLM server rejects response_format json_schema; asking without it",
               {{"url", options_.base_url}, {"error", ErrorMessageFromBody(response->body)}});
    body.erase("response_format");
    schema_dropped = true;
    schema_unsupported_.store(true);
    response = SendWithRetries(body.dump());
    if (!response.ok()) return response.status();
  }
  if (response->status < 200 || response->status >= 300) {
    int attempts = 1;
    (void)absl::SimpleAtoi(response->Header("x-remediator-attempts"), &attempts);
    return HttpError(*response, attempts);
  }
  json parsed = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  const json& choices = At(parsed, "choices");
  if (!parsed.is_object() || !choices.is_array() || choices.empty() || !choices[0].is_object()) {
    const std::string message = ErrorMessageFromBody(response->body);
    return absl::InternalError(absl::StrCat("LLM server's response (HTTP ", response->status,
                                            ") is not a chat completion",
                                            message.empty() ? "" : absl::StrCat(": ", message)));
  }
  const json& message = At(choices[0], "message");
  remediation::ChatResult result;
  result.model = Str(parsed, "model", body["model"].get<std::string>());
  result.content = TextOf(At(message, "content"));
  result.reasoning = Str(message, "reasoning");
  if (result.reasoning.empty()) result.reasoning = Str(message, "reasoning_content");
  result.finish_reason = Str(choices[0], "finish_reason");
  result.schema_dropped = schema_dropped;
  return result;
}

}  // namespace remediator::llm
