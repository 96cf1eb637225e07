#include "server/telephony/core/answer_decider.h"

#include <algorithm>
#include <vector>

#include "server/telephony/core/phrasings.h"

namespace remediator::telephony {
namespace {

using Phrase = std::vector<std::string>;

// Index of the first occurrence of `phrase` in `words` at or after `from`, or npos.
size_t Find(const std::vector<std::string>& words, const Phrase& phrase, size_t from = 0) {
  if (phrase.empty() || phrase.size() > words.size()) return std::string::npos;
  for (size_t i = from; i + phrase.size() <= words.size(); ++i) {
    if (std::equal(phrase.begin(), phrase.end(), words.begin() + static_cast<long>(i))) return i;
  }
  return std::string::npos;
}

bool ContainsAny(const std::vector<std::string>& words, const std::vector<Phrase>& phrases) {
  return std::any_of(phrases.begin(), phrases.end(),
                     [&](const Phrase& p) { return Find(words, p) != std::string::npos; });
}

// "call bob", "try somebody": a call sent elsewhere. "call me back" names nobody.
bool NamesSomeoneElse(const std::vector<std::string>& words, const CueLexicon& cues) {
  if (ContainsAny(words, cues.deferral)) return true;
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] != "call" && words[i] != "try") continue;
    const std::string& object = words[i + 1];
    if (std::find(cues.call_objects_not_deferral.begin(), cues.call_objects_not_deferral.end(),
                  object) == cues.call_objects_not_deferral.end()) {
      return true;
    }
  }
  return false;
}

AnswerDecision Make(Decision d, double confidence, const char* reason) {
  AnswerDecision out;
  out.decision = d;
  out.confidence = confidence;
  out.reason = reason;
  return out;
}

}  // namespace

AnswerDecision DecideAnswer(const std::string& transcript, double match_score) {
  bool question_mark = false;
  std::vector<std::string> words = FoldAnswerWords(transcript, &question_mark);
  match_score = std::clamp(match_score, 0.0, 1.0);
  const CueLexicon& cues = Cues();
  if (words.empty()) return Make(::telephony::v1::DECISION_UNCLEAR, 1.0, "silence");
  // A refusal is believed even when the audio matched poorly: mistaking a yes for a no only
  // costs a call to the next person.
  const double no_confidence = 0.9 * std::max(match_score, 0.5);
  if (NamesSomeoneElse(words, cues)) {
    return Make(::telephony::v1::DECISION_NO, no_confidence, "deferral");
  }
  if (ContainsAny(words, cues.hedge)) return Make(::telephony::v1::DECISION_UNCLEAR, 0.6, "hedge");
  if (question_mark || ContainsAny(words, cues.question)) {
    return Make(::telephony::v1::DECISION_UNCLEAR, 0.6, "question");
  }
  // Yes-phrases made of negation words are taken out before looking for refusals.
  bool yes = false;
  for (const Phrase& p : cues.yes_despite_negation) {
    for (size_t at = Find(words, p); at != std::string::npos; at = Find(words, p, at)) {
      yes = true;
      words.erase(words.begin() + static_cast<long>(at),
                  words.begin() + static_cast<long>(at + p.size()));
    }
  }
  yes = yes || ContainsAny(words, cues.yes);
  const bool no = ContainsAny(words, cues.no);
  if (yes && !no) {
    if (match_score < kMinYesConfidence) {
      return Make(::telephony::v1::DECISION_UNCLEAR, 0.5, "low confidence");
    }
    return Make(::telephony::v1::DECISION_YES, 0.9 * match_score, "yes");
  }
  if (no && !yes) return Make(::telephony::v1::DECISION_NO, no_confidence, "refusal");
  if (yes && no) return Make(::telephony::v1::DECISION_UNCLEAR, 0.5, "mixed");
  return Make(::telephony::v1::DECISION_UNCLEAR, 0.7, "no cue");
}

}  // namespace remediator::telephony
