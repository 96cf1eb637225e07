#include "server/remediator/adapters/postgres/postgres_incident_store.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/common/time_util.h"
#include "server/remediator/adapters/postgres/pg_connection.h"
#include "server/remediator/core/incident_records.h"

namespace remediator {
namespace {

using pg::Connection;
using pg::Params;
using pg::Result;

// Migration i (0-based) takes the schema from version i to i + 1: the same steps as
// SqliteIncidentStore's, in PostgreSQL's dialect (INTEGER is 32-bit here, so times are BIGINT;
// records are BYTEA). Never edit a migration that has shipped; append a new one to both stores.
const char* const kMigrations[] = {
    // 1: the first schema. Records are the API's protobuf messages (column `data`); the other
    // columns exist to index and filter.
    R"sql(
    CREATE TABLE incidents(
      id TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      state INTEGER NOT NULL,
      error_class INTEGER NOT NULL,
      namespace TEXT NOT NULL,
      updated_ns BIGINT NOT NULL,
      data BYTEA NOT NULL);
    -- At most one live (not resolved) incident per fingerprint: this is the dedup rule.
    CREATE UNIQUE INDEX incidents_live_fingerprint ON incidents(fingerprint) WHERE state != 5;
    CREATE INDEX incidents_updated ON incidents(updated_ns DESC, id);
    CREATE TABLE fix_attempts(
      id TEXT PRIMARY KEY,
      incident_id TEXT NOT NULL,
      started_ns BIGINT NOT NULL,
      data BYTEA NOT NULL);
    CREATE INDEX fix_attempts_incident ON fix_attempts(incident_id, started_ns);
    CREATE TABLE pull_requests(
      id TEXT PRIMARY KEY,
      incident_id TEXT NOT NULL UNIQUE,
      created_ns BIGINT NOT NULL,
      data BYTEA NOT NULL);
    CREATE TABLE calls(
      call_id TEXT PRIMARY KEY,
      incident_id TEXT NOT NULL,
      number TEXT NOT NULL,
      call_time_ns BIGINT NOT NULL,
      idempotency_key TEXT,
      data BYTEA NOT NULL);
    CREATE UNIQUE INDEX calls_idempotency ON calls(idempotency_key)
      WHERE idempotency_key IS NOT NULL AND idempotency_key != '';
    CREATE TABLE kv(key TEXT PRIMARY KEY, value BYTEA NOT NULL);
    )sql",
    // 2: filters by state and namespace are the common ListIncidents queries.
    R"sql(
    CREATE INDEX incidents_state ON incidents(state, updated_ns DESC);
    CREATE INDEX incidents_namespace ON incidents(namespace, updated_ns DESC);
    CREATE INDEX calls_incident ON calls(incident_id, call_time_ns DESC);
    )sql",
    // 3: claims, so that several workers (replicas) share the incidents: who holds one, until
    // when (ns on the holder's clock), and how many times it changed hands.
    R"sql(
    ALTER TABLE incidents
      ADD COLUMN claim_owner TEXT NOT NULL DEFAULT '',
      ADD COLUMN claim_expires_ns BIGINT NOT NULL DEFAULT 0,
      ADD COLUMN claim_generation BIGINT NOT NULL DEFAULT 0;
    )sql",
};
constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);

// The advisory lock key that serialises migrations ("remediat" in ASCII).
constexpr int64_t kMigrationLock = 0x72656d6564696174;

int64_t Nanos(absl::Time time) { return absl::ToUnixNanos(time); }

template <typename Message>
absl::StatusOr<Message> Parse(const std::string& bytes, const std::string& what) {
  Message message;
  if (!message.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("stored ", what, " cannot be parsed"));
  }
  return message;
}

