// Text handling shared by every client of an OpenAI-compatible chat model (the LLM fix strategy,
// the LLM speech drafter).
#ifndef REMEDIATOR_SERVER_COMMON_LLM_TEXT_H_
#define REMEDIATOR_SERVER_COMMON_LLM_TEXT_H_

#include <string>

namespace remediator {

// The answer part of a reply, without the reasoning of DeepSeek-R1-style models in any of the
// forms servers produce (api-contracts.md §5.4): everything up to and including the last
// "</think>" is dropped (inline block, close tag only, empty block); a leading "<think>" that
// never closes yields "" (the answer never started: cut off by max_tokens). Then trimmed.
std::string StripThinkBlocks(const std::string& content);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_LLM_TEXT_H_
