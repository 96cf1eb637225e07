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

const std::vector<std::vector<std::string>>& YesPhrases() {
  static const auto* p = new std::vector<std::vector<std::string>>{{"yes"},
                                                                   {"yeah"},
                                                                   {"yep"},
                                                                   {"yup"},
                                                                   {"sure"},
                                                                   {"okay"},
                                                                   {"ok"},
                                                                   {"of", "course"},
                                                                   {"i", "can"},
                                                                   {"i", "will"},
                                                                   {"on", "my", "way"},
                                                                   {"coming"},
                                                                   {"oui"},
                                                                   {"d'accord"},
                                                                   {"j'arrive"},
                                                                   {"bien", "sûr"},
                                                                   {"je", "peux"},
                                                                   {"i'm", "on", "it"},
                                                                   {"i", "am", "on", "it"},
                                                                   {"affirmative"}};
  return *p;
}

const std::vector<std::vector<std::string>>& NoPhrases() {
  static const auto* p = new std::vector<std::vector<std::string>>{
      {"no"},         {"nope"}, {"nah"},    {"sorry"},       {"cannot"},     {"can't"},
      {"can", "not"}, {"not"},  {"busy"},   {"unavailable"}, {"won't"},      {"negative"},
      {"non"},        {"pas"},  {"désolé"}, {"occupé"},      {"impossible"}, {"never"}};
  return *p;
}

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
  // "i can not" / "je ne peux pas" contain a yes-phrase ("i can", "je peux" does not match "je ne
  // peux") together with a refusal; a refusal alone decides NO, both together are UNCLEAR unless
  // the yes-phrase is only the start of the refusal.
  bool no = ContainsAny(words, NoPhrases());
  std::vector<std::string> yes_words = words;
  // Remove "i can" that is directly followed by "not"/"'t" forms so "i can not" is a pure no.
  for (size_t i = 0; i + 2 < yes_words.size(); ++i) {
    if (yes_words[i] == "i" && yes_words[i + 1] == "can" && yes_words[i + 2] == "not") {
      yes_words[i] = yes_words[i + 1] = "_";
    }
  }
  bool yes = ContainsAny(yes_words, YesPhrases());
  if (yes && !no) {
    out.decision = ::telephony::v1::DECISION_YES;
    out.confidence = 0.9 * match_score;
  } else if (no && !yes) {
    out.decision = ::telephony::v1::DECISION_NO;
    out.confidence = 0.9 * match_score;
  } else {
    out.decision = ::telephony::v1::DECISION_UNCLEAR;
    out.confidence = yes && no ? 0.5 : 0.7;
  }
  return out;
}

}  // namespace remediator::telephony