// Reads rows of one `data` column as messages; sets *next_token when there is a row beyond
// `page_size` (the query asks for page_size + 1).
template <typename Message>
absl::StatusOr<std::vector<Message>> ParsePage(const Result& rows, int page_size, int64_t offset,
                                               const std::string& what, std::string* next_token) {
  std::vector<Message> messages;
  for (int row = 0; row < rows.rows(); ++row) {
    if (row == page_size) {
      *next_token = std::to_string(offset + page_size);
      break;
    }
    ASSIGN_OR_RETURN(Message message, Parse<Message>(rows.Bytes(row, 0), what));
    messages.push_back(std::move(message));
  }
  return messages;
}

absl::Status WriteIncident(Connection& conn, const v1::Incident& incident, bool insert) {
  const char* sql = insert ? "INSERT INTO incidents(fingerprint, state, error_class, namespace, "
                             "updated_ns, data, id) VALUES($1, $2, $3, $4, $5, $6, $7)"
                           : "UPDATE incidents SET fingerprint = $1, state = $2, error_class = $3, "
                             "namespace = $4, updated_ns = $5, data = $6 WHERE id = $7";
  return conn
      .Exec(sql, Params()
                     .Text(incident.fingerprint())
                     .Int(incident.state())
                     .Int(incident.error_class())
                     .Text(incident.workload().namespace_())
                     .Int(Nanos(FromProtoTime(incident.updated())))
                     .Bytes(incident.SerializeAsString())
                     .Text(incident.id()))
      .status();
}

// The incident, its row locked until the transaction ends.
absl::StatusOr<v1::Incident> LockIncident(Connection& conn, const std::string& id) {
  ASSIGN_OR_RETURN(Result row, conn.Exec("SELECT data FROM incidents WHERE id = $1 FOR UPDATE",
                                         Params().Text(id)));
  if (row.rows() == 0) return absl::NotFoundError(absl::StrCat("no incident \"", id, "\""));
  return Parse<v1::Incident>(row.Bytes(0, 0), "incident");
}

// A claim from a row of (data, claim_owner, claim_expires_ns, claim_generation).
absl::StatusOr<IncidentClaim> ClaimFromRow(const Result& row) {
  IncidentClaim claim;
  ASSIGN_OR_RETURN(claim.incident, Parse<v1::Incident>(row.Bytes(0, 0), "incident"));
  claim.owner = row.Bytes(0, 1);
  claim.expires = absl::FromUnixNanos(row.Int(0, 2));
  claim.generation = row.Int(0, 3);
  return claim;
}

// Takes the incident for $2 until $3; a new owner bumps the generation. Callers add the WHERE.
constexpr char kTakeClaim[] =
    "UPDATE incidents AS i SET claim_generation = i.claim_generation + "
    "CASE WHEN i.claim_owner = $2 THEN 0 ELSE 1 END, claim_owner = $2, claim_expires_ns = $3 ";
constexpr char kClaimReturning[] =
    " RETURNING i.data, i.claim_owner, i.claim_expires_ns, i.claim_generation";

}  // namespace

int PostgresIncidentStore::LatestSchemaVersion() { return kMigrationCount; }

PostgresIncidentStore::PostgresIncidentStore(std::unique_ptr<pg::ConnectionPool> pool)
    : pool_(std::move(pool)) {}

PostgresIncidentStore::~PostgresIncidentStore() = default;

absl::StatusOr<std::unique_ptr<PostgresIncidentStore>> PostgresIncidentStore::Open(
    const PostgresStoreOptions& options) {
  return OpenWithMigrations(options, kMigrationCount);
}

absl::StatusOr<std::unique_ptr<PostgresIncidentStore>>
PostgresIncidentStore::OpenAtVersionForTesting(const PostgresStoreOptions& options,
                                               int migrations) {
  return OpenWithMigrations(options, migrations);
}

