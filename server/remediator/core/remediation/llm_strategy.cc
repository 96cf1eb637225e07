#include "server/remediator/core/remediation/llm_strategy.h"

#include "absl/strings/str_cat.h"
#include "server/common/logging.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/remediation/llm_answer.h"

namespace remediator::remediation {

absl::StatusOr<Proposal> LlmStrategy::Propose(const FixContext& context) {
  if (!context.manifest.is_object() || manifest::Str(context.manifest, "kind").empty()) {
    return absl::NotFoundError("not applicable: the manifest is not a Kubernetes object");
  }
  const size_t manifest_bytes = PromptManifest(context.manifest).dump().size();
  if (manifest_bytes > options_.prompt.max_manifest_bytes) {
    return absl::NotFoundError(
        absl::StrCat("not applicable: the manifest is too large for the model's prompt (",
                     manifest_bytes, " bytes, at most ", options_.prompt.max_manifest_bytes, ")"));
  }
  ChatRequest request;
  request.model = options_.model;
  request.messages = BuildFixPrompt(context, options_.prompt);
  request.temperature = options_.temperature;
  request.max_tokens = options_.max_tokens;
  if (options_.use_json_schema) {
    request.json_schema = LlmEditSchema();
    request.schema_name = "manifest_edit";
  }
  absl::StatusOr<ChatResult> answer = llm_->Chat(request);
  if (!answer.ok()) {
    return absl::Status(answer.status().code(),
                        absl::StrCat("llm: asking the model failed: ", answer.status().message()));
  }
  const std::string model = answer->model.empty() ? options_.model : answer->model;
  absl::StatusOr<LlmEdit> edit =
      ParseLlmAnswer(answer->content, answer->finish_reason, context.manifest);
  if (!edit.ok()) {
    LogWarning("llm answer unusable",
               {{"model", model}, {"error", std::string(edit.status().message())}});
    return absl::InvalidArgumentError(
        absl::StrCat("llm answer unusable (model ", model, "): ", edit.status().message()));
  }
  if (edit->changes.empty()) {
    return absl::NotFoundError(absl::StrCat("not applicable: the model (", model,
                                            ") proposes no change: ", edit->explanation));
  }
  Proposal proposal;
  proposal.strategy = "llm";
  proposal.model = model;
  proposal.explanation = std::move(edit->explanation);
  proposal.changes = std::move(edit->changes);
  return proposal;
}

}  // namespace remediator::remediation
