#include "server/telephony/core/phrasings.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace remediator::telephony {
namespace {

constexpr auto kYes = ::telephony::v1::DECISION_YES;
constexpr auto kNo = ::telephony::v1::DECISION_NO;
constexpr auto kUnclear = ::telephony::v1::DECISION_UNCLEAR;

// Latin-1 supplement letters (U+00C0..U+00FF, the second byte of C3 xx) folded to ASCII.
char FoldLatin1(unsigned char second) {
  static const char kMap[] =  // C3 80 .. C3 BF
      "aaaaaaaceeeeiiiidnooooo*ouuuuyts"
      "aaaaaaaceeeeiiiidnooooo/ouuuuyty";
  if (second < 0x80 || second > 0xBF) return 0;
  return kMap[second - 0x80];
}

std::vector<std::vector<std::string>> Split(std::initializer_list<const char*> phrases) {
  std::vector<std::vector<std::string>> out;
  for (const char* p : phrases) out.push_back(FoldAnswerWords(p));
  return out;
}

}  // namespace

std::vector<std::string> FoldAnswerWords(const std::string& text, bool* question_mark) {
  std::string cleaned;
  bool question = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const unsigned char next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    const unsigned char third = i + 2 < text.size() ? static_cast<unsigned char>(text[i + 2]) : 0;
    if (c < 0x80) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'') {
        cleaned.push_back(static_cast<char>(c));
      } else if (c >= 'A' && c <= 'Z') {
        cleaned.push_back(static_cast<char>(c - 'A' + 'a'));
      } else if (c == '`') {
        cleaned.push_back('\'');
      } else {
        if (c == '?') question = true;
        cleaned.push_back(' ');
      }
    } else if (c == 0xC3 && FoldLatin1(next) != 0) {  // À..ÿ
      const char folded = FoldLatin1(next);
      cleaned.push_back(folded == '*' || folded == '/' ? ' ' : folded);
      ++i;
    } else if (c == 0xC5 && (next == 0x92 || next == 0x93)) {  // Œ œ
      cleaned += "oe";
      ++i;
    } else if ((c == 0xC2 && next == 0xB4) || (c == 0xCA && next == 0xBC)) {  // ´ ʼ
      cleaned.push_back('\'');
      ++i;
    } else if (c == 0xE2 && next == 0x80 && (third == 0x98 || third == 0x99)) {  // ‘ ’
      cleaned.push_back('\'');
      i += 2;
    } else if (c == 0xEF && next == 0xBC && third == 0x9F) {  // ？
      question = true;
      cleaned.push_back(' ');
      i += 2;
    } else if (c == 0xE2 && next == 0x80) {  // other punctuation: dashes, ellipsis, quotes
      cleaned.push_back(' ');
      i += 2;
    } else {
      cleaned.push_back(static_cast<char>(c));  // other letters are kept as they are
    }
  }
  if (question_mark != nullptr) *question_mark = question;
  std::vector<std::string> words;
  for (absl::string_view w : absl::StrSplit(cleaned, ' ', absl::SkipEmpty())) {
    // Quotes around a word are not apostrophes inside it.
    while (!w.empty() && w.front() == '\'') w.remove_prefix(1);
    while (!w.empty() && w.back() == '\'') w.remove_suffix(1);
    if (w.empty()) continue;
    static const auto* kSpellings = new std::map<std::string, std::string>{
        {"cant", "can't"}, {"dont", "don't"}, {"im", "i'm"},    {"wont", "won't"},
        {"ive", "i've"},   {"okey", "okay"},  {"k", "okay"},    {"yeh", "yeah"},
        {"ya", "yeah"},    {"nope", "nope"},  {"ouais", "oui"}, {"allright", "alright"}};
    auto it = kSpellings->find(std::string(w));
    words.push_back(it == kSpellings->end() ? std::string(w) : it->second);
  }
  return words;
}

