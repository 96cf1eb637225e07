// telephony: the Telephony gRPC server (telephony.v1.Telephony). Drafts what to say about an
// incident, speaks it (espeak-ng), phones the on-call person over SIP (baresip), hears the
// answer (pocketsphinx), decides yes / no / unclear and records every call in a CSV file.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "server/common/clock.h"
#include "server/common/file_util.h"
#include "server/common/flags.h"
#include "server/common/grpc_server.h"
#include "server/common/http_client.h"
#include "server/common/logging.h"
#include "server/common/rpc_guard.h"
#include "server/metrics/metrics_server.h"
#include "server/metrics/registry.h"
#include "server/telephony/adapters/baresip_dialer.h"
#include "server/telephony/adapters/csv_call_log.h"
#include "server/telephony/adapters/espeak_tts.h"
#include "server/telephony/adapters/http_stt.h"
#include "server/telephony/adapters/llm_speech_drafter.h"
#include "server/telephony/adapters/openai_tts.h"
#include "server/telephony/adapters/piper_tts.h"
#include "server/telephony/adapters/pocketsphinx_stt.h"
#include "server/telephony/adapters/twilio_dialer.h"
#include "server/telephony/config.h"
#include "server/telephony/core/call_flow.h"
#include "server/telephony/core/speech_drafter.h"
#include "server/telephony/service/telephony_service.h"

#ifndef POCKETSPHINX_MODELDIR
#define POCKETSPHINX_MODELDIR "/usr/share/pocketsphinx/model"
#endif

