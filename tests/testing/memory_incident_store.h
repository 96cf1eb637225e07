// MemoryIncidentStore: the IncidentStore contract (server/remediator/core/incident_store.h) held
// in memory, for unit tests that need no database. It follows the same record rules as the
// SQLite and PostgreSQL stores (core/incident_records.h) and passes the same contract suite
// (tests/server/remediator/store/incident_store_contract_test.cc). Thread-safe: one mutex, so
// every method is atomic.
//
// Error injection: FailNext(status) makes the next `count` calls fail with `status` and change
// nothing.
#ifndef REMEDIATOR_TESTS_TESTING_MEMORY_INCIDENT_STORE_H_
#define REMEDIATOR_TESTS_TESTING_MEMORY_INCIDENT_STORE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/remediator/core/incident_store.h"

namespace remediator::testing {

class MemoryIncidentStore final : public IncidentStore {
 public:
  void FailNext(absl::Status status, int count = 1);

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
  absl::Status Injected() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<IncidentClaim*> Find(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  IncidentClaim Take(IncidentClaim& claim, const ClaimRequest& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
  int fail_count_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t created_ ABSL_GUARDED_BY(mu_) = 0;
  // Incidents with their claims (owner empty when unclaimed), by id.
  std::map<std::string, IncidentClaim> incidents_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> live_by_fingerprint_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::FixAttempt> attempts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::PullRequest> pull_requests_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> pull_request_by_incident_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, telephony::v1::CallRecord> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> call_by_key_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> values_ ABSL_GUARDED_BY(mu_);
};

}  // namespace remediator::testing

#endif  // REMEDIATOR_TESTS_TESTING_MEMORY_INCIDENT_STORE_H_
