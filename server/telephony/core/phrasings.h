// Phrasings: the one source of what callees say when asked "can you intervene?".
//
// Two tables live in phrasings.cc, and everything that understands answers is derived from them:
//   - the phrasings: everyday answers people give on the phone (short and long, casual and
//     formal, hedges, delays, refusals naming someone else, questions back), each with the
//     decision it must lead to and its language. The pocketsphinx answer grammar is generated
//     from them (AnswerGrammar), so the recognizer can only ever hear one of these answers;
//   - the cue lexicon: the words and word sequences the decider looks for (yes cues, refusals,
//     hedges, questions, deferral to someone else, and the yes-phrases that contain a negation
//     such as "no problem"). AnswerDecider reads only this lexicon.
// phrasings_test proves the two cannot disagree: every phrasing decides to its label, every
// cue is reachable through the grammar, every grammar word has a pronunciation.
// The list is documented for humans in README.md ("Telephony: answers it understands").
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_PHRASINGS_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_PHRASINGS_H_

#include <map>
#include <string>
#include <vector>

#include "telephony/v1/telephony.pb.h"

namespace remediator::telephony {

struct Phrasing {
  std::string text;  // as a person says it, with its punctuation
  ::telephony::v1::Decision decision;
  std::string language;  // "en" or "fr"
  std::string kind;      // short description: "plain yes", "deferral", "hedge", ...
};

// At least 60 English and a dozen French phrasings.
const std::vector<Phrasing>& Phrasings();

// The cue lexicon, as folded word sequences (see FoldAnswerWords).
struct CueLexicon {
  // Explicit commitments: "yes", "on my way", "d'accord"...
  std::vector<std::vector<std::string>> yes;
  // Yes-phrases built from negation words ("no problem", "pas de problème"): they count as
  // yes and their words are not seen as refusals.
  std::vector<std::vector<std::string>> yes_despite_negation;
  // Refusals and negation: "no", "can't", "busy", "not tonight"...
  std::vector<std::vector<std::string>> no;
  // Uncertainty: "maybe", "not sure", "let me check"...
  std::vector<std::vector<std::string>> hedge;
  // Questions back: "who", "what", "hello"... (a '?' in the transcript counts as well).
  std::vector<std::vector<std::string>> question;
  // Sending the call to someone else: "ask", "someone else", "instead"...
  std::vector<std::vector<std::string>> deferral;
  // "call X" defers unless X is one of these ("call me back" does not name anyone).
  std::vector<std::string> call_objects_not_deferral;
};
const CueLexicon& Cues();

// Lower-cases (ASCII and Latin-1 letters), folds accents (é -> e), maps typographic
// apostrophes (’ ‘ ʼ ´ `) to ', splits on anything but letters, digits and apostrophes, and
// maps apostrophe-less spellings ("cant", "dont", "im") to the usual ones. `question_mark`
// (optional) is set when the text contains '?' (or the full-width ？).
std::vector<std::string> FoldAnswerWords(const std::string& text, bool* question_mark = nullptr);

// The pocketsphinx JSGF grammar of one language ("en", "fr"): one alternative per phrasing of
// that language, so that an English answer is never forced into a French word.
std::string AnswerGrammar(const std::string& language);
// Grammar tokens that stand for a spelling of the decider ("jarrive" -> "j'arrive"): French
// words are written in the grammar without apostrophes or hyphens.
const std::map<std::string, std::string>& GrammarTokenSpellings();
// The words of every language's grammar, sorted and unique.
std::vector<std::string> GrammarWords();

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_PHRASINGS_H_
