#include "server/telephony/core/call_flow.h"

#include <fstream>
#include <mutex>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/file_util.h"
#include "server/common/logging.h"
#include "server/common/status_macros.h"
#include "server/common/time_util.h"
#include "server/telephony/core/number.h"

namespace remediator::telephony {
namespace {

std::string NewCallId() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  return absl::StrFormat("%016x", rng());
}

}  // namespace

absl::StatusOr<HeardAnswer> HearAnswer(Stt& stt, const Audio& audio, const std::string& language) {
  HeardAnswer out;
  if (!HasSpeech(audio)) {
    out.decision = DecideAnswer("");
    return out;
  }
  ASSIGN_OR_RETURN(SttResult result, stt.Transcribe(audio, language));
  out.transcript = result.transcript;
  out.decision = DecideAnswer(result.transcript, result.match_score);
  return out;
}

CallFlow::CallFlow(SpeechDrafter* drafter, Tts* tts, Stt* stt, Dialer* dialer, CallLog* log,
                   Clock* clock, CallFlowOptions options)
    : drafter_(drafter),
      tts_(tts),
      stt_(stt),
      dialer_(dialer),
      log_(log),
      clock_(clock),
      options_(std::move(options)) {}

absl::StatusOr<Audio> CallFlow::Speak(const std::string& text, const std::string& language) {
  TtsRequest request;
  request.text = text;
  request.language = language;
  request.voice = options_.voice;
  request.words_per_minute = options_.words_per_minute;
  ASSIGN_OR_RETURN(Audio audio, tts_->Synthesize(request));
  return Resample(audio, dialer_->sample_rate());
}

absl::StatusOr<CallRecord> CallFlow::PlaceCall(const ::telephony::v1::PlaceCallRequest& request) {
  RETURN_IF_ERROR(ValidateNumber(request.number()));
  ASSIGN_OR_RETURN(std::string language, NormalizeLanguage(request.language()));
  if (request.message().empty() && !request.has_incident()) {
    return absl::InvalidArgumentError("PlaceCall needs an incident or a message to speak");
  }
  const std::string& key = request.idempotency_key();
  if (key.empty()) return PlaceCallLocked(request, language);
  {
    // One call per key at a time; a concurrent retry waits and then finds the record.
    absl::MutexLock lock(&mu_);
    auto free = [this, &key]()
                    ABSL_SHARED_LOCKS_REQUIRED(mu_) { return in_flight_keys_.count(key) == 0; };
    mu_.Await(absl::Condition(&free));
    in_flight_keys_.insert(key);
  }
  absl::StatusOr<CallRecord> result = [&]() -> absl::StatusOr<CallRecord> {
    ASSIGN_OR_RETURN(std::optional<CallRecord> previous, log_->FindByIdempotencyKey(key));
    if (previous.has_value()) {
      LogInfo("PlaceCall retried; returning the first call", {{"call_id", previous->call_id()}});
      return *previous;
    }
    return PlaceCallLocked(request, language);
  }();
  absl::MutexLock lock(&mu_);
  in_flight_keys_.erase(key);
  return result;
}