absl::StatusOr<std::unique_ptr<PostgresIncidentStore>> PostgresIncidentStore::OpenWithMigrations(
    const PostgresStoreOptions& options, int migrations) {
  ASSIGN_OR_RETURN(auto pool, pg::ConnectionPool::Open(options.url, options.connections));
  auto store = std::unique_ptr<PostgresIncidentStore>(new PostgresIncidentStore(std::move(pool)));
  ASSIGN_OR_RETURN(auto conn, store->pool_->Acquire());
  absl::Status migrated = pg::InTransaction(*conn, [&]() -> absl::Status {
    RETURN_IF_ERROR(
        conn->Exec("SELECT pg_advisory_xact_lock($1)", Params().Int(kMigrationLock)).status());
    RETURN_IF_ERROR(
        conn->Run("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
    ASSIGN_OR_RETURN(Result version, conn->Exec("SELECT version FROM schema_version"));
    const int64_t current = version.rows() == 0 ? 0 : version.Int(0, 0);
    if (current > kMigrationCount) {
      return absl::FailedPreconditionError(
          absl::StrCat("database schema version ", current, " is newer than this build knows (",
                       kMigrationCount, "); upgrade Remediator or use another database"));
    }
    if (current >= migrations) return absl::OkStatus();
    for (int64_t v = current; v < migrations; ++v) {
      absl::Status applied = conn->Run(kMigrations[v]);
      if (!applied.ok()) {
        return absl::InternalError(
            absl::StrCat("migration to schema version ", v + 1, " failed: ", applied.message()));
      }
    }
    RETURN_IF_ERROR(conn->Run("DELETE FROM schema_version"));
    return conn->Exec("INSERT INTO schema_version(version) VALUES($1)", Params().Int(migrations))
        .status();
  });
  RETURN_IF_ERROR(migrated);
  return store;
}

absl::StatusOr<int> PostgresIncidentStore::SchemaVersion() {
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  ASSIGN_OR_RETURN(Result version, conn->Exec("SELECT version FROM schema_version"));
  return version.rows() == 0 ? 0 : static_cast<int>(version.Int(0, 0));
}

absl::StatusOr<std::vector<RecordedIncident>> PostgresIncidentStore::RecordDetections(
    const std::vector<DetectionToRecord>& detections) {
  RETURN_IF_ERROR(ValidateDetections(detections));
  // Sorted, so that two batches take their fingerprint locks in one order and cannot deadlock.
  std::set<std::string> fingerprints;
  for (const auto& d : detections) fingerprints.insert(d.fingerprint);
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  return pg::InTransaction(*conn, [&]() -> absl::StatusOr<std::vector<RecordedIncident>> {
    for (const std::string& fingerprint : fingerprints) {
      RETURN_IF_ERROR(conn->Exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                 Params().Text(fingerprint))
                          .status());
    }
    ASSIGN_OR_RETURN(Result txid, conn->Exec("SELECT txid_current()"));
    std::vector<RecordedIncident> results;
    results.reserve(detections.size());
    for (size_t i = 0; i < detections.size(); ++i) {
      const DetectionToRecord& d = detections[i];
      ASSIGN_OR_RETURN(Result found,
                       conn->Exec("SELECT data FROM incidents WHERE fingerprint = $1 AND "
                                  "state != 5 FOR UPDATE",
                                  Params().Text(d.fingerprint)));
      RecordedIncident result;
      if (found.rows() > 0) {
        ASSIGN_OR_RETURN(result.incident, Parse<v1::Incident>(found.Bytes(0, 0), "incident"));
        JoinDetection(d, &result.incident);
      } else {
        // The transaction id makes the seed unique across replicas without counting rows.
        result.incident =
            NewIncident(d, IncidentIdFromSeed(absl::StrCat(d.fingerprint, "|", Nanos(d.seen), "|",
                                                           txid.Int(0, 0), "|", i)));
        result.created = true;
      }
      RETURN_IF_ERROR(WriteIncident(*conn, result.incident, /*insert=*/result.created));
      results.push_back(std::move(result));
    }
    return results;
  });
}

absl::StatusOr<v1::Incident> PostgresIncidentStore::GetIncident(const std::string& id) {
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  ASSIGN_OR_RETURN(Result row,
                   conn->Exec("SELECT data FROM incidents WHERE id = $1", Params().Text(id)));
  if (row.rows() == 0) return absl::NotFoundError(absl::StrCat("no incident \"", id, "\""));
  return Parse<v1::Incident>(row.Bytes(0, 0), "incident");
}

absl::StatusOr<IncidentPage> PostgresIncidentStore::ListIncidents(const IncidentFilter& filter) {
  ASSIGN_OR_RETURN(int64_t offset, ParsePageToken(filter.page_token));
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(filter.page_size));
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  // Unset filters are bound to values that match everything, so there is one statement.
  ASSIGN_OR_RETURN(Result rows,
                   conn->Exec("SELECT data FROM incidents WHERE ($1 = 0 OR state = $1) AND "
                              "($2 = 0 OR error_class = $2) AND ($3 = '' OR namespace = $3) "
                              "ORDER BY updated_ns DESC, id COLLATE \"C\" LIMIT $4 OFFSET $5",
                              Params()
                                  .Int(filter.state)
                                  .Int(filter.error_class)
                                  .Text(filter.namespace_name)
                                  .Int(page_size + 1)
                                  .Int(offset)));
  IncidentPage page;
  ASSIGN_OR_RETURN(page.incidents, ParsePage<v1::Incident>(rows, page_size, offset, "incident",
                                                           &page.next_page_token));
  return page;
}

