// Every documented key of the Telephony YAML (server/telephony/config.h) is read into the
// configuration: one test case per key, and a check that the documentation lists exactly the
// keys that have a case.
#include "server/telephony/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "re2/re2.h"
#include "server/common/file_util.h"
#include "tests/server/telephony/test_util.h"
#include "tests/testing/status_matchers.h"

namespace remediator::telephony {
namespace {

using ::remediator::testing::IsOk;

struct KeyCase {
  std::string key;   // "section.key" or "key"
  std::string yaml;  // the value, as written in YAML
  std::function<bool(const TelephonyConfig&)> check;
};

// `k` for a string field.
KeyCase S(const std::string& key, std::function<std::string(const TelephonyConfig&)> get) {
  return {key, "\"set-by-test\"",
          [get](const TelephonyConfig& c) { return get(c) == "set-by-test"; }};
}
KeyCase D(const std::string& key, std::function<absl::Duration(const TelephonyConfig&)> get) {
  return {key, "17s", [get](const TelephonyConfig& c) { return get(c) == absl::Seconds(17); }};
}

std::vector<KeyCase> Cases() {
  using C = const TelephonyConfig&;
  return {
      S("listen", [](C c) { return c.listen; }),
      S("state_dir", [](C c) { return c.state_dir; }),
      S("auth_token_file", [](C c) { return c.auth_token_file; }),
      S("log_format", [](C c) { return c.log_format; }),
      S("call_log", [](C c) { return c.call_log; }),
      S("tls_cert", [](C c) { return c.tls_cert; }),
      S("tls_key", [](C c) { return c.tls_key; }),
      S("tls_client_ca", [](C c) { return c.tls_client_ca; }),
      S("viewer_token_file", [](C c) { return c.viewer_token_file; }),
      S("metrics_listen", [](C c) { return c.metrics_listen; }),
      S("dialer", [](C c) { return c.dialer; }),
      S("tts", [](C c) { return c.tts; }),
      S("stt", [](C c) { return c.stt; }),
      S("voice", [](C c) { return c.flow.voice; }),
      {"words_per_minute", "150", [](C c) { return c.flow.words_per_minute == 150; }},
      D("connect_timeout", [](C c) { return c.flow.connect_timeout; }),
      D("ring_timeout", [](C c) { return c.flow.ring_timeout; }),
      D("listen_window", [](C c) { return c.flow.listen.window; }),
      D("end_silence", [](C c) { return c.flow.listen.end_silence; }),
      {"max_attempts", "3", [](C c) { return c.flow.max_attempts == 3; }},
      D("max_call_duration", [](C c) { return c.flow.max_call_duration; }),
      {"keep_audio", "true", [](C c) { return c.keep_audio; }},
      S("pocketsphinx_model_dir", [](C c) { return c.pocketsphinx_model_dir; }),
      S("espeak_data_dir", [](C c) { return c.espeak_data_dir; }),
      S("piper.binary", [](C c) { return c.piper.binary; }),
      S("piper.model", [](C c) { return c.piper.model; }),
      S("piper.model_fr", [](C c) { return c.piper.model_fr; }),
      D("piper.timeout", [](C c) { return c.piper.timeout; }),
      S("speech_api.url", [](C c) { return c.speech_url; }),
      S("speech_api.stt_model", [](C c) { return c.http_stt.model; }),
      S("speech_api.tts_model", [](C c) { return c.openai_tts.model; }),
      S("speech_api.tts_voice", [](C c) { return c.openai_tts.voice; }),
      S("speech_api.api_key_file", [](C c) { return c.speech_api_key_file; }),
      {"speech_api.timeout", "17s",
       [](C c) {
         return c.http_stt.timeout == absl::Seconds(17) &&
                c.openai_tts.timeout == absl::Seconds(17);
       }},
      S("sip.baresip", [](C c) { return c.sip.binary; }),
      S("sip.module_path", [](C c) { return c.sip.module_path; }),
      S("sip.local_ip", [](C c) { return c.sip.local_ip; }),
      S("sip.user", [](C c) { return c.sip.user; }),
      S("sip.trunk_host", [](C c) { return c.sip.trunk_host; }),
      S("sip.auth_user", [](C c) { return c.sip.auth_user; }),
      S("sip.auth_pass_file", [](C c) { return c.sip_auth_pass_file; }),
      S("sip.outbound_proxy", [](C c) { return c.sip.outbound_proxy; }),
      S("sip.codecs", [](C c) { return c.sip.codecs; }),
      {"sip.keep_call_dirs", "true", [](C c) { return c.sip.keep_call_dirs; }},
      S("twilio.account_sid", [](C c) { return c.twilio.account_sid; }),
      S("twilio.auth_token_file", [](C c) { return c.twilio_auth_token_file; }),
      S("twilio.from", [](C c) { return c.twilio.from; }),
      S("twilio.api_url", [](C c) { return c.twilio.api_url; }),
      S("twilio.webhook_listen", [](C c) { return c.twilio.webhook_listen; }),
      S("twilio.webhook_public_url", [](C c) { return c.twilio.webhook_public_url; }),
      S("llm.url", [](C c) { return c.llm.url; }),
      S("llm.model", [](C c) { return c.llm.model; }),
      S("llm.api_key_file", [](C c) { return c.llm_api_key_file; }),
      D("llm.timeout", [](C c) { return c.llm.timeout; }),
  };
}

class ConfigKeyTest : public ::testing::TestWithParam<KeyCase> {};

TEST_P(ConfigKeyTest, KeyIsReadFromYaml) {
  const KeyCase& k = GetParam();
  std::vector<std::string> parts = absl::StrSplit(k.key, '.');
  std::string yaml = parts.size() == 1
                         ? absl::StrCat(k.key, ": ", k.yaml, "\n")
                         : absl::StrCat(parts[0], ":\n  ", parts[1], ": ", k.yaml, "\n");
  TempDir dir;
  const std::string path = dir.path() + "/telephony.yaml";
  ASSERT_THAT(WriteFileAtomically(path, yaml), IsOk());
  TelephonyConfig config;
  ASSERT_THAT(LoadConfigFile(path, config), IsOk()) << yaml;
  EXPECT_TRUE(k.check(config)) << yaml;
}

INSTANTIATE_TEST_SUITE_P(EveryKey, ConfigKeyTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<KeyCase>& info) {
                           std::string name = info.param.key;
                           for (char& c : name) {
                             if (c == '.') c = '_';
                           }
                           return name;
                         });

// The header comment documents the YAML; every key in it has a case above and vice versa.
TEST(ConfigDocTest, DocumentedKeysAreExactlyTheTestedOnes) {
  auto header = ReadFile(std::string(SOURCE_DIR) + "/server/telephony/config.h");
  ASSERT_THAT(header, IsOk());
  std::set<std::string> documented;
  std::string section;
  static const RE2 any_key(R"((?:^//\s+|\s{2,})([a-z_]+):(?:\s|$))");
  for (absl::string_view view : absl::StrSplit(*header, '\n')) {
    const std::string line(view);
    if (!absl::StartsWith(line, "//")) {
      if (!documented.empty()) break;  // the comment block is over
      continue;
    }
    // "//   key:" is top level, "//     key:" belongs to the section above; several keys may
    // share a line ("listen: ...   state_dir: ...").
    const bool nested = line.find_first_not_of(' ', 2) > 5;
    re2::StringPiece in(line);
    std::string key;
    bool first = true;
    while (RE2::FindAndConsume(&in, any_key, &key)) {
      documented.insert(nested ? absl::StrCat(section, ".", key) : key);
      if (first && !nested) section = key;
      first = false;
    }
  }
  std::set<std::string> tested;
  for (const KeyCase& k : Cases()) tested.insert(k.key);
  for (const char* s : {"piper", "speech_api", "sip", "twilio", "llm"}) documented.erase(s);
  EXPECT_EQ(documented, tested);
}

TEST(ConfigTest, PiperAndWhisperFromYamlAlone) {
  TempDir dir;
  const std::string path = dir.path() + "/telephony.yaml";
  ASSERT_THAT(WriteFileAtomically(
                  path, "state_dir: " + dir.path() +
                            "\ntts: piper\nstt: whisper\n"
                            "piper:\n  model: /voices/en.onnx\n  model_fr: /voices/fr.onnx\n"
                            "speech_api:\n  url: http://127.0.0.1:8080\n"),
              IsOk());
  TelephonyConfig config;
  ASSERT_THAT(LoadConfigFile(path, config), IsOk());
  ASSERT_THAT(FinishConfig(config), IsOk());
  EXPECT_EQ(config.tts, "piper");
  EXPECT_EQ(config.piper.model, "/voices/en.onnx");
  EXPECT_EQ(config.http_stt.url, "http://127.0.0.1:8080");
  EXPECT_EQ(config.http_stt.kind, "whisper");
}

}  // namespace
}  // namespace remediator::telephony
