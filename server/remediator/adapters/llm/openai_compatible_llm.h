// OpenAiCompatibleLlm: the Llm over an OpenAI-compatible chat completions endpoint
// (api-contracts.md §5): KubeAI (http://kubeai/openai/v1), vLLM, Ollama (/v1), llama.cpp.
//
//   POST {base_url}/chat/completions, Content-Type: application/json, non-streaming,
//   Authorization: Bearer <key> when an API key file is configured (the key is never logged).
//   Retries 429/500/502/503/504 and connection failures with exponential backoff on the
//   injected Clock (honouring Retry-After), at most max_attempts tries. A timeout is not
//   retried: the request already waited the whole (long, scale-from-zero) timeout.
//   Error bodies are read in every server's form ({"error":{"message"}}, {"error":"text"},
//   vLLM's flat {"object":"error","message"}, FastAPI's {"detail"}, plain text, none) and the
//   status names the server's message.
//   A 400 that mentions response_format / json_schema is retried once without response_format
//   (the prompt still asks for JSON); ChatResult.schema_dropped tells, and later requests of
//   this client go without it.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_LLM_OPENAI_COMPATIBLE_LLM_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_LLM_OPENAI_COMPATIBLE_LLM_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/http_client.h"
#include "server/remediator/core/remediation/llm.h"

namespace remediator::llm {

struct OpenAiCompatibleLlmOptions {
  // The API base, up to and including /v1: "http://kubeai/openai/v1", "http://host:11434/v1".
  std::string base_url = "";
  // Used when a ChatRequest names no model.
  std::string model = "";
  // A file holding the API key (whitespace trimmed); empty: no Authorization header.
  std::string api_key_file = "";
  // KubeAI scale-from-zero blocks the first request until a pod is Ready: keep this long.
  absl::Duration timeout = absl::Seconds(120);
  absl::Duration connect_timeout = absl::Seconds(10);
  int max_attempts = 4;
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(30);
  std::string ca_pem = "";
  bool insecure_skip_verify = false;
  std::string user_agent = "remediator/0.1 (llm)";
};

class OpenAiCompatibleLlm final : public remediation::Llm {
 public:
  // InvalidArgument for an empty or non-http(s) base_url or an unreadable / empty key file.
  // `http` defaults to libcurl; `clock` is used for backoff only and must outlive the object.
  static absl::StatusOr<std::unique_ptr<OpenAiCompatibleLlm>> Create(
      OpenAiCompatibleLlmOptions options, Clock& clock = RealClock::Get(),
      std::unique_ptr<HttpClient> http = nullptr);

  absl::StatusOr<remediation::ChatResult> Chat(const remediation::ChatRequest& request) override;

 private:
  OpenAiCompatibleLlm(OpenAiCompatibleLlmOptions options, std::string api_key, Clock& clock,
                      std::unique_ptr<HttpClient> http)
      : options_(std::move(options)),
        api_key_(std::move(api_key)),
        clock_(clock),
        http_(std::move(http)) {}

  // One request with retries; the response of the last attempt (any status) or the transport
  // error.
  absl::StatusOr<HttpResponse> SendWithRetries(const std::string& body);

  OpenAiCompatibleLlmOptions options_;
  std::string api_key_;
  Clock& clock_;
  std::unique_ptr<HttpClient> http_;
  // Set once the server rejected response_format: later requests go without it.
  std::atomic<bool> schema_unsupported_{false};
};

// The server's error message in `body` (any of the forms above), or "" when there is none.
std::string ErrorMessageFromBody(const std::string& body);

}  // namespace remediator::llm

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_LLM_OPENAI_COMPATIBLE_LLM_H_
