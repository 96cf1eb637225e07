// AnswerDecider: turns a transcript of the callee's answer into yes / no / unclear. The one
// decider for every speech-to-text engine (pocketsphinx, whisper.cpp, OpenAI-compatible,
// Twilio's Gather); its words come from the cue lexicon of core/phrasings.h.
//
// A false "yes" (we believe someone is coming and nobody is) is the outcome that must never
// happen, so the rules are checked in this order:
//   1. nothing heard                                   -> UNCLEAR (silence)
//   2. the call is sent to someone else ("ask Bob", "call someone else", "I'm driving, call
//      Bob")                                           -> NO (whatever else was said)
//   3. a hedge ("maybe", "I'm not sure", "let me check") -> UNCLEAR
//   4. a question back ("Yes? Who is this?", "what?", any '?') -> UNCLEAR
//   5. a yes cue and no refusal, and the engine's confidence >= kMinYesConfidence -> YES;
//      the same with a lower confidence               -> UNCLEAR (low confidence: ask again)
//   6. a refusal or negation and no yes cue ("I can't", "not tonight", "no way") -> NO
//   7. anything else, including yes and no together ("sure, I can't") -> UNCLEAR
// Yes-phrases made of negation words ("no problem", "pas de problème") count as yes and their
// words are not refusals. Matching is case-, accent- and apostrophe-insensitive (’ ʼ ').
// Thread-safe (stateless).
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_ANSWER_DECIDER_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_ANSWER_DECIDER_H_

#include <string>

#include "telephony/v1/telephony.pb.h"

namespace remediator::telephony {

using Decision = ::telephony::v1::Decision;

// The engine confidence a yes needs (SttResult::match_score).
inline constexpr double kMinYesConfidence = 0.5;

struct AnswerDecision {
  Decision decision = ::telephony::v1::DECISION_UNCLEAR;
  // 0..1. YES/NO: how strongly the words point one way, scaled by the engine's confidence.
  // UNCLEAR: 1 for silence, lower when some words were heard.
  double confidence = 0;
  // Why: "yes", "refusal", "deferral", "hedge", "question", "low confidence", "mixed",
  // "silence", "no cue".
  std::string reason;
};

// `match_score` is SttResult::match_score (0..1).
AnswerDecision DecideAnswer(const std::string& transcript, double match_score = 1.0);

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_ANSWER_DECIDER_H_
