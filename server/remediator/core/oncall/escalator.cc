#include "server/remediator/core/oncall/escalator.h"

#include <algorithm>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/logging.h"
#include "server/common/status_macros.h"
#include "server/common/time_util.h"
#include "server/remediator/core/enum_names.h"

namespace remediator::oncall {

telephony::v1::IncidentSummary SummarizeForSpeech(const v1::Incident& incident,
                                                  const v1::FixAttempt* last_attempt) {
  telephony::v1::IncidentSummary summary;
  summary.set_incident_id(incident.id());
  summary.set_cluster(incident.workload().cluster());
  summary.set_namespace_(incident.workload().namespace_());
  summary.set_workload_kind(incident.workload().kind());
  summary.set_workload_name(incident.workload().name());
  summary.set_container(incident.workload().container());
  summary.set_error_class(ErrorClassName(incident.error_class()));
  summary.set_summary(incident.summary());
  summary.set_severity(incident.severity());
  if (last_attempt != nullptr) {
    if (!last_attempt->strategy().empty()) {
      summary.set_what_was_tried(last_attempt->explanation());
    }
    summary.set_why_it_failed(last_attempt->error());
  } else if (!incident.fixable_by_manifest()) {
    summary.set_why_it_failed("no change to the workload's manifest can fix this failure");
  }
  return summary;
}

namespace {

constexpr char kLocalFailureSuffix[] = "/not-placed-";

// A record of a PlaceCall that failed before the Telephony service answered.
bool IsLocalFailure(const telephony::v1::CallRecord& call) {
  return absl::StrContains(call.call_id(), kLocalFailureSuffix);
}

}  // namespace

absl::Duration Escalator::NextDelay(
    const std::vector<telephony::v1::CallRecord>& calls_newest_first) const {
  int failures = 0;
  for (const auto& c : calls_newest_first) {
    if (c.outcome() != telephony::v1::CALL_OUTCOME_FAILED) break;
    ++failures;
  }
  if (failures == 0) return policy_.escalation_delay;
  absl::Duration delay = kFirstRetryDelay;
  for (int i = 1; i < failures && delay < kMaxRetryDelay; ++i) delay *= 2;
  return std::min({delay, kMaxRetryDelay, policy_.escalation_delay});
}

absl::StatusOr<StepResult> Escalator::Step(const v1::Incident& incident) {
  const absl::Time now = clock_.Now();
  CallFilter filter;
  filter.incident_id = incident.id();
  filter.page_size = 1000;
  ASSIGN_OR_RETURN(CallPage page, store_.ListCalls(filter));
  std::vector<telephony::v1::CallRecord>& calls = page.calls;  // newest first
  auto finish = [&](v1::IncidentState to, const std::string& note) -> absl::StatusOr<StepResult> {
    RETURN_IF_ERROR(
        store_.TransitionIncident(incident.id(), v1::INCIDENT_STATE_ESCALATING, to, note, now)
            .status());
    return to == v1::INCIDENT_STATE_ACKNOWLEDGED ? StepResult::kAcknowledged
                                                 : StepResult::kUnanswered;
  };
  for (const auto& call : calls) {
    if (call.can_intervene()) {
      return finish(v1::INCIDENT_STATE_ACKNOWLEDGED,
                    absl::StrCat("answered yes on ", call.number()));
    }
  }
  const int made = static_cast<int>(calls.size());
  if (made >= policy_.max_calls_per_incident) {
    const bool all_failed = std::all_of(calls.begin(), calls.end(), [](const auto& c) {
      return c.outcome() == telephony::v1::CALL_OUTCOME_FAILED;
    });
    if (all_failed) {
      LogError("escalation failed: no call could be placed",
               {{"incident", incident.id()},
                {"attempts", std::to_string(made)},
                {"last_error", calls.front().error()}});
    }
    return finish(v1::INCIDENT_STATE_UNANSWERED,
                  all_failed ? absl::StrCat("escalation failed: ", made,
                                            " call attempts could not be placed (last error: ",
                                            calls.front().error(), ")")
                             : absl::StrCat(made, " calls made, nobody could intervene"));
  }
  if (!calls.empty() && FromProtoTime(calls.front().call_time()) + NextDelay(calls) > now) {
    return StepResult::kWaiting;
  }
  if (policy_.Quiet(now) &&
      SeverityRank(incident.severity()) < SeverityRank(policy_.quiet_min_severity)) {
    return StepResult::kWaiting;
  }
  const Rotation* rotation = policy_.OnDuty(now);
  if (rotation == nullptr) return StepResult::kWaiting;
  // The chain continues after the people already called about this incident.
  std::vector<const Person*> chain;
  for (const std::string& name : rotation->people) {
    const Person* person = policy_.Find(name);
    // A call that could not be placed did not reach the person: they stay next in line.
    bool called = std::any_of(calls.begin(), calls.end(), [&](const auto& c) {
      return c.number() == person->number && c.outcome() != telephony::v1::CALL_OUTCOME_FAILED;
    });
    if (!called) chain.push_back(person);
  }
  const Person* next = nullptr;
  for (const Person* person : chain) {
    CallFilter recent;
    recent.number = person->number;
    recent.since = now - absl::Hours(1);
    recent.page_size = 1000;
    ASSIGN_OR_RETURN(CallPage last_hour, store_.ListCalls(recent));
    if (static_cast<int>(last_hour.calls.size()) < policy_.max_calls_per_person_per_hour) {
      next = person;
      break;
    }
    LogWarning("on-call person skipped: call cap reached",
               {{"person", person->name}, {"incident", incident.id()}});
  }
  if (next == nullptr) {
    return finish(v1::INCIDENT_STATE_UNANSWERED,
                  absl::StrCat("everyone in rotation ", rotation->name,
                               " was called or is over the call cap"));
  }

  std::optional<v1::FixAttempt> last_attempt;
  if (!incident.last_fix_attempt_id().empty()) {
    absl::StatusOr<v1::FixAttempt> attempt = store_.GetFixAttempt(incident.last_fix_attempt_id());
    if (attempt.ok()) last_attempt = *std::move(attempt);
  }
  telephony::v1::PlaceCallRequest request;
  request.set_number(next->number);
  *request.mutable_incident() =
      SummarizeForSpeech(incident, last_attempt ? &*last_attempt : nullptr);
  // Failures recorded here are not calls: the retry keeps the key, so a call that did ring
  // before the error surfaced is returned by the Telephony service instead of ringing again.
  const int local_failures = static_cast<int>(
      std::count_if(calls.begin(), calls.end(), [](const auto& c) { return IsLocalFailure(c); }));
  request.set_idempotency_key(absl::StrCat(incident.id(), "/call-", made - local_failures + 1));
  LogInfo("calling on-call person",
          {{"incident", incident.id()}, {"person", next->name}, {"rotation", rotation->name}});
  absl::StatusOr<telephony::v1::CallRecord> placed = phone_.PlaceCall(request);
  if (absl::IsCancelled(placed.status())) {
    // Shutting down: not an attempt; the next start asks again with the same key.
    return placed.status();
  }
  if (!placed.ok()) {
    // The failure is an attempt like any call: stored, counted against the caps, and the next
    // try waits a capped exponential backoff (NextDelay) instead of hammering the service.
    LogWarning("call could not be placed", {{"incident", incident.id()},
                                            {"person", next->name},
                                            {"attempt", std::to_string(made + 1)},
                                            {"error", std::string(placed.status().message())}});
    telephony::v1::CallRecord failed;
    failed.set_call_id(
        absl::StrCat(request.idempotency_key(), kLocalFailureSuffix, local_failures + 1));
    failed.set_incident_id(incident.id());
    failed.set_number(next->number);
    *failed.mutable_call_time() = ToProtoTime(now);
    failed.set_outcome(telephony::v1::CALL_OUTCOME_FAILED);
    failed.set_error(absl::StrCat(absl::StatusCodeToString(placed.status().code()), ": ",
                                  placed.status().message()));
    ASSIGN_OR_RETURN(failed, store_.PutCall(failed));
    RETURN_IF_ERROR(store_.LinkIncident(incident.id(), "", "", failed.call_id()));
    return StepResult::kFailed;
  }
  telephony::v1::CallRecord record = *std::move(placed);
  if (record.incident_id().empty()) record.set_incident_id(incident.id());
  if (record.idempotency_key().empty()) record.set_idempotency_key(request.idempotency_key());
  ASSIGN_OR_RETURN(record, store_.PutCall(record));
  RETURN_IF_ERROR(store_.LinkIncident(incident.id(), "", "", record.call_id()));
  LogInfo("call finished", {{"incident", incident.id()},
                            {"person", next->name},
                            {"can_intervene", record.can_intervene() ? "true" : "false"},
                            {"transcript", record.transcript()}});
  if (record.can_intervene()) {
    RETURN_IF_ERROR(
        store_
            .TransitionIncident(
                incident.id(), v1::INCIDENT_STATE_ESCALATING, v1::INCIDENT_STATE_ACKNOWLEDGED,
                absl::StrCat("answered yes by ", next->name, " (", next->number, ")"), clock_.Now())
            .status());
  }
  return StepResult::kCalled;
}

}  // namespace remediator::oncall
