// TelephonyMetrics: what the telephony server exposes to Prometheus (--metrics-listen):
//   grpc_server_handled_total{grpc_method,grpc_code}   every RPC, by the RpcGuard's observer
//   telephony_calls_total{outcome,decision}            PlaceCall results
//   telephony_call_duration_seconds                    histogram of the calls' durations
//   telephony_tts_seconds{engine}                      histogram: time to synthesize speech
//   telephony_stt_seconds{engine}                      histogram: time to transcribe audio
//   telephony_decision_seconds                         histogram: answer audio in, decision out
//                                                      (transcription and decision)
//   telephony_auth_failures_total{reason}
// TimedTts / TimedStt wrap the engines the call flow and the RPCs use, so every synthesis and
// transcription is timed without a hook in core. Thread-safe.
#ifndef REMEDIATOR_SERVER_TELEPHONY_SERVICE_TELEPHONY_METRICS_H_
#define REMEDIATOR_SERVER_TELEPHONY_SERVICE_TELEPHONY_METRICS_H_

#include <grpcpp/support/status.h>

#include <string_view>

#include "absl/time/time.h"
#include "server/common/rpc_guard.h"
#include "server/metrics/registry.h"
#include "server/telephony/core/stt.h"
#include "server/telephony/core/tts.h"
#include "telephony/v1/telephony.pb.h"

namespace remediator::telephony {

class TelephonyMetrics {
 public:
  // Both borrowed; registers the families.
  TelephonyMetrics(metrics::Registry& registry, const RpcGuard& guard);

  void CountRpc(std::string_view method, grpc::StatusCode code);
  void CountCall(const ::telephony::v1::CallRecord& call);
  void ObserveTts(const std::string& engine, absl::Duration took);
  void ObserveStt(const std::string& engine, absl::Duration took);
  void ObserveDecision(absl::Duration took);

 private:
  metrics::CounterFamily& rpcs_;
  metrics::CounterFamily& calls_;
  metrics::Histogram& call_duration_;
  metrics::HistogramFamily& tts_;
  metrics::HistogramFamily& stt_;
  metrics::Histogram& decision_;
};

// Forwards to `inner`, timing each call. Both borrowed.
class TimedTts final : public Tts {
 public:
  TimedTts(Tts& inner, TelephonyMetrics& metrics) : inner_(inner), metrics_(metrics) {}
  absl::StatusOr<Audio> Synthesize(const TtsRequest& request) override;
  std::string engine() const override { return inner_.engine(); }

 private:
  Tts& inner_;
  TelephonyMetrics& metrics_;
};

class TimedStt final : public Stt {
 public:
  TimedStt(Stt& inner, TelephonyMetrics& metrics) : inner_(inner), metrics_(metrics) {}
  absl::StatusOr<SttResult> Transcribe(const Audio& audio, const std::string& language) override;
  std::string engine() const override { return inner_.engine(); }

 private:
  Stt& inner_;
  TelephonyMetrics& metrics_;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_SERVICE_TELEPHONY_METRICS_H_
