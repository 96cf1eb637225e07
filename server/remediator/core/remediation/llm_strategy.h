// LlmStrategy asks a chat model for a manifest edit when no playbook applies. It only proposes:
// the engine runs the Guard on every proposal, so a model that is wrong, or was talked into
// something by the evidence, cannot get a forbidden edit applied.
//
// Propose():
//   - builds the prompt (llm_prompt.h), asks the model once (temperature low, JSON schema),
//   - parses the answer (llm_answer.h) into a Proposal {strategy "llm", model, explanation,
//     changes},
//   - NotFound "not applicable: ..." when the model says no change applies, or when the manifest
//     is not an object / too large to send;
//   - the model's error (Unavailable, DeadlineExceeded, ...) when it cannot be asked;
//   - InvalidArgument "llm answer unusable: ..." when its answer holds no usable edit.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_LLM_STRATEGY_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_LLM_STRATEGY_H_

#include <memory>
#include <string>

#include "server/remediator/core/remediation/fix_strategy.h"
#include "server/remediator/core/remediation/guard.h"
#include "server/remediator/core/remediation/llm.h"
#include "server/remediator/core/remediation/llm_prompt.h"

namespace remediator::remediation {

struct LlmStrategyOptions {
  // The model name sent to the server ("qwen2.5-coder-1.5b-cpu"); empty: the client's default.
  std::string model;
  double temperature = 0.1;
  int max_tokens = 1024;
  // Ask for response_format json_schema (servers that refuse it are asked without).
  bool use_json_schema = true;
  PromptOptions prompt = {.allowed_paths = GuardPolicy().allowed_paths};
};

class LlmStrategy final : public FixStrategy {
 public:
  LlmStrategy(std::unique_ptr<Llm> llm, LlmStrategyOptions options)
      : llm_(std::move(llm)), options_(std::move(options)) {}
  std::string name() const override { return "llm"; }
  absl::StatusOr<Proposal> Propose(const FixContext& context) override;

 private:
  std::unique_ptr<Llm> llm_;
  LlmStrategyOptions options_;
};

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_LLM_STRATEGY_H_
