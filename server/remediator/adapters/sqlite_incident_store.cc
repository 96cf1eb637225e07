#include "server/remediator/adapters/sqlite_incident_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/common/time_util.h"
#include "server/remediator/core/incident_records.h"

namespace remediator {
namespace {

// Migration i (0-based) takes the schema from version i to version i + 1. Never edit a
// migration that has shipped; append a new one.
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
      updated_ns INTEGER NOT NULL,
      data BLOB NOT NULL);
    -- At most one live (not resolved) incident per fingerprint: this is the dedup rule.
    CREATE UNIQUE INDEX incidents_live_fingerprint ON incidents(fingerprint) WHERE state != 5;
    CREATE INDEX incidents_updated ON incidents(updated_ns DESC, id);
    CREATE TABLE fix_attempts(
      id TEXT PRIMARY KEY,
      incident_id TEXT NOT NULL,
      started_ns INTEGER NOT NULL,
      data BLOB NOT NULL);
    CREATE INDEX fix_attempts_incident ON fix_attempts(incident_id, started_ns);
    CREATE TABLE pull_requests(
      id TEXT PRIMARY KEY,
      incident_id TEXT NOT NULL UNIQUE,
      created_ns INTEGER NOT NULL,
      data BLOB NOT NULL);
    CREATE TABLE calls(
      call_id TEXT PRIMARY KEY,
      incident_id TEXT NOT NULL,
      number TEXT NOT NULL,
      call_time_ns INTEGER NOT NULL,
      idempotency_key TEXT,
      data BLOB NOT NULL);
    CREATE UNIQUE INDEX calls_idempotency ON calls(idempotency_key)
      WHERE idempotency_key IS NOT NULL AND idempotency_key != '';
    CREATE TABLE kv(key TEXT PRIMARY KEY, value BLOB NOT NULL);
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
    ALTER TABLE incidents ADD COLUMN claim_owner TEXT NOT NULL DEFAULT '';
    ALTER TABLE incidents ADD COLUMN claim_expires_ns INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE incidents ADD COLUMN claim_generation INTEGER NOT NULL DEFAULT 0;
    )sql",
};
constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);

absl::Status SqliteError(sqlite3* db, const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", sqlite3_errmsg(db)));
}

// A prepared statement that finalizes itself. Bind* indexes are 1-based, like SQLite's.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      status_ = SqliteError(db, absl::StrCat("cannot prepare \"", sql, "\""));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  const absl::Status& status() const { return status_; }
  Statement& Bind(int i, const std::string& text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(int i, const std::string& blob) {
    sqlite3_bind_blob(stmt_, i, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, int64_t value) {
    sqlite3_bind_int64(stmt_, i, value);
    return *this;
  }
  // Returns true for a row, false when done; errors become Internal.
  absl::StatusOr<bool> Step() {
    RETURN_IF_ERROR(status_);
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if (rc == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError(absl::StrCat("constraint: ", sqlite3_errmsg(db_)));
    }
    return SqliteError(db_, "query failed");
  }
  absl::Status Run() {
    auto row = Step();
    return row.ok() ? absl::OkStatus() : row.status();
  }
  std::string Text(int column) {
    const void* data = sqlite3_column_blob(stmt_, column);
    int size = sqlite3_column_bytes(stmt_, column);
    return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
  }
  int64_t Int(int column) { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  absl::Status status_;
};

absl::Status Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    return absl::InternalError(absl::StrCat("sqlite: ", message));
  }
  return absl::OkStatus();
}

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back when it fails.
template <typename Body>
auto InTransaction(sqlite3* db, Body body) -> decltype(body()) {
  RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  auto result = body();
  if (!result.ok()) {
    (void)Exec(db, "ROLLBACK");
    return result;
  }
  absl::Status commit = Exec(db, "COMMIT");
  if (!commit.ok()) {
    (void)Exec(db, "ROLLBACK");
    return commit;
  }
  return result;
}

int64_t Nanos(absl::Time time) { return absl::ToUnixNanos(time); }

template <typename Message>
absl::StatusOr<Message> Parse(const std::string& blob, const std::string& what) {
  Message message;
  if (!message.ParseFromString(blob)) {
    return absl::DataLossError(absl::StrCat("stored ", what, " cannot be parsed"));
  }
  return message;
}

}  // namespace

