// AnswerDecider: turns a transcript of the callee's answer into yes / no / unclear.
//
// The rule is built so that a false "yes" (we believe someone is coming and nobody is) is the
// one outcome that never happens by accident:
//   - YES only when an explicit yes-word is present (yes, yeah, yep, yup, sure, okay, ok, of
//     course, oui, d'accord, bien sûr, affirmative), no refusal word is, and the recognizer's
//     match score is at least 0.5 (the audio really sounded like what was transcribed).
//   - NO when a refusal is present (no, nope, sorry, cannot, can't, not, busy, unavailable, non,
//     pas...) and no yes-phrase is.
//   - UNCLEAR otherwise: silence, noise, other words, or both yes and no ("yes... no, sorry").
// Thread-safe (stateless).
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_ANSWER_DECIDER_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_ANSWER_DECIDER_H_

#include <string>

#include "telephony/v1/telephony.pb.h"

namespace remediator::telephony {

using Decision = ::telephony::v1::Decision;

struct AnswerDecision {
  Decision decision = ::telephony::v1::DECISION_UNCLEAR;
  // 0..1. YES/NO: how strongly the words point one way, scaled by the engine's match score.
  // UNCLEAR: 1 for silence, lower when some words were heard.
  double confidence = 0;
};

// `match_score` is SttResult::match_score (0..1).
AnswerDecision DecideAnswer(const std::string& transcript, double match_score = 1.0);

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_ANSWER_DECIDER_H_
