// The telephony server's configuration: YAML file (--config) overridden by flags (design.md §7).
//
// YAML keys (all optional):
//   listen: "127.0.0.1:7070"        state_dir: "/var/lib/telephony"
//   auth_token_file: FILE           log_format: text|json
//   call_log: FILE (default STATE_DIR/calls.csv)
//   tls_cert: FILE                  tls_key: FILE       tls_client_ca: FILE (mutual TLS)
//   viewer_token_file: FILE (reads only: ListCalls, GetCallLogCsv; auth_token_file: everything)
//   metrics_listen: HOST:PORT (Prometheus GET /metrics; empty: off)
//   dialer: sip                     tts: espeak         stt: pocketsphinx
//   voice: ""                       words_per_minute: 0
//   connect_timeout: 5s             ring_timeout: 30s
//   listen_window: 8s               end_silence: 1200ms  max_attempts: 2
//   keep_audio: false               (prompt/answer WAVs kept in STATE_DIR/audio)
//   pocketsphinx_model_dir: DIR     espeak_data_dir: DIR
//   piper:                          (with tts: piper)
//     binary: piper                 model: VOICE.onnx   model_fr: VOICE.onnx  timeout: 60s
//   speech_api:                     (with stt: whisper|openai or tts: openai)
//     url: http://127.0.0.1:8080    (whisper.cpp server, or an OpenAI API base like .../v1)
//     stt_model: whisper-1          tts_model: tts-1    tts_voice: alloy
//     api_key_file: FILE            timeout: 60s
//   sip:                            (also the top level of --sip-config FILE)
//     baresip: baresip              module_path: /usr/lib/baresip/modules
//     local_ip: 127.0.0.1           user: remediator
//     trunk_host: HOST[:PORT]       auth_user: NAME     auth_pass_file: FILE
//     outbound_proxy: URI           codecs: PCMU,PCMA   keep_call_dirs: false
//   twilio:                         (with dialer: twilio; Twilio speaks and transcribes)
//     account_sid: AC...            auth_token_file: FILE   from: "+15559870002"
//     api_url: https://api.twilio.com
//     webhook_listen: 127.0.0.1:8088  (the Gather webhook server; port 0: a free port)
//     webhook_public_url: https://telephony.example.com  (how Twilio reaches webhook_listen)
//   llm:                            (drafts the speech; the template is the fallback)
//     url: http://127.0.0.1:11434/v1  model: NAME  api_key_file: FILE  timeout: 30s
#ifndef REMEDIATOR_SERVER_TELEPHONY_CONFIG_H_
#define REMEDIATOR_SERVER_TELEPHONY_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/telephony/adapters/baresip_dialer.h"
#include "server/telephony/adapters/http_stt.h"
#include "server/telephony/adapters/llm_speech_drafter.h"
#include "server/telephony/adapters/openai_tts.h"
#include "server/telephony/adapters/piper_tts.h"
#include "server/telephony/adapters/twilio_dialer.h"
#include "server/telephony/core/call_flow.h"

namespace remediator::telephony {

struct TelephonyConfig {
  std::string listen = "127.0.0.1:7070";
  std::string state_dir = "/var/lib/telephony";
  std::string auth_token_file;
  std::string log_format = "text";
  std::string call_log;  // empty: STATE_DIR/calls.csv
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string viewer_token_file;
  std::string metrics_listen;
  std::string dialer = "sip";
  std::string tts = "espeak";
  std::string stt = "pocketsphinx";
  std::string pocketsphinx_model_dir;
  std::string espeak_data_dir;
  bool keep_audio = false;
  CallFlowOptions flow;
  BaresipOptions sip;
  PiperOptions piper;
  std::string speech_url;
  std::string speech_api_key_file;
  HttpSttOptions http_stt;
  OpenAiTtsOptions openai_tts;
  std::string sip_auth_pass_file;
  TwilioOptions twilio;
  std::string twilio_auth_token_file;
  LlmDrafterOptions llm;  // used when llm.url is set
  std::string llm_api_key_file;
};

// Reads `path` into `config` (keys absent from the file keep their value). InvalidArgument
// naming file, line and key for a bad value or an unknown key.
absl::Status LoadConfigFile(const std::string& path, TelephonyConfig& config);
// Reads a --sip-config file (the keys of the `sip:` section, at the top level).
absl::Status LoadSipConfigFile(const std::string& path, TelephonyConfig& config);
// Checks the choices and fills derived defaults (call log path, per-call dirs).
// InvalidArgument saying what to fix.
absl::Status FinishConfig(TelephonyConfig& config);

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CONFIG_H_