int SqliteIncidentStore::LatestSchemaVersion() { return kMigrationCount; }

SqliteIncidentStore::SqliteIncidentStore(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)) {}

SqliteIncidentStore::~SqliteIncidentStore() {
  absl::MutexLock lock(&mu_);
  sqlite3_close(db_);
}

absl::StatusOr<std::unique_ptr<SqliteIncidentStore>> SqliteIncidentStore::Open(
    const std::string& path) {
  return OpenWithMigrations(path, kMigrationCount);
}

absl::StatusOr<std::unique_ptr<SqliteIncidentStore>> SqliteIncidentStore::OpenAtVersionForTesting(
    const std::string& path, int migrations) {
  return OpenWithMigrations(path, migrations);
}

absl::StatusOr<std::unique_ptr<SqliteIncidentStore>> SqliteIncidentStore::OpenWithMigrations(
    const std::string& path, int migrations) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = absl::InternalError(
        absl::StrCat("cannot open SQLite database ", path, ": ", sqlite3_errstr(rc)));
    sqlite3_close(db);
    return status;
  }
  auto store = std::unique_ptr<SqliteIncidentStore>(new SqliteIncidentStore(db, path));
  absl::MutexLock lock(&store->mu_);
  sqlite3_busy_timeout(db, 5000);
  // WAL keeps readers and the writer apart; NORMAL sync in WAL mode still never corrupts the
  // database on a crash, and only the last transactions may be lost on power failure.
  RETURN_IF_ERROR(Exec(db,
                       "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                       "PRAGMA foreign_keys=ON;"));
  absl::Status migrated = store->Migrate(migrations);
  if (!migrated.ok()) {
    return absl::Status(migrated.code(), absl::StrCat(path, ": ", migrated.message()));
  }
  return store;
}

absl::Status SqliteIncidentStore::Migrate(int target_version) {
  RETURN_IF_ERROR(Exec(db_, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
  int64_t current = 0;
  {
    Statement select(db_, "SELECT version FROM schema_version");
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) current = select.Int(0);
  }
  if (current > kMigrationCount) {
    return absl::FailedPreconditionError(
        absl::StrCat("database schema version ", current, " is newer than this build knows (",
                     kMigrationCount, "); upgrade Remediator or use another --state-dir"));
  }
  if (current >= target_version) return absl::OkStatus();
  return InTransaction(db_, [&]() -> absl::Status {
    for (int64_t v = current; v < target_version; ++v) {
      absl::Status applied = Exec(db_, kMigrations[v]);
      if (!applied.ok()) {
        return absl::InternalError(
            absl::StrCat("migration to schema version ", v + 1, " failed: ", applied.message()));
      }
    }
    RETURN_IF_ERROR(Exec(db_, "DELETE FROM schema_version"));
    Statement insert(db_, "INSERT INTO schema_version(version) VALUES(?)");
    insert.Bind(1, static_cast<int64_t>(target_version));
    return insert.Run();
  });
}

absl::StatusOr<int> SqliteIncidentStore::SchemaVersion() {
  absl::MutexLock lock(&mu_);
  Statement select(db_, "SELECT version FROM schema_version");
  ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? static_cast<int>(select.Int(0)) : 0;
}

absl::StatusOr<v1::Incident> SqliteIncidentStore::GetIncidentLocked(const std::string& id) {
  Statement select(db_, "SELECT data FROM incidents WHERE id = ?");
  select.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no incident \"", id, "\""));
  return Parse<v1::Incident>(select.Text(0), "incident");
}

absl::Status SqliteIncidentStore::WriteIncidentLocked(const v1::Incident& incident, bool insert) {
  Statement write(db_, insert ? "INSERT INTO incidents(fingerprint, state, error_class, namespace, "
                                "updated_ns, data, id) VALUES(?, ?, ?, ?, ?, ?, ?)"
                              : "UPDATE incidents SET fingerprint = ?, state = ?, error_class = ?, "
                                "namespace = ?, updated_ns = ?, data = ? WHERE id = ?");
  write.Bind(1, incident.fingerprint())
      .Bind(2, static_cast<int64_t>(incident.state()))
      .Bind(3, static_cast<int64_t>(incident.error_class()))
      .Bind(4, incident.workload().namespace_())
      .Bind(5, Nanos(FromProtoTime(incident.updated())))
      .BindBlob(6, incident.SerializeAsString())
      .Bind(7, incident.id());
  return write.Run();
}

