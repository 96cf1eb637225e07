// The prompt the LLM fix strategy sends: a system message that says exactly what to return and
// which fields may change, and a user message with the incident, the evidence (redacted again,
// bounded, fenced as untrusted data) and the current manifest (without status).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_LLM_PROMPT_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_LLM_PROMPT_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "server/remediator/core/remediation/fix_strategy.h"
#include "server/remediator/core/remediation/llm.h"

namespace remediator::remediation {

struct PromptOptions {
  // Field path patterns the model is told it may change; "pod." is replaced by the pod spec path
  // of the manifest's kind. Mirror the Guard's allow-list (GuardPolicy().allowed_paths).
  std::vector<std::string> allowed_paths = {};
  // Logs are cut to their last max_log_bytes (the most recent lines matter most).
  size_t max_log_bytes = 6000;
  // The most recent max_events events, each message cut to 300 bytes.
  size_t max_events = 20;
  size_t max_evidence_lines = 20;
  // A manifest longer than this (as JSON) is refused by BuildFixPrompt's caller.
  size_t max_manifest_bytes = 24000;
};

// The JSON schema of the answer: {"changes": [{path, op, value, reason}], "explanation"}.
nlohmann::json LlmEditSchema();

// `manifest` as shown to the model: status, managedFields, resourceVersion, uid and the
// last-applied annotation removed; env values whose name says they are secret masked.
nlohmann::json PromptManifest(const nlohmann::json& manifest);

// Untrusted text wrapped as <untrusted-NAME>...</untrusted-NAME>, after RedactSecrets, with any
// "untrusted-" inside it defused so the text cannot close its own fence.
std::string FenceUntrusted(const std::string& name, const std::string& text);

// `text` with chat-template control tokens (<|im_start|>, [INST], <<SYS>>, <start_of_turn>,
// <think>...), our own fence tag and line-initial role headers ("system:", "### Instruction")
// defused, case-insensitively, so that untrusted evidence cannot open a turn of its own.
std::string DefuseUntrusted(const std::string& text);

// [system, user].
std::vector<ChatMessage> BuildFixPrompt(const FixContext& context, const PromptOptions& options);

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_LLM_PROMPT_H_
