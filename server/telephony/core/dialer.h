// Dialer: places one phone call and exchanges audio on it. Implementations: BaresipDialer (SIP,
// a baresip subprocess), TwilioDialer.
//
//   ASSIGN_OR_RETURN(auto call, dialer.Dial(number, options));   // rings, waits for an answer
//   if (call->outcome() != CALL_OUTCOME_ANSWERED) ...             // busy / no_answer / failed
//   ASSIGN_OR_RETURN(Audio answer, call->PlayAndListen(prompt, listen));
//   call->Hangup();
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_DIALER_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_DIALER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/telephony/core/audio.h"
#include "telephony/v1/telephony.pb.h"

namespace remediator::telephony {

using CallOutcome = ::telephony::v1::CallOutcome;

struct DialOptions {
  // The first prompt, already at the dialer's sample rate; played from the moment the call is
  // answered (a dialer may need it before dialing).
  Audio first_prompt;
  // How long to wait for the first sign of life (ringing) before giving up as failed.
  absl::Duration connect_timeout = absl::Seconds(5);
  // How long to let it ring before giving up as no_answer.
  absl::Duration ring_timeout = absl::Seconds(30);
};

struct ListenOptions {
  // After the prompt has been played, listen at most this long.
  absl::Duration window = absl::Seconds(8);
  // Stop early once speech was heard and then this much silence followed.
  absl::Duration end_silence = absl::Milliseconds(1200);
};

// One call. Not thread-safe: one caller drives it. Destruction hangs up and frees everything.
class Call {
 public:
  virtual ~Call() = default;
  // ANSWERED, or why not (NO_ANSWER, BUSY, FAILED); error() says more.
  virtual CallOutcome outcome() const = 0;
  virtual std::string error() const = 0;
  // Time from dialing to the callee picking up (zero when not answered).
  virtual absl::Duration setup_time() const = 0;
  // Plays `prompt` (the first call plays DialOptions::first_prompt and ignores `prompt`), then
  // returns what the callee said while listening (at the dialer's rate). Unavailable when the
  // callee hung up before saying anything.
  virtual absl::StatusOr<Audio> PlayAndListen(const Audio& prompt, const ListenOptions& listen) = 0;
  // Ends the call; idempotent.
  virtual void Hangup() = 0;
  // Where the whole recording (both prompts and answers) was kept, if kept.
  virtual std::string recording_path() const = 0;
};

class Dialer {
 public:
  virtual ~Dialer() = default;
  // Dials `number` (already validated). Returns a Call whose outcome says whether it was
  // answered; an error status only for a local fault (cannot start the SIP agent...).
  // Thread-safe: several calls may be in progress.
  virtual absl::StatusOr<std::unique_ptr<Call>> Dial(const std::string& number,
                                                     const DialOptions& options) = 0;
  // The rate prompts must have, e.g. 8000.
  virtual int sample_rate() const = 0;
  // "sip" or "twilio".
  virtual std::string name() const = 0;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_DIALER_H_
