#include "server/remediator/core/watch_source.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/logging.h"
#include "server/common/time_util.h"

namespace remediator {
namespace {

std::string Str(const nlohmann::json& object, const char* pointer) {
  const nlohmann::json::json_pointer p(pointer);
  if (!object.is_object() || !object.contains(p) || !object.at(p).is_string()) return "";
  return object.at(p).get<std::string>();
}

bool FailedTermination(const nlohmann::json& state) {
  if (!state.is_object() || !state.contains("terminated") || !state["terminated"].is_object()) {
    return false;
  }
  const nlohmann::json& terminated = state["terminated"];
  const int64_t exit_code =
      terminated.contains("exitCode") && terminated["exitCode"].is_number_integer()
          ? terminated["exitCode"].get<int64_t>()
          : 0;
  return exit_code != 0 || terminated.value("reason", std::string()) == "OOMKilled";
}

}  // namespace

WatchSource::WatchSource(Cluster& cluster, Ingestor& ingestor, Clock& clock,
                         WatchSourceOptions options)
    : cluster_(cluster), ingestor_(ingestor), clock_(clock), options_(std::move(options)) {}

WatchSource::~WatchSource() { Stop(); }

absl::Status WatchSource::Start() {
  if (options_.max_batch < 1) return absl::InvalidArgumentError("max_batch must be >= 1");
  if (options_.log_tail_lines < 1) return absl::InvalidArgumentError("log_tail_lines must be >= 1");
  for (const std::string& ns : options_.namespaces) {
    if (ns.empty()) return absl::InvalidArgumentError("namespaces: empty namespace name");
  }
  {
    absl::MutexLock lock(&mu_);
    if (started_) return absl::FailedPreconditionError("WatchSource already started");
    started_ = true;
    stopping_ = false;
  }
  std::vector<std::string> namespaces = options_.namespaces;
  if (namespaces.empty()) namespaces.push_back("");
  uint64_t seed = 1;
  auto make = [&](KubeRef ref, KubeWatchHandler handler) {
    KubeWatcherOptions watcher_options;
    watcher_options.collection = std::move(ref);
    watcher_options.watch_timeout_seconds = options_.watch_timeout_seconds;
    watcher_options.initial_backoff = options_.initial_backoff;
    watcher_options.max_backoff = options_.max_backoff;
    watcher_options.seed = seed++;
    watchers_.push_back(std::make_unique<KubeWatcher>(cluster_, clock_, std::move(watcher_options),
                                                      std::move(handler)));
  };
  for (const std::string& ns : namespaces) {
    make({"v1", "Pod", ns, ""},
         [this](WatchEventType type, const nlohmann::json& pod) { OnPod(type, pod); });
    if (options_.watch_events) {
      make({"v1", "Event", ns, ""},
           [this](WatchEventType type, const nlohmann::json& event) { OnEvent(type, event); });
    }
    if (options_.watch_events_k8s_io) {
      make({"events.k8s.io/v1", "Event", ns, ""},
           [this](WatchEventType type, const nlohmann::json& event) { OnEvent(type, event); });
    }
  }
  worker_ = std::make_unique<std::thread>([this] { WorkerLoop(); });
  for (auto& watcher : watchers_) watcher->Start();
  LogInfo("kube watch source started",
          {{"cluster", options_.cluster_name},
           {"namespaces",
            options_.namespaces.empty() ? std::string("all") : absl::StrCat(namespaces.size())}});
  return absl::OkStatus();
}

void WatchSource::Stop() {
  for (auto& watcher : watchers_) watcher->Stop();
  {
    absl::MutexLock lock(&mu_);
    if (!started_ || worker_ == nullptr) return;
    stopping_ = true;
  }
  worker_->join();
  worker_.reset();
  watchers_.clear();
  absl::MutexLock lock(&mu_);
  queue_.clear();
  started_ = false;
}

WatchSourceStats WatchSource::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

bool WatchSource::Idle() const {
  for (const auto& watcher : watchers_) {
    if (!watcher->synced()) return false;
  }
  absl::MutexLock lock(&mu_);
  return queue_.empty() && !busy_;
}

void WatchSource::OnPod(WatchEventType type, const nlohmann::json& pod) {
  if (type == WatchEventType::kDeleted) {
    const std::string key =
        absl::StrCat(Str(pod, "/metadata/namespace"), "/", Str(pod, "/metadata/name"), "/",
                     Str(pod, "/metadata/uid"));
    absl::MutexLock lock(&log_mu_);
    log_state_.erase(key);
    return;
  }
  Enqueue({Item::kPod, pod});
}

void WatchSource::OnEvent(WatchEventType type, const nlohmann::json& event) {
  if (type == WatchEventType::kDeleted) return;  // events expire; nothing to detect
  Enqueue({Item::kEvent, event});
}

void WatchSource::Enqueue(Item item) {
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= options_.max_queue) {
    ++stats_.dropped;
    return;
  }
  ++stats_.objects_seen;
  queue_.push_back(std::move(item));
}

