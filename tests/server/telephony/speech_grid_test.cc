// The answer grid of issue 12: every English phrasing of core/phrasings.h plus unclear answers
// (silence, line noise, off-topic speech), spoken by 8 espeak-ng voices (English variants, and
// German, Spanish and French voices reading English as accented speakers) at 2 speeds, over the
// phone channel (8 kHz, G.711 mu-law, 3 noise levels), endpointed and decided exactly as a call
// does (AnswerListener fed 20 ms at a time, decoding in the same thread), with pocketsphinx.
// One ctest case per voice (a few minutes in all on 2 cores).
//
// An answer decided UNCLEAR is asked again, as a call does (the same words, fresh line noise).
// Asserted: no false yes anywhere; per voice, the share of clear answers (yes and no phrasings)
// decided right. Each case prints its table and appends its rows to
// $TELEPHONY_GRID_DIR/<voice>.tsv (default /tmp/telephony-grid) for the README's figures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/telephony/adapters/espeak_tts.h"
#include "server/telephony/adapters/pocketsphinx_stt.h"
#include "server/telephony/core/answer_listener.h"
#include "server/telephony/core/phrasings.h"
#include "tests/server/telephony/phone_channel.h"
#include "tests/server/telephony/test_util.h"
#include "tests/testing/status_matchers.h"

#ifndef POCKETSPHINX_MODELDIR
#define POCKETSPHINX_MODELDIR "/usr/share/pocketsphinx/model"
#endif

namespace remediator::telephony {
namespace {

using ::remediator::testing::IsOk;
using ::telephony::v1::DECISION_NO;
using ::telephony::v1::DECISION_UNCLEAR;
using ::telephony::v1::DECISION_YES;

struct Answer {
  std::string text;  // empty: no speech (silence or noise only)
  Decision want;
  std::string kind;
};

// The English phrasings and the unclear extras.
std::vector<Answer> Answers() {
  std::vector<Answer> out;
  for (const Phrasing& p : Phrasings()) {
    if (p.language == "en") out.push_back({p.text, p.decision, p.kind});
  }
  out.push_back({"The weather is nice today.", DECISION_UNCLEAR, "off-topic"});
  out.push_back({"What is going on?", DECISION_UNCLEAR, "off-topic"});
  out.push_back({"I am in a meeting with my team right now.", DECISION_UNCLEAR, "off-topic"});
  out.push_back({"", DECISION_UNCLEAR, "silence"});
  return out;
}

constexpr double kNoiseRms[] = {0, 150, 500};  // none, faint hiss (-47 dBFS), loud (-36 dBFS)
constexpr int kSpeeds[] = {140, 200};

struct Outcome {
  Decision first = DECISION_UNCLEAR;  // first attempt
  Decision final = DECISION_UNCLEAR;  // after the re-ask
  std::string heard;
};

class SpeechGridTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto stt = PocketsphinxStt::Create(POCKETSPHINX_MODELDIR, dir_->path() + "/ps");
    ASSERT_THAT(stt, IsOk());
    stt_ = stt->release();
  }
  static void TearDownTestSuite() {
    delete stt_;
    delete dir_;
  }

  // What a call decides for one rendition on the line: the answer ends where the endpointer
  // stops listening; the decoder gets the speech up to `tail` after its last frame.
  Decision Decide(const Audio& line, std::string* heard) {
    EndpointOptions endpoint;
    endpoint.synchronous = true;
    AnswerListener listener(stt_, "en", endpoint);
    Audio so_far{8000, {}};
    for (size_t at = 0; at < line.samples.size(); at += 160) {  // 20 ms, as the SIP dialer
      const size_t end = std::min(line.samples.size(), at + 160);
      so_far.samples.insert(so_far.samples.end(), line.samples.begin() + static_cast<long>(at),
                            line.samples.begin() + static_cast<long>(end));
      if (listener.OnAudio(so_far)) break;
    }
    auto h = listener.Finish(so_far);
    EXPECT_THAT(h, IsOk());
    if (!h.ok()) return DECISION_UNCLEAR;
    *heard = h->transcript;
    return h->decision.decision;
  }

  static TempDir* dir_;
  static PocketsphinxStt* stt_;
  EspeakTts tts_;
};

TempDir* SpeechGridTest::dir_ = nullptr;
PocketsphinxStt* SpeechGridTest::stt_ = nullptr;

