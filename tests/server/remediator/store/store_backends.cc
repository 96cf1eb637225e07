#include "tests/server/remediator/store/store_backends.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/remediator/adapters/postgres/postgres_incident_store.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "tests/testing/memory_incident_store.h"
#include "tests/testing/postgres_server.h"

namespace remediator::testing {
namespace {

class MemoryBackend final : public StoreBackend {
 public:
  absl::StatusOr<IncidentStore*> Open() override { return &store_; }
  absl::StatusOr<IncidentStore*> OpenReplica() override { return &store_; }
  absl::StatusOr<IncidentStore*> Reopen() override { return &store_; }

 private:
  MemoryIncidentStore store_;
};

// Opens stores with `open_one`; keeps them until Reopen or destruction.
class DatabaseBackend : public StoreBackend {
 public:
  absl::StatusOr<IncidentStore*> OpenReplica() override {
    ASSIGN_OR_RETURN(std::unique_ptr<IncidentStore> store, OpenOne());
    stores_.push_back(std::move(store));
    return stores_.back().get();
  }
  absl::StatusOr<IncidentStore*> Reopen() override {
    stores_.clear();
    return OpenReplica();
  }

 protected:
  virtual absl::StatusOr<std::unique_ptr<IncidentStore>> OpenOne() = 0;
  std::vector<std::unique_ptr<IncidentStore>> stores_;
};

class SqliteBackend final : public DatabaseBackend {
 public:
  ~SqliteBackend() override {
    stores_.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  absl::StatusOr<IncidentStore*> Open() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("store_contract_", ::getpid(), "_", counter++);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    return OpenReplica();
  }

 private:
  absl::StatusOr<std::unique_ptr<IncidentStore>> OpenOne() override {
    ASSIGN_OR_RETURN(auto store, SqliteIncidentStore::Open((dir_ / "remediator.db").string()));
    return std::unique_ptr<IncidentStore>(std::move(store));
  }
  std::filesystem::path dir_;
};

// One server for the whole test binary, started on first use from the thread that asks (the
// gtest main thread), stopped and removed at exit.
absl::StatusOr<PostgresServer*> SharedServer() {
  static absl::StatusOr<std::unique_ptr<PostgresServer>> server = PostgresServer::Start();
  if (!server.ok()) return server.status();
  return server->get();
}

class PostgresBackend final : public DatabaseBackend {
 public:
  absl::StatusOr<IncidentStore*> Open() override {
    ASSIGN_OR_RETURN(PostgresServer * server, SharedServer());
    ASSIGN_OR_RETURN(url_, server->CreateDatabase());
    return OpenReplica();
  }

 private:
  absl::StatusOr<std::unique_ptr<IncidentStore>> OpenOne() override {
    PostgresStoreOptions options;
    options.url = url_;
    ASSIGN_OR_RETURN(auto store, PostgresIncidentStore::Open(options));
    return std::unique_ptr<IncidentStore>(std::move(store));
  }
  std::string url_;
};

}  // namespace

std::unique_ptr<StoreBackend> MakeStoreBackend(const std::string& name) {
  if (name == "memory") return std::make_unique<MemoryBackend>();
  if (name == "sqlite") return std::make_unique<SqliteBackend>();
  if (name == "postgres") return std::make_unique<PostgresBackend>();
  return nullptr;
}

}  // namespace remediator::testing
