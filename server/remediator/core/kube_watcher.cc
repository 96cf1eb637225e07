#include "server/remediator/core/kube_watcher.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/logging.h"

namespace remediator {
namespace {

std::string ResourceVersionOf(const nlohmann::json& object) {
  const nlohmann::json::json_pointer pointer("/metadata/resourceVersion");
  if (!object.is_object() || !object.contains(pointer) || !object.at(pointer).is_string()) {
    return "";
  }
  return object.at(pointer).get<std::string>();
}

std::string CollectionName(const KubeRef& ref) {
  return absl::StrCat(ref.api_version, "/", ref.kind,
                      ref.namespace_name.empty() ? "" : " in " + ref.namespace_name);
}

// Backoff sleeps are cut into slices so Stop() is noticed quickly.
constexpr absl::Duration kSleepSlice = absl::Milliseconds(50);

}  // namespace

std::string KubeObjectKey(const nlohmann::json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) {
    return "";
  }
  const nlohmann::json& metadata = object["metadata"];
  const std::string name = metadata.value("name", std::string());
  const std::string ns = metadata.value("namespace", std::string());
  return ns.empty() ? name : ns + "/" + name;
}

KubeWatcher::KubeWatcher(Cluster& cluster, Clock& clock, KubeWatcherOptions options,
                         KubeWatchHandler handler)
    : cluster_(cluster),
      clock_(clock),
      options_(std::move(options)),
      handler_(std::move(handler)),
      backoff_(options_.initial_backoff),
      rng_(options_.seed) {}

KubeWatcher::~KubeWatcher() { Stop(); }

void KubeWatcher::Start() {
  absl::MutexLock lock(&thread_mu_);
  if (thread_ != nullptr) return;
  stop_.store(false);
  thread_ = std::make_unique<std::thread>([this] { Run(stop_); });
}

void KubeWatcher::Stop() {
  std::unique_ptr<std::thread> thread;
  {
    absl::MutexLock lock(&thread_mu_);
    thread = std::move(thread_);
  }
  if (thread == nullptr) return;
  stop_.store(true);
  thread->join();
}

std::string KubeWatcher::resource_version() const {
  absl::MutexLock lock(&mu_);
  return resource_version_;
}

KubeWatcherStats KubeWatcher::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

bool KubeWatcher::synced() const {
  absl::MutexLock lock(&mu_);
  return synced_;
}

void KubeWatcher::Run(const std::atomic<bool>& stop) {
  bool need_list = true;
  bool relist = false;
  int consecutive_expired = 0;
  while (!stop.load()) {
    if (need_list) {
      if (!ListAndSync(relist)) {
        Backoff(stop);
        continue;
      }
      need_list = false;
    }
    bool delivered = false;
    absl::Status status = WatchOnce(stop, &delivered);
    if (stop.load()) break;
    if (delivered) {
      backoff_ = options_.initial_backoff;
      consecutive_expired = 0;
    }
    if (status.ok()) {
      // A stream that ended having delivered nothing is backed off, so a server that closes
      // watches at once cannot make this loop spin.
      if (!delivered) Backoff(stop);
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      ++stats_.errors;
    }
    if (IsKubeExpired(status)) {
      LogInfo("kube watch expired, listing again",
              {{"collection", CollectionName(options_.collection)},
               {"resource_version", resource_version()}});
      need_list = true;
      relist = true;
      // The first 410 relists at once; repeated ones back off.
      if (++consecutive_expired > 1) Backoff(stop);
      continue;
    }
    LogWarning("kube watch failed",
               {{"collection", CollectionName(options_.collection)}, {"error", status.ToString()}});
    Backoff(stop);
  }
}

bool KubeWatcher::ListAndSync(bool relist) {
  KubeListOptions list_options;
  list_options.label_selector = options_.label_selector;
  list_options.field_selector = options_.field_selector;
  absl::StatusOr<KubeList> list = cluster_.List(options_.collection, list_options);
  if (!list.ok()) {
    LogWarning("kube list failed", {{"collection", CollectionName(options_.collection)},
                                    {"error", list.status().ToString()}});
    absl::MutexLock lock(&mu_);
    ++stats_.errors;
    return false;
  }
  std::map<std::string, nlohmann::json> seen;
  for (nlohmann::json& item : list->items) {
    // List items may leave out kind/apiVersion; watch events carry them. Make both look alike.
    if (item.is_object()) {
      if (!item.contains("kind")) item["kind"] = options_.collection.kind;
      if (!item.contains("apiVersion")) item["apiVersion"] = options_.collection.api_version;
    }
    const std::string key = KubeObjectKey(item);
    if (key.empty()) continue;
    auto known = known_.find(key);
    if (known == known_.end()) {
      Deliver(WatchEventType::kAdded, item);
    } else if (ResourceVersionOf(known->second) != ResourceVersionOf(item) ||
               ResourceVersionOf(item).empty()) {
      Deliver(WatchEventType::kModified, item);
    }
    seen.emplace(key, std::move(item));
  }
  std::vector<nlohmann::json> gone;
  for (const auto& [key, object] : known_) {
    if (seen.find(key) == seen.end()) gone.push_back(object);
  }
  for (const nlohmann::json& object : gone) Deliver(WatchEventType::kDeleted, object);
  known_ = std::move(seen);
  absl::MutexLock lock(&mu_);
  resource_version_ = list->resource_version;
  ++stats_.lists;
  if (relist) ++stats_.relists;
  synced_ = true;
  return true;
}

absl::Status KubeWatcher::WatchOnce(const std::atomic<bool>& stop, bool* delivered) {
  KubeWatchOptions watch_options;
  watch_options.label_selector = options_.label_selector;
  watch_options.field_selector = options_.field_selector;
  watch_options.resource_version = resource_version();
  watch_options.allow_bookmarks = true;
  watch_options.timeout_seconds = options_.watch_timeout_seconds;
  {
    absl::MutexLock lock(&mu_);
    ++stats_.watches;
  }
  return cluster_.Watch(
      options_.collection, watch_options,
      [&](const WatchEvent& event) {
        *delivered = true;
        const std::string rv = ResourceVersionOf(event.object);
        {
          absl::MutexLock lock(&mu_);
          if (!rv.empty()) resource_version_ = rv;
          if (event.type == WatchEventType::kBookmark) ++stats_.bookmarks;
        }
        if (event.type != WatchEventType::kBookmark) Deliver(event.type, event.object);
        return !stop.load();
      },
      &stop);
}

void KubeWatcher::Deliver(WatchEventType type, const nlohmann::json& object) {
  const std::string key = KubeObjectKey(object);
  if (type == WatchEventType::kDeleted) {
    known_.erase(key);
  } else if (!key.empty()) {
    known_[key] = object;
  }
  {
    absl::MutexLock lock(&mu_);
    ++stats_.events;
  }
  if (handler_) handler_(type, object);
}

void KubeWatcher::Backoff(const std::atomic<bool>& stop) {
  std::uniform_real_distribution<double> factor(1.0 - options_.jitter, 1.0 + options_.jitter);
  absl::Duration wait = backoff_ * factor(rng_);
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  {
    absl::MutexLock lock(&mu_);
    stats_.total_backoff += wait;
  }
  while (wait > absl::ZeroDuration() && !stop.load()) {
    const absl::Duration slice = std::min(wait, kSleepSlice);
    clock_.SleepFor(slice);
    wait -= slice;
  }
}

}  // namespace remediator
