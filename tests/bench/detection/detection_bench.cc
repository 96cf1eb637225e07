// Log-matching throughput on a generated CRI log (perf-anchors.md §6 method, Google Benchmark):
//   memchr line split (the per-line floor), LineMatcher whole-buffer and per line (the 20 patterns
//   of error-patterns.txt, and the Detector's default set), RE2::Set per line (portable baseline)
//   and std::regex x20 per line on a subset (only here, never on the hot path), and the whole
//   Detector on 1,000-line CRI observations (parse + join + match + Detection).
// Every figure is also printed as a ratio against the memchr line split of the same run, and the
// matcher's per-pattern line counts are checked against the generator's ground truth (exit 1 on
// a mismatch).
//
// usage: detection_bench [benchmark flags] [--bench_bytes=N] [--bench_file=PATH]
//                        [--stdregex_bytes=N] [--count_only]
//   --bench_bytes     size of the generated file (default 64 MiB; perf-anchors used 200 MiB)
//   --bench_file      use an existing CRI file instead (no ground-truth check)
//   --count_only      one ScanBuffer pass: prints lines matched per pattern and MB/s, then exits
//                     (used by compare_grep.sh)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "re2/re2.h"
#include "re2/set.h"
#include "server/remediator/core/detection/detector.h"
#include "server/remediator/core/detection/line_matcher.h"
#include "server/remediator/core/detection/log_patterns.h"

namespace {

using remediator::detection::DefaultLogPatterns;
using remediator::detection::LineMatcher;

std::string g_data;
std::vector<std::string> g_patterns;  // error-patterns.txt
std::vector<uint64_t> g_truth;        // per pattern, from the generator
uint64_t g_lines = 0;
size_t g_stdregex_bytes = 2000000;
std::unique_ptr<LineMatcher> g_bench_matcher;
std::unique_ptr<LineMatcher> g_default_matcher;

template <typename F>
uint64_t ForLines(std::string_view buf, F&& f) {
  const char* p = buf.data();
  const char* end = p + buf.size();
  uint64_t n = 0;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* e = nl ? nl : end;
    f(std::string_view(p, e - p));
    ++n;
    p = e + 1;
  }
  return n;
}

void SetRates(benchmark::State& state, size_t bytes, uint64_t lines) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["lines_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations() * lines), benchmark::Counter::kIsRate);
}

void BM_MemchrLineSplit(benchmark::State& state) {
  uint64_t lines = 0;
  for (auto _ : state) {
    lines = ForLines(g_data, [](std::string_view l) { benchmark::DoNotOptimize(l.data()); });
    benchmark::DoNotOptimize(lines);
  }
  SetRates(state, g_data.size(), lines);
}
BENCHMARK(BM_MemchrLineSplit)->Unit(benchmark::kMillisecond);

void ScanBufferBench(benchmark::State& state, const LineMatcher& m) {
  uint64_t hits = 0;
  for (auto _ : state) {
    hits = 0;
    m.ScanBuffer(g_data, [&](std::string_view, const std::vector<int>&) { ++hits; });
    benchmark::DoNotOptimize(hits);
  }
  state.counters["matched_lines"] = static_cast<double>(hits);
  SetRates(state, g_data.size(), g_lines);
}

void BM_LineMatcherScanBuffer_Bench20(benchmark::State& state) {
  ScanBufferBench(state, *g_bench_matcher);
}
BENCHMARK(BM_LineMatcherScanBuffer_Bench20)->Unit(benchmark::kMillisecond);

void BM_LineMatcherScanBuffer_Default(benchmark::State& state) {
  ScanBufferBench(state, *g_default_matcher);
}
BENCHMARK(BM_LineMatcherScanBuffer_Default)->Unit(benchmark::kMillisecond);

void BM_LineMatcherPerLine_Bench20(benchmark::State& state) {
  uint64_t hits = 0;
  std::vector<int> ids;
  for (auto _ : state) {
    hits = 0;
    ForLines(g_data, [&](std::string_view l) {
      if (g_bench_matcher->IsCandidate(l) && g_bench_matcher->MatchAll(l, &ids)) ++hits;
    });
    benchmark::DoNotOptimize(hits);
  }
  state.counters["matched_lines"] = static_cast<double>(hits);
  SetRates(state, g_data.size(), g_lines);
}
BENCHMARK(BM_LineMatcherPerLine_Bench20)->Unit(benchmark::kMillisecond);

