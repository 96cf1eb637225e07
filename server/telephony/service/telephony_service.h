// TelephonyService: the gRPC handlers of telephony.v1.Telephony. Each handler checks the bearer
// token, validates its input (INVALID_ARGUMENT with a message saying what is wrong), calls the
// core and maps the result. Thread-safe; the borrowed collaborators must outlive it.
#ifndef REMEDIATOR_SERVER_TELEPHONY_SERVICE_TELEPHONY_SERVICE_H_
#define REMEDIATOR_SERVER_TELEPHONY_SERVICE_TELEPHONY_SERVICE_H_

#include "server/common/auth.h"
#include "server/telephony/core/call_flow.h"
#include "server/telephony/core/call_log.h"
#include "server/telephony/core/speech_drafter.h"
#include "server/telephony/core/stt.h"
#include "server/telephony/core/tts.h"
#include "telephony/v1/telephony.grpc.pb.h"

namespace remediator::telephony {

class TelephonyService final : public ::telephony::v1::Telephony::Service {
 public:
  // Longest text Synthesize accepts (characters).
  static constexpr size_t kMaxTextBytes = 8000;
  static constexpr size_t kMaxVoiceBytes = 64;
  static constexpr int kMaxWordsPerMinute = 600;
  // Transcribe: a WAV of about a minute at 16 kHz; the gRPC receive limit (main.cc) is above.
  static constexpr size_t kMaxAudioBytes = 2 * 1024 * 1024;
  static constexpr absl::Duration kMaxAudioDuration = absl::Seconds(65);

  TelephonyService(const TokenAuth* auth, SpeechDrafter* drafter, Tts* tts, Stt* stt,
                   CallFlow* flow, CallLog* log)
      : auth_(auth), drafter_(drafter), tts_(tts), stt_(stt), flow_(flow), log_(log) {}

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
  const TokenAuth* auth_;
  SpeechDrafter* drafter_;
  Tts* tts_;
  Stt* stt_;
  CallFlow* flow_;
  CallLog* log_;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_SERVICE_TELEPHONY_SERVICE_H_
