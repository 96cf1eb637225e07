// CountingIncidentStore forwards every call to another IncidentStore and counts the calls that
// failed for a reason other than the answer itself (NotFound, InvalidArgument,
// FailedPrecondition and AlreadyExists are answers; Internal, Unavailable, ResourceExhausted,
// DataLoss... are store errors), by operation: remediator_store_errors_total{operation}.
// Thread-safe when the wrapped store is.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_SERVICE_COUNTING_INCIDENT_STORE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_SERVICE_COUNTING_INCIDENT_STORE_H_

#include "server/metrics/registry.h"
#include "server/remediator/core/incident_store.h"

namespace remediator {

class CountingIncidentStore final : public IncidentStore {
 public:
  // Both borrowed; registers its counter family in `registry`.
  CountingIncidentStore(IncidentStore& store, metrics::Registry& registry);

  absl::StatusOr<std::vector<RecordedIncident>> RecordDetections(
      const std::vector<DetectionToRecord>& detections) override;
  absl::StatusOr<v1::Incident> GetIncident(const std::string& id) override;
  absl::StatusOr<IncidentPage> ListIncidents(const IncidentFilter& filter) override;
  absl::StatusOr<v1::Incident> TransitionIncident(const std::string& id, v1::IncidentState from,
                                                  v1::IncidentState to, const std::string& note,
                                                  absl::Time time) override;
  absl::Status LinkIncident(const std::string& id, const std::string& fix_attempt_id,
                            const std::string& pull_request_id,
                            const std::string& call_id) override;
  absl::Status PutFixAttempt(const v1::FixAttempt& attempt) override;
  absl::StatusOr<v1::FixAttempt> GetFixAttempt(const std::string& id) override;
  absl::StatusOr<std::vector<v1::FixAttempt>> ListFixAttempts(
      const std::string& incident_id) override;
  absl::StatusOr<v1::PullRequest> PutPullRequest(const v1::PullRequest& pull_request) override;
  absl::Status UpdatePullRequest(const v1::PullRequest& pull_request) override;
  absl::StatusOr<v1::PullRequest> GetPullRequest(const std::string& id) override;
  absl::StatusOr<PullRequestPage> ListPullRequests(const std::string& incident_id, int page_size,
                                                   const std::string& page_token) override;
  absl::StatusOr<telephony::v1::CallRecord> PutCall(const telephony::v1::CallRecord& call) override;
  absl::StatusOr<CallPage> ListCalls(const CallFilter& filter) override;
  absl::StatusOr<std::optional<std::string>> GetValue(const std::string& key) override;
  absl::Status PutValue(const std::string& key, const std::string& value) override;
  absl::StatusOr<IncidentClaim> ClaimIncident(const std::string& id,
                                              const ClaimRequest& request) override;
  absl::StatusOr<std::optional<IncidentClaim>> ClaimNextIncident(
      const std::vector<v1::IncidentState>& states, const ClaimRequest& request) override;
  absl::StatusOr<IncidentClaim> RenewLease(const std::string& id,
                                           const ClaimRequest& request) override;
  absl::Status ReleaseClaim(const std::string& id, const std::string& owner) override;

 private:
  template <typename T>
  T Count(const char* operation, T result) {
    Observe(operation, StatusOf(result));
    return result;
  }
  static const absl::Status& StatusOf(const absl::Status& status) { return status; }
  template <typename V>
  static absl::Status StatusOf(const absl::StatusOr<V>& result) {
    return result.status();
  }
  void Observe(const char* operation, const absl::Status& status);

  IncidentStore& store_;
  metrics::CounterFamily& errors_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_SERVICE_COUNTING_INCIDENT_STORE_H_
