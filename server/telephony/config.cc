#include "server/telephony/config.h"

#include "absl/strings/str_cat.h"
#include "server/common/file_util.h"
#include "server/common/status_macros.h"
#include "server/common/yaml_config.h"

namespace remediator::telephony {
namespace {

absl::Status ReadSip(const YamlDocument& doc, const YAML::Node& node, TelephonyConfig& c) {
  RETURN_IF_ERROR(
      CheckKnownKeys(doc, node,
                     {"baresip", "module_path", "local_ip", "user", "trunk_host", "auth_user",
                      "auth_pass_file", "outbound_proxy", "codecs", "keep_call_dirs"},
                     "sip"));
  RETURN_IF_ERROR(ReadString(doc, node, "baresip", &c.sip.binary));
  RETURN_IF_ERROR(ReadString(doc, node, "module_path", &c.sip.module_path));
  RETURN_IF_ERROR(ReadString(doc, node, "local_ip", &c.sip.local_ip));
  RETURN_IF_ERROR(ReadString(doc, node, "user", &c.sip.user));
  RETURN_IF_ERROR(ReadString(doc, node, "trunk_host", &c.sip.trunk_host));
  RETURN_IF_ERROR(ReadString(doc, node, "auth_user", &c.sip.auth_user));
  RETURN_IF_ERROR(ReadString(doc, node, "auth_pass_file", &c.sip_auth_pass_file));
  RETURN_IF_ERROR(ReadString(doc, node, "outbound_proxy", &c.sip.outbound_proxy));
  RETURN_IF_ERROR(ReadString(doc, node, "codecs", &c.sip.codecs));
  RETURN_IF_ERROR(ReadBool(doc, node, "keep_call_dirs", &c.sip.keep_call_dirs));
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadConfigFile(const std::string& path, TelephonyConfig& c) {
  ASSIGN_OR_RETURN(YamlDocument doc, LoadYamlFile(path));
  const YAML::Node& root = doc.root;
  if (!root.IsDefined() || root.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(CheckKnownKeys(doc, root,
                                 {"listen",
                                  "state_dir",
                                  "auth_token_file",
                                  "log_format",
                                  "call_log",
                                  "tls_cert",
                                  "tls_key",
                                  "tls_client_ca",
                                  "viewer_token_file",
                                  "metrics_listen",
                                  "dialer",
                                  "tts",
                                  "stt",
                                  "voice",
                                  "words_per_minute",
                                  "connect_timeout",
                                  "ring_timeout",
                                  "listen_window",
                                  "end_silence",
                                  "max_attempts",
                                  "keep_audio",
                                  "pocketsphinx_model_dir",
                                  "espeak_data_dir",
                                  "sip",
                                  "twilio",
                                  "llm"},
                                 "top level"));
  RETURN_IF_ERROR(ReadString(doc, root, "listen", &c.listen));
  RETURN_IF_ERROR(ReadString(doc, root, "state_dir", &c.state_dir));
  RETURN_IF_ERROR(ReadString(doc, root, "auth_token_file", &c.auth_token_file));
  RETURN_IF_ERROR(ReadString(doc, root, "log_format", &c.log_format));
  RETURN_IF_ERROR(ReadString(doc, root, "call_log", &c.call_log));
  RETURN_IF_ERROR(ReadString(doc, root, "tls_cert", &c.tls_cert));
  RETURN_IF_ERROR(ReadString(doc, root, "tls_key", &c.tls_key));
  RETURN_IF_ERROR(ReadString(doc, root, "tls_client_ca", &c.tls_client_ca));
  RETURN_IF_ERROR(ReadString(doc, root, "viewer_token_file", &c.viewer_token_file));
  RETURN_IF_ERROR(ReadString(doc, root, "metrics_listen", &c.metrics_listen));
  RETURN_IF_ERROR(ReadString(doc, root, "dialer", &c.dialer));
  RETURN_IF_ERROR(ReadString(doc, root, "tts", &c.tts));
  RETURN_IF_ERROR(ReadString(doc, root, "stt", &c.stt));
  RETURN_IF_ERROR(ReadString(doc, root, "voice", &c.flow.voice));
  RETURN_IF_ERROR(ReadInt(doc, root, "words_per_minute", &c.flow.words_per_minute));
  RETURN_IF_ERROR(ReadDuration(doc, root, "connect_timeout", &c.flow.connect_timeout));
  RETURN_IF_ERROR(ReadDuration(doc, root, "ring_timeout", &c.flow.ring_timeout));
  RETURN_IF_ERROR(ReadDuration(doc, root, "listen_window", &c.flow.listen.window));
  RETURN_IF_ERROR(ReadDuration(doc, root, "end_silence", &c.flow.listen.end_silence));
  RETURN_IF_ERROR(ReadInt(doc, root, "max_attempts", &c.flow.max_attempts));
  RETURN_IF_ERROR(ReadBool(doc, root, "keep_audio", &c.keep_audio));
  RETURN_IF_ERROR(ReadString(doc, root, "pocketsphinx_model_dir", &c.pocketsphinx_model_dir));
  RETURN_IF_ERROR(ReadString(doc, root, "espeak_data_dir", &c.espeak_data_dir));
  if (const YAML::Node piper = root["piper"]; piper.IsDefined() && !piper.IsNull()) {
    RETURN_IF_ERROR(
        CheckKnownKeys(doc, piper, {"binary", "model", "model_fr", "timeout"}, "piper"));
    RETURN_IF_ERROR(ReadString(doc, piper, "binary", &c.piper.binary));
    RETURN_IF_ERROR(ReadString(doc, piper, "model", &c.piper.model));
    RETURN_IF_ERROR(ReadString(doc, piper, "model_fr", &c.piper.model_fr));
    RETURN_IF_ERROR(ReadDuration(doc, piper, "timeout", &c.piper.timeout));
  }
  if (const YAML::Node api = root["speech_api"]; api.IsDefined() && !api.IsNull()) {
    RETURN_IF_ERROR(CheckKnownKeys(
        doc, api, {"url", "stt_model", "tts_model", "tts_voice", "api_key_file", "timeout"},
        "speech_api"));
    RETURN_IF_ERROR(ReadString(doc, api, "url", &c.speech_url));
    RETURN_IF_ERROR(ReadString(doc, api, "stt_model", &c.http_stt.model));
    RETURN_IF_ERROR(ReadString(doc, api, "tts_model", &c.openai_tts.model));
    RETURN_IF_ERROR(ReadString(doc, api, "tts_voice", &c.openai_tts.voice));
    RETURN_IF_ERROR(ReadString(doc, api, "api_key_file", &c.speech_api_key_file));
    RETURN_IF_ERROR(ReadDuration(doc, api, "timeout", &c.http_stt.timeout));
    c.openai_tts.timeout = c.http_stt.timeout;
  }
  if (root["sip"].IsDefined() && !root["sip"].IsNull()) {
    RETURN_IF_ERROR(ReadSip(doc, root["sip"], c));
  }
  if (const YAML::Node llm = root["llm"]; llm.IsDefined() && !llm.IsNull()) {
    RETURN_IF_ERROR(CheckKnownKeys(doc, llm, {"url", "model", "api_key_file", "timeout"}, "llm"));
    RETURN_IF_ERROR(ReadString(doc, llm, "url", &c.llm.url));
    RETURN_IF_ERROR(ReadString(doc, llm, "model", &c.llm.model));
    RETURN_IF_ERROR(ReadString(doc, llm, "api_key_file", &c.llm_api_key_file));
    RETURN_IF_ERROR(ReadDuration(doc, llm, "timeout", &c.llm.timeout));
  }
  if (const YAML::Node tw = root["twilio"]; tw.IsDefined() && !tw.IsNull()) {
    RETURN_IF_ERROR(CheckKnownKeys(doc, tw,
                                   {"account_sid", "auth_token_file", "from", "api_url",
                                    "webhook_listen", "webhook_public_url"},
                                   "twilio"));
    RETURN_IF_ERROR(ReadString(doc, tw, "account_sid", &c.twilio.account_sid));
    RETURN_IF_ERROR(ReadString(doc, tw, "auth_token_file", &c.twilio_auth_token_file));
    RETURN_IF_ERROR(ReadString(doc, tw, "from", &c.twilio.from));
    RETURN_IF_ERROR(ReadString(doc, tw, "api_url", &c.twilio.api_url));
    RETURN_IF_ERROR(ReadString(doc, tw, "webhook_listen", &c.twilio.webhook_listen));
    RETURN_IF_ERROR(ReadString(doc, tw, "webhook_public_url", &c.twilio.webhook_public_url));
  }
  return absl::OkStatus();
}

absl::Status LoadSipConfigFile(const std::string& path, TelephonyConfig& c) {
  ASSIGN_OR_RETURN(YamlDocument doc, LoadYamlFile(path));
  if (!doc.root.IsDefined() || doc.root.IsNull()) return absl::OkStatus();
  return ReadSip(doc, doc.root, c);
}

absl::Status FinishConfig(TelephonyConfig& c) {
  if (c.dialer != "sip" && c.dialer != "twilio") {
    return absl::InvalidArgumentError(
        absl::StrCat("dialer \"", c.dialer, "\" is not one of sip, twilio"));
  }
  if (c.dialer == "twilio") {
    if (c.twilio.account_sid.empty() || c.twilio.from.empty() || c.twilio_auth_token_file.empty()) {
      return absl::InvalidArgumentError(
          "--dialer twilio needs twilio.account_sid, twilio.from and twilio.auth_token_file "
          "(or --twilio-account-sid, --twilio-from, --twilio-auth-token-file)");
    }
    if (c.twilio.api_url.empty()) {
      return absl::InvalidArgumentError("twilio.api_url is empty");
    }
    if (c.twilio.webhook_public_url.empty() &&
        c.twilio.api_url.find("api.twilio.com") != std::string::npos) {
      return absl::InvalidArgumentError(
          "--dialer twilio needs twilio.webhook_public_url (or --twilio-webhook-public-url): the "
          "public base URL at which Twilio reaches twilio.webhook_listen to deliver the answer");
    }
    ASSIGN_OR_RETURN(std::string token, ReadFile(c.twilio_auth_token_file));
    while (!token.empty() &&
           (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
      token.pop_back();
    }
    if (token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the Twilio auth token file ", c.twilio_auth_token_file, " is empty"));
    }
    c.twilio.auth_token = token;
  }
  if (!c.llm.url.empty()) {
    if (c.llm.model.empty()) {
      return absl::InvalidArgumentError("llm.url is set but llm.model is empty (or --llm-model)");
    }
    if (c.llm.timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("llm.timeout must be positive");
    }
    if (!c.llm_api_key_file.empty()) {
      ASSIGN_OR_RETURN(std::string key, ReadFile(c.llm_api_key_file));
      while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) {
        key.pop_back();
      }
      c.llm.api_key = key;
    }
  }
  if (c.tts != "espeak" && c.tts != "piper" && c.tts != "openai") {
    return absl::InvalidArgumentError(
        absl::StrCat("tts \"", c.tts, "\" is not one of espeak, piper, openai"));
  }
  if (c.tts == "piper" && c.piper.model.empty()) {
    return absl::InvalidArgumentError(
        "--tts piper needs a voice model: set piper.model or --piper-model");
  }
  if (c.stt != "pocketsphinx" && c.stt != "whisper" && c.stt != "openai") {
    return absl::InvalidArgumentError(
        absl::StrCat("stt \"", c.stt, "\" is not one of pocketsphinx, whisper, openai"));
  }
  if ((c.stt != "pocketsphinx" || c.tts == "openai") && c.speech_url.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--stt ", c.stt, " / --tts ", c.tts,
                                                   " need the speech service: set "
                                                   "speech_api.url or --speech-url"));
  }
  c.http_stt.kind = c.stt;
  c.http_stt.url = c.speech_url;
  c.openai_tts.url = c.speech_url;
  if (!c.speech_api_key_file.empty()) {
    ASSIGN_OR_RETURN(std::string key, ReadFile(c.speech_api_key_file));
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) {
      key.pop_back();
    }
    c.http_stt.api_key = key;
    c.openai_tts.api_key = key;
  }
  if (c.log_format != "text" && c.log_format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("log format \"", c.log_format, "\" is not text or json"));
  }
  if (c.state_dir.empty()) return absl::InvalidArgumentError("state dir is empty; set --state-dir");
  if (c.flow.max_attempts < 1 || c.flow.max_attempts > 3) {
    return absl::InvalidArgumentError("max_attempts must be 1, 2 or 3");
  }
  if (c.flow.listen.window < absl::Seconds(1) || c.flow.listen.window > absl::Minutes(1)) {
    return absl::InvalidArgumentError("listen_window must be between 1s and 1m");
  }
  if (c.flow.connect_timeout <= absl::ZeroDuration() ||
      c.flow.ring_timeout < c.flow.connect_timeout) {
    return absl::InvalidArgumentError(
        "connect_timeout must be > 0 and ring_timeout at least connect_timeout");
  }
  if (c.call_log.empty()) c.call_log = c.state_dir + "/calls.csv";
  c.sip.work_dir = c.state_dir + "/calls";
  c.piper.work_dir = c.state_dir + "/tts";
  if (c.keep_audio) c.flow.audio_dir = c.state_dir + "/audio";
  if (!c.sip_auth_pass_file.empty()) {
    ASSIGN_OR_RETURN(std::string pass, ReadFile(c.sip_auth_pass_file));
    while (!pass.empty() && (pass.back() == '\n' || pass.back() == '\r')) pass.pop_back();
    c.sip.auth_pass = pass;
  }
  return absl::OkStatus();
}

}  // namespace remediator::telephony
