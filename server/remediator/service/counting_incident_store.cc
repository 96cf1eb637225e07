#include "server/remediator/service/counting_incident_store.h"

namespace remediator {

CountingIncidentStore::CountingIncidentStore(IncidentStore& store, metrics::Registry& registry)
    : store_(store),
      errors_(registry.AddCounter("remediator_store_errors_total",
                                  "Store operations that failed (not counting answers such as "
                                  "not found), by operation.",
                                  {"operation"})) {}

void CountingIncidentStore::Observe(const char* operation, const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      return;
    default:
      errors_.Get({operation}).Increment();
  }
}

absl::StatusOr<std::vector<RecordedIncident>> CountingIncidentStore::RecordDetections(
    const std::vector<DetectionToRecord>& detections) {
  return Count("record_detections", store_.RecordDetections(detections));
}
absl::StatusOr<v1::Incident> CountingIncidentStore::GetIncident(const std::string& id) {
  return Count("get_incident", store_.GetIncident(id));
}
absl::StatusOr<IncidentPage> CountingIncidentStore::ListIncidents(const IncidentFilter& filter) {
  return Count("list_incidents", store_.ListIncidents(filter));
}
absl::StatusOr<v1::Incident> CountingIncidentStore::TransitionIncident(const std::string& id,
                                                                       v1::IncidentState from,
                                                                       v1::IncidentState to,
                                                                       const std::string& note,
                                                                       absl::Time time) {
  return Count("transition_incident", store_.TransitionIncident(id, from, to, note, time));
}
absl::Status CountingIncidentStore::LinkIncident(const std::string& id,
                                                 const std::string& fix_attempt_id,
                                                 const std::string& pull_request_id,
                                                 const std::string& call_id) {
  return Count("link_incident", store_.LinkIncident(id, fix_attempt_id, pull_request_id, call_id));
}
absl::Status CountingIncidentStore::PutFixAttempt(const v1::FixAttempt& attempt) {
  return Count("put_fix_attempt", store_.PutFixAttempt(attempt));
}
absl::StatusOr<v1::FixAttempt> CountingIncidentStore::GetFixAttempt(const std::string& id) {
  return Count("get_fix_attempt", store_.GetFixAttempt(id));
}
absl::StatusOr<std::vector<v1::FixAttempt>> CountingIncidentStore::ListFixAttempts(
    const std::string& incident_id) {
  return Count("list_fix_attempts", store_.ListFixAttempts(incident_id));
}
absl::StatusOr<v1::PullRequest> CountingIncidentStore::PutPullRequest(
    const v1::PullRequest& pull_request) {
  return Count("put_pull_request", store_.PutPullRequest(pull_request));
}
absl::Status CountingIncidentStore::UpdatePullRequest(const v1::PullRequest& pull_request) {
  return Count("update_pull_request", store_.UpdatePullRequest(pull_request));
}
absl::StatusOr<v1::PullRequest> CountingIncidentStore::GetPullRequest(const std::string& id) {
  return Count("get_pull_request", store_.GetPullRequest(id));
}
absl::StatusOr<PullRequestPage> CountingIncidentStore::ListPullRequests(
    const std::string& incident_id, int page_size, const std::string& page_token) {
  return Count("list_pull_requests", store_.ListPullRequests(incident_id, page_size, page_token));
}
absl::StatusOr<telephony::v1::CallRecord> CountingIncidentStore::PutCall(
    const telephony::v1::CallRecord& call) {
  return Count("put_call", store_.PutCall(call));
}
absl::StatusOr<CallPage> CountingIncidentStore::ListCalls(const CallFilter& filter) {
  return Count("list_calls", store_.ListCalls(filter));
}
absl::StatusOr<std::optional<std::string>> CountingIncidentStore::GetValue(const std::string& key) {
  return Count("get_value", store_.GetValue(key));
}
absl::Status CountingIncidentStore::PutValue(const std::string& key, const std::string& value) {
  return Count("put_value", store_.PutValue(key, value));
}
absl::StatusOr<IncidentClaim> CountingIncidentStore::ClaimIncident(const std::string& id,
                                                                   const ClaimRequest& request) {
  return Count("claim_incident", store_.ClaimIncident(id, request));
}
absl::StatusOr<std::optional<IncidentClaim>> CountingIncidentStore::ClaimNextIncident(
    const std::vector<v1::IncidentState>& states, const ClaimRequest& request) {
  return Count("claim_next_incident", store_.ClaimNextIncident(states, request));
}
absl::StatusOr<IncidentClaim> CountingIncidentStore::RenewLease(const std::string& id,
                                                                const ClaimRequest& request) {
  return Count("renew_lease", store_.RenewLease(id, request));
}
absl::Status CountingIncidentStore::ReleaseClaim(const std::string& id, const std::string& owner) {
  // A claim held by someone else is an answer, not a store error.
  absl::Status released = store_.ReleaseClaim(id, owner);
  Observe("release_claim", absl::IsFailedPrecondition(released) ? absl::OkStatus() : released);
  return released;
}

}  // namespace remediator