void BM_RE2SetPerLine_Bench20(benchmark::State& state) {
  RE2::Options o;
  o.set_max_mem(256 << 20);
  o.set_log_errors(false);
  RE2::Set set(o, RE2::UNANCHORED);
  for (const std::string& p : g_patterns) set.Add(p, nullptr);
  if (!set.Compile()) {
    state.SkipWithError("RE2::Set compile failed");
    return;
  }
  uint64_t hits = 0;
  std::vector<int> v;
  for (auto _ : state) {
    hits = 0;
    ForLines(g_data, [&](std::string_view l) {
      if (set.Match(re2::StringPiece(l.data(), l.size()), &v)) ++hits;
    });
    benchmark::DoNotOptimize(hits);
  }
  state.counters["matched_lines"] = static_cast<double>(hits);
  SetRates(state, g_data.size(), g_lines);
}
BENCHMARK(BM_RE2SetPerLine_Bench20)->Unit(benchmark::kMillisecond);

void BM_StdRegexPerLine_Bench20_Subset(benchmark::State& state) {
  std::vector<std::regex> rx;
  for (const std::string& p : g_patterns) {
    // ECMAScript has no \s inside classes issue here; the 20 patterns are ECMAScript-compatible.
    rx.emplace_back(p, std::regex::ECMAScript | std::regex::optimize);
  }
  size_t n = std::min(g_stdregex_bytes, g_data.size());
  const char* nl =
      static_cast<const char*>(std::memchr(g_data.data() + n, '\n', g_data.size() - n));
  n = nl ? static_cast<size_t>(nl - g_data.data()) + 1 : g_data.size();
  const std::string_view subset(g_data.data(), n);
  uint64_t hits = 0, lines = 0;
  for (auto _ : state) {
    hits = 0;
    lines = ForLines(subset, [&](std::string_view l) {
      for (const std::regex& r : rx) {
        if (std::regex_search(l.begin(), l.end(), r)) {
          ++hits;
          break;
        }
      }
    });
    benchmark::DoNotOptimize(hits);
  }
  state.counters["matched_lines"] = static_cast<double>(hits);
  SetRates(state, n, lines);
}
BENCHMARK(BM_StdRegexPerLine_Bench20_Subset)->Unit(benchmark::kMillisecond);

// End to end through Detector::Detect: CRI observations of 1,000 raw lines each (the shape the
// log-shipper sends), including CRI parsing, P/F joining, matching and building the Detection.
void BM_DetectorCriBatches1000(benchmark::State& state) {
  auto detector = remediator::detection::Detector::Create();
  if (!detector.ok()) {
    state.SkipWithError("Detector::Create failed");
    return;
  }
  std::vector<remediator::v1::Observation> batches;
  remediator::v1::Observation obs;
  obs.mutable_cri_log()->set_log_file(
      "/var/log/containers/api-7d4b9c6f5b-x2x9z_shop_api-0123456789abcdef.log");
  ForLines(g_data, [&](std::string_view l) {
    obs.mutable_cri_log()->add_lines(std::string(l));
    if (obs.cri_log().lines_size() == 1000) {
      batches.push_back(obs);
      obs.mutable_cri_log()->clear_lines();
    }
  });
  size_t bytes = 0;
  uint64_t lines = 0;
  for (const auto& b : batches) {
    for (const std::string& l : b.cri_log().lines()) bytes += l.size() + 1;
    lines += b.cri_log().lines_size();
  }
  uint64_t failures = 0;
  for (auto _ : state) {
    failures = 0;
    for (const auto& b : batches) {
      auto d = (*detector)->Detect(b);
      if (d.ok() && d->error_class() != remediator::v1::ERROR_CLASS_NONE) ++failures;
    }
    benchmark::DoNotOptimize(failures);
  }
  state.counters["batches_with_failure"] = static_cast<double>(failures);
  SetRates(state, bytes, lines);
}
BENCHMARK(BM_DetectorCriBatches1000)->Unit(benchmark::kMillisecond);

// Console output plus a closing table of ratios against the memchr line split.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      auto b = r.counters.find("bytes_per_second");
      auto l = r.counters.find("lines_per_second");
      if (b == r.counters.end()) continue;
      rates_[r.benchmark_name()] = {b->second.value, l == r.counters.end() ? 0 : l->second.value};
      order_.push_back(r.benchmark_name());
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    auto base = rates_.find("BM_MemchrLineSplit");
    if (base == rates_.end()) return;
    std::printf("\n== per core (CPU time), ratio against memchr line split of this run ==\n");
    std::printf("%-40s %12s %14s %10s\n", "benchmark", "MB/s", "M lines/s", "x memchr");
    for (const std::string& name : order_) {
      const auto& [bps, lps] = rates_[name];
      std::printf("%-40s %12.1f %14.2f %10.4f\n", name.c_str(), bps / 1e6, lps / 1e6,
                  bps / base->second.first);
    }
  }

 private:
  std::map<std::string, std::pair<double, double>> rates_;
  std::vector<std::string> order_;
};

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::string data(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  return data;
}

