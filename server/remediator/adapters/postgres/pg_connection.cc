#include "server/remediator/adapters/postgres/pg_connection.h"

#include <endian.h>
#include <libpq-fe.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace remediator::pg {
namespace {

// Type OIDs from PostgreSQL's catalog (pg_type.dat); they are fixed for built-in types.
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

std::string Trimmed(const char* message) {
  return std::string(absl::StripAsciiWhitespace(message == nullptr ? "" : message));
}

}  // namespace

Params& Params::Text(const std::string& value) {
  values_.push_back(value);
  types_.push_back(kTextOid);
  return *this;
}

Params& Params::Bytes(const std::string& value) {
  values_.push_back(value);
  types_.push_back(kByteaOid);
  return *this;
}

Params& Params::Int(int64_t value) {
  uint64_t big_endian = htobe64(static_cast<uint64_t>(value));
  values_.emplace_back(reinterpret_cast<const char*>(&big_endian), sizeof(big_endian));
  types_.push_back(kInt8Oid);
  return *this;
}

void Result::Clear::operator()(pg_result* result) const { PQclear(result); }

Result::Result(pg_result* result) : result_(result) {}

int Result::rows() const { return PQntuples(result_.get()); }

int64_t Result::affected() const {
  const char* tuples = PQcmdTuples(result_.get());
  return tuples == nullptr || *tuples == '\0' ? 0 : std::strtoll(tuples, nullptr, 10);
}

std::string Result::Bytes(int row, int column) const {
  if (PQgetisnull(result_.get(), row, column)) return std::string();
  return std::string(PQgetvalue(result_.get(), row, column),
                     PQgetlength(result_.get(), row, column));
}

int64_t Result::Int(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  switch (PQgetlength(result_.get(), row, column)) {
    case 8: {
      uint64_t v;
      std::memcpy(&v, value, sizeof(v));
      return static_cast<int64_t>(be64toh(v));
    }
    case 4: {
      uint32_t v;
      std::memcpy(&v, value, sizeof(v));
      return static_cast<int32_t>(be32toh(v));
    }
    case 1:  // boolean
      return *value != 0;
    default:
      return 0;
  }
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Connect(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq could not allocate a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names the host and database, never the password.
    absl::Status status = absl::UnavailableError(
        absl::StrCat("cannot connect to PostgreSQL: ", Trimmed(PQerrorMessage(conn))));
    PQfinish(conn);
    return status;
  }
  // Notices ("relation ... already exists, skipping") are not errors; keep them off stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

absl::Status Connection::Check(pg_result* result, const std::string& what) {
  ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return absl::OkStatus();
  if (PQstatus(conn_) == CONNECTION_BAD) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL connection lost: ", Trimmed(PQerrorMessage(conn_))));
  }
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string sqlstate = state == nullptr ? "" : state;
  std::string message =
      absl::StrCat("postgres (", what, "): ", Trimmed(PQresultErrorMessage(result)));
  if (sqlstate == "23505") return absl::AlreadyExistsError(message);
  if (sqlstate == "40001" || sqlstate == "40P01") return absl::AbortedError(message);
  if (sqlstate.rfind("08", 0) == 0) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

absl::StatusOr<Result> Connection::Exec(const std::string& sql, const Params& params) {
  const int n = static_cast<int>(params.values_.size());
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = absl::StrCat("s", prepared_.size());
    Result prepared(PQprepare(conn_, name.c_str(), sql.c_str(), n, params.types_.data()));
    RETURN_IF_ERROR(Check(prepared.get(), "prepare"));
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  std::vector<int> formats(n, 1);
  for (int i = 0; i < n; ++i) {
    values[i] = params.values_[i].data();
    lengths[i] = static_cast<int>(params.values_[i].size());
  }
  Result result(PQexecPrepared(conn_, it->second.c_str(), n, values.data(), lengths.data(),
                               formats.data(), /*resultFormat=*/1));
  RETURN_IF_ERROR(Check(result.get(), "statement"));
  return result;
}

absl::Status Connection::Run(const std::string& sql) {
  Result result(PQexec(conn_, sql.c_str()));
  return Check(result.get(), sql.size() < 20 ? sql : "script");
}

absl::Status Connection::EnsureConnected() {
  if (PQstatus(conn_) == CONNECTION_OK) return absl::OkStatus();
  prepared_.clear();  // prepared statements die with the session
  PQreset(conn_);
  if (PQstatus(conn_) == CONNECTION_OK) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("cannot reconnect to PostgreSQL: ", Trimmed(PQerrorMessage(conn_))));
}

absl::StatusOr<std::unique_ptr<ConnectionPool>> ConnectionPool::Open(const std::string& conninfo,
                                                                     int size) {
  if (size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("connection pool size must be >= 1, got ", size));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> first, Connection::Connect(conninfo));
  auto pool = std::unique_ptr<ConnectionPool>(new ConnectionPool(conninfo, size));
  absl::MutexLock lock(&pool->mu_);
  pool->free_.push_back(first.get());
  pool->all_.push_back(std::move(first));
  return pool;
}

absl::StatusOr<ConnectionPool::Handle> ConnectionPool::Acquire() {
  Connection* conn = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto can_proceed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !free_.empty() || static_cast<int>(all_.size()) + connecting_ < size_;
    };
    mu_.Await(absl::Condition(&can_proceed));
    if (!free_.empty()) {
      conn = free_.back();
      free_.pop_back();
    } else {
      ++connecting_;
    }
  }
  if (conn == nullptr) {
    // Connect outside the lock so other threads keep using the open connections.
    absl::StatusOr<std::unique_ptr<Connection>> opened = Connection::Connect(conninfo_);
    absl::MutexLock lock(&mu_);
    --connecting_;
    if (!opened.ok()) return opened.status();
    conn = opened->get();
    all_.push_back(std::move(*opened));
  }
  Handle handle(this, conn);
  RETURN_IF_ERROR(conn->EnsureConnected());
  return handle;
}

void ConnectionPool::Return(Connection* conn) {
  absl::MutexLock lock(&mu_);
  free_.push_back(conn);
}

}  // namespace remediator::pg
