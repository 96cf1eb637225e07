// TelephonyService: the gRPC handlers of telephony.v1.Telephony. Every call passes the RpcGuard
// (token, role, parsable request) first; each handler validates its input (INVALID_ARGUMENT with a
// message saying what is wrong), calls the core and maps the result. Thread-safe; the borrowed
// collaborators must outlive it.
#ifndef REMEDIATOR_SERVER_TELEPHONY_SERVICE_TELEPHONY_SERVICE_H_
#define REMEDIATOR_SERVER_TELEPHONY_SERVICE_TELEPHONY_SERVICE_H_

#include "server/common/rpc_guard.h"
#include "server/telephony/core/call_flow.h"
#include "server/telephony/core/call_log.h"
#include "server/telephony/core/speech_drafter.h"
#include "server/telephony/core/stt.h"
#include "server/telephony/core/tts.h"
#include "server/telephony/service/telephony_metrics.h"
#include "telephony/v1/telephony.grpc.pb.h"

namespace remediator::telephony {

class TelephonyService final : public ::telephony::v1::Telephony::Service {
 public:
  // Longest text Synthesize accepts (characters).
  static constexpr size_t kMaxTextBytes = 8000;

  // `guard` lets each call in (token, role, parsable request) before its handler runs.
  // `metrics` may be null (nothing counted).
  TelephonyService(const RpcGuard* guard, SpeechDrafter* drafter, Tts* tts, Stt* stt,
                   CallFlow* flow, CallLog* log, TelephonyMetrics* metrics = nullptr);

  grpc::Status DraftSpeech(grpc::ServerContext* context,
                           const ::telephony::v1::DraftSpeechRequest* request,
                           ::telephony::v1::DraftSpeechResponse* response) override;
  grpc::Status Synthesize(grpc::ServerContext* context,
                          const ::telephony::v1::SynthesizeRequest* request,
                          ::telephony::v1::SynthesizeResponse* response) override;
  grpc::Status Transcribe(grpc::ServerContext* context,
                          const ::telephony::v1::TranscribeRequest* request,
                          ::telephony::v1::TranscribeResponse* response) override;
  grpc::Status PlaceCall(grpc::ServerContext* context,
                         const ::telephony::v1::PlaceCallRequest* request,
                         ::telephony::v1::CallRecord* response) override;
  grpc::Status ListCalls(grpc::ServerContext* context,
                         const ::telephony::v1::ListCallsRequest* request,
                         ::telephony::v1::ListCallsResponse* response) override;
  grpc::Status GetCallLogCsv(grpc::ServerContext* context,
                             const ::telephony::v1::GetCallLogCsvRequest* request,
                             ::telephony::v1::GetCallLogCsvResponse* response) override;

 private:
  const RpcGuard* guard_;
  SpeechDrafter* drafter_;
  Tts* tts_;
  Stt* stt_;
  CallFlow* flow_;
  CallLog* log_;
  TelephonyMetrics* metrics_;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_SERVICE_TELEPHONY_SERVICE_H_
