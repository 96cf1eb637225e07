#include "server/kubesim/store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/kubesim/k8s_util.h"

namespace remediator::kubesim {
namespace {

std::string Key(const std::string& ns, const std::string& name) { return ns + "/" + name; }

bool HasGeneration(const std::string& resource) {
  return resource == "deployments" || resource == "replicasets" || resource == "statefulsets" ||
         resource == "jobs" || resource == "cronjobs";
}

json WithoutMetaAndStatus(const json& obj) {
  json copy = obj;
  copy.erase("metadata");
  copy.erase("status");
  return copy;
}

}  // namespace

Store::Store(std::function<absl::Time()> now, size_t history_limit)
    : now_(std::move(now)), history_limit_(history_limit) {}

std::string Store::NextRv() { return std::to_string(++rv_); }

void Store::Record(const std::string& type, const std::string& resource, const std::string& ns,
                   const json& object) {
  history_.push_back({rv_, type, resource, ns, object});
  cv_.SignalAll();
  while (history_.size() > history_limit_) {
    compacted_rv_ = history_.front().rv;
    history_.pop_front();
  }
}

std::optional<json> Store::Get(const std::string& resource, const std::string& ns,
                               const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto rit = objects_.find(resource);
  if (rit == objects_.end()) return std::nullopt;
  auto it = rit->second.find(Key(ns, name));
  if (it == rit->second.end()) return std::nullopt;
  return it->second;
}

std::vector<json> Store::List(const std::string& resource, const std::string& ns,
                              int64_t* rv) const {
  absl::MutexLock lock(&mu_);
  std::vector<json> out;
  if (rv != nullptr) *rv = rv_;
  auto rit = objects_.find(resource);
  if (rit == objects_.end()) return out;
  for (const auto& [key, obj] : rit->second) {
    if (!ns.empty() && key.compare(0, ns.size() + 1, ns + "/") != 0) continue;
    out.push_back(obj);
  }
  return out;
}

absl::StatusOr<json> Store::Create(const std::string& resource, json object, bool dry_run) {
  absl::MutexLock lock(&mu_);
  json& meta = object["metadata"];
  if (!meta.is_object()) meta = json::object();
  std::string ns = meta.value("namespace", "");
  std::string name = meta.value("name", "");
  if (name.empty()) {
    std::string prefix = meta.value("generateName", "");
    if (prefix.empty()) {
      return absl::InvalidArgumentError("name or generateName is required");
    }
    do {
      name = prefix + RandomSuffix(5);
    } while (objects_[resource].count(Key(ns, name)));
    meta["name"] = name;
  }
  if (objects_[resource].count(Key(ns, name))) {
    return absl::AlreadyExistsError(name);
  }
  meta["uid"] = RandomUuid();
  meta["creationTimestamp"] = Rfc3339(now_());
  if (HasGeneration(resource)) meta["generation"] = 1;
  if (dry_run) {
    meta["resourceVersion"] = std::to_string(rv_);
    return object;
  }
  meta["resourceVersion"] = NextRv();
  objects_[resource][Key(ns, name)] = object;
  Record("ADDED", resource, ns, object);
  return object;
}

absl::StatusOr<json> Store::Update(const std::string& resource, json object,
                                   const std::string& expected_rv, bool dry_run) {
  absl::MutexLock lock(&mu_);
  json& meta = object["metadata"];
  std::string ns = meta.value("namespace", "");
  std::string name = meta.value("name", "");
  auto& bucket = objects_[resource];
  auto it = bucket.find(Key(ns, name));
  if (it == bucket.end()) return absl::NotFoundError(name);
  const json& old = it->second;
  std::string old_rv = old["metadata"].value("resourceVersion", "");
  if (!expected_rv.empty() && expected_rv != old_rv) {
    return absl::AbortedError(name);
  }
  meta["uid"] = old["metadata"]["uid"];
  meta["creationTimestamp"] = old["metadata"]["creationTimestamp"];
  if (old["metadata"].contains("generation")) {
    meta["generation"] = old["metadata"]["generation"];
  }
  if (HasGeneration(resource) &&
      Normalize(WithoutMetaAndStatus(old)) != Normalize(WithoutMetaAndStatus(object))) {
    meta["generation"] = old["metadata"].value("generation", 1) + 1;
  }
  meta["resourceVersion"] = old_rv;
  if (object == old) return old;  // no-op: same resourceVersion, no event
  if (dry_run) return object;
  meta["resourceVersion"] = NextRv();
  it->second = object;
  Record("MODIFIED", resource, ns, object);
  return object;
}

absl::StatusOr<json> Store::Delete(const std::string& resource, const std::string& ns,
                                   const std::string& name, bool dry_run) {
  absl::MutexLock lock(&mu_);
  auto& bucket = objects_[resource];
  auto it = bucket.find(Key(ns, name));
  if (it == bucket.end()) return absl::NotFoundError(name);
  json obj = it->second;
  if (dry_run) return obj;
  bucket.erase(it);
  obj["metadata"]["resourceVersion"] = NextRv();
  Record("DELETED", resource, ns, obj);
  return obj;
}

int64_t Store::current_rv() const {
  absl::MutexLock lock(&mu_);
  return rv_;
}

int64_t Store::compacted_rv() const {
  absl::MutexLock lock(&mu_);
  return compacted_rv_;
}

std::vector<WatchEvent> Store::WaitForEvents(int64_t after_rv, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  int64_t wake = wake_generation_;
  absl::Time deadline = absl::Now() + timeout;
  while (rv_ <= after_rv && wake_generation_ == wake) {
    if (cv_.WaitWithDeadline(&mu_, deadline)) break;
  }
  std::vector<WatchEvent> out;
  for (auto it = history_.rbegin(); it != history_.rend() && it->rv > after_rv; ++it) {
    out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

void Store::Compact() {
  absl::MutexLock lock(&mu_);
  history_.clear();
  compacted_rv_ = rv_;
}

void Store::WakeAll() {
  absl::MutexLock lock(&mu_);
  ++wake_generation_;
  cv_.SignalAll();
}

}  // namespace remediator::kubesim