// Everyday answers to "can you intervene?". Each one is a grammar alternative for pocketsphinx
// and a test case of the decider; the kinds are listed in README.md.
const std::vector<Phrasing>& Phrasings() {
  static const auto* p = new std::vector<Phrasing>{
      // Plain and formal yes.
      {"Yes.", kYes, "en", "plain yes"},
      {"Yeah.", kYes, "en", "plain yes"},
      {"Yep.", kYes, "en", "plain yes"},
      {"Yup.", kYes, "en", "plain yes"},
      {"Sure.", kYes, "en", "plain yes"},
      {"Okay.", kYes, "en", "plain yes"},
      {"Of course.", kYes, "en", "plain yes"},
      {"Absolutely.", kYes, "en", "formal yes"},
      {"Certainly.", kYes, "en", "formal yes"},
      {"Definitely.", kYes, "en", "formal yes"},
      {"Affirmative.", kYes, "en", "formal yes"},
      {"Yes, please.", kYes, "en", "plain yes"},
      {"Sure thing.", kYes, "en", "casual yes"},
      {"Will do.", kYes, "en", "casual yes"},
      {"Alright, I'm on it.", kYes, "en", "casual yes"},
      {"Count me in.", kYes, "en", "casual yes"},
      {"OK, I'll be there.", kYes, "en", "casual yes"},
      {"I am coming now.", kYes, "en", "commitment"},
      // Yes with a commitment.
      {"Yes, I can come.", kYes, "en", "yes with commitment"},
      {"Yes, I can intervene.", kYes, "en", "yes with commitment"},
      {"Yeah, I'll handle it.", kYes, "en", "yes with commitment"},
      {"Sure, on my way.", kYes, "en", "yes with commitment"},
      {"Okay, I will handle it.", kYes, "en", "yes with commitment"},
      {"Yes, I'm coming.", kYes, "en", "yes with commitment"},
      {"I'm on my way.", kYes, "en", "commitment"},
      {"I can do it.", kYes, "en", "commitment"},
      {"I'll take it.", kYes, "en", "commitment"},
      {"I've got it.", kYes, "en", "commitment"},
      {"Yes, I am available.", kYes, "en", "formal yes"},
      {"Yes, I will take care of it right away.", kYes, "en", "formal yes, long"},
      {"No problem, I'll take care of it.", kYes, "en", "yes despite a negation word"},
      {"No worries, I've got it.", kYes, "en", "yes despite a negation word"},
      {"Not a problem.", kYes, "en", "yes despite a negation word"},
      // Yes with a delay.
      {"Yes, give me ten minutes.", kYes, "en", "yes with a delay"},
      {"Yeah, I can be there in ten minutes.", kYes, "en", "yes with a delay"},
      {"Sure, in five minutes.", kYes, "en", "yes with a delay"},
      {"Okay, I'll be there in half an hour.", kYes, "en", "yes with a delay"},
      // Plain no and refusals.
      {"No.", kNo, "en", "plain no"},
      {"Nope.", kNo, "en", "plain no"},
      {"Nah.", kNo, "en", "plain no"},
      {"Negative.", kNo, "en", "formal no"},
      {"No way.", kNo, "en", "plain no"},
      {"No, sorry.", kNo, "en", "plain no"},
      {"No, I can't.", kNo, "en", "refusal"},
      {"I can't.", kNo, "en", "refusal"},
      {"I cannot.", kNo, "en", "refusal"},
      {"Sorry, I can't come.", kNo, "en", "refusal"},
      {"I'm busy.", kNo, "en", "refusal"},
      {"I am not available.", kNo, "en", "formal refusal"},
      {"I won't be able to.", kNo, "en", "refusal"},
      {"Unfortunately not.", kNo, "en", "formal refusal"},
      {"I'd rather not.", kNo, "en", "refusal"},
      {"I don't think so.", kNo, "en", "refusal"},
      {"Not tonight.", kNo, "en", "refusal with a time"},
      {"Not now.", kNo, "en", "refusal with a time"},
      {"Not today, sorry.", kNo, "en", "refusal with a time"},
      {"No, I'm on vacation.", kNo, "en", "refusal with a reason"},
      {"Sorry, I'm sick.", kNo, "en", "refusal with a reason"},
      {"Sorry, I'm unable to.", kNo, "en", "formal refusal"},
      {"No, never.", kNo, "en", "refusal"},
      {"I'm unavailable tonight.", kNo, "en", "refusal with a time"},
      {"Call me back tomorrow.", kNo, "en", "delay past the incident"},
      {"No, not for another hour.", kNo, "en", "delay past the incident"},
      // Refusals that name someone else.
      {"Ask Bob.", kNo, "en", "deferral"},
      {"Ask someone else.", kNo, "en", "deferral"},
      {"Call someone else.", kNo, "en", "deferral"},
      {"I'm driving, call Bob.", kNo, "en", "deferral"},
      {"Please call Alice instead.", kNo, "en", "deferral"},
      {"Not me, ask Alice.", kNo, "en", "deferral"},
      {"Sorry, try somebody else.", kNo, "en", "deferral"},
      {"Can't you ask anyone else?", kNo, "en", "deferral"},
      // Hedges and questions: neither yes nor no, asked again.
      {"Maybe.", kUnclear, "en", "hedge"},
      {"Perhaps.", kUnclear, "en", "hedge"},
      {"Maybe later.", kUnclear, "en", "hedge"},
      {"I'm not sure.", kUnclear, "en", "hedge"},
      {"I don't know.", kUnclear, "en", "hedge"},
      {"Let me check.", kUnclear, "en", "hedge"},
      {"I'll try.", kUnclear, "en", "hedge"},
      {"Probably.", kUnclear, "en", "hedge"},
      {"Possibly.", kUnclear, "en", "hedge"},
      {"I might be able to.", kUnclear, "en", "hedge"},
      {"Dunno.", kUnclear, "en", "hedge"},
      {"I guess so.", kUnclear, "en", "hedge"},
      {"Let me see.", kUnclear, "en", "hedge"},
      {"I will try.", kUnclear, "en", "hedge"},
      {"It depends.", kUnclear, "en", "hedge"},
      {"Yes? Who is this?", kUnclear, "en", "question"},
      {"Who is this?", kUnclear, "en", "question"},
      {"What?", kUnclear, "en", "question"},
      {"Hello?", kUnclear, "en", "question"},
      {"Sorry, what did you say?", kUnclear, "en", "question"},
      {"Can you repeat that?", kUnclear, "en", "question"},
      {"Why me?", kUnclear, "en", "question"},
      {"Where are you calling from?", kUnclear, "en", "question"},
      {"Which service?", kUnclear, "en", "question"},
      {"How bad is it?", kUnclear, "en", "question"},
      {"Pardon?", kUnclear, "en", "question"},
      {"Come again?", kUnclear, "en", "question"},
      {"Say again?", kUnclear, "en", "question"},
      // French.
      {"Oui.", kYes, "fr", "plain yes"},
      {"Oui, j'arrive.", kYes, "fr", "yes with commitment"},
      {"D'accord.", kYes, "fr", "plain yes"},
      {"Bien sûr.", kYes, "fr", "plain yes"},
      {"Oui, je m'en occupe.", kYes, "fr", "yes with commitment"},
      {"Pas de problème.", kYes, "fr", "yes despite a negation word"},
      {"Non.", kNo, "fr", "plain no"},
      {"Non, je ne peux pas.", kNo, "fr", "refusal"},
      {"Je ne peux pas.", kNo, "fr", "refusal"},
      {"Désolé, je suis occupé.", kNo, "fr", "refusal with a reason"},
      {"Pas ce soir.", kNo, "fr", "refusal with a time"},
      {"Appelez quelqu'un d'autre.", kNo, "fr", "deferral"},
      {"Impossible, désolé.", kNo, "fr", "refusal"},
      {"Peut-être.", kUnclear, "fr", "hedge"},
      {"Je ne sais pas.", kUnclear, "fr", "hedge"},
      {"Qui est-ce ?", kUnclear, "fr", "question"},
      {"Allô ?", kUnclear, "fr", "question"},
      {"Quoi ?", kUnclear, "fr", "question"},
  };
  return *p;
}

