// A small Prometheus metrics registry: counters, gauges and histograms with labels, and
// collectors that compute samples when scraped (e.g. incidents by state, read from the store).
// Exposed in the text exposition format, version 0.0.4 (Prometheus' "Exposition formats"):
//
//   metrics::Registry registry;
//   metrics::Counter& lines = registry.AddCounter("remediator_ingested_lines_total",
//                                                 "Log lines received.", {}).Get({});
//   lines.Increment(12);
//   metrics::CounterFamily& rpcs = registry.AddCounter("grpc_server_handled_total",
//                                                      "RPCs by method and code.",
//                                                      {"grpc_method", "grpc_code"});
//   rpcs.Get({"GetIncident", "OK"}).Increment();
//   std::string text = registry.Expose();
//
// Names follow the Prometheus conventions: snake_case, a unit suffix (_seconds, _bytes),
// counters end in _total. Thread-safe and lock-light: a metric's value is an atomic; the family
// takes its mutex only to find or create a label set (keep the returned reference to skip it).
// Metric objects live as long as the registry.
#ifndef REMEDIATOR_SERVER_METRICS_REGISTRY_H_
#define REMEDIATOR_SERVER_METRICS_REGISTRY_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace remediator::metrics {

using LabelValues = std::vector<std::string>;

class Counter {
 public:
  // `amount` must be >= 0 (ignored otherwise: a counter never goes down).
  void Increment(double amount = 1);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: the upper bounds of the buckets, increasing; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket counts (not cumulative), one more than bounds() for +Inf.
  std::vector<uint64_t> BucketCounts() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// Buckets for durations from 5 ms to 10 min.
std::vector<double> DurationBuckets();

template <typename Metric>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<Metric>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}
  // The metric for these label values (as many as label names; missing ones are "", extra ones
  // ignored), created on first use.
  Metric& Get(const LabelValues& values);
  const std::vector<std::string>& label_names() const { return label_names_; }
  // A snapshot of the label sets and their metrics, sorted by label values.
  std::vector<std::pair<LabelValues, const Metric*>> Snapshot() const;

 private:
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Metric>()> make_;
  mutable std::mutex mutex_;
  std::map<LabelValues, std::unique_ptr<Metric>> metrics_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// What a collector reports at scrape time: one family of samples.
struct CollectedFamily {
  enum class Type { kCounter, kGauge, kHistogram };
  std::string name;
  std::string help;
  Type type = Type::kGauge;
  std::vector<std::string> label_names;
  // Counters and gauges: one value per label set.
  std::vector<std::pair<LabelValues, double>> samples;
  // Histograms: one histogram per label set (bounds, counts, sum).
  std::vector<std::pair<LabelValues, const Histogram*>> histograms;
  // Keeps collected histograms alive until exposed.
  std::vector<std::unique_ptr<Histogram>> owned;
};

class Registry {
 public:
  // Names must be unique in the registry and match [a-zA-Z_:][a-zA-Z0-9_:]*; label names
  // [a-zA-Z_][a-zA-Z0-9_]*. A duplicate or bad name aborts (a programming error).
  CounterFamily& AddCounter(const std::string& name, const std::string& help,
                            std::vector<std::string> label_names);
  GaugeFamily& AddGauge(const std::string& name, const std::string& help,
                        std::vector<std::string> label_names);
  HistogramFamily& AddHistogram(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names, std::vector<double> bounds);
  // Called at every Expose(); its families come after the registered ones. A collector must not
  // use this registry.
  void AddCollector(std::function<std::vector<CollectedFamily>()> collector);

  // Every family, in the text exposition format 0.0.4.
  std::string Expose() const;

 private:
  struct Entry {
    std::string name;
    std::string help;
    CollectedFamily::Type type;
    void* family;
  };
  void Register(const std::string& name, const std::vector<std::string>& labels);

  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<GaugeFamily>> gauges_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
  std::vector<std::function<std::vector<CollectedFamily>()>> collectors_;
};

// The content type of Expose()'s text.
inline constexpr char kExpositionContentType[] = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace remediator::metrics

#endif  // REMEDIATOR_SERVER_METRICS_REGISTRY_H_