absl::StatusOr<std::vector<RecordedIncident>> SqliteIncidentStore::RecordDetections(
    const std::vector<DetectionToRecord>& detections) {
  RETURN_IF_ERROR(ValidateDetections(detections));
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<std::vector<RecordedIncident>> {
    std::vector<RecordedIncident> results;
    results.reserve(detections.size());
    for (const DetectionToRecord& d : detections) {
      Statement find(db_, "SELECT data FROM incidents WHERE fingerprint = ? AND state != 5");
      find.Bind(1, d.fingerprint);
      ASSIGN_OR_RETURN(bool found, find.Step());
      RecordedIncident result;
      if (found) {
        ASSIGN_OR_RETURN(result.incident, Parse<v1::Incident>(find.Text(0), "incident"));
        JoinDetection(d, &result.incident);
      } else {
        Statement count(db_, "SELECT COUNT(*) FROM incidents");
        ASSIGN_OR_RETURN(bool unused, count.Step());
        (void)unused;
        result.incident = NewIncident(
            d,
            IncidentIdFromSeed(absl::StrCat(d.fingerprint, "|", Nanos(d.seen), "|", count.Int(0))));
        result.created = true;
      }
      RETURN_IF_ERROR(WriteIncidentLocked(result.incident, /*insert=*/result.created));
      results.push_back(std::move(result));
    }
    return results;
  });
}

absl::StatusOr<v1::Incident> SqliteIncidentStore::GetIncident(const std::string& id) {
  absl::MutexLock lock(&mu_);
  return GetIncidentLocked(id);
}

absl::StatusOr<IncidentPage> SqliteIncidentStore::ListIncidents(const IncidentFilter& filter) {
  ASSIGN_OR_RETURN(int64_t offset, ParsePageToken(filter.page_token));
  ASSIGN_OR_RETURN(int page_size, CheckPageSize(filter.page_size));
  absl::MutexLock lock(&mu_);
  // Unset filters are bound to values that match everything, so there is one statement.
  Statement select(db_,
                   "SELECT data FROM incidents WHERE (?1 = 0 OR state = ?1) AND "
                   "(?2 = 0 OR error_class = ?2) AND (?3 = '' OR namespace = ?3) "
                   "ORDER BY updated_ns DESC, id LIMIT ?4 OFFSET ?5");
  select.Bind(1, static_cast<int64_t>(filter.state))
      .Bind(2, static_cast<int64_t>(filter.error_class))
      .Bind(3, filter.namespace_name)
      .Bind(4, static_cast<int64_t>(page_size) + 1)
      .Bind(5, offset);
  IncidentPage page;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    if (static_cast<int>(page.incidents.size()) == page_size) {
      page.next_page_token = std::to_string(offset + page_size);
      break;
    }
    ASSIGN_OR_RETURN(v1::Incident incident, Parse<v1::Incident>(select.Text(0), "incident"));
    page.incidents.push_back(std::move(incident));
  }
  return page;
}

absl::StatusOr<v1::Incident> SqliteIncidentStore::TransitionIncident(const std::string& id,
                                                                     v1::IncidentState from,
                                                                     v1::IncidentState to,
                                                                     const std::string& note,
                                                                     absl::Time time) {
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<v1::Incident> {
    ASSIGN_OR_RETURN(v1::Incident incident, GetIncidentLocked(id));
    RETURN_IF_ERROR(ApplyTransition(from, to, note, time, &incident));
    RETURN_IF_ERROR(WriteIncidentLocked(incident, /*insert=*/false));
    return incident;
  });
}

absl::Status SqliteIncidentStore::LinkIncident(const std::string& id,
                                               const std::string& fix_attempt_id,
                                               const std::string& pull_request_id,
                                               const std::string& call_id) {
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(v1::Incident incident, GetIncidentLocked(id));
    ApplyLinks(fix_attempt_id, pull_request_id, call_id, &incident);
    return WriteIncidentLocked(incident, /*insert=*/false);
  });
}