const CueLexicon& Cues() {
  static const auto* lexicon = new CueLexicon{
      .yes = Split({"yes",
                    "yeah",
                    "yep",
                    "yup",
                    "sure",
                    "okay",
                    "ok",
                    "alright",
                    "of course",
                    "absolutely",
                    "certainly",
                    "definitely",
                    "affirmative",
                    "will do",
                    "count me in",
                    "i can come",
                    "i can intervene",
                    "i can do it",
                    "i can be there",
                    "i'll handle it",
                    "i will handle it",
                    "i'll take it",
                    "i'll take care",
                    "i will take care",
                    "i'll be there",
                    "i'm coming",
                    "i am coming",
                    "on my way",
                    "i'm on it",
                    "i've got it",
                    "i am available",
                    "oui",
                    "d'accord",
                    "bien sur",
                    "j'arrive",
                    "je m'en occupe"}),
      .yes_despite_negation =
          Split({"no problem", "no worries", "not a problem", "pas de probleme", "je m'en occupe"}),
      .no = Split({"no",         "nope",     "nah",         "negative", "not",
                   "can't",      "cannot",   "won't",       "don't",    "unable",
                   "never",      "busy",     "unavailable", "sorry",    "unfortunately",
                   "rather not", "tomorrow", "vacation",    "sick",     "non",
                   "pas",        "ne",       "desole",      "occupe",   "impossible"}),
      .hedge = Split({"maybe", "perhaps", "probably", "possibly", "might", "not sure", "don't know",
                      "dunno", "i guess", "let me check", "let me see", "i'll try", "i will try",
                      "depends", "peut etre", "sais pas"}),
      .question = Split({"who", "what", "why", "where", "which", "how", "hello", "pardon", "repeat",
                         "come again", "say again", "qui", "quoi", "allo", "est ce"}),
      .deferral = Split({"ask", "someone else", "somebody else", "anyone else", "instead", "not me",
                         "appelez", "quelqu'un d'autre"}),
      .call_objects_not_deferral = {"me", "you", "back", "it", "later", "again"},
  };
  return *lexicon;
}

