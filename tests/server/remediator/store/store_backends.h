// The stores the contract suite runs against, each opened fresh per test: the in-memory store,
// SQLite in a temporary file, and PostgreSQL in a new database on one throwaway server per
// test binary (tests/testing/postgres_server.h). Replicas are further stores opened on the
// same data (for the in-memory store, the same object).
#ifndef REMEDIATOR_TESTS_SERVER_REMEDIATOR_STORE_STORE_BACKENDS_H_
#define REMEDIATOR_TESTS_SERVER_REMEDIATOR_STORE_STORE_BACKENDS_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/remediator/core/incident_store.h"

namespace remediator::testing {

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // The first store on fresh, empty data.
  virtual absl::StatusOr<IncidentStore*> Open() = 0;
  // Another store on the same data, as a second replica would open it.
  virtual absl::StatusOr<IncidentStore*> OpenReplica() = 0;
  // Closes every store and opens the data again (what survives a restart).
  virtual absl::StatusOr<IncidentStore*> Reopen() = 0;
};

// "memory", "sqlite" or "postgres".
std::unique_ptr<StoreBackend> MakeStoreBackend(const std::string& name);

}  // namespace remediator::testing

#endif  // REMEDIATOR_TESTS_SERVER_REMEDIATOR_STORE_STORE_BACKENDS_H_