absl::Status SqliteIncidentStore::PutFixAttempt(const v1::FixAttempt& attempt) {
  if (attempt.id().empty() || attempt.incident_id().empty()) {
    return absl::InvalidArgumentError("a fix attempt needs an id and an incident_id");
  }
  absl::MutexLock lock(&mu_);
  Statement write(db_,
                  "INSERT OR REPLACE INTO fix_attempts(id, incident_id, started_ns, data) "
                  "VALUES(?, ?, ?, ?)");
  write.Bind(1, attempt.id())
      .Bind(2, attempt.incident_id())
      .Bind(3, Nanos(FromProtoTime(attempt.started())))
      .BindBlob(4, attempt.SerializeAsString());
  return write.Run();
}

absl::StatusOr<v1::FixAttempt> SqliteIncidentStore::GetFixAttempt(const std::string& id) {
  absl::MutexLock lock(&mu_);
  Statement select(db_, "SELECT data FROM fix_attempts WHERE id = ?");
  select.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no fix attempt \"", id, "\""));
  return Parse<v1::FixAttempt>(select.Text(0), "fix attempt");
}

absl::StatusOr<std::vector<v1::FixAttempt>> SqliteIncidentStore::ListFixAttempts(
    const std::string& incident_id) {
  absl::MutexLock lock(&mu_);
  Statement select(db_,
                   "SELECT data FROM fix_attempts WHERE incident_id = ? ORDER BY started_ns, id");
  select.Bind(1, incident_id);
  std::vector<v1::FixAttempt> attempts;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(v1::FixAttempt attempt, Parse<v1::FixAttempt>(select.Text(0), "fix attempt"));
    attempts.push_back(std::move(attempt));
  }
  return attempts;
}

absl::StatusOr<v1::PullRequest> SqliteIncidentStore::PutPullRequest(
    const v1::PullRequest& pull_request) {
  if (pull_request.id().empty() || pull_request.incident_id().empty()) {
    return absl::InvalidArgumentError("a pull request needs an id and an incident_id");
  }
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<v1::PullRequest> {
    Statement existing(db_, "SELECT data FROM pull_requests WHERE incident_id = ?");
    existing.Bind(1, pull_request.incident_id());
    ASSIGN_OR_RETURN(bool found, existing.Step());
    if (found) return Parse<v1::PullRequest>(existing.Text(0), "pull request");
    Statement insert(db_,
                     "INSERT INTO pull_requests(id, incident_id, created_ns, data) "
                     "VALUES(?, ?, ?, ?)");
    insert.Bind(1, pull_request.id())
        .Bind(2, pull_request.incident_id())
        .Bind(3, Nanos(FromProtoTime(pull_request.created())))
        .BindBlob(4, pull_request.SerializeAsString());
    RETURN_IF_ERROR(insert.Run());
    return pull_request;
  });
}

absl::Status SqliteIncidentStore::UpdatePullRequest(const v1::PullRequest& pull_request) {
  absl::MutexLock lock(&mu_);
  Statement update(db_, "UPDATE pull_requests SET data = ? WHERE id = ?");
  update.BindBlob(1, pull_request.SerializeAsString()).Bind(2, pull_request.id());
  RETURN_IF_ERROR(update.Run());
  if (sqlite3_changes(db_) == 0) {
    return absl::NotFoundError(absl::StrCat("no pull request \"", pull_request.id(), "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::PullRequest> SqliteIncidentStore::GetPullRequest(const std::string& id) {
  absl::MutexLock lock(&mu_);
  Statement select(db_, "SELECT data FROM pull_requests WHERE id = ?");
  select.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no pull request \"", id, "\""));
  return Parse<v1::PullRequest>(select.Text(0), "pull request");
}

absl::StatusOr<PullRequestPage> SqliteIncidentStore::ListPullRequests(
    const std::string& incident_id, int page_size, const std::string& page_token) {
  ASSIGN_OR_RETURN(int64_t offset, ParsePageToken(page_token));
  ASSIGN_OR_RETURN(int size, CheckPageSize(page_size));
  absl::MutexLock lock(&mu_);
  Statement select(db_,
                   "SELECT data FROM pull_requests WHERE (?1 = '' OR incident_id = ?1) "
                   "ORDER BY created_ns DESC, id LIMIT ?2 OFFSET ?3");
  select.Bind(1, incident_id).Bind(2, static_cast<int64_t>(size) + 1).Bind(3, offset);
  PullRequestPage page;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    if (static_cast<int>(page.pull_requests.size()) == size) {
      page.next_page_token = std::to_string(offset + size);
      break;
    }
    ASSIGN_OR_RETURN(v1::PullRequest pr, Parse<v1::PullRequest>(select.Text(0), "pull request"));
    page.pull_requests.push_back(std::move(pr));
  }
  return page;
}

