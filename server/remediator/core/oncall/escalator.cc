#include "server/remediator/core/oncall/escalator.h"

#include <algorithm>
#include <optional>

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
    return finish(v1::INCIDENT_STATE_UNANSWERED,
                  absl::StrCat(made, " calls made, nobody could intervene"));
  }
  if (!calls.empty() && FromProtoTime(calls.front().call_time()) + policy_.escalation_delay > now) {
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
    bool called = std::any_of(calls.begin(), calls.end(),
                              [&](const auto& c) { return c.number() == person->number; });
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
  request.set_idempotency_key(absl::StrCat(incident.id(), "/call-", made + 1));
  LogInfo("calling on-call person",
          {{"incident", incident.id()}, {"person", next->name}, {"rotation", rotation->name}});
  ASSIGN_OR_RETURN(telephony::v1::CallRecord record, phone_.PlaceCall(request));
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