absl::StatusOr<v1::Incident> PostgresIncidentStore::TransitionIncident(const std::string& id,
                                                                       v1::IncidentState from,
                                                                       v1::IncidentState to,
                                                                       const std::string& note,
                                                                       absl::Time time) {
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  return pg::InTransaction(*conn, [&]() -> absl::StatusOr<v1::Incident> {
    ASSIGN_OR_RETURN(v1::Incident incident, LockIncident(*conn, id));
    RETURN_IF_ERROR(ApplyTransition(from, to, note, time, &incident));
    RETURN_IF_ERROR(WriteIncident(*conn, incident, /*insert=*/false));
    return incident;
  });
}

absl::Status PostgresIncidentStore::LinkIncident(const std::string& id,
                                                 const std::string& fix_attempt_id,
                                                 const std::string& pull_request_id,
                                                 const std::string& call_id) {
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  return pg::InTransaction(*conn, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Incident incident, LockIncident(*conn, id));
    ApplyLinks(fix_attempt_id, pull_request_id, call_id, &incident);
    return WriteIncident(*conn, incident, /*insert=*/false);
  });
}

absl::Status PostgresIncidentStore::PutFixAttempt(const v1::FixAttempt& attempt) {
  if (attempt.id().empty() || attempt.incident_id().empty()) {
    return absl::InvalidArgumentError("a fix attempt needs an id and an incident_id");
  }
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  return conn
      ->Exec(
          "INSERT INTO fix_attempts(id, incident_id, started_ns, data) VALUES($1, $2, $3, $4) "
          "ON CONFLICT (id) DO UPDATE SET incident_id = excluded.incident_id, "
          "started_ns = excluded.started_ns, data = excluded.data",
          Params()
              .Text(attempt.id())
              .Text(attempt.incident_id())
              .Int(Nanos(FromProtoTime(attempt.started())))
              .Bytes(attempt.SerializeAsString()))
      .status();
}

absl::StatusOr<v1::FixAttempt> PostgresIncidentStore::GetFixAttempt(const std::string& id) {
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  ASSIGN_OR_RETURN(Result row,
                   conn->Exec("SELECT data FROM fix_attempts WHERE id = $1", Params().Text(id)));
  if (row.rows() == 0) return absl::NotFoundError(absl::StrCat("no fix attempt \"", id, "\""));
  return Parse<v1::FixAttempt>(row.Bytes(0, 0), "fix attempt");
}