absl::StatusOr<telephony::v1::CallRecord> SqliteIncidentStore::PutCall(
    const telephony::v1::CallRecord& call) {
  if (call.call_id().empty()) return absl::InvalidArgumentError("a call record needs a call_id");
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<telephony::v1::CallRecord> {
    if (!call.idempotency_key().empty()) {
      Statement existing(db_, "SELECT data FROM calls WHERE idempotency_key = ?");
      existing.Bind(1, call.idempotency_key());
      ASSIGN_OR_RETURN(bool found, existing.Step());
      if (found) return Parse<telephony::v1::CallRecord>(existing.Text(0), "call");
    }
    Statement insert(db_,
                     "INSERT OR REPLACE INTO calls(call_id, incident_id, number, call_time_ns, "
                     "idempotency_key, data) VALUES(?, ?, ?, ?, ?, ?)");
    insert.Bind(1, call.call_id())
        .Bind(2, call.incident_id())
        .Bind(3, call.number())
        .Bind(4, Nanos(FromProtoTime(call.call_time())))
        .Bind(5, call.idempotency_key())
        .BindBlob(6, call.SerializeAsString());
    RETURN_IF_ERROR(insert.Run());
    return call;
  });
}

absl::StatusOr<CallPage> SqliteIncidentStore::ListCalls(const CallFilter& filter) {
  ASSIGN_OR_RETURN(int64_t offset, ParsePageToken(filter.page_token));
  ASSIGN_OR_RETURN(int size, CheckPageSize(filter.page_size));
  absl::MutexLock lock(&mu_);
  Statement select(db_,
                   "SELECT data FROM calls WHERE (?1 = '' OR incident_id = ?1) AND "
                   "(?2 = '' OR number = ?2) AND call_time_ns >= ?3 AND call_time_ns < ?4 "
                   "ORDER BY call_time_ns DESC, call_id LIMIT ?5 OFFSET ?6");
  select.Bind(1, filter.incident_id)
      .Bind(2, filter.number)
      .Bind(3, filter.since ? Nanos(*filter.since) : INT64_MIN)
      .Bind(4, filter.until ? Nanos(*filter.until) : INT64_MAX)
      .Bind(5, static_cast<int64_t>(size) + 1)
      .Bind(6, offset);
  CallPage page;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    if (static_cast<int>(page.calls.size()) == size) {
      page.next_page_token = std::to_string(offset + size);
      break;
    }
    ASSIGN_OR_RETURN(auto call, Parse<telephony::v1::CallRecord>(select.Text(0), "call"));
    page.calls.push_back(std::move(call));
  }
  return page;
}

absl::StatusOr<std::optional<std::string>> SqliteIncidentStore::GetValue(const std::string& key) {
  absl::MutexLock lock(&mu_);
  Statement select(db_, "SELECT value FROM kv WHERE key = ?");
  select.Bind(1, key);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(select.Text(0));
}

absl::Status SqliteIncidentStore::PutValue(const std::string& key, const std::string& value) {
  absl::MutexLock lock(&mu_);
  Statement write(db_, "INSERT OR REPLACE INTO kv(key, value) VALUES(?, ?)");
  write.Bind(1, key).BindBlob(2, value);
  return write.Run();
}