namespace {

// Grammar tokens of one phrasing: folded words; French words lose apostrophes (cmudict has no
// entry for them; the French pronunciations are keyed without them).
std::vector<std::string> GrammarTokens(const Phrasing& p) {
  std::vector<std::string> tokens = FoldAnswerWords(p.text);
  if (p.language != "en") {
    for (std::string& t : tokens) std::erase(t, '\'');
  }
  return tokens;
}

}  // namespace

const std::map<std::string, std::string>& GrammarTokenSpellings() {
  static const auto* map = [] {
    auto* m = new std::map<std::string, std::string>;
    for (const Phrasing& p : Phrasings()) {
      if (p.language == "en") continue;
      for (const std::string& w : FoldAnswerWords(p.text)) {
        std::string token = w;
        std::erase(token, '\'');
        if (token != w) (*m)[token] = w;
      }
    }
    return m;
  }();
  return *map;
}

std::string AnswerGrammar(const std::string& language) {
  std::vector<std::string> alternatives;
  std::set<std::string> seen;
  for (const Phrasing& p : Phrasings()) {
    if (p.language != language) continue;
    std::string alt = absl::StrJoin(GrammarTokens(p), " ");
    if (seen.insert(alt).second) alternatives.push_back(alt);
  }
  return absl::StrCat("#JSGF V1.0;\ngrammar answers;\npublic <answer> =\n    ",
                      absl::StrJoin(alternatives, "\n  | "), ";\n");
}

std::vector<std::string> GrammarWords() {
  std::set<std::string> words;
  for (const Phrasing& p : Phrasings()) {
    for (std::string& t : GrammarTokens(p)) words.insert(std::move(t));
  }
  return {words.begin(), words.end()};
}

}  // namespace remediator::telephony