std::vector<WatchSource::LogFetch> WatchSource::LogFetchesFor(const nlohmann::json& pod) {
  std::vector<LogFetch> fetches;
  if (!options_.fetch_logs || !pod.is_object() || !pod.contains("status")) return fetches;
  const std::string ns = Str(pod, "/metadata/namespace");
  const std::string name = Str(pod, "/metadata/name");
  const std::string key = absl::StrCat(ns, "/", name, "/", Str(pod, "/metadata/uid"));
  const nlohmann::json& status = pod["status"];
  absl::MutexLock lock(&log_mu_);
  for (const char* field : {"initContainerStatuses", "containerStatuses"}) {
    if (!status.is_object() || !status.contains(field) || !status[field].is_array()) continue;
    for (const nlohmann::json& container : status[field]) {
      if (!container.is_object()) continue;
      const std::string container_name = container.value("name", std::string());
      const nlohmann::json state = container.value("state", nlohmann::json::object());
      const nlohmann::json last = container.value("lastState", nlohmann::json::object());
      const bool crash_loop = state.contains("waiting") && state["waiting"].is_object() &&
                              state["waiting"].value("reason", std::string()) == "CrashLoopBackOff";
      const bool failed_now = FailedTermination(state);
      const bool failed_before = FailedTermination(last);
      if (container_name.empty() || !(crash_loop || failed_now || failed_before)) continue;
      const int64_t restarts =
          container.contains("restartCount") && container["restartCount"].is_number_integer()
              ? container["restartCount"].get<int64_t>()
              : 0;
      auto& per_container = log_state_[key];
      auto done = per_container.find(container_name);
      if (done != per_container.end() && done->second >= restarts) continue;
      per_container[container_name] = restarts;
      // The current instance has a log unless it is still waiting to (re)start.
      if (!state.contains("waiting")) fetches.push_back({ns, name, container_name, false});
      if (restarts > 0 || last.contains("terminated")) {
        fetches.push_back({ns, name, container_name, true});
      }
    }
  }
  return fetches;
}

void WatchSource::WorkerLoop() {
  while (true) {
    std::vector<Item> items;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      while (!queue_.empty() && static_cast<int>(items.size()) < options_.max_batch) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      busy_ = true;
    }
    const google::protobuf::Timestamp now = ToProtoTime(clock_.Now());
    std::vector<v1::Observation> observations;
    std::vector<LogFetch> fetches;
    for (const Item& item : items) {
      v1::Observation observation;
      observation.set_cluster(options_.cluster_name);
      observation.set_source(options_.source);
      *observation.mutable_observed_time() = now;
      if (item.kind == Item::kPod) {
        observation.set_pod_json(item.object.dump());
        for (LogFetch& fetch : LogFetchesFor(item.object)) fetches.push_back(std::move(fetch));
      } else {
        observation.set_event_json(item.object.dump());
      }
      observations.push_back(std::move(observation));
    }
    IngestBatch(std::move(observations));

    std::vector<v1::Observation> logs;
    for (const LogFetch& fetch : fetches) {
      PodLogOptions log_options;
      log_options.container = fetch.container;
      log_options.previous = fetch.previous;
      log_options.tail_lines = options_.log_tail_lines;
      log_options.limit_bytes = options_.log_limit_bytes;
      absl::StatusOr<std::string> text =
          cluster_.PodLogs(fetch.namespace_name, fetch.pod, log_options);
      {
        absl::MutexLock lock(&mu_);
        ++stats_.log_fetches;
        if (!text.ok()) ++stats_.log_fetch_errors;
      }
      if (!text.ok()) {
        LogWarning("kube pod log fetch failed", {{"namespace", fetch.namespace_name},
                                                 {"pod", fetch.pod},
                                                 {"container", fetch.container},
                                                 {"previous", fetch.previous ? "true" : "false"},
                                                 {"error", text.status().ToString()}});
        continue;
      }
      if (text->empty()) continue;
      v1::Observation observation;
      observation.set_cluster(options_.cluster_name);
      observation.set_source(options_.source);
      *observation.mutable_observed_time() = ToProtoTime(clock_.Now());
      v1::PodLogText* log = observation.mutable_pod_log();
      log->set_request(absl::StrCat("/api/v1/namespaces/", fetch.namespace_name, "/pods/",
                                    fetch.pod, "/log?container=", fetch.container,
                                    fetch.previous ? "&previous=true" : ""));
      log->set_namespace_(fetch.namespace_name);
      log->set_pod(fetch.pod);
      log->set_container(fetch.container);
      log->set_previous(fetch.previous);
      log->set_text(*std::move(text));
      logs.push_back(std::move(observation));
    }
    if (!logs.empty()) IngestBatch(std::move(logs));
    absl::MutexLock lock(&mu_);
    busy_ = false;
  }
}

void WatchSource::IngestBatch(std::vector<v1::Observation> observations) {
  if (observations.empty()) return;
  google::protobuf::RepeatedPtrField<v1::Observation> batch;
  for (v1::Observation& observation : observations) *batch.Add() = std::move(observation);
  absl::StatusOr<std::vector<v1::Detection>> result = ingestor_.Ingest(batch);
  int64_t ingested = result.ok() ? batch.size() : 0;
  int64_t errors = 0;
  int64_t calls = 1;
  if (!result.ok() && result.status().code() == absl::StatusCode::kInvalidArgument &&
      batch.size() > 1) {
    // One malformed object rejects the whole batch: retry one by one to keep the others.
    for (const v1::Observation& observation : batch) {
      google::protobuf::RepeatedPtrField<v1::Observation> single;
      *single.Add() = observation;
      ++calls;
      absl::StatusOr<std::vector<v1::Detection>> one = ingestor_.Ingest(single);
      if (one.ok()) {
        ++ingested;
      } else {
        ++errors;
        LogWarning("kube observation rejected", {{"error", one.status().ToString()}});
      }
    }
  } else if (!result.ok()) {
    errors = batch.size();
    LogWarning("kube observations not ingested",
               {{"count", absl::StrCat(batch.size())}, {"error", result.status().ToString()}});
  }
  absl::MutexLock lock(&mu_);
  stats_.batches += calls;
  stats_.observations_ingested += ingested;
  stats_.ingest_errors += errors;
}

}  // namespace remediator
