// A thin RAII layer over libpq for PostgresIncidentStore: typed statement parameters, results
// that free themselves, errors mapped to absl::Status by SQLSTATE, a per-connection cache of
// prepared statements, transactions that retry when PostgreSQL aborts them, and a fixed-size
// connection pool. Everything is sent and received in binary format, so byte strings (the
// serialized protobuf records) pass unchanged.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_POSTGRES_PG_CONNECTION_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_POSTGRES_PG_CONNECTION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/common/status_macros.h"

struct pg_conn;
struct pg_result;

namespace remediator::pg {

// Positional parameters ($1, $2, ...) with their PostgreSQL types.
class Params {
 public:
  Params& Text(const std::string& value);   // text
  Params& Bytes(const std::string& value);  // bytea
  Params& Int(int64_t value);               // bigint

 private:
  friend class Connection;
  std::vector<std::string> values_;
  std::vector<unsigned int> types_;  // OIDs
};

// The rows of one statement. Column accessors take 0-based indexes; Int reads bigint, integer
// and boolean columns.
class Result {
 public:
  explicit Result(pg_result* result);
  int rows() const;
  // Rows inserted, updated or deleted by the statement.
  int64_t affected() const;
  std::string Bytes(int row, int column) const;
  int64_t Int(int row, int column) const;
  pg_result* get() const { return result_.get(); }

 private:
  struct Clear {
    void operator()(pg_result* result) const;
  };
  std::unique_ptr<pg_result, Clear> result_;
};

// One libpq connection. Thread-compatible: the pool hands it to one thread at a time.
//
// Errors: AlreadyExists for a unique violation (23505), Aborted for a serialization failure or
// a deadlock (40001, 40P01: the transaction may be retried), Unavailable when the connection is
// lost, Internal with PostgreSQL's message otherwise.
class Connection {
 public:
  // `conninfo` is a libpq connection string or URI (postgres://...). Unavailable with libpq's
  // message when the server cannot be reached.
  static absl::StatusOr<std::unique_ptr<Connection>> Connect(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement (prepared once per connection and cached by its text).
  absl::StatusOr<Result> Exec(const std::string& sql, const Params& params = Params());
  // Runs a script of statements without parameters (migrations, BEGIN, COMMIT).
  absl::Status Run(const std::string& sql);
  // Reconnects when the connection was lost; OK when it is healthy.
  absl::Status EnsureConnected();

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  absl::Status Check(pg_result* result, const std::string& what);

  pg_conn* conn_;
  std::map<std::string, std::string> prepared_;  // SQL text -> statement name
};

inline const absl::Status& GetStatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatusOf(const absl::StatusOr<T>& value) {
  return value.status();
}

// Runs `body()` between BEGIN and COMMIT on `conn`, rolling back when it fails. When
// PostgreSQL aborts the transaction (Aborted: serialization failure or deadlock) the whole
// transaction runs again, up to 5 times.
template <typename Body>
auto InTransaction(Connection& conn, Body body) -> decltype(body()) {
  constexpr int kMaxAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    RETURN_IF_ERROR(conn.Run("BEGIN"));
    auto result = body();
    absl::Status status = result.ok() ? conn.Run("COMMIT") : absl::Status(GetStatusOf(result));
    if (status.ok()) return result;
    (void)conn.Run("ROLLBACK");
    if (status.code() != absl::StatusCode::kAborted || attempt == kMaxAttempts) return status;
  }
}

// A fixed number of connections shared by threads. Thread-safe.
class ConnectionPool {
 public:
  // Connects once at open (so a bad URL fails at startup); other connections are made when
  // first needed, up to `size`.
  static absl::StatusOr<std::unique_ptr<ConnectionPool>> Open(const std::string& conninfo,
                                                              int size);

  // A connection borrowed from the pool until the handle is destroyed.
  class Handle {
   public:
    Handle(ConnectionPool* pool, Connection* conn) : pool_(pool), conn_(conn) {}
    Handle(Handle&& other) noexcept : pool_(other.pool_), conn_(other.conn_) {
      other.conn_ = nullptr;
    }
    Handle& operator=(Handle&&) = delete;
    ~Handle() {
      if (conn_ != nullptr) pool_->Return(conn_);
    }
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_; }

   private:
    ConnectionPool* pool_;
    Connection* conn_;
  };

  // Waits for a free connection; reconnects it if it was lost (Unavailable when that fails).
  absl::StatusOr<Handle> Acquire();

 private:
  ConnectionPool(std::string conninfo, int size) : conninfo_(std::move(conninfo)), size_(size) {}
  void Return(Connection* conn);

  const std::string conninfo_;
  const int size_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> all_ ABSL_GUARDED_BY(mu_);
  std::vector<Connection*> free_ ABSL_GUARDED_BY(mu_);
  int connecting_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace remediator::pg

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_POSTGRES_PG_CONNECTION_H_