absl::StatusOr<std::vector<v1::FixAttempt>> PostgresIncidentStore::ListFixAttempts(
    const std::string& incident_id) {
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  ASSIGN_OR_RETURN(Result rows, conn->Exec("SELECT data FROM fix_attempts WHERE incident_id = $1 "
                                           "ORDER BY started_ns, id COLLATE \"C\"",
                                           Params().Text(incident_id)));
  std::string unused;
  return ParsePage<v1::FixAttempt>(rows, rows.rows(), 0, "fix attempt", &unused);
}

absl::StatusOr<v1::PullRequest> PostgresIncidentStore::PutPullRequest(
    const v1::PullRequest& pull_request) {
  if (pull_request.id().empty() || pull_request.incident_id().empty()) {
    return absl::InvalidArgumentError("a pull request needs an id and an incident_id");
  }
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  // The unique index on incident_id decides between racing replicas: the loser inserts
  // nothing (after waiting for the winner to commit) and returns the winner's record.
  ASSIGN_OR_RETURN(Result inserted,
                   conn->Exec("INSERT INTO pull_requests(id, incident_id, created_ns, data) "
                              "VALUES($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                              Params()
                                  .Text(pull_request.id())
                                  .Text(pull_request.incident_id())
                                  .Int(Nanos(FromProtoTime(pull_request.created())))
                                  .Bytes(pull_request.SerializeAsString())));
  if (inserted.affected() == 1) return pull_request;
  ASSIGN_OR_RETURN(Result existing,
                   conn->Exec("SELECT data FROM pull_requests WHERE incident_id = $1",
                              Params().Text(pull_request.incident_id())));
  if (existing.rows() > 0) return Parse<v1::PullRequest>(existing.Bytes(0, 0), "pull request");
  return absl::AlreadyExistsError(
      absl::StrCat("pull request \"", pull_request.id(), "\" exists for another incident"));
}

