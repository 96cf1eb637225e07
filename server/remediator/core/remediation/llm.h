// Llm is the chat-completion model the LLM fix strategy asks for an edit. One real
// implementation over OpenAI-compatible HTTP servers (KubeAI, vLLM, Ollama, llama.cpp) lives in
// adapters/llm; tests use stand-in servers or fakes.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_LLM_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_LLM_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace remediator::remediation {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

struct ChatRequest {
  // Empty: the client's configured default model.
  std::string model;
  std::vector<ChatMessage> messages;
  double temperature = 0.1;
  int max_tokens = 1024;
  // A JSON schema for the answer (sent as response_format json_schema under `schema_name`);
  // nullopt: free text. Servers that reject it are asked again without it.
  std::optional<nlohmann::json> json_schema;
  std::string schema_name = "answer";
};

struct ChatResult {
  // The model that answered (as the server names it).
  std::string model;
  // choices[0].message.content: the answer. May still hold <think> blocks.
  std::string content;
  // reasoning / reasoning_content when the server splits them out; never used as the answer.
  std::string reasoning;
  // "stop", "length", "tool_calls", "content_filter", or "" when the server sent none.
  std::string finish_reason;
  // True when the server rejected the JSON schema and the answer was asked for without it.
  bool schema_dropped = false;
};

// Thread-safe.
class Llm {
 public:
  virtual ~Llm() = default;
  // One non-streaming chat completion. Unavailable / DeadlineExceeded when the server cannot be
  // reached in time (after retries), InvalidArgument / NotFound / PermissionDenied /
  // Unauthenticated naming the server's message when it refuses the request, Internal when the
  // response is not a chat completion.
  virtual absl::StatusOr<ChatResult> Chat(const ChatRequest& request) = 0;
};

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_LLM_H_