namespace remediator::telephony {
namespace {

int Fail(const std::string& what, const absl::Status& status, int code) {
  std::cerr << "telephony: " << what << ": " << status.message() << "\n";
  return code;
}

int Run(int argc, char** argv) {
  BlockTerminationSignals();
  TelephonyConfig c;
  std::string config_file, sip_config_file;
  std::string listen, state_dir, token_file, log_format, call_log, dialer, tts, stt;
  std::string tls_client_ca, viewer_token_file, metrics_listen;
  std::string tls_cert, tls_key, trunk_host, sip_user, sip_auth_user, sip_pass_file, local_ip;
  std::string baresip, piper_binary, piper_model, speech_url, speech_key_file;
  std::string twilio_sid, twilio_token_file, twilio_from, twilio_api_url, twilio_webhook_listen;
  std::string twilio_webhook_public_url, llm_url, llm_model, llm_key_file;
  FlagSet flags("telephony",
                "Phones the on-call person about an incident, asks whether they can intervene, "
                "hears the answer and records the call (telephony.v1.Telephony over gRPC).");
  flags.String("config", &config_file, "YAML configuration file; flags override it");
  flags.String("listen", &listen, "HOST:PORT to serve gRPC on; port 0 picks a free port");
  flags.String("state-dir", &state_dir, "directory for the call log, call dirs and audio");
  flags.String("auth-token-file", &token_file,
               "file holding the operator token (every RPC); without token files, auth is off");
  flags.String("log-format", &log_format, "text or json");
  flags.String("call-log", &call_log, "the CSV call log (default STATE_DIR/calls.csv)");
  flags.String("dialer", &dialer,
               "sip (a baresip subprocess per call) or twilio (Twilio Programmable Voice)");
  flags.String("sip-config", &sip_config_file, "YAML file with the SIP settings (sip: keys)");
  flags.String("sip-trunk-host", &trunk_host, "SIP trunk HOST[:PORT]; E.164 numbers go there");
  flags.String("sip-user", &sip_user, "our SIP user name");
  flags.String("sip-auth-user", &sip_auth_user, "SIP digest user name (default: --sip-user)");
  flags.String("sip-auth-pass-file", &sip_pass_file, "file holding the SIP digest password");
  flags.String("sip-local-ip", &local_ip, "address SIP and RTP bind to (default 127.0.0.1)");
  flags.String("baresip", &baresip, "the baresip executable");
  flags.String("twilio-account-sid", &twilio_sid, "Twilio AccountSid (with --dialer twilio)");
  flags.String("twilio-auth-token-file", &twilio_token_file, "file holding the Twilio AuthToken");
  flags.String("twilio-from", &twilio_from, "the Twilio number calls come from (E.164)");
  flags.String("twilio-api-url", &twilio_api_url,
               "Twilio API base (default https://api.twilio.com)");
  flags.String("twilio-webhook-listen", &twilio_webhook_listen,
               "HOST:PORT for the Gather webhook server (default 127.0.0.1:0)");
  flags.String("twilio-webhook-public-url", &twilio_webhook_public_url,
               "base URL Twilio reaches the webhook server at");
  flags.String("llm-url", &llm_url,
               "OpenAI-compatible API base (…/v1) to draft the speech with; default: template");
  flags.String("llm-model", &llm_model, "the model name for --llm-url");
  flags.String("llm-api-key-file", &llm_key_file, "file holding the LLM API key");
  flags.String("tts", &tts, "espeak (in-process), piper (subprocess) or openai (HTTP)");
  flags.String("piper-binary", &piper_binary, "the piper executable (with --tts piper)");
  flags.String("piper-model", &piper_model, "the Piper voice model .onnx (with --tts piper)");
  flags.String("stt", &stt, "pocketsphinx (in-process), whisper (whisper.cpp server) or openai");
  flags.String("speech-url", &speech_url,
               "whisper.cpp server URL, or OpenAI-compatible API base (…/v1)");
  flags.String("speech-api-key-file", &speech_key_file, "file holding the speech API key");
  flags.String("tls-cert", &tls_cert, "PEM certificate: serve gRPC over TLS");
  flags.String("tls-key", &tls_key, "PEM private key for --tls-cert");
  flags.String("tls-client-ca", &tls_client_ca,
               "PEM CA: with --tls-cert, clients must present a certificate it signed");
  flags.String("viewer-token-file", &viewer_token_file,
               "file holding a token of the viewer role (ListCalls, GetCallLogCsv only)");
  flags.String("metrics-listen", &metrics_listen,
               "HOST:PORT to serve Prometheus metrics on (GET /metrics); empty: off");
  flags.set_epilogue(
      "Exit codes: 0 clean shutdown (SIGTERM/SIGINT), 1 runtime failure, 2 bad usage or "
      "configuration.\nConfig keys: see server/telephony/config.h.\n");
  absl::Status parsed = flags.Parse(argc, argv);
  if (!parsed.ok()) {
    std::cerr << "telephony: " << parsed.message() << "\n(see telephony --help)\n";
    return kExitUsage;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return kExitOk;
  }
  if (!flags.positional().empty()) {
    std::cerr << "telephony: unexpected argument \"" << flags.positional()[0] << "\"\n";
    return kExitUsage;
  }
  if (!config_file.empty()) {
    absl::Status s = LoadConfigFile(config_file, c);
    if (!s.ok()) return Fail("config", s, kExitUsage);
  }
  if (!sip_config_file.empty()) {
    absl::Status s = LoadSipConfigFile(sip_config_file, c);
    if (!s.ok()) return Fail("sip config", s, kExitUsage);
  }
  auto take = [&](const char* name, const std::string& value, std::string& target) {
    if (flags.IsSet(name)) target = value;
  };
  take("listen", listen, c.listen);
  take("state-dir", state_dir, c.state_dir);
  take("auth-token-file", token_file, c.auth_token_file);
  take("log-format", log_format, c.log_format);
  take("call-log", call_log, c.call_log);
  take("dialer", dialer, c.dialer);
  take("tts", tts, c.tts);
  take("stt", stt, c.stt);
  take("tls-cert", tls_cert, c.tls_cert);
  take("tls-key", tls_key, c.tls_key);
  take("tls-client-ca", tls_client_ca, c.tls_client_ca);
  take("viewer-token-file", viewer_token_file, c.viewer_token_file);
  take("metrics-listen", metrics_listen, c.metrics_listen);
  take("sip-trunk-host", trunk_host, c.sip.trunk_host);
  take("sip-user", sip_user, c.sip.user);
  take("sip-auth-user", sip_auth_user, c.sip.auth_user);
  take("sip-auth-pass-file", sip_pass_file, c.sip_auth_pass_file);
  take("sip-local-ip", local_ip, c.sip.local_ip);
  take("baresip", baresip, c.sip.binary);
  take("piper-binary", piper_binary, c.piper.binary);
  take("piper-model", piper_model, c.piper.model);
  take("speech-url", speech_url, c.speech_url);
  take("speech-api-key-file", speech_key_file, c.speech_api_key_file);
  take("llm-url", llm_url, c.llm.url);
  take("llm-model", llm_model, c.llm.model);
  take("llm-api-key-file", llm_key_file, c.llm_api_key_file);
  take("twilio-account-sid", twilio_sid, c.twilio.account_sid);
  take("twilio-auth-token-file", twilio_token_file, c.twilio_auth_token_file);
  take("twilio-from", twilio_from, c.twilio.from);
  take("twilio-api-url", twilio_api_url, c.twilio.api_url);
  take("twilio-webhook-listen", twilio_webhook_listen, c.twilio.webhook_listen);
  take("twilio-webhook-public-url", twilio_webhook_public_url, c.twilio.webhook_public_url);
  if (absl::Status s = FinishConfig(c); !s.ok()) return Fail("configuration", s, kExitUsage);

  LogFormat format = LogFormat::kText;
  ParseLogFormat(c.log_format, &format);
  ConfigureLogging(format);

  absl::StatusOr<RpcGuard> guard =
      RpcGuardFromTokenFiles(c.auth_token_file, c.viewer_token_file, /*reporter_file=*/"");
  if (!guard.ok()) return Fail("auth token", guard.status(), kExitUsage);
  if (absl::Status s = MakeDirectories(c.state_dir); !s.ok()) {
    return Fail("state dir", s, kExitFailure);
  }
  auto log = CsvCallLog::Open(c.call_log);
  if (!log.ok()) return Fail("call log", log.status(), kExitFailure);
  TemplateSpeechDrafter drafter;
  EspeakTts espeak(c.espeak_data_dir);
  PiperTts piper(c.piper);
  std::unique_ptr<HttpClient> http = NewCurlHttpClient();
  OpenAiTts openai_tts(http.get(), c.openai_tts);
  Tts* tts_engine = &espeak;
  if (c.tts == "piper") tts_engine = &piper;
  if (c.tts == "openai") tts_engine = &openai_tts;
  std::unique_ptr<Stt> stt_engine;
  if (c.stt == "pocketsphinx") {
    auto sphinx = PocketsphinxStt::Create(
        c.pocketsphinx_model_dir.empty() ? POCKETSPHINX_MODELDIR : c.pocketsphinx_model_dir,
        c.state_dir + "/pocketsphinx");
    if (!sphinx.ok()) return Fail("speech recognition", sphinx.status(), kExitFailure);
    stt_engine = *std::move(sphinx);
  } else {
    stt_engine = std::make_unique<HttpStt>(http.get(), c.http_stt);
  }
  // Metrics: every engine call is timed (TimedTts, TimedStt), every RPC counted by the guard.
  metrics::Registry registry;
  TelephonyMetrics telephony_metrics(registry, *guard);
  guard->SetObserver([&telephony_metrics](std::string_view method, grpc::StatusCode code) {
    telephony_metrics.CountRpc(method, code);
  });
  TimedTts timed_tts(*tts_engine, telephony_metrics);
  TimedStt timed_stt(*stt_engine, telephony_metrics);
  tts_engine = &timed_tts;
  BaresipDialer sip(c.sip);
  Dialer* call_dialer = &sip;
  Tts* call_tts = tts_engine;
  Stt* call_stt = &timed_stt;
  // With Twilio, Twilio speaks (<Say>) and transcribes (<Gather input="speech">): the call flow
  // passes text through TwilioSayTts / TwilioSpeechResultStt; the Synthesize and Transcribe
  // RPCs keep the local engines.
  TwilioSayTts twilio_tts;
  TwilioSpeechResultStt twilio_stt;
  std::unique_ptr<TwilioDialer> twilio;
  if (c.dialer == "twilio") {
    auto created = TwilioDialer::Create(http.get(), &RealClock::Get(), c.twilio);
    if (!created.ok()) {
      return Fail("twilio", created.status(),
                  created.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                                                : kExitFailure);
    }
    twilio = *std::move(created);
    call_dialer = twilio.get();
    call_tts = &twilio_tts;
    call_stt = &twilio_stt;
  }
  LlmSpeechDrafter llm_drafter(http.get(), &drafter, c.llm);
  SpeechDrafter* speech_drafter = &drafter;
  if (!c.llm.url.empty()) speech_drafter = &llm_drafter;
  CallFlow flow(speech_drafter, call_tts, call_stt, call_dialer, log->get(), &RealClock::Get(),
                c.flow);
  TelephonyService service(&*guard, speech_drafter, tts_engine, &timed_stt, &flow, log->get(),
                           &telephony_metrics);

  ServerOptions options;
  options.listen = c.listen;
  options.tls_cert_file = c.tls_cert;
  options.tls_key_file = c.tls_key;
  // Requests are small (the largest is a Transcribe WAV): anything bigger is refused by gRPC
  // before it is read into memory.
  options.max_receive_message_bytes = 3 * 1024 * 1024;
  options.tls_client_ca_file = c.tls_client_ca;
  auto server = GrpcServer::Start(options, {&service}, {"telephony.v1.Telephony"});
  if (!server.ok()) {
    return Fail(
        "serve", server.status(),
        server.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitFailure);
  }
  std::cout << "listening on " << (*server)->address() << std::endl;
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  if (!c.metrics_listen.empty()) {
    auto started = metrics::MetricsServer::Start(c.metrics_listen, registry);
    if (!started.ok()) {
      return Fail("metrics", started.status(),
                  started.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                                                : kExitFailure);
    }
    metrics_server = *std::move(started);
    std::cout << "metrics on " << metrics_server->address() << std::endl;
  }
  LogInfo("serving", {{"addr", (*server)->address()},
                      {"call_log", c.call_log},
                      {"auth", guard->enabled() ? "token" : "off"}});
  int signal = WaitForTerminationSignal();
  LogInfo("shutting down", {{"signal", absl::StrCat(signal)}});
  (*server)->Shutdown(absl::Seconds(5));
  return kExitOk;
}

}  // namespace
}  // namespace remediator::telephony

int main(int argc, char** argv) { return remediator::telephony::Run(argc, argv); }
