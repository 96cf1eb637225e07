#include "server/telephony/service/telephony_service.h"

#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/grpc_status.h"
#include "server/common/logging.h"
#include "server/common/time_util.h"

namespace remediator::telephony {
namespace {

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// Ids and names are short; a longer one is refused without being echoed (a 20 KB id would make
// the error itself exceed gRPC's metadata limit).
constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxNameBytes = 256;

grpc::Status CheckLength(const char* field, const std::string& value, size_t max) {
  if (value.size() <= max) return grpc::Status::OK;
  return Invalid(absl::StrCat(field, " is ", value.size(), " bytes long; at most ", max));
}

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

}  // namespace

TelephonyService::TelephonyService(const RpcGuard* guard, SpeechDrafter* drafter, Tts* tts,
                                   Stt* stt, CallFlow* flow, CallLog* log,
                                   TelephonyMetrics* metrics)
    : guard_(guard),
      drafter_(drafter),
      tts_(tts),
      stt_(stt),
      flow_(flow),
      log_(log),
      metrics_(metrics) {
  // Every method goes through the guard (server/common/rpc_guard.h). The indices are the order of
  // the methods in telephony.proto.
  using Self = TelephonyService;
  auto guard_method = [this](int index, const char* name, Access access, auto method) {
    MarkMethodStreamed(
        index,
        GuardUnary(this, guard_, absl::StrCat("/telephony.v1.Telephony/", name), access, method));
  };
  guard_method(0, "DraftSpeech", Access::kOperate, &Self::DraftSpeech);
  guard_method(1, "Synthesize", Access::kOperate, &Self::Synthesize);
  guard_method(2, "Transcribe", Access::kOperate, &Self::Transcribe);
  guard_method(3, "PlaceCall", Access::kOperate, &Self::PlaceCall);
  guard_method(4, "ListCalls", Access::kRead, &Self::ListCalls);
  guard_method(5, "GetCallLogCsv", Access::kRead, &Self::GetCallLogCsv);
}

grpc::Status TelephonyService::DraftSpeech(grpc::ServerContext*,
                                           const ::telephony::v1::DraftSpeechRequest* request,
                                           ::telephony::v1::DraftSpeechResponse* response) {
  if (!request->has_incident()) return Invalid("DraftSpeech needs an incident");
  if (grpc::Status s = CheckLength("language", request->language(), kMaxNameBytes); !s.ok()) {
    return s;
  }
  absl::StatusOr<DraftedSpeech> speech = drafter_->Draft(request->incident(), request->language());
  if (!speech.ok()) return ToGrpcStatus(speech.status());
  response->set_text(speech->text);
  response->set_source(speech->source);
  *response->mutable_estimated_duration() = ToProtoDuration(speech->estimated_duration);
  response->set_llm_fallback_reason(speech->llm_fallback_reason);
  return grpc::Status::OK;
}

grpc::Status TelephonyService::Synthesize(grpc::ServerContext*,
                                          const ::telephony::v1::SynthesizeRequest* request,
                                          ::telephony::v1::SynthesizeResponse* response) {
  absl::StatusOr<std::string> language = NormalizeLanguage(request->language());
  if (!language.ok()) return ToGrpcStatus(language.status());
  std::string text = SanitizeForSpeech(request->text(), *language);
  if (text.empty()) return Invalid("text is empty: give the words to speak in `text`");
  if (text.size() > kMaxTextBytes) {
    return Invalid(absl::StrCat("text is ", text.size(), " bytes; at most ", kMaxTextBytes));
  }
  int rate = request->sample_rate_hz();
  if (rate != 0 && (rate < 4000 || rate > 48000)) {
    return Invalid(absl::StrCat("sample_rate_hz ", rate, " is outside 4000..48000 (0 = native)"));
  }
  if (request->words_per_minute() < 0) return Invalid("words_per_minute must be >= 0");
  TtsRequest tts_request;
  tts_request.text = text;
  tts_request.language = *language;
  tts_request.voice = request->voice();
  tts_request.words_per_minute = request->words_per_minute();
  absl::StatusOr<Audio> audio = tts_->Synthesize(tts_request);
  if (!audio.ok()) return ToGrpcStatus(audio.status());
  Audio out = rate == 0 ? *std::move(audio) : Resample(*audio, rate);
  response->set_wav(EncodeWav(out));
  response->set_sample_rate_hz(out.sample_rate);
  *response->mutable_duration() = ToProtoDuration(out.duration());
  response->set_engine(tts_->engine());
  return grpc::Status::OK;
}

grpc::Status TelephonyService::Transcribe(grpc::ServerContext*,
                                          const ::telephony::v1::TranscribeRequest* request,
                                          ::telephony::v1::TranscribeResponse* response) {
  if (request->audio().empty()) return Invalid("audio is empty: send a WAV file in `audio`");
  absl::StatusOr<std::string> language = NormalizeLanguage(request->language());
  if (!language.ok()) return ToGrpcStatus(language.status());
  absl::StatusOr<Audio> audio = DecodeWav(request->audio());
  if (!audio.ok()) return ToGrpcStatus(audio.status());
  absl::StatusOr<HeardAnswer> heard = HearAnswer(*stt_, *audio, *language);
  if (!heard.ok()) return ToGrpcStatus(heard.status());
  response->set_transcript(heard->transcript);
  response->set_decision(heard->decision.decision);
  response->set_confidence(heard->decision.confidence);
  response->set_engine(stt_->engine());
  return grpc::Status::OK;
}

grpc::Status TelephonyService::PlaceCall(grpc::ServerContext*,
                                         const ::telephony::v1::PlaceCallRequest* request,
                                         ::telephony::v1::CallRecord* response) {
  for (auto [field, value, max] :
       {std::tuple{"number", &request->number(), kMaxNameBytes},
        std::tuple{"language", &request->language(), kMaxNameBytes},
        std::tuple{"idempotency_key", &request->idempotency_key(), kMaxIdBytes},
        std::tuple{"incident.incident_id", &request->incident().incident_id(), kMaxIdBytes},
        std::tuple{"message", &request->message(), TelephonyService::kMaxTextBytes}}) {
    if (grpc::Status s = CheckLength(field, *value, max); !s.ok()) return s;
  }
  absl::StatusOr<CallRecord> record = flow_->PlaceCall(*request);
  if (!record.ok()) {
    if (record.status().code() != absl::StatusCode::kInvalidArgument) {
      LogError("PlaceCall failed", {{"error", std::string(record.status().message())}});
    }
    return ToGrpcStatus(record.status());
  }
  if (metrics_ != nullptr) metrics_->CountCall(*record);
  *response = *std::move(record);
  return grpc::Status::OK;
}

grpc::Status TelephonyService::ListCalls(grpc::ServerContext*,
                                         const ::telephony::v1::ListCallsRequest* request,
                                         ::telephony::v1::ListCallsResponse* response) {
  for (auto [field, value, max] : {std::tuple{"incident_id", &request->incident_id(), kMaxIdBytes},
                                   std::tuple{"number", &request->number(), kMaxNameBytes},
                                   std::tuple{"page_token", &request->page_token(), kMaxIdBytes}}) {
    if (grpc::Status s = CheckLength(field, *value, max); !s.ok()) return s;
  }
  int page_size = request->page_size();
  if (page_size < 0 || page_size > kMaxPageSize) {
    return Invalid(absl::StrCat("page_size ", page_size, " is outside 0..", kMaxPageSize,
                                " (0 = default ", kDefaultPageSize, ")"));
  }
  if (page_size == 0) page_size = kDefaultPageSize;
  size_t offset = 0;
  if (!request->page_token().empty() && !absl::SimpleAtoi(request->page_token(), &offset)) {
    return Invalid("page_token is not one returned by ListCalls");
  }
  CallFilter filter;
  filter.incident_id = request->incident_id();
  filter.number = request->number();
  if (request->has_since()) filter.since = FromProtoTime(request->since());
  if (request->has_until()) filter.until = FromProtoTime(request->until());
  if (request->has_since() && request->has_until() && filter.until < filter.since) {
    return Invalid("until is before since");
  }
  absl::StatusOr<std::vector<CallRecord>> calls = log_->List(filter);
  if (!calls.ok()) return ToGrpcStatus(calls.status());
  for (size_t i = offset; i < calls->size() && i < offset + page_size; ++i) {
    *response->add_calls() = (*calls)[i];
  }
  if (offset + page_size < calls->size()) {
    response->set_next_page_token(absl::StrCat(offset + page_size));
  }
  return grpc::Status::OK;
}

grpc::Status TelephonyService::GetCallLogCsv(grpc::ServerContext*,
                                             const ::telephony::v1::GetCallLogCsvRequest*,
                                             ::telephony::v1::GetCallLogCsvResponse* response) {
  absl::StatusOr<std::string> csv = log_->ReadCsv();
  if (!csv.ok()) return ToGrpcStatus(csv.status());
  response->set_csv(*std::move(csv));
  return grpc::Status::OK;
}

}  // namespace remediator::telephony
