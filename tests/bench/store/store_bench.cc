// IncidentStore throughput, PostgreSQL vs SQLite (and the in-memory store as a floor): incidents
// ingested, transitions, and claim cycles per second, by 1 and by 3 replicas (threads, each
// with its own store on the same data, as separate Remediator processes would have).
//
// Both databases live in the same place (tmpfs when /dev/shm exists, so the figures compare
// the engines, not the disk; --on_disk puts them in the temporary directory). Durability is
// matched: SQLite runs WAL with synchronous=NORMAL (no fsync per commit), PostgreSQL
// fsync=on with synchronous_commit=off (no flush per commit); neither can be corrupted by a
// crash, both may lose the last transactions on power loss.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "server/remediator/adapters/postgres/postgres_incident_store.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "tests/testing/memory_incident_store.h"
#include "tests/testing/postgres_server.h"

namespace remediator {
namespace {

bool on_disk = false;
constexpr int kReplicas = 3;

std::filesystem::path Root() {
  if (!on_disk && std::filesystem::is_directory("/dev/shm")) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

testing::PostgresServer& Server() {
  static std::unique_ptr<testing::PostgresServer> server = [] {
    testing::PostgresServerOptions options;
    options.fsync = true;
    options.root = Root().string();
    auto started = testing::PostgresServer::Start(options);
    if (!started.ok()) {
      std::fprintf(stderr, "store_bench: %s\n", std::string(started.status().message()).c_str());
      std::exit(1);
    }
    return std::move(*started);
  }();
  return *server;
}

void Check(const absl::Status& status) {
  if (!status.ok()) {
    std::fprintf(stderr, "store_bench: %s\n", status.ToString().c_str());
    std::exit(1);
  }
}

// kReplicas stores on fresh data of one kind (for memory, one store seen kReplicas times).
struct Replicas {
  std::vector<std::unique_ptr<IncidentStore>> owned;
  std::vector<IncidentStore*> stores;
};

Replicas OpenReplicas(const std::string& kind) {
  static std::atomic<int> counter{0};
  Replicas replicas;
  std::string url;
  const std::string path =
      (Root() / absl::StrCat("store_bench_", ::getpid(), "_", counter++, ".db")).string();
  if (kind == "postgres") {
    auto created = Server().CreateDatabase();
    Check(created.status());
    url = *created;
  }
  for (int i = 0; i < kReplicas; ++i) {
    if (kind == "memory") {
      if (i == 0) replicas.owned.push_back(std::make_unique<testing::MemoryIncidentStore>());
    } else if (kind == "postgres") {
      PostgresStoreOptions options;
      options.url = url;
      auto store = PostgresIncidentStore::Open(options);
      Check(store.status());
      replicas.owned.push_back(std::move(*store));
    } else {
      auto store = SqliteIncidentStore::Open(path);
      Check(store.status());
      replicas.owned.push_back(std::move(*store));
    }
    replicas.stores.push_back(replicas.owned.back().get());
  }
  return replicas;
}

DetectionToRecord Detection(const std::string& name, absl::Time seen) {
  DetectionToRecord d;
  d.detection.set_error_class(v1::ERROR_CLASS_OOM_KILLED);
  d.detection.mutable_workload()->set_namespace_("app");
  d.detection.mutable_workload()->set_kind("Deployment");
  d.detection.mutable_workload()->set_name(name);
  d.detection.set_reason("OOMKilled");
  d.detection.add_evidence("container app was OOM-killed (limit 4Mi)");
  d.fingerprint = "app/Deployment/" + name + "/oom";
  d.severity = "high";
  d.seen = seen;
  return d;
}

// The stores of the running benchmark and each thread's incidents, set up by thread 0 before
// the timed loop (whose start is a barrier for all threads: other threads touch them only
// inside the loop).
Replicas replicas;
std::vector<std::vector<std::string>> thread_incidents;
std::atomic<int64_t> clock_ns{1780000000000000000};
absl::Time Tick() { return absl::FromUnixNanos(clock_ns.fetch_add(1000)); }

void SetUp(benchmark::State& state, const std::string& kind, int per_thread) {
  if (state.thread_index() != 0) return;
  replicas = OpenReplicas(kind);
  thread_incidents.assign(state.threads(), {});
  for (int t = 0; t < state.threads(); ++t) {
    std::vector<DetectionToRecord> batch;
    for (int i = 0; i < per_thread; ++i) {
      batch.push_back(Detection(absl::StrCat("seed-", t, "-", i), Tick()));
    }
    if (batch.empty()) continue;
    auto recorded = replicas.stores[0]->RecordDetections(batch);
    Check(recorded.status());
    for (const auto& r : *recorded) thread_incidents[t].push_back(r.incident.id());
  }
}

IncidentStore& StoreOf(const benchmark::State& state) {
  return *replicas.stores[state.thread_index() % kReplicas];
}

void Finish(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) replicas = Replicas();
}

// One new incident per RecordDetections call (a transaction each).
void BM_Ingest(benchmark::State& state, const std::string& kind) {
  SetUp(state, kind, 0);
  int64_t n = 0;
  for (auto _ : state) {
    Check(StoreOf(state)
              .RecordDetections(
                  {Detection(absl::StrCat("w", state.thread_index(), "-", n++), Tick())})
              .status());
  }
  Finish(state);
}

// Compare-and-set transitions, OPEN -> FIXING -> OPEN, on each thread's own incidents.
void BM_Transition(benchmark::State& state, const std::string& kind) {
  SetUp(state, kind, 50);
  int64_t n = 0;
  for (auto _ : state) {
    const auto& ids = thread_incidents[state.thread_index()];
    const std::string& id = ids[n % ids.size()];
    const bool open = (n++ / ids.size()) % 2 == 0;
    Check(StoreOf(state)
              .TransitionIncident(id, open ? v1::INCIDENT_STATE_OPEN : v1::INCIDENT_STATE_FIXING,
                                  open ? v1::INCIDENT_STATE_FIXING : v1::INCIDENT_STATE_OPEN,
                                  "bench", Tick())
              .status());
  }
  Finish(state);
}

// What a replica does per incident: claim the next OPEN one, take it to FIXING and back
// (two compare-and-set transitions), release it. The incident goes to the back of the queue.
void BM_HandleCycle(benchmark::State& state, const std::string& kind) {
  SetUp(state, kind, 100);
  ClaimRequest request;
  request.owner = absl::StrCat("replica-", state.thread_index());
  for (auto _ : state) {
    IncidentStore& store = StoreOf(state);
    request.now = Tick();
    auto claim = store.ClaimNextIncident({v1::INCIDENT_STATE_OPEN}, request);
    Check(claim.status());
    if (!claim->has_value()) {
      state.SkipWithError("no claimable incident");
      break;
    }
    const std::string id = (*claim)->incident.id();
    Check(store
              .TransitionIncident(id, v1::INCIDENT_STATE_OPEN, v1::INCIDENT_STATE_FIXING, "fix",
                                  Tick())
              .status());
    Check(store
              .TransitionIncident(id, v1::INCIDENT_STATE_FIXING, v1::INCIDENT_STATE_OPEN, "again",
                                  Tick())
              .status());
    Check(store.ReleaseClaim(id, request.owner));
  }
  Finish(state);
}

#define STORE_BENCH(fn)                                                                        \
  BENCHMARK_CAPTURE(fn, memory, std::string("memory"))->Threads(1)->UseRealTime();             \
  BENCHMARK_CAPTURE(fn, sqlite, std::string("sqlite"))->Threads(1)->Threads(3)->UseRealTime(); \
  BENCHMARK_CAPTURE(fn, postgres, std::string("postgres"))->Threads(1)->Threads(3)->UseRealTime()

STORE_BENCH(BM_Ingest);
STORE_BENCH(BM_Transition);
STORE_BENCH(BM_HandleCycle);

}  // namespace
}  // namespace remediator

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--on_disk") == 0) remediator::on_disk = true;
  }
  benchmark::Initialize(&argc, argv);
  // The PostgreSQL server starts here, on the main thread, so that it dies with the process.
  remediator::Server();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