absl::StatusOr<CallRecord> CallFlow::PlaceCallLocked(
    const ::telephony::v1::PlaceCallRequest& request, const std::string& language) {
  std::string speech;
  if (!request.message().empty()) {
    speech = SanitizeForSpeech(request.message(), language);
    if (speech.empty()) return absl::InvalidArgumentError("message is empty after redaction");
  } else {
    ASSIGN_OR_RETURN(DraftedSpeech drafted, drafter_->Draft(request.incident(), language));
    speech = drafted.text;
  }
  ASSIGN_OR_RETURN(Audio prompt, Speak(speech, language));

  CallRecord record;
  record.set_call_id(NewCallId());
  record.set_number(request.number());
  record.set_speech(speech);
  record.set_incident_id(request.incident().incident_id());
  record.set_idempotency_key(request.idempotency_key());
  record.set_dialer(dialer_->name());
  const absl::Time start = clock_->Now();
  *record.mutable_call_time() = ToProtoTime(start);
  record.set_decision(::telephony::v1::DECISION_UNCLEAR);

  DialOptions dial;
  dial.first_prompt = prompt;
  dial.connect_timeout = options_.connect_timeout;
  dial.ring_timeout = options_.ring_timeout;
  LogInfo("dialing", {{"call_id", record.call_id()}, {"number", request.number()}});
  absl::StatusOr<std::unique_ptr<Call>> call_or = dialer_->Dial(request.number(), dial);
  Audio last_answer;
  if (!call_or.ok()) {
    record.set_outcome(::telephony::v1::CALL_OUTCOME_FAILED);
    record.set_error(std::string(call_or.status().message()));
  } else {
    std::unique_ptr<Call> call = *std::move(call_or);
    record.set_outcome(call->outcome());
    record.set_error(call->error());
    if (call->outcome() == ::telephony::v1::CALL_OUTCOME_ANSWERED) {
      std::string transcripts;
      for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
        Audio to_play = prompt;
        if (attempt > 1) {
          // A failure after the call was answered still ends in a recorded call.
          absl::StatusOr<Audio> reprompt = Speak(RepromptText(language), language);
          if (!reprompt.ok()) {
            record.set_error(
                absl::StrCat("cannot speak the question again: ", reprompt.status().message()));
            break;
          }
          to_play = *std::move(reprompt);
        }
        record.set_attempts(attempt);
        absl::StatusOr<Audio> answer = call->PlayAndListen(to_play, options_.listen);
        if (!answer.ok()) {
          record.set_error(std::string(answer.status().message()));
          break;
        }
        last_answer = *answer;
        absl::StatusOr<HeardAnswer> heard_or = HearAnswer(*stt_, *answer, language);
        if (!heard_or.ok()) {
          record.set_error(
              absl::StrCat("cannot transcribe the answer: ", heard_or.status().message()));
          break;
        }
        const HeardAnswer& heard = *heard_or;
        if (!transcripts.empty()) transcripts += " | ";
        transcripts += heard.transcript;
        record.set_transcript(transcripts);
        record.set_decision(heard.decision.decision);
        record.set_confidence(heard.decision.confidence);
        if (heard.decision.decision != ::telephony::v1::DECISION_UNCLEAR) break;
      }
    }
    call->Hangup();
    if (!options_.audio_dir.empty() && !call->recording_path().empty()) {
      record.set_answer_audio_path(call->recording_path());
    }
  }
  record.set_can_intervene(record.decision() == ::telephony::v1::DECISION_YES &&
                           record.outcome() == ::telephony::v1::CALL_OUTCOME_ANSWERED);
  *record.mutable_duration() = ToProtoDuration(clock_->Now() - start);
  if (!options_.audio_dir.empty()) {
    if (MakeDirectories(options_.audio_dir).ok()) {
      std::string prompt_path =
          absl::StrCat(options_.audio_dir, "/", record.call_id(), "-prompt.wav");
      if (WriteFileAtomically(prompt_path, EncodeWav(prompt)).ok()) {
        record.set_prompt_audio_path(prompt_path);
      }
      if (!last_answer.samples.empty()) {
        std::string answer_path =
            absl::StrCat(options_.audio_dir, "/", record.call_id(), "-answer.wav");
        if (WriteFileAtomically(answer_path, EncodeWav(last_answer)).ok()) {
          record.set_answer_audio_path(answer_path);
        }
      }
    }
  }
  RETURN_IF_ERROR(log_->Append(record));
  LogInfo("call recorded", {{"call_id", record.call_id()},
                            {"outcome", ::telephony::v1::CallOutcome_Name(record.outcome())},
                            {"decision", ::telephony::v1::Decision_Name(record.decision())}});
  return record;
}

}  // namespace remediator::telephony
