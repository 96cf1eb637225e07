// What the contract suite cannot say about PostgresIncidentStore: migrations, replicas starting
// together, an unreachable server, and choosing the store from the `store` URL.
#include "server/remediator/adapters/postgres/postgres_incident_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "server/remediator/adapters/postgres/incident_store_factory.h"
#include "server/remediator/adapters/postgres/pg_connection.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "tests/testing/fake_classifier.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

testing::PostgresServer& Server() {
  static absl::StatusOr<std::unique_ptr<testing::PostgresServer>> server =
      testing::PostgresServer::Start();
  EXPECT_THAT(server, IsOk());
  return **server;
}

PostgresStoreOptions Options(const std::string& url) {
  PostgresStoreOptions options;
  options.url = url;
  return options;
}

DetectionToRecord Record(const std::string& name) {
  DetectionToRecord r;
  r.detection = testing::MakeDetection("app", name, v1::ERROR_CLASS_OOM_KILLED, "oom");
  r.fingerprint = "app/" + name;
  r.seen = absl::FromUnixSeconds(1780000000);
  return r;
}

TEST(PostgresIncidentStoreTest, OldSchemaIsMigratedAndKeepsData) {
  auto url = Server().CreateDatabase();
  ASSERT_THAT(url, IsOk());
  std::string id;
  {
    auto old_store = PostgresIncidentStore::OpenAtVersionForTesting(Options(*url), 1);
    ASSERT_THAT(old_store, IsOk());
    EXPECT_EQ(*(*old_store)->SchemaVersion(), 1);
    auto recorded = (*old_store)->RecordDetections({Record("nginx")});
    ASSERT_THAT(recorded, IsOk());
    id = (*recorded)[0].incident.id();
  }
  auto store = PostgresIncidentStore::Open(Options(*url));
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ(*(*store)->SchemaVersion(), PostgresIncidentStore::LatestSchemaVersion());
  EXPECT_EQ(PostgresIncidentStore::LatestSchemaVersion(),
            SqliteIncidentStore::LatestSchemaVersion());
  auto incident = (*store)->GetIncident(id);
  ASSERT_THAT(incident, IsOk());
  EXPECT_EQ(incident->workload().name(), "nginx");
  // The incident from before migration 3 is claimable, starting from generation 0.
  ClaimRequest request;
  request.owner = "a";
  request.now = absl::FromUnixSeconds(1780000100);
  auto claim = (*store)->ClaimIncident(id, request);
  ASSERT_THAT(claim, IsOk());
  EXPECT_EQ(claim->generation, 1);
  // The index added by migration 2 exists.
  auto conn = pg::Connection::Connect(*url);
  ASSERT_THAT(conn, IsOk());
  auto index = (*conn)->Exec("SELECT 1 FROM pg_indexes WHERE indexname = 'incidents_state'");
  ASSERT_THAT(index, IsOk());
  EXPECT_EQ(index->rows(), 1);
}

TEST(PostgresIncidentStoreTest, RefusesSchemaNewerThanBuild) {
  auto url = Server().CreateDatabase();
  ASSERT_THAT(url, IsOk());
  { ASSERT_THAT(PostgresIncidentStore::Open(Options(*url)), IsOk()); }
  auto conn = pg::Connection::Connect(*url);
  ASSERT_THAT(conn, IsOk());
  ASSERT_THAT((*conn)->Run("UPDATE schema_version SET version = 999"), IsOk());
  EXPECT_THAT(PostgresIncidentStore::Open(Options(*url)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("newer")));
}

TEST(PostgresIncidentStoreTest, ReplicasStartingTogetherMigrateOnce) {
  auto url = Server().CreateDatabase();
  ASSERT_THAT(url, IsOk());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] { EXPECT_THAT(PostgresIncidentStore::Open(Options(*url)), IsOk()); });
  }
  for (auto& thread : threads) thread.join();
  auto conn = pg::Connection::Connect(*url);
  ASSERT_THAT(conn, IsOk());
  auto versions = (*conn)->Exec("SELECT version FROM schema_version");
  ASSERT_THAT(versions, IsOk());
  ASSERT_EQ(versions->rows(), 1);
  EXPECT_EQ(versions->Int(0, 0), PostgresIncidentStore::LatestSchemaVersion());
}

TEST(PostgresIncidentStoreTest, UnreachableServerIsUnavailable) {
  auto store = PostgresIncidentStore::Open(
      Options(absl::StrCat("postgresql:///nope?host=", Server().directory(), "/missing")));
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot connect")));
}

TEST(PostgresIncidentStoreTest, ManyThreadsShareASmallPool) {
  auto url = Server().CreateDatabase();
  ASSERT_THAT(url, IsOk());
  PostgresStoreOptions options = Options(*url);
  options.connections = 2;
  auto store = PostgresIncidentStore::Open(options);
  ASSERT_THAT(store, IsOk());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_THAT((*store)->RecordDetections({Record(absl::StrCat("w", t, "-", i))}), IsOk());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  IncidentFilter filter;
  filter.page_size = 1000;
  auto page = (*store)->ListIncidents(filter);
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(page->incidents.size(), 80u);
}

TEST(IncidentStoreFactoryTest, ChoosesTheStoreFromTheUrl) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("store_factory_", ::getpid());
  std::filesystem::create_directories(dir);
  // Empty: SQLite in the state directory.
  auto embedded = OpenIncidentStore("", dir.string());
  ASSERT_THAT(embedded, IsOk());
  EXPECT_NE(dynamic_cast<SqliteIncidentStore*>(embedded->get()), nullptr);
  EXPECT_TRUE(std::filesystem::exists(dir / "remediator.db"));
  auto sqlite = OpenIncidentStore(absl::StrCat("sqlite://", (dir / "other.db").string()), "");
  ASSERT_THAT(sqlite, IsOk());
  EXPECT_TRUE(std::filesystem::exists(dir / "other.db"));
  auto url = Server().CreateDatabase();
  ASSERT_THAT(url, IsOk());
  auto postgres = OpenIncidentStore(*url, dir.string());
  ASSERT_THAT(postgres, IsOk());
  EXPECT_NE(dynamic_cast<PostgresIncidentStore*>(postgres->get()), nullptr);
  std::filesystem::remove_all(dir);
}

TEST(IncidentStoreFactoryTest, UnknownSchemeIsInvalidAndHidesThePassword) {
  auto store = OpenIncidentStore("mysql://admin:hunter2@db/remediator", "/tmp");
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("postgres://")));
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kInvalidArgument, Not(HasSubstr("hunter2"))));
  EXPECT_THAT(OpenIncidentStore("sqlite://", "/tmp"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("names no file")));
}

TEST(IncidentStoreFactoryTest, RedactsPasswords) {
  EXPECT_EQ(RedactStoreUrl("postgres://admin:hunter2@db:5432/remediator"),
            "postgres://admin:***@db:5432/remediator");
  EXPECT_EQ(RedactStoreUrl("postgresql:///r?host=/run/postgresql&password=hunter2&x=1"),
            "postgresql:///r?host=/run/postgresql&password=***&x=1");
  EXPECT_EQ(RedactStoreUrl("postgres://admin@db/remediator"), "postgres://admin@db/remediator");
  EXPECT_EQ(RedactStoreUrl("sqlite:///var/lib/r.db"), "sqlite:///var/lib/r.db");
}

}  // namespace
}  // namespace remediator
