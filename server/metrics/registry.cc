#include "server/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>

namespace remediator::metrics {
namespace {

bool ValidName(const std::string& name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Label values: backslash, double quote and line feed are escaped; HELP text: backslash and
// line feed.
std::string Escape(const std::string& text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  // The shortest text that reads back as the same double ("0.1", not "0.10000000000000001").
  char buffer[32];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

std::string Labels(const std::vector<std::string>& names, const LabelValues& values,
                   const std::string& extra_name = "", const std::string& extra_value = "") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!out.empty()) out += ",";
    out += names[i] + "=\"" + Escape(i < values.size() ? values[i] : "", true) + "\"";
  }
  if (!extra_name.empty()) {
    if (!out.empty()) out += ",";
    out += extra_name + "=\"" + extra_value + "\"";
  }
  return out.empty() ? "" : "{" + out + "}";
}

const char* TypeName(CollectedFamily::Type type) {
  switch (type) {
    case CollectedFamily::Type::kCounter:
      return "counter";
    case CollectedFamily::Type::kGauge:
      return "gauge";
    case CollectedFamily::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void WriteHistogram(std::string& out, const std::string& name,
                    const std::vector<std::string>& label_names, const LabelValues& values,
                    const Histogram& histogram) {
  std::vector<uint64_t> counts = histogram.BucketCounts();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    std::string le = i < histogram.bounds().size() ? FormatValue(histogram.bounds()[i]) : "+Inf";
    out += name + "_bucket" + Labels(label_names, values, "le", le) + " " +
           std::to_string(cumulative) + "\n";
  }
  out += name + "_sum" + Labels(label_names, values) + " " + FormatValue(histogram.Sum()) + "\n";
  // The count is the +Inf bucket's, so that the two always agree in one scrape.
  out += name + "_count" + Labels(label_names, values) + " " + std::to_string(cumulative) + "\n";
}

void WriteHeader(std::string& out, const std::string& name, const std::string& help,
                 CollectedFamily::Type type) {
  out += "# HELP " + name + " " + Escape(help, false) + "\n";
  out += "# TYPE " + name + " " + TypeName(type) + "\n";
}

}  // namespace

void Counter::Increment(double amount) {
  if (!(amount >= 0)) return;
  value_.fetch_add(amount, std::memory_order_relaxed);
}

void Gauge::Add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::Observe(double value) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> counts(bounds_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = buckets_[i].load();
  return counts;
}

std::vector<double> DurationBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
}

template <typename Metric>
Metric& Family<Metric>::Get(const LabelValues& values) {
  LabelValues key = values;
  key.resize(label_names_.size());
  std::lock_guard<std::mutex> lock(mutex_);
  std::unique_ptr<Metric>& slot = metrics_[key];
  if (slot == nullptr) slot = make_();
  return *slot;
}

template <typename Metric>
std::vector<std::pair<LabelValues, const Metric*>> Family<Metric>::Snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<LabelValues, const Metric*>> out;
  for (const auto& [values, metric] : metrics_) out.emplace_back(values, metric.get());
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void Registry::Register(const std::string& name, const std::vector<std::string>& labels) {
  bool ok = ValidName(name, true);
  for (const auto& label : labels) ok = ok && ValidName(label, false) && label != "le";
  for (const auto& entry : entries_) ok = ok && entry.name != name;
  if (!ok) {
    std::cerr << "metrics: bad or duplicate metric \"" << name << "\"\n";
    std::abort();
  }
}

CounterFamily& Registry::AddCounter(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mutex_);
  Register(name, label_names);
  counters_.push_back(std::make_unique<CounterFamily>(std::move(label_names),
                                                      [] { return std::make_unique<Counter>(); }));
  entries_.push_back({name, help, CollectedFamily::Type::kCounter, counters_.back().get()});
  return *counters_.back();
}

GaugeFamily& Registry::AddGauge(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mutex_);
  Register(name, label_names);
  gauges_.push_back(std::make_unique<GaugeFamily>(std::move(label_names),
                                                  [] { return std::make_unique<Gauge>(); }));
  entries_.push_back({name, help, CollectedFamily::Type::kGauge, gauges_.back().get()});
  return *gauges_.back();
}

HistogramFamily& Registry::AddHistogram(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mutex_);
  Register(name, label_names);
  histograms_.push_back(std::make_unique<HistogramFamily>(
      std::move(label_names), [bounds] { return std::make_unique<Histogram>(bounds); }));
  entries_.push_back({name, help, CollectedFamily::Type::kHistogram, histograms_.back().get()});
  return *histograms_.back();
}

void Registry::AddCollector(std::function<std::vector<CollectedFamily>()> collector) {
  std::lock_guard<std::mutex> lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::Expose() const {
  std::vector<Entry> entries;
  std::vector<std::function<std::vector<CollectedFamily>()>> collectors;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    entries = entries_;
    collectors = collectors_;
  }
  std::string out;
  for (const Entry& e : entries) {
    WriteHeader(out, e.name, e.help, e.type);
    if (e.type == CollectedFamily::Type::kCounter) {
      auto* family = static_cast<CounterFamily*>(e.family);
      for (const auto& [values, metric] : family->Snapshot()) {
        out += e.name + Labels(family->label_names(), values) + " " + FormatValue(metric->Value()) +
               "\n";
      }
    } else if (e.type == CollectedFamily::Type::kGauge) {
      auto* family = static_cast<GaugeFamily*>(e.family);
      for (const auto& [values, metric] : family->Snapshot()) {
        out += e.name + Labels(family->label_names(), values) + " " + FormatValue(metric->Value()) +
               "\n";
      }
    } else {
      auto* family = static_cast<HistogramFamily*>(e.family);
      for (const auto& [values, metric] : family->Snapshot()) {
        WriteHistogram(out, e.name, family->label_names(), values, *metric);
      }
    }
  }
  std::set<std::string> seen;
  for (const auto& collector : collectors) {
    for (const CollectedFamily& f : collector()) {
      if (!seen.insert(f.name).second) continue;  // one family per name in an exposition
      WriteHeader(out, f.name, f.help, f.type);
      for (const auto& [values, value] : f.samples) {
        out += f.name + Labels(f.label_names, values) + " " + FormatValue(value) + "\n";
      }
      for (const auto& [values, histogram] : f.histograms) {
        WriteHistogram(out, f.name, f.label_names, values, *histogram);
      }
    }
  }
  return out;
}

}  // namespace remediator::metrics