TEST_P(SpeechGridTest, NoFalseYesAndClearAnswersDecidedRight) {
  const std::string voice = GetParam();
  const std::vector<Answer> answers = Answers();
  int total = 0, false_yes = 0, clear = 0, clear_right = 0, clear_right_first = 0;
  int unclear_total = 0, unclear_kept = 0;
  std::map<std::string, std::pair<int, int>> per_phrase;  // right, total
  std::vector<std::string> rows;
  uint32_t seed = std::hash<std::string>{}(voice)&0xffff;
  // Each (speed, noise) cell takes every `stride`-th answer, shifted per cell and voice, so that
  // every answer is heard in several cells of every voice; TELEPHONY_GRID_STRIDE=1 runs all.
  const char* stride_env = std::getenv("TELEPHONY_GRID_STRIDE");
  const size_t stride = stride_env != nullptr ? std::max(1, std::atoi(stride_env)) : 3;
  size_t cell = std::hash<std::string>{}(voice) % stride;
  for (int wpm : kSpeeds) {
    for (double noise : kNoiseRms) {
      ++cell;
      for (size_t i = 0; i < answers.size(); ++i) {
        const Answer& a = answers[i];
        if ((i + cell) % stride != 0 && !a.text.empty()) continue;
        Audio speech{22050, {}};
        if (!a.text.empty()) {
          TtsRequest r;
          r.text = a.text;
          r.voice = voice;
          r.words_per_minute = wpm;
          r.language = "en";
          auto audio = tts_.Synthesize(r);
          ASSERT_THAT(audio, IsOk()) << voice;
          speech = *audio;
        }
        Outcome o;
        o.first = Decide(PhoneLine(speech, noise, ++seed), &o.heard);
        o.final = o.first;
        if (o.final == DECISION_UNCLEAR && !a.text.empty()) {
          std::string again;
          o.final = Decide(PhoneLine(speech, noise, ++seed), &again);
          o.heard += " | " + again;
        }
        ++total;
        const bool is_false_yes =
            a.want != DECISION_YES && (o.first == DECISION_YES || o.final == DECISION_YES);
        if (is_false_yes) {
          ++false_yes;
          ADD_FAILURE() << "false yes: \"" << a.text << "\" voice " << voice << " " << wpm
                        << " wpm noise " << noise << " heard \"" << o.heard << "\"";
        }
        // Unclear answers must not become yes; NO is acceptable for them (nobody comes).
        const bool right = a.want == DECISION_UNCLEAR ? o.final != DECISION_YES : o.final == a.want;
        if (a.want == DECISION_UNCLEAR) {
          ++unclear_total;
          unclear_kept += o.final == DECISION_UNCLEAR ? 1 : 0;
        } else {
          ++clear;
          clear_right += right ? 1 : 0;
          clear_right_first += o.first == a.want ? 1 : 0;
        }
        auto& pp = per_phrase[a.text.empty() ? "(silence)" : a.text];
        pp.first += right ? 1 : 0;
        ++pp.second;
        rows.push_back(absl::StrFormat("%s\t%d\t%g\t%s\t%s\t%s\t%s\t%s\t%s", voice, wpm, noise,
                                       a.kind, a.text, ::telephony::v1::Decision_Name(a.want),
                                       ::telephony::v1::Decision_Name(o.first),
                                       ::telephony::v1::Decision_Name(o.final), o.heard));
        if (!right) {
          std::printf("miss: %-9s %3d wpm noise %3.0f  %-40s -> %s  heard \"%s\"\n", voice.c_str(),
                      wpm, noise, a.text.c_str(), ::telephony::v1::Decision_Name(o.final).c_str(),
                      o.heard.c_str());
        }
      }
    }
  }
  std::printf(
      "voice %s: %d answers, false yes %d, clear answers right %d/%d (%.1f%%; first attempt "
      "%.1f%%), unclear kept unclear %d/%d\n",
      voice.c_str(), total, false_yes, clear_right, clear, 100.0 * clear_right / clear,
      100.0 * clear_right_first / clear, unclear_kept, unclear_total);
  const char* env = std::getenv("TELEPHONY_GRID_DIR");
  const std::string out_dir = env != nullptr ? env : "/tmp/telephony-grid";
  std::filesystem::create_directories(out_dir);
  std::ofstream out(out_dir + "/" + voice + ".tsv", std::ios::trunc);
  for (const std::string& row : rows) out << row << "\n";
  RecordProperty("clear_right_percent", absl::StrFormat("%.1f", 100.0 * clear_right / clear));
  EXPECT_EQ(false_yes, 0);
  // Issue 12 aims at 95 %; this floor catches regressions from what is measured (README).
  EXPECT_GE(clear_right * 100, clear * 40) << "voice " << voice;
}

// English variants, then other languages' voices reading English (accented speakers).
INSTANTIATE_TEST_SUITE_P(Voices, SpeechGridTest,
                         ::testing::Values("en-us", "en", "en-gb-scotland", "en-029", "en-us-nyc",
                                           "en-us+f3", "de", "es"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-' || c == '+') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace remediator::telephony
