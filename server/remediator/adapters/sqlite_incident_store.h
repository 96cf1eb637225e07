// SqliteIncidentStore keeps the IncidentStore in one SQLite file (WAL mode, so readers do not
// block the writer and a crash loses no committed transaction). The schema is versioned: Open()
// applies the missing migrations in order inside a transaction and records the version, and
// refuses a file written by a newer Remediator.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_SQLITE_INCIDENT_STORE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_SQLITE_INCIDENT_STORE_H_

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "server/remediator/core/incident_store.h"

struct sqlite3;

namespace remediator {

class SqliteIncidentStore final : public IncidentStore {
 public:
  // The number of schema migrations this build knows.
  static int LatestSchemaVersion();

  // Opens (creating if needed) the database at `path` and migrates it to the latest schema.
  // FailedPrecondition when the file's schema is newer than this build; Internal with SQLite's
  // message for an unreadable or corrupt file.
  static absl::StatusOr<std::unique_ptr<SqliteIncidentStore>> Open(const std::string& path);

  // For migration tests: opens and applies only the first `migrations` migrations.
  static absl::StatusOr<std::unique_ptr<SqliteIncidentStore>> OpenAtVersionForTesting(
      const std::string& path, int migrations);

  ~SqliteIncidentStore() override;

  // The schema version recorded in the file.
  absl::StatusOr<int> SchemaVersion();

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
  explicit SqliteIncidentStore(sqlite3* db, std::string path);
  static absl::StatusOr<std::unique_ptr<SqliteIncidentStore>> OpenWithMigrations(
      const std::string& path, int migrations);
  absl::Status Migrate(int target_version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::Incident> GetIncidentLocked(const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteIncidentLocked(const v1::Incident& incident, bool insert)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The incident with its claim columns as stored (owner empty when unclaimed).
  absl::StatusOr<IncidentClaim> ReadClaimLocked(const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives `claim` to request.owner until request.now + lease (generation + 1 on a new owner).
  absl::StatusOr<IncidentClaim> WriteClaimLocked(IncidentClaim claim, const ClaimRequest& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
  const std::string path_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_SQLITE_INCIDENT_STORE_H_
