// LlmSpeechDrafter: drafts the spoken text with an OpenAI-compatible chat completion
// (api-contracts.md §5: POST {url}/chat/completions), falling back to another drafter (the
// template) on any failure with DraftedSpeech::llm_fallback_reason saying why.
//
// The incident fields are sanitized (RedactSecrets, URLs removed) before they reach the prompt
// and the reply is sanitized again before it is spoken. From the reply, reasoning is dropped
// (`reasoning*` fields ignored, `<think>` blocks in every form of §5.4 stripped), the body is
// capped to about `max_words` words, and the template's yes/no question is appended unless the
// text already ends with it. An empty reply is a failure.
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_LLM_SPEECH_DRAFTER_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_LLM_SPEECH_DRAFTER_H_

#include <string>

#include "server/common/http_client.h"
#include "server/telephony/core/speech_drafter.h"

namespace remediator::telephony {

struct LlmDrafterOptions {
  // API base, e.g. http://127.0.0.1:11434/v1 (".../chat/completions" is appended).
  std::string url;
  std::string model;
  std::string api_key;  // secret; empty: no Authorization header
  absl::Duration timeout = absl::Seconds(30);
  // Words in the whole text, question included.
  int max_words = 100;
};

class LlmSpeechDrafter final : public SpeechDrafter {
 public:
  // `http` and `fallback` are borrowed.
  LlmSpeechDrafter(HttpClient* http, SpeechDrafter* fallback, LlmDrafterOptions options)
      : http_(http), fallback_(fallback), options_(std::move(options)) {}

  // InvalidArgument as the fallback drafter (bad incident or language); otherwise always a text.
  absl::StatusOr<DraftedSpeech> Draft(const IncidentSummary& incident,
                                      const std::string& language) override;

 private:
  absl::StatusOr<std::string> Ask(const IncidentSummary& incident, const std::string& language);

  HttpClient* http_;
  SpeechDrafter* fallback_;
  LlmDrafterOptions options_;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_LLM_SPEECH_DRAFTER_H_
