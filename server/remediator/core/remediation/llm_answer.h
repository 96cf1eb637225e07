// Reading a model's answer into manifest changes. Pure functions; the text is untrusted: it is
// only searched for an edit, never executed or followed, and whatever edit it yields still goes
// through the Guard.
//
// What is accepted, in order:
//   1. `content` only (reasoning fields are ignored by the caller). Everything up to and
//      including the last "</think>" is dropped (inline, close-tag-only and empty think blocks);
//      an answer that opens "<think>" and never closes it was cut off in its reasoning.
//   2. The first balanced JSON object (bare, in prose, or in a ``` / ```json fence) that has a
//      "changes" array: {"changes": [{"path": P, "value": V, "reason": R, "op": "set"|"remove"}],
//      "explanation": E}. P is a field path ("spec.template.spec.containers[name=web].image")
//      or a JSON pointer ("/spec/template/spec/containers/0/image"); op "remove" (or a null
//      value) removes the field. An empty "changes" array means "no change applies".
//   3. Otherwise a whole manifest (YAML or JSON, fenced or bare) of the same kind and name as
//      the current one; its differences from the current manifest become the changes. Fields the
//      model left out are read as unchanged (models abbreviate), as are metadata and status.
// Errors are InvalidArgument saying why: empty answer, answer cut off (finish_reason "length"
// or an unbalanced object), malformed change, manifest of another object, nothing usable.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_LLM_ANSWER_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_LLM_ANSWER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "server/remediator/core/manifest/field_path.h"
#include "server/remediator/core/remediation/fix_strategy.h"

namespace remediator::remediation {

// Answers longer than this are refused (a real edit is a few hundred bytes).
inline constexpr size_t kMaxAnswerBytes = 256 * 1024;

struct LlmEdit {
  // Empty when the model says no change applies; `explanation` then says why.
  std::vector<ProposedChange> changes;
  // The model's explanation, or its reasons joined; redacted and bounded.
  std::string explanation;
  // "json-edit" or "manifest": which form the answer had.
  std::string form;
};

// The bodies of the ``` fenced blocks in `text`, in order (an unclosed last fence runs to the
// end of the text). The info string (json, yaml, ...) is dropped.
std::vector<std::string> FencedBlocks(const std::string& text);

// A path as a model writes it: field path syntax, or a JSON pointer ("/a/b/0/c", with ~0 ~1
// escapes; all-digit segments are list indexes). A leading "$." or "." is dropped.
absl::StatusOr<manifest::FieldPath> ParseModelPath(const std::string& text);

// The edit in `content` for `current_manifest` (see the file comment).
absl::StatusOr<LlmEdit> ParseLlmAnswer(const std::string& content, const std::string& finish_reason,
                                       const nlohmann::json& current_manifest);

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_LLM_ANSWER_H_
