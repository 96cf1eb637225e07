// Escalator phones the on-call chain about an incident in state escalating, one call per step:
// the first person of the rotation on duty, then the next one (after the policy's delay) when
// the answer was no, unclear or there was no answer, until someone says yes (the incident becomes
// acknowledged) or the chain or the call cap is exhausted (unanswered). Caps per incident and per
// person per hour, and quiet hours by severity, are the policy's.
//
// Every call carries the idempotency key "<incident id>/call-<n>": after a crash the same step
// asks the Telephony service for the same call, which returns the first one instead of ringing
// again. Calls are stored and linked to the incident. A call that cannot be placed (Telephony
// down) is stored too, as a failed attempt: it counts against the caps, the next try waits a
// capped exponential backoff (10 s, 20 s, 40 s... at most 5 min and at most the escalation
// delay), the same person is tried again, and when the cap is reached the incident ends
// unanswered with "escalation failed" and the last error.
// Thread-compatible: the pipeline runs one step at a time.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_ONCALL_ESCALATOR_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_ONCALL_ESCALATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/common/clock.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/oncall/oncall_policy.h"
#include "server/remediator/core/phone.h"

namespace remediator::oncall {

// What a step did.
enum class StepResult {
  kCalled,        // placed a call; the incident may have become acknowledged
  kWaiting,       // the delay before the next call, or quiet hours: nothing to do now
  kAcknowledged,  // someone said yes (now or before): incident acknowledged
  kUnanswered,    // the chain or the cap is exhausted: incident unanswered
  kFailed,        // the call could not be placed: recorded as a failed attempt, retried later
};

class Escalator {
 public:
  // All borrowed.
  Escalator(IncidentStore& store, Phone& phone, const OnCallPolicy& policy, Clock& clock)
      : store_(store), phone_(phone), policy_(policy), clock_(clock) {}

  // One step for `incident` (which must be escalating). Errors are the store's or the phone's
  // transport errors (the step is then retried later with the same idempotency key).
  absl::StatusOr<StepResult> Step(const v1::Incident& incident);

  static constexpr absl::Duration kFirstRetryDelay = absl::Seconds(10);
  static constexpr absl::Duration kMaxRetryDelay = absl::Minutes(5);

 private:
  // How long after the newest call the next one may be placed.
  absl::Duration NextDelay(const std::vector<telephony::v1::CallRecord>& calls_newest_first) const;

  IncidentStore& store_;
  Phone& phone_;
  const OnCallPolicy& policy_;
  Clock& clock_;
};

// What the Telephony service needs to explain `incident` aloud, with what the last fix attempt
// tried and why it did not work when there is one.
telephony::v1::IncidentSummary SummarizeForSpeech(const v1::Incident& incident,
                                                  const v1::FixAttempt* last_attempt = nullptr);

}  // namespace remediator::oncall

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_ONCALL_ESCALATOR_H_
