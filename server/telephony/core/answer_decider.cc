#include "server/telephony/core/answer_decider.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace remediator::telephony {
namespace {

// Words are matched after lower-casing and splitting on anything that is not a letter, a digit
// or an apostrophe. Multi-word phrases are matched on the word sequence.
std::vector<std::string> Words(const std::string& text) {
  std::string cleaned;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '\'' || u >= 0x80) {
      cleaned.push_back(static_cast<char>(absl::ascii_tolower(u)));
    } else {
      cleaned.push_back(' ');
    }
  }
  return absl::StrSplit(cleaned, ' ', absl::SkipEmpty());
}

bool ContainsPhrase(const std::vector<std::string>& words, const std::vector<std::string>& phrase) {
  if (phrase.size() > words.size()) return false;
  for (size_t i = 0; i + phrase.size() <= words.size(); ++i) {
    if (std::equal(phrase.begin(), phrase.end(), words.begin() + static_cast<long>(i))) return true;
  }
  return false;
}

bool ContainsAny(const std::vector<std::string>& words,
                 const std::vector<std::vector<std::string>>& phrases) {
  return std::any_of(phrases.begin(), phrases.end(),
                     [&](const auto& p) { return ContainsPhrase(words, p); });
}

// Explicit yes-words. "i can come" or "on my way" without one of these is not enough: such
// phrases are what off-topic speech is most often misheard as.
const std::vector<std::vector<std::string>>& YesPhrases() {
  static const auto* p = new std::vector<std::vector<std::string>>{
      {"yes"}, {"yeah"},         {"yep"}, {"yup"},      {"sure"},        {"okay"},
      {"ok"},  {"of", "course"}, {"oui"}, {"d'accord"}, {"bien", "sûr"}, {"affirmative"}};
  return *p;
}

const std::vector<std::vector<std::string>>& NoPhrases() {
  static const auto* p = new std::vector<std::vector<std::string>>{
      {"no"},         {"nope"}, {"nah"},    {"sorry"},       {"cannot"},     {"can't"},
      {"can", "not"}, {"not"},  {"busy"},   {"unavailable"}, {"won't"},      {"negative"},
      {"non"},        {"pas"},  {"désolé"}, {"occupé"},      {"impossible"}, {"never"}};
  return *p;
}

// A yes needs the recognizer to be at least this sure that the audio is what it heard.
constexpr double kMinYesMatch = 0.5;

}  // namespace

AnswerDecision DecideAnswer(const std::string& transcript, double match_score) {
  std::vector<std::string> words = Words(transcript);
  match_score = std::clamp(match_score, 0.0, 1.0);
  AnswerDecision out;
  if (words.empty()) {
    out.decision = ::telephony::v1::DECISION_UNCLEAR;
    out.confidence = 1.0;
    return out;
  }
  bool no = ContainsAny(words, NoPhrases());
  bool yes = ContainsAny(words, YesPhrases());
  if (yes && !no && match_score >= kMinYesMatch) {
    out.decision = ::telephony::v1::DECISION_YES;
    out.confidence = 0.9 * match_score;
  } else if (no && !yes) {
    // A refusal is believed even when the audio matched poorly: mistaking a yes for a no only
    // costs a call to the next person.
    out.decision = ::telephony::v1::DECISION_NO;
    out.confidence = 0.9 * std::max(match_score, 0.5);
  } else {
    out.decision = ::telephony::v1::DECISION_UNCLEAR;
    out.confidence = yes && no ? 0.5 : 0.7;
  }
  return out;
}

}  // namespace remediator::telephony
