// CallFlow: one PlaceCall from start to end — draft (or take the message), synthesize, dial,
// play, listen, transcribe, decide, ask once more after an unclear answer, hang up, and append
// the record to the call log. Idempotent per key: a retried request with the same
// idempotency_key returns the first call's record without ringing again (also across restarts,
// since the key is stored in the log; concurrent retries wait for the first to finish).
// Thread-safe: calls to different numbers run in parallel.
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_CALL_FLOW_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_CALL_FLOW_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/common/clock.h"
#include "server/telephony/core/answer_decider.h"
#include "server/telephony/core/call_log.h"
#include "server/telephony/core/dialer.h"
#include "server/telephony/core/speech_drafter.h"
#include "server/telephony/core/stt.h"
#include "server/telephony/core/tts.h"
#include "telephony/v1/telephony.pb.h"

namespace remediator::telephony {

struct CallFlowOptions {
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration ring_timeout = absl::Seconds(30);
  ListenOptions listen;
  // 2: ask once more after an unclear answer.
  int max_attempts = 2;
  // When set, the prompt and answer audio of each call are kept there as WAV files.
  std::string audio_dir;
  // Voice settings passed to the TTS.
  std::string voice;
  int words_per_minute = 0;
};

// Transcribes and decides (shared by PlaceCall and the Transcribe RPC).
struct HeardAnswer {
  std::string transcript;
  AnswerDecision decision;
};
absl::StatusOr<HeardAnswer> HearAnswer(Stt& stt, const Audio& audio, const std::string& language);

class CallFlow {
 public:
  // Everything is borrowed and must outlive the flow.
  CallFlow(SpeechDrafter* drafter, Tts* tts, Stt* stt, Dialer* dialer, CallLog* log, Clock* clock,
           CallFlowOptions options);

  // InvalidArgument for a bad number, neither incident nor message, an unsupported language.
  // A call that was not answered is not an error: its record says busy / no_answer / failed.
  // Errors of the log itself (cannot append) are returned.
  absl::StatusOr<CallRecord> PlaceCall(const ::telephony::v1::PlaceCallRequest& request);

 private:
  absl::StatusOr<CallRecord> PlaceCallLocked(const ::telephony::v1::PlaceCallRequest& request,
                                             const std::string& language);
  absl::StatusOr<Audio> Speak(const std::string& text, const std::string& language);

  SpeechDrafter* drafter_;
  Tts* tts_;
  Stt* stt_;
  Dialer* dialer_;
  CallLog* log_;
  Clock* clock_;
  CallFlowOptions options_;

  absl::Mutex mu_;
  std::set<std::string> in_flight_keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_CALL_FLOW_H_
