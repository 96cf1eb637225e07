#include "server/telephony/service/telephony_metrics.h"

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"

namespace remediator::telephony {
namespace {

std::string ShortName(const std::string& full, const std::string& prefix) {
  return absl::AsciiStrToLower(full.rfind(prefix, 0) == 0 ? full.substr(prefix.size()) : full);
}

std::string CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN";
}

}  // namespace

TelephonyMetrics::TelephonyMetrics(metrics::Registry& registry, const RpcGuard& guard)
    : rpcs_(registry.AddCounter("grpc_server_handled_total",
                                "RPCs completed on the server, by method and status code.",
                                {"grpc_method", "grpc_code"})),
      calls_(registry.AddCounter("telephony_calls_total", "Calls placed, by outcome and decision.",
                                 {"outcome", "decision"})),
      call_duration_(registry
                         .AddHistogram("telephony_call_duration_seconds",
                                       "How long placed calls lasted.", {},
                                       metrics::DurationBuckets())
                         .Get({})),
      tts_(registry.AddHistogram("telephony_tts_seconds", "Time to synthesize speech, by engine.",
                                 {"engine"}, metrics::DurationBuckets())),
      stt_(registry.AddHistogram("telephony_stt_seconds", "Time to transcribe audio, by engine.",
                                 {"engine"}, metrics::DurationBuckets())),
      decision_(registry
                    .AddHistogram("telephony_decision_seconds",
                                  "From the answer's audio to the yes/no decision "
                                  "(transcription and decision), per answer.",
                                  {}, metrics::DurationBuckets())
                    .Get({})) {
  registry.AddCollector([&guard] {
    metrics::CollectedFamily f;
    f.name = "telephony_auth_failures_total";
    f.help = "Calls refused by the token check, by reason.";
    f.type = metrics::CollectedFamily::Type::kCounter;
    f.label_names = {"reason"};
    f.samples = {{{"unauthenticated"}, static_cast<double>(guard.authentication_failures())},
                 {{"permission_denied"}, static_cast<double>(guard.permission_denials())}};
    std::vector<metrics::CollectedFamily> out;
    out.push_back(std::move(f));
    return out;
  });
}

void TelephonyMetrics::CountRpc(std::string_view method, grpc::StatusCode code) {
  size_t slash = method.rfind('/');
  rpcs_
      .Get({std::string(slash == std::string_view::npos ? method : method.substr(slash + 1)),
            CodeName(code)})
      .Increment();
}

void TelephonyMetrics::CountCall(const ::telephony::v1::CallRecord& call) {
  calls_
      .Get({ShortName(::telephony::v1::CallOutcome_Name(call.outcome()), "CALL_OUTCOME_"),
            ShortName(::telephony::v1::Decision_Name(call.decision()), "DECISION_")})
      .Increment();
  call_duration_.Observe(static_cast<double>(call.duration().seconds()) +
                         call.duration().nanos() / 1e9);
}

void TelephonyMetrics::ObserveTts(const std::string& engine, absl::Duration took) {
  tts_.Get({engine}).Observe(absl::ToDoubleSeconds(took));
}

void TelephonyMetrics::ObserveStt(const std::string& engine, absl::Duration took) {
  stt_.Get({engine}).Observe(absl::ToDoubleSeconds(took));
}

void TelephonyMetrics::ObserveDecision(absl::Duration took) {
  decision_.Observe(absl::ToDoubleSeconds(took));
}

absl::StatusOr<Audio> TimedTts::Synthesize(const TtsRequest& request) {
  absl::Time start = absl::Now();
  absl::StatusOr<Audio> audio = inner_.Synthesize(request);
  metrics_.ObserveTts(inner_.engine(), absl::Now() - start);
  return audio;
}

absl::StatusOr<SttResult> TimedStt::Transcribe(const Audio& audio, const std::string& language) {
  absl::Time start = absl::Now();
  absl::StatusOr<SttResult> result = inner_.Transcribe(audio, language);
  absl::Duration took = absl::Now() - start;
  metrics_.ObserveStt(inner_.engine(), took);
  // Deciding yes/no from the transcript is a word match, microseconds after the transcript:
  // the answer-to-decision latency is the transcription's.
  metrics_.ObserveDecision(took);
  return result;
}

}  // namespace remediator::telephony
