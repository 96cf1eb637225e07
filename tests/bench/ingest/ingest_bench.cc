// Ingestion benchmarks (perf-anchors.md §1, §3):
//   (a) ReportError ingestion over loopback gRPC with batching: the real remediator server in
//       process (RemediatorServer::Start, SQLite store in a temp dir), realistic CRI lines from
//       gen_cri_logs (mostly not errors), 1000 lines per CriLogLines observation like the
//       log-shipper sends them. Measured in lines per CPU-second of the whole process (client and
//       server together, so "per core" is conservative), against baselines measured in the same
//       run: the same batches through Ingestor::Ingest without gRPC, and protobuf
//       serialize + parse alone.
//   (b) log-shipper peak RSS: the real binary ships a generated file (--shipper_bytes, 1 GiB for
//       the full figure, ~50 MB in CI) to the in-process server with --once; peak RSS from
//       VmHWM in /proc/<pid>/status while it runs and ru_maxrss when it exits.
// usage: ingest_bench [benchmark flags] [--bench_bytes=N] [--shipper_bytes=N]
// Exit code 1 when the shipper's peak RSS is above 32 MiB, or lines went missing.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "remediator/v1/remediator.grpc.pb.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "server/remediator/core/detector_classifier.h"
#include "server/remediator/core/ingestor.h"
#include "server/remediator/remediator_server.h"

extern char** environ;

