#include "server/telephony/adapters/pocketsphinx_stt.h"

#include <pocketsphinx.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "server/common/file_util.h"
#include "server/common/status_macros.h"
#include "server/telephony/core/answer_decider.h"

namespace remediator::telephony {
namespace {

// French answer words spelled without apostrophes or accents, with English phones.
const std::map<std::string, std::vector<std::string>>& FrenchPronunciations() {
  static const auto* p = new std::map<std::string, std::vector<std::string>>{
      {"oui", {"W IY"}},
      {"non", {"N AO N", "N OW N", "N AO"}},
      {"jarrive", {"ZH AA R IY V", "ZH AH R IY V"}},
      {"daccord", {"D AA K AO R", "D AH K AO R"}},
      {"je", {"ZH AH"}},
      {"ne", {"N AH"}},
      {"peux", {"P ER", "P UH"}},
      {"pas", {"P AA"}},
      {"desole", {"D EY Z AO L EY"}},
      {"suis", {"S W IY"}},
      {"occupe", {"AO K UW P EY"}},
      {"viens", {"V Y AE N", "V Y EH N"}},
      {"biensur", {"B Y AE N S UW R", "B Y EH N S UW R"}},
      {"maintenant", {"M AE N T N AA N", "M EH N T AH N AA N"}},
  };
  return *p;
}

// Grammar tokens that stand for a French spelling in the transcript.
std::string ToDisplayWord(const std::string& token) {
  static const auto* map = new std::map<std::string, std::string>{{"jarrive", "j'arrive"},
                                                                  {"daccord", "d'accord"},
                                                                  {"desole", "désolé"},
                                                                  {"occupe", "occupé"},
                                                                  {"biensur", "bien sûr"}};
  auto it = map->find(token);
  return it == map->end() ? token : it->second;
}

// The verification grammar is a loop over "words" that are single phones.
constexpr char kPhonePrefix[] = "ph_";
const std::vector<std::string>& Phones() {
  static const auto* p = new std::vector<std::string>{
      "AA", "AE", "AH", "AO", "AW", "AY", "B",  "CH", "D", "DH", "EH", "ER", "EY",
      "F",  "G",  "HH", "IH", "IY", "JH", "K",  "L",  "M", "N",  "NG", "OW", "OY",
      "P",  "R",  "S",  "SH", "T",  "TH", "UH", "UW", "V", "W",  "Y",  "Z",  "ZH"};
  return *p;
}
// Utterance verification. The per-frame score by which the free phone loop beats the answer
// grammar (log base 1.0001 units per 10 ms frame) is small when the audio really is the
// grammar's answer and large when other speech was forced into the grammar. Measured on the
// espeak-ng grid (tests/server/telephony/speech_test.cc): true answers -12..+4, off-topic
// speech decoded as a yes-phrase mostly +3..+23. The match score is a logistic around kGapMid.
constexpr double kGapMid = 3.0;
constexpr double kGapWidth = 1.0;
constexpr double kMaxSecondsPerWord = 0.75;

}  // namespace

struct PocketsphinxStt::Decoder {
  cmd_ln_t* config = nullptr;
  ps_decoder_t* ps = nullptr;
  ~Decoder() {
    if (ps != nullptr) ps_free(ps);
    if (config != nullptr) cmd_ln_free_r(config);
  }
};

std::string PocketsphinxStt::GarbageGrammar() {
  std::string phones;
  for (const std::string& ph : Phones()) {
    absl::StrAppend(&phones, phones.empty() ? "" : " | ", kPhonePrefix, absl::AsciiStrToLower(ph));
  }
  return absl::StrCat(
      "#JSGF V1.0;\ngrammar garbage;\npublic <garbage> = <phone>+;\n<phone> = ", phones, ";\n");
}

std::string PocketsphinxStt::Grammar() {
  return std::string(R"(#JSGF V1.0;
grammar answers;
public <answer> = <yes> | <no> | <fryes> | <frno>;
<yes> = (yes | yeah | yep | sure | okay | ok | of course) [<yesmore>] | <yesmore>;
<yesmore> = i can [come | intervene | do it | handle it | help] | on my way | i will [come | handle it | do it] | i am on it | coming | i am coming;
<no> = (no | nope | sorry) [<nomore>] | <nomore>;
<nomore> = i can not | i cannot | not now | not today | i am busy | i am not available | i can not come;
<fryes> = oui [jarrive | je peux | daccord | je viens] | daccord | jarrive | biensur;
<frno> = non [je ne peux pas | desole | je suis occupe | pas maintenant] | desole | je ne peux pas | je suis occupe;
)");
}

PocketsphinxStt::PocketsphinxStt(std::unique_ptr<Decoder> decoder) : decoder_(std::move(decoder)) {}
PocketsphinxStt::~PocketsphinxStt() = default;

absl::StatusOr<std::unique_ptr<PocketsphinxStt>> PocketsphinxStt::Create(
    const std::string& model_dir, const std::string& work_dir) {
  const std::string hmm = model_dir + "/en-us/en-us";
  const std::string cmudict = model_dir + "/en-us/cmudict-en-us.dict";
  for (const std::string& p : {hmm, cmudict}) {
    if (!std::filesystem::exists(p)) {
      return absl::FailedPreconditionError(
          absl::StrCat("pocketsphinx model file ", p, " is missing (install pocketsphinx-en-us)"));
    }
  }
  RETURN_IF_ERROR(MakeDirectories(work_dir));
  // A dictionary of just the grammar's words: quicker to load than the whole cmudict, and the
  // place to add the French words.
  std::set<std::string> words;
  {
    std::string grammar = Grammar();
    for (absl::string_view line : absl::StrSplit(grammar, '\n')) {
      size_t eq = line.find('=');
      if (line.empty() || line[0] == '#' || eq == absl::string_view::npos) continue;
      std::string body(line.substr(eq + 1));
      for (char& c : body) {
        if (!absl::ascii_isalpha(static_cast<unsigned char>(c)) && c != '\'' && c != '_' &&
            c != '<' && c != '>') {
          c = ' ';
        }
      }
      for (absl::string_view w : absl::StrSplit(body, ' ', absl::SkipEmpty())) {
        if (w[0] != '<') words.insert(std::string(w));
      }
    }
  }
  ASSIGN_OR_RETURN(std::string dict_text, ReadFile(cmudict));
  std::ostringstream dict;
  std::set<std::string> found;
  for (absl::string_view line : absl::StrSplit(dict_text, '\n')) {
    size_t space = line.find(' ');
    if (space == absl::string_view::npos) continue;
    std::string head(line.substr(0, space));
    std::string base = head.substr(0, head.find('('));
    if (words.count(base) && !FrenchPronunciations().count(base)) {
      dict << line << "\n";
      found.insert(base);
    }
  }
  for (const auto& [word, prons] : FrenchPronunciations()) {
    for (size_t i = 0; i < prons.size(); ++i) {
      dict << word << (i == 0 ? "" : absl::StrCat("(", i + 1, ")")) << " " << prons[i] << "\n";
    }
    found.insert(word);
  }
  for (const std::string& ph : Phones()) {
    std::string w = absl::StrCat(kPhonePrefix, absl::AsciiStrToLower(ph));
    dict << w << " " << ph << "\n";
    found.insert(w);
  }
  for (const std::string& w : words) {
    if (!found.count(w)) {
      return absl::InternalError(absl::StrCat("grammar word \"", w, "\" has no pronunciation"));
    }
  }
  const std::string dict_path = work_dir + "/answers.dict";
  const std::string gram_path = work_dir + "/answers.gram";
  RETURN_IF_ERROR(WriteFileAtomically(dict_path, dict.str()));
  RETURN_IF_ERROR(WriteFileAtomically(gram_path, Grammar()));
  const std::string garbage_path = work_dir + "/garbage.gram";
  RETURN_IF_ERROR(WriteFileAtomically(garbage_path, GarbageGrammar()));

  auto decoder = std::make_unique<Decoder>();
  decoder->config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", hmm.c_str(), "-dict",
                                dict_path.c_str(), "-logfn", "/dev/null", nullptr);
  if (decoder->config == nullptr) {
    return absl::InternalError("pocketsphinx rejected its configuration");
  }
  decoder->ps = ps_init(decoder->config);
  if (decoder->ps == nullptr) {
    return absl::InternalError(
        absl::StrCat("pocketsphinx failed to load the model from ", model_dir));
  }
  if (ps_set_jsgf_file(decoder->ps, "answers", gram_path.c_str()) != 0) {
    return absl::InternalError("pocketsphinx rejected the answer grammar");
  }
  if (ps_set_jsgf_file(decoder->ps, "garbage", garbage_path.c_str()) != 0) {
    return absl::InternalError("pocketsphinx rejected the phone-loop grammar");
  }
  if (ps_set_search(decoder->ps, "answers") != 0) {
    return absl::InternalError("pocketsphinx cannot select the answer grammar");
  }
  return std::unique_ptr<PocketsphinxStt>(new PocketsphinxStt(std::move(decoder)));
}

