#include "server/telephony/service/telephony_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/grpc_status.h"
#include "server/common/logging.h"
#include "server/common/time_util.h"
#include "server/telephony/core/limits.h"

namespace remediator::telephony {
namespace {

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

}  // namespace

grpc::Status TelephonyService::DraftSpeech(grpc::ServerContext* context,
                                           const ::telephony::v1::DraftSpeechRequest* request,
                                           ::telephony::v1::DraftSpeechResponse* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  if (!request->has_incident()) return Invalid("DraftSpeech needs an incident");
  if (absl::Status s = ValidateIncident(request->incident()); !s.ok()) return ToGrpcStatus(s);
  if (request->language().size() > kMaxLanguageBytes) {
    return Invalid(absl::StrCat("language is ", request->language().size(), " bytes; the limit is ",
                                kMaxLanguageBytes, " bytes"));
  }
  absl::StatusOr<DraftedSpeech> speech = drafter_->Draft(request->incident(), request->language());
  if (!speech.ok()) return ToGrpcStatus(speech.status());
  response->set_text(speech->text);
  response->set_source(speech->source);
  *response->mutable_estimated_duration() = ToProtoDuration(speech->estimated_duration);
  response->set_llm_fallback_reason(speech->llm_fallback_reason);
  return grpc::Status::OK;
}

grpc::Status TelephonyService::Synthesize(grpc::ServerContext* context,
                                          const ::telephony::v1::SynthesizeRequest* request,
                                          ::telephony::v1::SynthesizeResponse* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  absl::StatusOr<std::string> language = NormalizeLanguage(request->language());
  if (!language.ok()) return ToGrpcStatus(language.status());
  std::string text = SanitizeForSpeech(request->text(), *language);
  if (request->text().size() > kMaxTextBytes) {
    return Invalid(absl::StrCat("text is ", request->text().size(), " bytes; the limit is ",
                                kMaxTextBytes, " bytes"));
  }
  if (request->voice().size() > kMaxVoiceBytes) {
    return Invalid(absl::StrCat("voice is ", request->voice().size(), " bytes; the limit is ",
                                kMaxVoiceBytes, " bytes"));
  }
  if (request->words_per_minute() > kMaxWordsPerMinute) {
    return Invalid(absl::StrCat("words_per_minute ", request->words_per_minute(),
                                " is above the limit of ", kMaxWordsPerMinute));
  }
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

grpc::Status TelephonyService::Transcribe(grpc::ServerContext* context,
                                          const ::telephony::v1::TranscribeRequest* request,
                                          ::telephony::v1::TranscribeResponse* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  if (request->audio().empty()) return Invalid("audio is empty: send a WAV file in `audio`");
  if (request->audio().size() > kMaxAudioBytes) {
    return Invalid(absl::StrCat("audio is ", request->audio().size(), " bytes; the limit is ",
                                kMaxAudioBytes, " bytes (a WAV of about a minute)"));
  }
  absl::StatusOr<std::string> language = NormalizeLanguage(request->language());
  if (!language.ok()) return ToGrpcStatus(language.status());
  absl::StatusOr<Audio> audio = DecodeWav(request->audio());
  if (!audio.ok()) return ToGrpcStatus(audio.status());
  if (audio->duration() > kMaxAudioDuration) {
    return Invalid(absl::StrCat("audio lasts ", absl::FormatDuration(audio->duration()),
                                "; the limit is ", absl::FormatDuration(kMaxAudioDuration)));
  }
  absl::StatusOr<HeardAnswer> heard = HearAnswer(*stt_, *audio, *language);
  if (!heard.ok()) return ToGrpcStatus(heard.status());
  response->set_transcript(heard->transcript);
  response->set_decision(heard->decision.decision);
  response->set_confidence(heard->decision.confidence);
  response->set_engine(stt_->engine());
  return grpc::Status::OK;
}

grpc::Status TelephonyService::PlaceCall(grpc::ServerContext* context,
                                         const ::telephony::v1::PlaceCallRequest* request,
                                         ::telephony::v1::CallRecord* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  absl::StatusOr<CallRecord> record = flow_->PlaceCall(*request);
  if (!record.ok()) {
    if (record.status().code() != absl::StatusCode::kInvalidArgument) {
      LogError("PlaceCall failed", {{"error", std::string(record.status().message())}});
    }
    return ToGrpcStatus(record.status());
  }
  *response = *std::move(record);
  return grpc::Status::OK;
}

grpc::Status TelephonyService::ListCalls(grpc::ServerContext* context,
                                         const ::telephony::v1::ListCallsRequest* request,
                                         ::telephony::v1::ListCallsResponse* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
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
  if (request->incident_id().size() > kMaxIncidentFieldBytes || request->number().size() > 256) {
    return Invalid(absl::StrCat("incident_id or number is too long (limits ",
                                kMaxIncidentFieldBytes, " and 256 bytes)"));
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

grpc::Status TelephonyService::GetCallLogCsv(grpc::ServerContext* context,
                                             const ::telephony::v1::GetCallLogCsvRequest*,
                                             ::telephony::v1::GetCallLogCsvResponse* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  absl::StatusOr<std::string> csv = log_->ReadCsv();
  if (!csv.ok()) return ToGrpcStatus(csv.status());
  response->set_csv(*std::move(csv));
  return grpc::Status::OK;
}

}  // namespace remediator::telephony
