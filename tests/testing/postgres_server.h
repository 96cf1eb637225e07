// PostgresServer: a throwaway PostgreSQL server for tests and benchmarks, started from Debian's
// `postgresql` package (initdb + postgres from /usr/lib/postgresql/<version>/bin, or from
// $REMEDIATOR_PG_BIN) in a temporary directory (on /dev/shm when there is one). It listens on a
// Unix socket in that directory only (no TCP port). initdb refuses to run as root, so under root
// the server runs as the `postgres` user (or `nobody`). The server gets a parent-death signal, so
// it dies with the process (or rather with the thread that started it: start it from the main
// thread); the destructor shuts it down and removes the directory.
//
// Thread-safe after Start().
#ifndef REMEDIATOR_TESTS_TESTING_POSTGRES_SERVER_H_
#define REMEDIATOR_TESTS_TESTING_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace remediator::testing {

struct PostgresServerOptions {
  // fsync=off and synchronous_commit=off make tests fast; a benchmark may want durability.
  bool fsync = false;
  bool synchronous_commit = false;
  // The directory the server's directory is made in; empty: /dev/shm when it exists, else the
  // temporary directory.
  std::string root;
};

class PostgresServer {
 public:
  // FailedPrecondition when PostgreSQL's binaries are not installed (naming the package);
  // Internal with the end of the server's log when it does not start within 60 s.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start(
      const PostgresServerOptions& options = {});
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Creates an empty database with a fresh unique name and returns its libpq URI.
  absl::StatusOr<std::string> CreateDatabase();
  // The libpq URI of database `name` on this server.
  std::string Url(const std::string& name) const;
  const std::string& directory() const { return dir_; }

 private:
  PostgresServer(std::string dir, std::string bin) : dir_(std::move(dir)), bin_(std::move(bin)) {}
  absl::Status InitDb();
  // Runs a program as the server's user and waits; Internal with its log when it fails.
  absl::Status Run(const std::vector<std::string>& args, const std::string& log,
                   const std::string& what);
  absl::Status Launch(const PostgresServerOptions& options);
  absl::Status WaitReady();

  const std::string dir_;
  const std::string bin_;
  pid_t pid_ = -1;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  absl::Mutex mu_;
  int databases_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace remediator::testing

#endif  // REMEDIATOR_TESTS_TESTING_POSTGRES_SERVER_H_