absl::Status PostgresIncidentStore::UpdatePullRequest(const v1::PullRequest& pull_request) {
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  ASSIGN_OR_RETURN(
      Result updated,
      conn->Exec("UPDATE pull_requests SET data = $1 WHERE id = $2",
                 Params().Bytes(pull_request.SerializeAsString()).Text(pull_request.id())));
  if (updated.affected() == 0) {
    return absl::NotFoundError(absl::StrCat("no pull request \"", pull_request.id(), "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::PullRequest> PostgresIncidentStore::GetPullRequest(const std::string& id) {
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  ASSIGN_OR_RETURN(Result row,
                   conn->Exec("SELECT data FROM pull_requests WHERE id = $1", Params().Text(id)));
  if (row.rows() == 0) return absl::NotFoundError(absl::StrCat("no pull request \"", id, "\""));
  return Parse<v1::PullRequest>(row.Bytes(0, 0), "pull request");
}

absl::StatusOr<PullRequestPage> PostgresIncidentStore::ListPullRequests(
    const std::string& incident_id, int page_size, const std::string& page_token) {
  ASSIGN_OR_RETURN(int64_t offset, ParsePageToken(page_token));
  ASSIGN_OR_RETURN(int size, CheckPageSize(page_size));
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  ASSIGN_OR_RETURN(Result rows,
                   conn->Exec("SELECT data FROM pull_requests WHERE ($1 = '' OR incident_id = $1) "
                              "ORDER BY created_ns DESC, id COLLATE \"C\" LIMIT $2 OFFSET $3",
                              Params().Text(incident_id).Int(size + 1).Int(offset)));
  PullRequestPage page;
  ASSIGN_OR_RETURN(
      page.pull_requests,
      ParsePage<v1::PullRequest>(rows, size, offset, "pull request", &page.next_page_token));
  return page;
}

absl::StatusOr<telephony::v1::CallRecord> PostgresIncidentStore::PutCall(
    const telephony::v1::CallRecord& call) {
  if (call.call_id().empty()) return absl::InvalidArgumentError("a call record needs a call_id");
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  return pg::InTransaction(*conn, [&]() -> absl::StatusOr<telephony::v1::CallRecord> {
    Params params;
    params.Text(call.call_id())
        .Text(call.incident_id())
        .Text(call.number())
        .Int(Nanos(FromProtoTime(call.call_time())))
        .Text(call.idempotency_key())
        .Bytes(call.SerializeAsString());
    // A racing insert with the same idempotency key waits for the other transaction and then
    // inserts nothing; the key's first record is returned.
    ASSIGN_OR_RETURN(Result inserted,
                     conn->Exec("INSERT INTO calls(call_id, incident_id, number, call_time_ns, "
                                "idempotency_key, data) VALUES($1, $2, $3, $4, $5, $6) "
                                "ON CONFLICT DO NOTHING",
                                params));
    if (inserted.affected() == 1) return call;
    if (!call.idempotency_key().empty()) {
      ASSIGN_OR_RETURN(Result existing,
                       conn->Exec("SELECT data FROM calls WHERE idempotency_key = $1",
                                  Params().Text(call.idempotency_key())));
      if (existing.rows() > 0) {
        return Parse<telephony::v1::CallRecord>(existing.Bytes(0, 0), "call");
      }
    }
    // Same call_id, no earlier record for the key: replace it, as SQLite's INSERT OR REPLACE.
    RETURN_IF_ERROR(conn->Exec("UPDATE calls SET incident_id = $2, number = $3, call_time_ns = $4, "
                               "idempotency_key = $5, data = $6 WHERE call_id = $1",
                               params)
                        .status());
    return call;
  });
}

absl::StatusOr<CallPage> PostgresIncidentStore::ListCalls(const CallFilter& filter) {
  ASSIGN_OR_RETURN(int64_t offset, ParsePageToken(filter.page_token));
  ASSIGN_OR_RETURN(int size, CheckPageSize(filter.page_size));
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  ASSIGN_OR_RETURN(
      Result rows,
      conn->Exec("SELECT data FROM calls WHERE ($1 = '' OR incident_id = $1) AND "
                 "($2 = '' OR number = $2) AND call_time_ns >= $3 AND call_time_ns < $4 "
                 "ORDER BY call_time_ns DESC, call_id COLLATE \"C\" LIMIT $5 OFFSET $6",
                 Params()
                     .Text(filter.incident_id)
                     .Text(filter.number)
                     .Int(filter.since ? Nanos(*filter.since) : INT64_MIN)
                     .Int(filter.until ? Nanos(*filter.until) : INT64_MAX)
                     .Int(size + 1)
                     .Int(offset)));
  CallPage page;
  ASSIGN_OR_RETURN(page.calls, ParsePage<telephony::v1::CallRecord>(rows, size, offset, "call",
                                                                    &page.next_page_token));
  return page;
}

absl::StatusOr<std::optional<std::string>> PostgresIncidentStore::GetValue(const std::string& key) {
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  ASSIGN_OR_RETURN(Result row,
                   conn->Exec("SELECT value FROM kv WHERE key = $1", Params().Text(key)));
  if (row.rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(row.Bytes(0, 0));
}

absl::Status PostgresIncidentStore::PutValue(const std::string& key, const std::string& value) {
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  return conn
      ->Exec(
          "INSERT INTO kv(key, value) VALUES($1, $2) "
          "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
          Params().Text(key).Bytes(value))
      .status();
}

absl::Status PostgresIncidentStore::ClaimRefusal(Connection& conn, const std::string& id,
                                                 const std::string& owner, bool taking) {
  ASSIGN_OR_RETURN(Result row,
                   conn.Exec("SELECT claim_owner, claim_expires_ns FROM incidents WHERE id = $1",
                             Params().Text(id)));
  if (row.rows() == 0) return absl::NotFoundError(absl::StrCat("no incident \"", id, "\""));
  if (taking) return ClaimHeldError(id, row.Bytes(0, 0), absl::FromUnixNanos(row.Int(0, 1)));
  return ClaimLostError(id, owner, row.Bytes(0, 0));
}

absl::StatusOr<IncidentClaim> PostgresIncidentStore::ClaimIncident(const std::string& id,
                                                                   const ClaimRequest& request) {
  RETURN_IF_ERROR(ValidateClaimRequest(request));
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  // One UPDATE: the row lock makes the check and the take atomic.
  ASSIGN_OR_RETURN(
      Result row,
      conn->Exec(absl::StrCat(kTakeClaim,
                              "WHERE i.id = $1 AND (i.claim_owner = '' OR i.claim_owner = $2 OR "
                              "i.claim_expires_ns <= $4)",
                              kClaimReturning),
                 Params()
                     .Text(id)
                     .Text(request.owner)
                     .Int(Nanos(request.now + request.lease))
                     .Int(Nanos(request.now))));
  if (row.rows() == 0) return ClaimRefusal(*conn, id, request.owner, /*taking=*/true);
  return ClaimFromRow(row);
}

absl::StatusOr<std::optional<IncidentClaim>> PostgresIncidentStore::ClaimNextIncident(
    const std::vector<v1::IncidentState>& states, const ClaimRequest& request) {
  RETURN_IF_ERROR(ValidateClaimRequest(request));
  ASSIGN_OR_RETURN(std::string states_sql, ClaimableStatesSql(states));
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  // SKIP LOCKED: a candidate another claimer is taking right now is passed over instead of
  // waited for; if it was taken since this statement's snapshot, the locked row is re-checked
  // and skipped too, so two claimers never get the same incident.
  ASSIGN_OR_RETURN(
      Result row,
      conn->Exec(absl::StrCat("WITH next AS (SELECT id FROM incidents WHERE ", states_sql,
                              " AND (claim_owner = '' OR claim_expires_ns <= $1) "
                              "ORDER BY updated_ns, id COLLATE \"C\" LIMIT 1 "
                              "FOR UPDATE SKIP LOCKED) ",
                              kTakeClaim, "FROM next WHERE i.id = next.id", kClaimReturning),
                 Params()
                     .Int(Nanos(request.now))
                     .Text(request.owner)
                     .Int(Nanos(request.now + request.lease))));
  if (row.rows() == 0) return std::optional<IncidentClaim>();
  ASSIGN_OR_RETURN(IncidentClaim claim, ClaimFromRow(row));
  return std::optional<IncidentClaim>(std::move(claim));
}

absl::StatusOr<IncidentClaim> PostgresIncidentStore::RenewLease(const std::string& id,
                                                                const ClaimRequest& request) {
  RETURN_IF_ERROR(ValidateClaimRequest(request));
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  ASSIGN_OR_RETURN(
      Result row,
      conn->Exec(absl::StrCat("UPDATE incidents AS i SET claim_expires_ns = $3 "
                              "WHERE i.id = $1 AND i.claim_owner = $2",
                              kClaimReturning),
                 Params().Text(id).Text(request.owner).Int(Nanos(request.now + request.lease))));
  if (row.rows() == 0) return ClaimRefusal(*conn, id, request.owner, /*taking=*/false);
  return ClaimFromRow(row);
}

absl::Status PostgresIncidentStore::ReleaseClaim(const std::string& id, const std::string& owner) {
  if (owner.empty()) return absl::InvalidArgumentError("a claim needs an owner id");
  ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
  ASSIGN_OR_RETURN(Result updated,
                   conn->Exec("UPDATE incidents SET claim_owner = '', claim_expires_ns = 0 "
                              "WHERE id = $1 AND claim_owner = $2",
                              Params().Text(id).Text(owner)));
  if (updated.affected() == 0) return ClaimRefusal(*conn, id, owner, /*taking=*/false);
  return absl::OkStatus();
}

}  // namespace remediator
