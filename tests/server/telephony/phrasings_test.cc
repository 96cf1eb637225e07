// The phrasings (core/phrasings.h) are the one source of the pocketsphinx grammar and of the
// decider's words: these tests prove the two cannot disagree, and pin the decider's rules on
// the transcripts that went wrong before (issue 12).
#include "server/telephony/core/phrasings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/telephony/core/answer_decider.h"

namespace remediator::telephony {
namespace {

using ::telephony::v1::DECISION_NO;
using ::telephony::v1::DECISION_UNCLEAR;
using ::telephony::v1::DECISION_YES;
using ::testing::HasSubstr;

// What pocketsphinx returns for a phrasing: grammar tokens, French ones respelled.
std::string AsRecognized(const Phrasing& p) {
  std::vector<std::string> words;
  for (std::string w : FoldAnswerWords(p.text)) {
    if (p.language != "en") std::erase(w, '\'');
    auto it = GrammarTokenSpellings().find(w);
    words.push_back(it == GrammarTokenSpellings().end() ? w : it->second);
  }
  return absl::StrJoin(words, " ");
}

bool Contains(const std::vector<std::string>& words, const std::vector<std::string>& phrase) {
  return std::search(words.begin(), words.end(), phrase.begin(), phrase.end()) != words.end();
}

TEST(PhrasingsTest, AtLeastSixtyEverydayEnglishAnswersAndFrench) {
  std::map<std::string, int> per_language;
  std::set<std::string> kinds;
  std::map<Decision, int> per_decision;
  for (const Phrasing& p : Phrasings()) {
    ++per_language[p.language];
    kinds.insert(p.kind);
    if (p.language == "en") ++per_decision[p.decision];
  }
  EXPECT_GE(per_language["en"], 60);
  EXPECT_GE(per_language["fr"], 12);
  EXPECT_GE(per_decision[DECISION_YES], 25);
  EXPECT_GE(per_decision[DECISION_NO], 25);
  EXPECT_GE(per_decision[DECISION_UNCLEAR], 15);
  for (const char* kind : {"deferral", "hedge", "question", "yes with a delay", "formal yes",
                           "casual yes", "refusal with a time", "yes despite a negation word"}) {
    EXPECT_TRUE(kinds.count(kind)) << kind;
  }
}

TEST(PhrasingsTest, EveryPhrasingDecidesItsLabelAsSpokenAndAsRecognized) {
  for (const Phrasing& p : Phrasings()) {
    EXPECT_EQ(DecideAnswer(p.text).decision, p.decision) << p.text;
    EXPECT_EQ(DecideAnswer(AsRecognized(p)).decision, p.decision)
        << p.text << " recognized as \"" << AsRecognized(p) << "\"";
  }
}

TEST(PhrasingsTest, GrammarHasOneAlternativePerPhrasingAndNothingElse) {
  const std::string grammar = AnswerGrammar("en") + AnswerGrammar("fr");
  std::vector<std::string> lines = absl::StrSplit(grammar, '\n');
  EXPECT_THAT(AnswerGrammar("en"), ::testing::Not(HasSubstr("oui")));
  std::set<std::string> alternatives;
  for (const std::string& line : lines) {
    std::string alt(absl::StripAsciiWhitespace(line));
    if (alt.empty() || alt[0] == '#' || absl::StartsWith(alt, "grammar") ||
        absl::StartsWith(alt, "public")) {
      continue;
    }
    if (absl::StartsWith(alt, "| ")) alt = alt.substr(2);
    if (!alt.empty() && alt.back() == ';') alt.pop_back();
    alternatives.insert(alt);
  }
  std::set<std::string> from_phrasings;
  for (const Phrasing& p : Phrasings()) {
    std::vector<std::string> tokens = FoldAnswerWords(p.text);
    if (p.language != "en") {
      for (std::string& t : tokens) std::erase(t, '\'');
    }
    from_phrasings.insert(absl::StrJoin(tokens, " "));
  }
  EXPECT_EQ(alternatives, from_phrasings);
  // Every sentence the grammar can produce is a phrasing, so it decides to that label (above).
  for (const std::string& w : GrammarWords()) {
    for (char c : w) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '\'') << w;
  }
}

TEST(PhrasingsTest, EveryCueOfTheDeciderCanBeHeard) {
  std::vector<std::vector<std::string>> spoken;
  for (const Phrasing& p : Phrasings()) spoken.push_back(FoldAnswerWords(p.text));
  const CueLexicon& cues = Cues();
  for (const auto* list : {&cues.yes, &cues.yes_despite_negation, &cues.no, &cues.hedge,
                           &cues.question, &cues.deferral}) {
    for (const auto& cue : *list) {
      const bool heard = std::any_of(spoken.begin(), spoken.end(),
                                     [&](const auto& words) { return Contains(words, cue); });
      EXPECT_TRUE(heard) << "cue \"" << absl::StrJoin(cue, " ")
                         << "\" is in no phrasing, so pocketsphinx can never hear it";
    }
  }
}

TEST(FoldAnswerWordsTest, CaseAccentsAndApostrophes) {
  EXPECT_THAT(FoldAnswerWords("Sure, I CAN\u2019T."), ::testing::ElementsAre("sure", "i", "can't"));
  EXPECT_THAT(FoldAnswerWords("I can\u02BCt"), ::testing::ElementsAre("i", "can't"));
  EXPECT_THAT(FoldAnswerWords("I cant"), ::testing::ElementsAre("i", "can't"));
  EXPECT_THAT(FoldAnswerWords("DÉSOLÉ, Je Suis Occupé"),
              ::testing::ElementsAre("desole", "je", "suis", "occupe"));
  EXPECT_THAT(FoldAnswerWords("'quoted' words"), ::testing::ElementsAre("quoted", "words"));
  bool question = false;
  FoldAnswerWords("Yes? Who is this", &question);
  EXPECT_TRUE(question);
  FoldAnswerWords("Qui est-ce \xEF\xBC\x9F", &question);  // full-width question mark
  EXPECT_TRUE(question);
  FoldAnswerWords("Yes.", &question);
  EXPECT_FALSE(question);
}

// The transcripts the Whisper path decided YES before (issue 12), and their relatives.
TEST(AnswerDeciderTest, NeverYesForQuestionsDeferralsOrNegations) {
  for (const char* t : {"Yes? Who is this?",
                        "Ask someone else, okay?",
                        "I'm driving, okay, call Bob.",
                        "Sure, I can\u2019t.",
                        "Sure, I can\u02BCt.",
                        "SURE, I CAN'T",
                        "Yes, ask Bob.",
                        "Okay, call Alice instead.",
                        "Yeah no, I can't tonight.",
                        "Yes... no, sorry.",
                        "Maybe, yes.",
                        "Yes, I'm not sure.",
                        "Okay? Hello?",
                        "I'm not sure",
                        "maybe",
                        "not tonight",
                        "no way",
                        "I can't",
                        "Yes I can't",
                        "yeah, but not tonight",
                        "oui, mais je ne peux pas",
                        "peut-être",
                        "d'accord ? qui est-ce ?",
                        "Yeah, I'm driving, call someone else.",
                        "Sure, try somebody else"}) {
    EXPECT_NE(DecideAnswer(t).decision, DECISION_YES) << t;
  }
}

TEST(AnswerDeciderTest, DeferralIsNoAndNegationIsNo) {
  EXPECT_EQ(DecideAnswer("Ask Bob").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("call someone else").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("I'm driving, call Bob").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("Ask Bob").reason, "deferral");
  EXPECT_EQ(DecideAnswer("I can\u2019t").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("Not tonight.").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("No way!").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("Je ne peux pas").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("Non.").decision, DECISION_NO);
  // "call me back" names nobody: a refusal by its time word, not a deferral.
  EXPECT_EQ(DecideAnswer("call me back tomorrow").reason, "refusal");
}

TEST(AnswerDeciderTest, HedgesAndQuestionsAreUnclear) {
  EXPECT_EQ(DecideAnswer("maybe").reason, "hedge");
  EXPECT_EQ(DecideAnswer("I'm not sure").reason, "hedge");
  EXPECT_EQ(DecideAnswer("Yes? Who is this?").reason, "question");
  EXPECT_EQ(DecideAnswer("yes who is this").reason, "question");  // no punctuation
  EXPECT_EQ(DecideAnswer("Sure, I can't.").reason, "mixed");
}

TEST(AnswerDeciderTest, YesInEveryFormAndLanguage) {
  for (const char* t :
       {"YES", "Yes.", "yeah sure", "Of course, I'm on my way.", "No problem!",
        "No worries, I\u2019ve got it", "Oui", "OUI, J\u2019ARRIVE", "D\u2019accord", "Bien sûr",
        "Pas de problème", "oui je m'en occupe", "Yes, in ten minutes.", "Affirmative"}) {
    EXPECT_EQ(DecideAnswer(t).decision, DECISION_YES) << t;
  }
}

TEST(AnswerDeciderTest, LowConfidenceYesIsUnclearSoTheQuestionIsAskedAgain) {
  AnswerDecision low = DecideAnswer("yes I can come", kMinYesConfidence - 0.01);
  EXPECT_EQ(low.decision, DECISION_UNCLEAR);
  EXPECT_EQ(low.reason, "low confidence");
  EXPECT_EQ(DecideAnswer("yes I can come", kMinYesConfidence).decision, DECISION_YES);
  // A refusal is believed whatever the confidence.
  EXPECT_EQ(DecideAnswer("no", 0.05).decision, DECISION_NO);
  EXPECT_THAT(DecideAnswer("").reason, HasSubstr("silence"));
}

}  // namespace
}  // namespace remediator::telephony
