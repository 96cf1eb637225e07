// KubeWatcher keeps a client-side view of one Kubernetes collection current, informer style: it
// lists (remembering the list's resourceVersion), then watches from that version with bookmarks,
// and delivers every change to a handler.
//
//   - ADDED / MODIFIED / DELETED events go to the handler; BOOKMARK events only advance the
//     resourceVersion (the next watch resumes from it).
//   - When a watch stream ends (server timeout, connection drop, error) it watches again from the
//     last resourceVersion seen, after an exponential backoff with jitter (reset by a stream that
//     delivered something).
//   - On 410 Gone/Expired (an HTTP 410 or an in-stream ERROR event with code 410) it lists again
//     and reconciles against what it delivered before: objects that appeared or changed are
//     delivered as ADDED/MODIFIED, objects that vanished as DELETED (with the last known object),
//     unchanged objects (same resourceVersion) are not delivered again.
//   - Stop() returns promptly: the stop flag is checked between events, while a stream is idle
//     (within about a second) and during backoff sleeps.
// Time comes from the injected Clock (backoff sleeps use Clock::SleepFor in slices, so a FakeClock
// makes them instantaneous).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_KUBE_WATCHER_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_KUBE_WATCHER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/common/clock.h"
#include "server/remediator/core/cluster.h"

namespace remediator {

struct KubeWatcherOptions {
  KubeRef collection;  // name empty; namespace empty = all namespaces
  std::string label_selector;
  std::string field_selector;
  // Server-side stream timeout asked for on each watch (the stream then ends normally).
  int64_t watch_timeout_seconds = 300;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  // Each backoff is multiplied by a uniform factor in [1 - jitter, 1 + jitter].
  double jitter = 0.2;
  uint64_t seed = 1;
};

struct KubeWatcherStats {
  int64_t lists = 0;    // successful LISTs (the first one included)
  int64_t relists = 0;  // LISTs after a 410
  int64_t watches = 0;  // watch streams opened
  int64_t errors = 0;   // failed LISTs or watches (410 included)
  int64_t events = 0;   // events delivered to the handler
  int64_t bookmarks = 0;
  absl::Duration total_backoff;  // sum of backoff sleeps
};

// Called on the watcher's thread, one event at a time, in order.
using KubeWatchHandler = std::function<void(WatchEventType type, const nlohmann::json& object)>;

// Thread-safe: Start/Stop/stats/resource_version may be called from any thread.
class KubeWatcher {
 public:
  // `cluster` and `clock` are borrowed and must outlive the watcher.
  KubeWatcher(Cluster& cluster, Clock& clock, KubeWatcherOptions options, KubeWatchHandler handler);
  ~KubeWatcher();  // Stop()s

  KubeWatcher(const KubeWatcher&) = delete;
  KubeWatcher& operator=(const KubeWatcher&) = delete;

  // Starts the background thread. Calling it twice is a no-op.
  void Start();
  // Stops and joins the thread. Idempotent.
  void Stop();

  // Runs the list/watch loop on the calling thread until `stop` becomes true.
  void Run(const std::atomic<bool>& stop);

  // The last resourceVersion seen (list, event or bookmark); empty before the first list.
  std::string resource_version() const;
  KubeWatcherStats stats() const;
  // True once the first LIST has been delivered.
  bool synced() const;

 private:
  // LIST and reconcile with the known objects. Returns false when the list failed.
  bool ListAndSync(bool relist);
  // One watch stream. Returns its status; `delivered` says whether any event/bookmark came.
  absl::Status WatchOnce(const std::atomic<bool>& stop, bool* delivered);
  // Sleeps the current backoff (interruptibly) and doubles it.
  void Backoff(const std::atomic<bool>& stop);
  void Deliver(WatchEventType type, const nlohmann::json& object);

  Cluster& cluster_;
  Clock& clock_;
  const KubeWatcherOptions options_;
  KubeWatchHandler handler_;

  // Only the loop thread touches these.
  std::map<std::string, nlohmann::json> known_;  // "ns/name" -> last delivered object
  absl::Duration backoff_;
  std::mt19937_64 rng_;

  mutable absl::Mutex mu_;
  std::string resource_version_ ABSL_GUARDED_BY(mu_);
  KubeWatcherStats stats_ ABSL_GUARDED_BY(mu_);
  bool synced_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex thread_mu_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<std::thread> thread_ ABSL_GUARDED_BY(thread_mu_);
};

// "namespace/name" of an object ("name" for cluster-scoped ones).
std::string KubeObjectKey(const nlohmann::json& object);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_KUBE_WATCHER_H_
