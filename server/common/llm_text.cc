#include "server/common/llm_text.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace remediator {

std::string StripThinkBlocks(const std::string& content) {
  static constexpr char kClose[] = "</think>";
  const size_t close = content.rfind(kClose);
  std::string rest;
  if (close != std::string::npos) {
    rest = content.substr(close + sizeof(kClose) - 1);
  } else {
    absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(content);
    if (absl::StartsWith(trimmed, "<think>")) return "";
    rest = content;
  }
  return std::string(absl::StripAsciiWhitespace(rest));
}

}  // namespace remediator
