// Pure core logic: numbers, the answer decision, the speech templates, audio helpers, and the
// baresip control framing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>

#include "absl/strings/match.h"
#include "server/telephony/adapters/baresip_ctrl.h"
#include "server/telephony/core/answer_decider.h"
#include "server/telephony/core/audio.h"
#include "server/telephony/core/number.h"
#include "server/telephony/core/speech_drafter.h"
#include "tests/testing/status_matchers.h"

namespace remediator::telephony {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::telephony::v1::DECISION_NO;
using ::telephony::v1::DECISION_UNCLEAR;
using ::telephony::v1::DECISION_YES;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(NumberTest, AcceptsE164AndSipUris) {
  EXPECT_THAT(ValidateNumber("+33612345678"), IsOk());
  EXPECT_THAT(ValidateNumber("+15551230001"), IsOk());
  EXPECT_THAT(ValidateNumber("sip:oncall@127.0.0.1:5070"), IsOk());
  EXPECT_THAT(ValidateNumber("sips:oncall@example.com;transport=tls"), IsOk());
}

TEST(NumberTest, RejectsEverythingElseWithAClearMessage) {
  EXPECT_THAT(ValidateNumber(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(ValidateNumber("0612345678"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("neither E.164 nor")));
  EXPECT_THAT(ValidateNumber("+33 6 12 34 56 78"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not E.164")));
  EXPECT_THAT(ValidateNumber("+0123456789"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateNumber("+1234"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateNumber("sip:"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateNumber("sip:a b@host"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateNumber("sip:@host"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateNumber("tel:+33612345678"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AnswerDeciderTest, YesNeedsAnExplicitYesWord) {
  EXPECT_EQ(DecideAnswer("yes i can come").decision, DECISION_YES);
  EXPECT_EQ(DecideAnswer("Yeah, on my way!").decision, DECISION_YES);
  EXPECT_EQ(DecideAnswer("okay i will handle it").decision, DECISION_YES);
  EXPECT_EQ(DecideAnswer("oui j'arrive").decision, DECISION_YES);
  EXPECT_EQ(DecideAnswer("d'accord").decision, DECISION_YES);
  // Without a yes-word it is not a yes.
  EXPECT_EQ(DecideAnswer("i can come").decision, DECISION_UNCLEAR);
  EXPECT_EQ(DecideAnswer("coming").decision, DECISION_UNCLEAR);
  EXPECT_EQ(DecideAnswer("i will do it").decision, DECISION_UNCLEAR);
}

TEST(AnswerDeciderTest, RefusalsAreNo) {
  EXPECT_EQ(DecideAnswer("no").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("no i cannot").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("i can not").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("I am busy").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("sorry not now").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("non je ne peux pas").decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("désolé").decision, DECISION_NO);
}

TEST(AnswerDeciderTest, AnythingElseIsUnclearNeverYes) {
  EXPECT_EQ(DecideAnswer("").decision, DECISION_UNCLEAR);
  EXPECT_EQ(DecideAnswer("the weather is nice today").decision, DECISION_UNCLEAR);
  // Both a yes and a refusal: ask again rather than guess.
  EXPECT_EQ(DecideAnswer("yes but i am busy").decision, DECISION_UNCLEAR);
  EXPECT_EQ(DecideAnswer("yes no").decision, DECISION_UNCLEAR);
  // "yesterday", "nobody", "okayish" are not answers.
  EXPECT_EQ(DecideAnswer("yesterday nobody").decision, DECISION_UNCLEAR);
}

TEST(AnswerDeciderTest, PoorAudioMatchBlocksYesButNotNo) {
  EXPECT_EQ(DecideAnswer("yes i can come", 0.2).decision, DECISION_UNCLEAR);
  EXPECT_EQ(DecideAnswer("yes i can come", 0.8).decision, DECISION_YES);
  EXPECT_NEAR(DecideAnswer("yes i can come", 0.8).confidence, 0.72, 1e-9);
  EXPECT_EQ(DecideAnswer("no", 0.1).decision, DECISION_NO);
  EXPECT_EQ(DecideAnswer("", 0).confidence, 1.0);
}

IncidentSummary FullIncident() {
  IncidentSummary i;
  i.set_incident_id("inc-7");
  i.set_cluster("prod-eu");
  i.set_namespace_("shop");
  i.set_workload_kind("Deployment");
  i.set_workload_name("nginx");
  i.set_container("web");
  i.set_error_class("oom_killed");
  i.set_summary("nginx was killed for using more memory than its limit");
  i.set_what_was_tried("raised the memory limit from 4Mi to 32Mi");
  i.set_why_it_failed("the pod was killed again within a minute");
  i.set_severity("critical");
  return i;
}

TEST(TemplateDrafterTest, EnglishExplainsAndEndsWithOneQuestion) {
  TemplateSpeechDrafter drafter;
  auto speech = drafter.Draft(FullIncident(), "en");
  ASSERT_THAT(speech, IsOk());
  EXPECT_EQ(speech->source, "template");
  EXPECT_THAT(speech->text, HasSubstr("deployment nginx, in namespace shop, on cluster prod-eu"));
  EXPECT_THAT(speech->text, HasSubstr("ran out of memory"));
  EXPECT_THAT(speech->text, HasSubstr("raised the memory limit from 4Mi to 32Mi"));
  EXPECT_THAT(speech->text, HasSubstr("inc-7"));
  EXPECT_TRUE(absl::EndsWith(speech->text, "Can you intervene? Please answer yes or no."));
  EXPECT_EQ(std::count(speech->text.begin(), speech->text.end(), '?'), 1);
  EXPECT_GE(speech->estimated_duration, absl::Seconds(20));
  EXPECT_LE(speech->estimated_duration, absl::Seconds(40));
}

TEST(TemplateDrafterTest, FrenchAndShortIncidentsStayAtLeastTwentySeconds) {
  TemplateSpeechDrafter drafter;
  IncidentSummary small;
  small.set_workload_name("api");
  auto fr = drafter.Draft(small, "fr-FR");
  ASSERT_THAT(fr, IsOk());
  EXPECT_THAT(fr->text, HasSubstr("L'application api"));
  EXPECT_TRUE(absl::EndsWith(fr->text, "Pouvez-vous intervenir ? Répondez par oui ou par non."));
  EXPECT_GE(fr->estimated_duration, absl::Seconds(18));
  auto en = drafter.Draft(small, "");
  ASSERT_THAT(en, IsOk());
  EXPECT_GE(en->estimated_duration, absl::Seconds(18));
}

TEST(TemplateDrafterTest, LongFieldsAreShortenedToStayUnderFortySeconds) {
  TemplateSpeechDrafter drafter;
  IncidentSummary i = FullIncident();
  std::string lots;
  for (int k = 0; k < 200; ++k) lots += "word ";
  i.set_summary(lots);
  i.set_what_was_tried(lots);
  i.set_why_it_failed(lots);
  auto speech = drafter.Draft(i, "en");
  ASSERT_THAT(speech, IsOk());
  EXPECT_LE(speech->estimated_duration, absl::Seconds(40));
}

TEST(TemplateDrafterTest, SecretsAndUrlsAreNeverSpoken) {
  TemplateSpeechDrafter drafter;
  IncidentSummary i = FullIncident();
  i.set_summary("cannot reach postgres://admin:hunter2@db.internal:5432/shop");
  i.set_what_was_tried("restarted with password=s3cr3tvalue and Authorization: Bearer abc.def.ghi");
  i.set_why_it_failed("see https://grafana.example.com/d/xyz?token=supersecret");
  auto speech = drafter.Draft(i, "en");
  ASSERT_THAT(speech, IsOk());
  for (const char* secret : {"hunter2", "s3cr3tvalue", "abc.def.ghi", "supersecret", "://",
                             "grafana.example.com", "[REDACTED]"}) {
    EXPECT_THAT(speech->text, Not(HasSubstr(secret)));
  }
  EXPECT_THAT(speech->text, HasSubstr("a link"));
}

TEST(TemplateDrafterTest, RejectsEmptyIncidentsAndUnknownLanguages) {
  TemplateSpeechDrafter drafter;
  EXPECT_THAT(
      drafter.Draft(IncidentSummary(), "en"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("workload_name or a summary")));
  EXPECT_THAT(drafter.Draft(FullIncident(), "de"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"de\"")));
}

Audio Tone(int rate, double seconds, double freq, double amplitude) {
  Audio a{rate, {}};
  for (int i = 0; i < static_cast<int>(rate * seconds); ++i) {
    a.samples.push_back(static_cast<int16_t>(amplitude * std::sin(2 * M_PI * freq * i / rate)));
  }
  return a;
}

double Rms(const Audio& a) {
  double s = 0;
  for (int16_t x : a.samples) s += double(x) * x;
  return a.samples.empty() ? 0 : std::sqrt(s / a.samples.size());
}

TEST(AudioTest, WavRoundTripAndClampedRecording) {
  Audio a = Tone(8000, 0.5, 440, 10000);
  std::string wav = EncodeWav(a);
  auto back = DecodeWav(wav);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->sample_rate, 8000);
  EXPECT_EQ(back->samples, a.samples);
  // A recorder's header with data size 0 (not yet updated): everything present is read.
  std::string growing = wav;
  for (int i = 40; i < 44; ++i) growing[i] = 0;
  auto partial = DecodeWav(growing);
  ASSERT_THAT(partial, IsOk());
  EXPECT_EQ(partial->samples.size(), a.samples.size());
  EXPECT_THAT(DecodeWav("not a wav"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AudioTest, ResampleKeepsInBandToneAndRemovesAliases) {
  Audio a = Tone(22050, 1.0, 440, 10000);
  Audio b = Resample(a, 8000);
  EXPECT_EQ(b.sample_rate, 8000);
  EXPECT_NEAR(b.samples.size(), 8000, 2);
  EXPECT_NEAR(Rms(b), Rms(a), Rms(a) * 0.05);
  // 6 kHz is above the 4 kHz Nyquist of 8 kHz: filtered out, not folded to 2 kHz.
  Audio high = Resample(Tone(22050, 1.0, 6000, 10000), 8000);
  EXPECT_LT(Rms(high), 400);
  Audio up = Resample(Tone(8000, 1.0, 440, 10000), 16000);
  EXPECT_NEAR(up.samples.size(), 16000, 2);
}

TEST(AudioTest, TrimAndSpeechDetection) {
  Audio a{8000, std::vector<int16_t>(8000, 0)};
  Audio tone = Tone(8000, 0.5, 300, 8000);
  a.samples.insert(a.samples.end(), tone.samples.begin(), tone.samples.end());
  AppendSilence(a, absl::Seconds(1));
  Audio trimmed = TrimSilence(a, 40, absl::Milliseconds(100));
  EXPECT_NEAR(trimmed.samples.size(), 8000 * 0.7, 80);
  EXPECT_TRUE(HasSpeech(a));
  EXPECT_FALSE(HasSpeech(Audio{8000, std::vector<int16_t>(8000, 0)}));
  EXPECT_TRUE(TrimSilence(Audio{8000, std::vector<int16_t>(8000, 20)}).samples.empty());
  EXPECT_NEAR(absl::ToDoubleSeconds(LastSpeechEnd(a, absl::ZeroDuration())), 1.5, 0.02);
  EXPECT_LT(LastSpeechEnd(a, absl::Seconds(1.6)), absl::ZeroDuration());
}

TEST(BaresipCtrlTest, DeframesNetstringsAcrossReads) {
  std::string buffer = "5:hello,3:a";
  std::deque<std::string> frames;
  ASSERT_THAT(BaresipCtrl::Deframe(buffer, frames), IsOk());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], "hello");
  EXPECT_EQ(buffer, "3:a");
  buffer += "bc,";
  ASSERT_THAT(BaresipCtrl::Deframe(buffer, frames), IsOk());
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1], "abc");
  EXPECT_TRUE(buffer.empty());
  std::string bad = "3:abcX";
  EXPECT_THAT(BaresipCtrl::Deframe(bad, frames), StatusIs(absl::StatusCode::kDataLoss));
  std::string junk = "x:abc,";
  EXPECT_THAT(BaresipCtrl::Deframe(junk, frames), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(BaresipCtrlTest, ParsesEventsAndResponses) {
  auto e = BaresipCtrl::ParseMessage(
      R"({"event":true,"type":"CALL_CLOSED","class":"call","param":"486 Busy Here"})");
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->type, "CALL_CLOSED");
  EXPECT_EQ(e->param, "486 Busy Here");
  auto r = BaresipCtrl::ParseMessage(R"({"response":true,"ok":false,"data":"x","token":"dial"})");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->type, "RESPONSE");
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->token, "dial");
  EXPECT_THAT(BaresipCtrl::ParseMessage("{nope"), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace remediator::telephony
