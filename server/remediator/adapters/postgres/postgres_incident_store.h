// PostgresIncidentStore keeps the IncidentStore in a PostgreSQL database (libpq), so that
// several Remediator replicas share one set of incidents. It applies the same numbered
// migrations as SqliteIncidentStore, written in PostgreSQL's dialect (BIGINT for nanosecond
// times, BYTEA for the protobuf records, ON CONFLICT for SQLite's INSERT OR REPLACE), and keeps
// the same contract (server/remediator/core/incident_store.h).
//
// What SQLite gets from its single writer, PostgreSQL gets explicitly:
//   - migrations run under a transaction-scoped advisory lock, so replicas starting together
//     migrate once;
//   - read-modify-write steps (transitions, joins, links) lock the incident row (FOR UPDATE);
//   - detections of one fingerprint are serialised by an advisory lock on the fingerprint, so
//     two replicas never open two incidents for one failure;
//   - ClaimNextIncident is one UPDATE over SELECT ... FOR UPDATE SKIP LOCKED;
//   - pull requests and calls are exactly-once through unique indexes and
//     INSERT ... ON CONFLICT DO NOTHING.
// Thread-safe: each call borrows a connection from a small pool.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_POSTGRES_POSTGRES_INCIDENT_STORE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_POSTGRES_POSTGRES_INCIDENT_STORE_H_

#include <memory>
#include <string>

#include "server/remediator/core/incident_store.h"

namespace remediator {
namespace pg {
class ConnectionPool;
class Connection;
}  // namespace pg

struct PostgresStoreOptions {
  // libpq connection URI or string, e.g. postgres://remediator@db.internal/remediator or
  // postgresql:///remediator?host=/run/postgresql. A password in it is never logged.
  std::string url;
  // Connections kept open; calls beyond this many wait for a free one.
  int connections = 4;
};

class PostgresIncidentStore final : public IncidentStore {
 public:
  // The number of schema migrations this build knows (the same as SqliteIncidentStore's).
  static int LatestSchemaVersion();

  // Connects and migrates the database to the latest schema. Unavailable when the server cannot
  // be reached; FailedPrecondition when the database's schema is newer than this build.
  static absl::StatusOr<std::unique_ptr<PostgresIncidentStore>> Open(
      const PostgresStoreOptions& options);

  // For migration tests: applies only the first `migrations` migrations.
  static absl::StatusOr<std::unique_ptr<PostgresIncidentStore>> OpenAtVersionForTesting(
      const PostgresStoreOptions& options, int migrations);

  ~PostgresIncidentStore() override;

  // The schema version recorded in the database.
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
  explicit PostgresIncidentStore(std::unique_ptr<pg::ConnectionPool> pool);
  static absl::StatusOr<std::unique_ptr<PostgresIncidentStore>> OpenWithMigrations(
      const PostgresStoreOptions& options, int migrations);
  // Explains why no row changed in a claim step: NotFound, or who holds the incident.
  absl::Status ClaimRefusal(pg::Connection& conn, const std::string& id, const std::string& owner,
                            bool taking);

  std::unique_ptr<pg::ConnectionPool> pool_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_POSTGRES_POSTGRES_INCIDENT_STORE_H_
