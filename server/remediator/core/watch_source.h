// WatchSource feeds detection from the Kubernetes API: it list+watches pods and events (core/v1;
// events.k8s.io/v1 optionally) in all namespaces or a chosen set (one KubeWatcher each, see
// kube_watcher.h), turns every ADDED/MODIFIED object into a v1::Observation (pod_json or
// event_json, with the cluster name, observed_time from the clock and source "kube-watch") and
// hands them to Ingestor::Ingest in small batches from one worker thread.
//
// When a pod shows a failing container — waiting in CrashLoopBackOff, terminated with a non-zero
// exit code or OOMKilled (now or as its lastState) — it also fetches that container's recent log
// and, when there was an earlier instance, its previous log (both bounded by tailLines/limitBytes)
// and ingests them as pod_log observations. This happens at most once per pod uid + container +
// restartCount, so a pod that keeps failing does not cause a log-fetch storm: one fetch per
// restart.
//
// Failures never stop the source: watch errors are retried by the watchers, an Ingest failure is
// logged and counted (a batch rejected as malformed is retried one observation at a time so one
// bad object cannot hide the others), a failed log fetch is logged and counted.
//
// Thread-safe: Start/Stop/stats may be called from any thread.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_WATCH_SOURCE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_WATCH_SOURCE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/common/clock.h"
#include "server/remediator/core/cluster.h"
#include "server/remediator/core/ingestor.h"
#include "server/remediator/core/kube_watcher.h"

namespace remediator {

struct WatchSourceOptions {
  // Observation.cluster of everything this source reports.
  std::string cluster_name;
  // Namespaces to watch; empty watches all namespaces with one watch per resource.
  std::vector<std::string> namespaces;
  bool watch_events = true;          // core/v1 Event
  bool watch_events_k8s_io = false;  // events.k8s.io/v1 Event
  bool fetch_logs = true;
  int64_t log_tail_lines = 200;  // tailLines of each log fetch
  int64_t log_limit_bytes = 256 * 1024;
  int max_batch = 64;        // observations per Ingest call
  size_t max_queue = 20000;  // objects waiting for the worker; more are dropped (counted)
  // Passed to every KubeWatcher (backoff, stream timeout, jitter).
  int64_t watch_timeout_seconds = 300;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  std::string source = "kube-watch";
};

struct WatchSourceStats {
  int64_t objects_seen = 0;  // ADDED/MODIFIED objects queued
  int64_t observations_ingested = 0;
  int64_t batches = 0;  // Ingest calls
  int64_t ingest_errors = 0;
  int64_t log_fetches = 0;  // PodLogs calls
  int64_t log_fetch_errors = 0;
  int64_t dropped = 0;  // queue overflow
};

class WatchSource {
 public:
  // All borrowed; they must outlive the source.
  WatchSource(Cluster& cluster, Ingestor& ingestor, Clock& clock, WatchSourceOptions options);
  ~WatchSource();  // Stop()s

  WatchSource(const WatchSource&) = delete;
  WatchSource& operator=(const WatchSource&) = delete;

  // Starts the watchers and the worker. InvalidArgument for bad options (max_batch < 1,
  // log_tail_lines < 1, an empty namespace name in `namespaces`); FailedPrecondition if started
  // twice.
  absl::Status Start();
  // Stops the watchers, then the worker (objects still queued are dropped). Idempotent.
  void Stop();

  WatchSourceStats stats() const;
  // True when every watcher has listed once and the worker has nothing queued or in progress.
  bool Idle() const;

 private:
  struct Item {
    enum Kind { kPod, kEvent } kind;
    nlohmann::json object;
  };
  struct LogFetch {
    std::string namespace_name;
    std::string pod;
    std::string container;
    bool previous = false;
  };

  void OnPod(WatchEventType type, const nlohmann::json& pod);
  void OnEvent(WatchEventType type, const nlohmann::json& event);
  void Enqueue(Item item);
  void WorkerLoop();
  // Fetches due for this pod, recording them as done (log_state_).
  std::vector<LogFetch> LogFetchesFor(const nlohmann::json& pod);
  void IngestBatch(std::vector<v1::Observation> observations);

  Cluster& cluster_;
  Ingestor& ingestor_;
  Clock& clock_;
  const WatchSourceOptions options_;

  std::vector<std::unique_ptr<KubeWatcher>> watchers_;
  std::unique_ptr<std::thread> worker_;

  mutable absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  WatchSourceStats stats_ ABSL_GUARDED_BY(mu_);

  // Worker thread only (and OnPod for deletions, under log_mu_):
  // "ns/pod/uid" -> container -> highest restartCount whose logs were fetched.
  absl::Mutex log_mu_;
  std::map<std::string, std::map<std::string, int64_t>> log_state_ ABSL_GUARDED_BY(log_mu_);
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_WATCH_SOURCE_H_