namespace remediator {
namespace {

constexpr char kLogFile[] =
    "/var/log/containers/web-7d9f8b6c4-x2x9k_shop_app-"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log";
constexpr int kLinesPerBatch = 1000;

size_t g_bench_bytes = 16 << 20;
size_t g_shipper_bytes = 1ull << 30;
std::filesystem::path g_dir;
std::vector<v1::ReportErrorRequest> g_batches;
int64_t g_lines = 0;
std::map<std::string, double> g_lines_per_cpu_s;
bool g_failed = false;

double CpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

bool Generate(const std::string& path, size_t bytes) {
  std::string cmd =
      std::string(GEN_CRI_LOGS_PATH) + " " + path + " " + std::to_string(bytes) + " > /dev/null";
  return std::system(cmd.c_str()) == 0;
}

void LoadBatches() {
  std::string path = (g_dir / "bench.log").string();
  if (!Generate(path, g_bench_bytes)) {
    std::fprintf(stderr, "gen_cri_logs failed\n");
    std::exit(1);
  }
  std::ifstream in(path);
  std::string line;
  v1::ReportErrorRequest batch;
  v1::CriLogLines* cri = nullptr;
  while (std::getline(in, line)) {
    if (cri == nullptr) {
      cri = batch.add_observations()->mutable_cri_log();
      cri->set_log_file(kLogFile);
      cri->set_namespace_("shop");
      cri->set_pod("web-7d9f8b6c4-x2x9k");
      cri->set_container("app");
    }
    cri->add_lines(line);
    ++g_lines;
    if (cri->lines_size() == kLinesPerBatch) {
      g_batches.push_back(std::move(batch));
      batch = v1::ReportErrorRequest();
      cri = nullptr;
    }
  }
  if (cri != nullptr) g_batches.push_back(std::move(batch));
}

void Report(benchmark::State& state, const std::string& name, int64_t lines, double cpu) {
  state.SetItemsProcessed(lines);
  double per_cpu = cpu > 0 ? lines / cpu : 0;
  state.counters["lines_per_cpu_s"] = per_cpu;
  g_lines_per_cpu_s[name] = per_cpu;
}

struct Server {
  Server() {
    RemediatorConfig config;
    config.server.listen = "127.0.0.1:0";
    config.state_dir = (g_dir / ("server-" + std::to_string(counter++))).string();
    auto started = RemediatorServer::Start(config, RealClock::Get());
    if (!started.ok()) {
      std::fprintf(stderr, "server: %s\n", started.status().ToString().c_str());
      std::exit(1);
    }
    server = *std::move(started);
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    stub = v1::Remediator::NewStub(
        grpc::CreateCustomChannel(server->address(), grpc::InsecureChannelCredentials(), args));
  }
  static inline int counter = 0;
  std::unique_ptr<RemediatorServer> server;
  std::unique_ptr<v1::Remediator::Stub> stub;
};

// (a) Client streaming, 16 batches per stream (the log-shipper's default).
void BM_GrpcReportErrorStream(benchmark::State& state) {
  Server s;
  int64_t lines = 0;
  double cpu0 = CpuSeconds();
  for (auto _ : state) {
    for (size_t i = 0; i < g_batches.size(); i += 16) {
      grpc::ClientContext context;
      v1::ReportErrorStreamResponse response;
      auto writer = s.stub->ReportErrorStream(&context, &response);
      for (size_t j = i; j < std::min(i + 16, g_batches.size()); ++j) {
        writer->Write(g_batches[j]);
        lines += g_batches[j].observations(0).cri_log().lines_size();
      }
      writer->WritesDone();
      grpc::Status status = writer->Finish();
      if (!status.ok()) state.SkipWithError(status.error_message().c_str());
    }
  }
  Report(state, "grpc_stream", lines, CpuSeconds() - cpu0);
}
BENCHMARK(BM_GrpcReportErrorStream)->Unit(benchmark::kMillisecond)->UseRealTime();

// (a) Unary ReportError, one batch per call.
void BM_GrpcReportErrorUnary(benchmark::State& state) {
  Server s;
  int64_t lines = 0;
  double cpu0 = CpuSeconds();
  for (auto _ : state) {
    for (const auto& batch : g_batches) {
      grpc::ClientContext context;
      v1::ReportErrorResponse response;
      grpc::Status status = s.stub->ReportError(&context, batch, &response);
      if (!status.ok()) state.SkipWithError(status.error_message().c_str());
      lines += batch.observations(0).cri_log().lines_size();
    }
  }
  Report(state, "grpc_unary", lines, CpuSeconds() - cpu0);
}
BENCHMARK(BM_GrpcReportErrorUnary)->Unit(benchmark::kMillisecond)->UseRealTime();

// Baseline: the same batches through the Ingestor, no gRPC.
void BM_IngestorInProcess(benchmark::State& state) {
  auto store = SqliteIncidentStore::Open((g_dir / "ingestor.db").string());
  auto classifier = MakeDetectorClassifier();
  if (!store.ok() || !classifier.ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  Ingestor ingestor(**classifier, **store, RealClock::Get());
  int64_t lines = 0;
  double cpu0 = CpuSeconds();
  for (auto _ : state) {
    for (const auto& batch : g_batches) {
      auto detections = ingestor.Ingest(batch.observations());
      if (!detections.ok()) state.SkipWithError(detections.status().ToString().c_str());
      lines += batch.observations(0).cri_log().lines_size();
    }
  }
  Report(state, "ingestor", lines, CpuSeconds() - cpu0);
}
BENCHMARK(BM_IngestorInProcess)->Unit(benchmark::kMillisecond)->UseRealTime();

// Baseline: protobuf serialization + parsing of the batches (what gRPC adds at least).
void BM_ProtoSerializeParse(benchmark::State& state) {
  int64_t lines = 0;
  double cpu0 = CpuSeconds();
  std::string wire;
  v1::ReportErrorRequest parsed;
  for (auto _ : state) {
    for (const auto& batch : g_batches) {
      batch.SerializeToString(&wire);
      parsed.ParseFromString(wire);
      benchmark::DoNotOptimize(parsed);
      lines += batch.observations(0).cri_log().lines_size();
    }
  }
  Report(state, "proto", lines, CpuSeconds() - cpu0);
}
BENCHMARK(BM_ProtoSerializeParse)->Unit(benchmark::kMillisecond)->UseRealTime();

long VmHwmKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// (b) The log-shipper binary shipping --shipper_bytes; one iteration.
void BM_LogShipperPeakRss(benchmark::State& state) {
  std::filesystem::path logs = g_dir / "logs";
  std::filesystem::create_directories(logs);
  std::string file = (logs / std::filesystem::path(kLogFile).filename()).string();
  if (!Generate(file, g_shipper_bytes)) {
    state.SkipWithError("gen_cri_logs failed");
    return;
  }
  size_t bytes = std::filesystem::file_size(file);
  int64_t file_lines = 0;
  {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) ++file_lines;
  }
  Server s;
  long hwm = 0, max_rss = 0;
  for (auto _ : state) {
    std::filesystem::remove_all(g_dir / "shipper-state");
    std::vector<std::string> args = {LOG_SHIPPER_PATH,
                                     "--server",
                                     s.server->address(),
                                     "--paths",
                                     (logs / "*.log").string(),
                                     "--state-dir",
                                     (g_dir / "shipper-state").string(),
                                     "--once",
                                     "--log-format",
                                     "json"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string err = (g_dir / "shipper.err").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
      state.SkipWithError("cannot start log-shipper");
      return;
    }
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    struct rusage usage {};
    while (::wait4(pid, &status, WNOHANG, &usage) == 0) {
      hwm = std::max(hwm, VmHwmKib(pid));
      usleep(20000);
    }
    // ru_maxrss would also count this process's memory (posix_spawn shares it until exec): use
    // the VmHWM the shipper reports when it stops, and the polled one.
    (void)usage;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("log-shipper failed");
      g_failed = true;
    }
    // Every line arrived: the shipper logs lines_acknowledged when it stops.
    std::ifstream in(err);
    std::stringstream text;
    text << in.rdbuf();
    std::string needle = "\"lines_acknowledged\":\"" + std::to_string(file_lines) + "\"";
    size_t at = text.str().find("\"peak_rss_kib\":\"");
    if (at != std::string::npos) max_rss = std::atol(text.str().c_str() + at + 16);
    if (text.str().find(needle) == std::string::npos) {
      std::fprintf(stderr, "log-shipper did not acknowledge %lld lines:\n%s\n",
                   static_cast<long long>(file_lines), text.str().c_str());
      g_failed = true;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
  state.SetItemsProcessed(file_lines * state.iterations());
  double peak_mib = std::max(hwm, max_rss) / 1024.0;
  state.counters["peak_rss_MiB"] = peak_mib;
  state.counters["file_MiB"] = bytes / 1048576.0;
  std::printf(
      "log-shipper: %.1f MiB, %lld lines, peak RSS %.1f MiB (VmHWM polled %ld KiB, "
      "reported at exit %ld KiB), target <= 32 MiB: %s\n",
      bytes / 1048576.0, static_cast<long long>(file_lines), peak_mib, hwm, max_rss,
      peak_mib <= 32 ? "met" : "NOT MET");
  if (peak_mib > 32) g_failed = true;
  std::filesystem::remove(file);
}
BENCHMARK(BM_LogShipperPeakRss)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace remediator

int main(int argc, char** argv) {
  using namespace remediator;
  benchmark::Initialize(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--bench_bytes=", 0) == 0) {
      g_bench_bytes = std::strtoull(a.c_str() + 14, nullptr, 10);
    } else if (a.rfind("--shipper_bytes=", 0) == 0) {
      g_shipper_bytes = std::strtoull(a.c_str() + 16, nullptr, 10);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  g_dir = std::filesystem::temp_directory_path() / ("ingest_bench_" + std::to_string(::getpid()));
  std::filesystem::create_directories(g_dir);
  LoadBatches();
  std::printf("%lld CRI lines in %zu batches of %d\n", static_cast<long long>(g_lines),
              g_batches.size(), kLinesPerBatch);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  auto get = [](const char* k) {
    auto it = g_lines_per_cpu_s.find(k);
    return it == g_lines_per_cpu_s.end() ? 0.0 : it->second;
  };
  for (const char* k : {"grpc_stream", "grpc_unary"}) {
    double v = get(k);
    if (v == 0) continue;
    std::printf(
        "%s: %.0f lines/CPU-s (target >= 200000: %s); %.2fx of in-process Ingestor "
        "(%.0f), %.3fx of protobuf serialize+parse (%.0f)\n",
        k, v, v >= 200000 ? "met" : "NOT MET", get("ingestor") ? v / get("ingestor") : 0,
        get("ingestor"), get("proto") ? v / get("proto") : 0, get("proto"));
  }
  std::filesystem::remove_all(g_dir);
  return g_failed ? 1 : 0;
}