// Runs the generator; fills g_truth from its "injected:" line.
std::string Generate(size_t bytes) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("detection_bench_" + std::to_string(::getpid()) + ".cri");
  const std::string cmd =
      std::string(GEN_CRI_LOGS_PATH) + " " + file.string() + " " + std::to_string(bytes);
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    std::fprintf(stderr, "cannot run %s\n", cmd.c_str());
    std::exit(2);
  }
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (::pclose(p) != 0) {
    std::fprintf(stderr, "generator failed: %s\n", cmd.c_str());
    std::exit(2);
  }
  std::printf("generator: %s", out.c_str());
  const size_t at = out.find("injected:");
  if (at != std::string::npos) {
    std::istringstream in(out.substr(at + 9));
    uint64_t v;
    while (in >> v) g_truth.push_back(v);
  }
  std::string data = ReadFileOrDie(file.string());
  std::filesystem::remove(file);
  return data;
}

// Per-pattern line counts of the 20-pattern matcher against the ground truth.
bool CheckCounts() {
  std::vector<uint64_t> counts(g_patterns.size(), 0);
  uint64_t any = 0;
  const std::clock_t c0 = std::clock();
  g_bench_matcher->ScanBuffer(g_data, [&](std::string_view, const std::vector<int>& ids) {
    ++any;
    for (int id : ids) ++counts[id];
  });
  const double s = std::max(1e-6, static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
  std::printf("matcher: lines=%llu matched_lines=%llu cpu=%.3fs (%.1f MB/s)\nper pattern:",
              static_cast<unsigned long long>(g_lines), static_cast<unsigned long long>(any), s,
              g_data.size() / s / 1e6);
  for (uint64_t c : counts) std::printf(" %llu", static_cast<unsigned long long>(c));
  std::printf("\n");
  if (g_truth.empty()) return true;
  if (g_truth != counts) {
    std::printf("MISMATCH against the generator's ground truth:");
    for (uint64_t c : g_truth) std::printf(" %llu", static_cast<unsigned long long>(c));
    std::printf("\n");
    return false;
  }
  std::printf("per-pattern counts equal the generator's ground truth\n");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  size_t bytes = 64u << 20;
  std::string file;
  bool count_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.rfind("--bench_bytes=", 0) == 0) {
      bytes = std::strtoull(argv[i] + 14, nullptr, 10);
    } else if (a.rfind("--bench_file=", 0) == 0) {
      file = std::string(a.substr(13));
    } else if (a.rfind("--stdregex_bytes=", 0) == 0) {
      g_stdregex_bytes = std::strtoull(argv[i] + 17, nullptr, 10);
    } else if (a == "--count_only") {
      count_only = true;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  const std::string pattern_text = ReadFileOrDie(ERROR_PATTERNS_PATH);
  auto bench = LineMatcher::FromRegexLines(pattern_text);
  auto def = LineMatcher::Create(DefaultLogPatterns());
  if (!bench.ok() || !def.ok()) {
    std::fprintf(stderr, "matcher: %s %s\n", bench.status().ToString().c_str(),
                 def.status().ToString().c_str());
    return 2;
  }
  g_bench_matcher = *std::move(bench);
  g_default_matcher = *std::move(def);
  for (int i = 0; i < g_bench_matcher->size(); ++i) {
    g_patterns.push_back(g_bench_matcher->pattern(i).regex);
  }
  g_data = file.empty() ? Generate(bytes) : ReadFileOrDie(file);
  g_lines = ForLines(g_data, [](std::string_view) {});
  std::printf("data: %zu bytes, %llu lines, %.1f bytes/line; prefilter literals: %zu\n",
              g_data.size(), static_cast<unsigned long long>(g_lines),
              g_lines ? static_cast<double>(g_data.size()) / g_lines : 0.0,
              g_bench_matcher->literals().size());
  const bool counts_ok = CheckCounts();
  if (count_only) return counts_ok ? 0 : 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return counts_ok ? 0 : 1;
}