absl::StatusOr<SttResult> PocketsphinxStt::Transcribe(const Audio& audio,
                                                      const std::string& /*language*/) {
  if (audio.sample_rate <= 0) return absl::InvalidArgumentError("audio has no sample rate");
  SttResult result;
  Audio speech = TrimSilence(audio);
  if (speech.samples.size() < static_cast<size_t>(speech.sample_rate) / 10) return result;
  speech = Resample(speech, 16000);
  std::string hyp;
  int32 answer_score = 0, garbage_score = 0;

  int frames = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ps_decoder_t* ps = decoder_->ps;
    auto decode = [&](const char* search, int32* score) -> absl::StatusOr<std::string> {
      if (ps_set_search(ps, search) != 0) {
        return absl::InternalError(absl::StrCat("pocketsphinx has no search ", search));
      }
      if (ps_start_utt(ps) < 0) return absl::InternalError("pocketsphinx could not start");
      if (ps_process_raw(ps, speech.samples.data(), speech.samples.size(), FALSE, TRUE) < 0) {
        ps_end_utt(ps);
        return absl::InternalError("pocketsphinx failed to decode the audio");
      }
      ps_end_utt(ps);
      frames = ps_get_n_frames(ps);
      const char* text = ps_get_hyp(ps, score);
      return std::string(text != nullptr ? text : "");
    };
    ASSIGN_OR_RETURN(hyp, decode("answers", &answer_score));
    // Only a yes needs verifying (a misheard no costs little); this halves the cost of the rest.
    if (!hyp.empty() && DecideAnswer(hyp).decision == ::telephony::v1::DECISION_YES) {
      ASSIGN_OR_RETURN(std::string garbage, decode("garbage", &garbage_score));
      (void)garbage;
    }
  }
  double gap = frames > 0 ? double(garbage_score - answer_score) / frames : 0;
  // Duration check: the loud part of the answer (within 20 dB of its peak, so that line noise
  // is not counted) per recognized word. A sentence forced into a one-word "ok" or "oui" takes
  // far longer than that word does; spoken answers stay under ~0.6 s per word.
  const size_t n_words =
      std::vector<std::string>(absl::StrSplit(hyp, ' ', absl::SkipEmpty())).size();
  const double seconds_per_word =
      n_words == 0
          ? 0
          : absl::ToDoubleSeconds(TrimSilence(audio, 20, absl::ZeroDuration()).duration()) /
                static_cast<double>(n_words);
  std::vector<std::string> words;
  for (absl::string_view w : absl::StrSplit(hyp, ' ', absl::SkipEmpty())) {
    words.push_back(ToDisplayWord(std::string(w)));
  }
  result.transcript = absl::StrJoin(words, " ");
  result.match_score =
      result.transcript.empty() ? 0.0 : 1.0 / (1.0 + std::exp((gap - kGapMid) / kGapWidth));
  if (seconds_per_word > kMaxSecondsPerWord) result.match_score = 0.0;
  return result;
}

}  // namespace remediator::telephony