// Claims: each step reads the claim columns and writes them back inside one BEGIN IMMEDIATE
// transaction, which holds SQLite's single write lock, so two connections (even in two
// processes) cannot take the same incident.
absl::StatusOr<IncidentClaim> SqliteIncidentStore::ReadClaimLocked(const std::string& id) {
  Statement select(db_,
                   "SELECT data, claim_owner, claim_expires_ns, claim_generation FROM incidents "
                   "WHERE id = ?");
  select.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no incident \"", id, "\""));
  IncidentClaim claim;
  ASSIGN_OR_RETURN(claim.incident, Parse<v1::Incident>(select.Text(0), "incident"));
  claim.owner = select.Text(1);
  claim.expires = absl::FromUnixNanos(select.Int(2));
  claim.generation = select.Int(3);
  return claim;
}

absl::StatusOr<IncidentClaim> SqliteIncidentStore::WriteClaimLocked(IncidentClaim claim,
                                                                    const ClaimRequest& request) {
  if (claim.owner != request.owner) ++claim.generation;
  claim.owner = request.owner;
  claim.expires = request.now + request.lease;
  Statement update(db_,
                   "UPDATE incidents SET claim_owner = ?, claim_expires_ns = ?, "
                   "claim_generation = ? WHERE id = ?");
  update.Bind(1, claim.owner)
      .Bind(2, Nanos(claim.expires))
      .Bind(3, claim.generation)
      .Bind(4, claim.incident.id());
  RETURN_IF_ERROR(update.Run());
  return claim;
}

absl::StatusOr<IncidentClaim> SqliteIncidentStore::ClaimIncident(const std::string& id,
                                                                 const ClaimRequest& request) {
  RETURN_IF_ERROR(ValidateClaimRequest(request));
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<IncidentClaim> {
    ASSIGN_OR_RETURN(IncidentClaim claim, ReadClaimLocked(id));
    if (!claim.owner.empty() && claim.owner != request.owner && claim.expires > request.now) {
      return ClaimHeldError(id, claim.owner, claim.expires);
    }
    return WriteClaimLocked(std::move(claim), request);
  });
}

absl::StatusOr<std::optional<IncidentClaim>> SqliteIncidentStore::ClaimNextIncident(
    const std::vector<v1::IncidentState>& states, const ClaimRequest& request) {
  RETURN_IF_ERROR(ValidateClaimRequest(request));
  ASSIGN_OR_RETURN(std::string states_sql, ClaimableStatesSql(states));
  const std::string sql = absl::StrCat(
      "SELECT id FROM incidents WHERE ", states_sql,
      " AND (claim_owner = '' OR claim_expires_ns <= ?) ORDER BY updated_ns, id LIMIT 1");
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<std::optional<IncidentClaim>> {
    Statement next(db_, sql.c_str());
    next.Bind(1, Nanos(request.now));
    ASSIGN_OR_RETURN(bool found, next.Step());
    if (!found) return std::optional<IncidentClaim>();
    ASSIGN_OR_RETURN(IncidentClaim claim, ReadClaimLocked(next.Text(0)));
    ASSIGN_OR_RETURN(IncidentClaim taken, WriteClaimLocked(std::move(claim), request));
    return std::optional<IncidentClaim>(std::move(taken));
  });
}

absl::StatusOr<IncidentClaim> SqliteIncidentStore::RenewLease(const std::string& id,
                                                              const ClaimRequest& request) {
  RETURN_IF_ERROR(ValidateClaimRequest(request));
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::StatusOr<IncidentClaim> {
    ASSIGN_OR_RETURN(IncidentClaim claim, ReadClaimLocked(id));
    if (claim.owner != request.owner) return ClaimLostError(id, request.owner, claim.owner);
    return WriteClaimLocked(std::move(claim), request);
  });
}

absl::Status SqliteIncidentStore::ReleaseClaim(const std::string& id, const std::string& owner) {
  if (owner.empty()) return absl::InvalidArgumentError("a claim needs an owner id");
  absl::MutexLock lock(&mu_);
  return InTransaction(db_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(IncidentClaim claim, ReadClaimLocked(id));
    if (claim.owner != owner) return ClaimLostError(id, owner, claim.owner);
    Statement update(db_,
                     "UPDATE incidents SET claim_owner = '', claim_expires_ns = 0 WHERE id = ?");
    update.Bind(1, id);
    return update.Run();
  });
}

}  // namespace remediator
