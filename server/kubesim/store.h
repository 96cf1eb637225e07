// The object store: every API object as JSON, a global resourceVersion counter and the change
// history that watches replay. Thread-safe (one internal mutex).
#ifndef REMEDIATOR_SERVER_KUBESIM_STORE_H_
#define REMEDIATOR_SERVER_KUBESIM_STORE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace remediator::kubesim {

struct WatchEvent {
  int64_t rv = 0;
  std::string type;  // ADDED, MODIFIED, DELETED
  std::string resource;
  std::string ns;
  nlohmann::json object;
};

class Store {
 public:
  // `now` stamps creationTimestamp (simulated time).
  Store(std::function<absl::Time()> now, size_t history_limit);

  // The object (a copy), or nullopt.
  std::optional<nlohmann::json> Get(const std::string& resource, const std::string& ns,
                                    const std::string& name) const;
  // Objects of `resource` in `ns` ("" = every namespace), sorted by namespace and name, and the
  // store's resourceVersion at that moment.
  std::vector<nlohmann::json> List(const std::string& resource, const std::string& ns,
                                   int64_t* rv = nullptr) const;

  // Creates `object` (metadata.name or generateName required). Sets uid, creationTimestamp,
  // resourceVersion and generation 1. AlreadyExists when present. With dry_run nothing is stored.
  absl::StatusOr<nlohmann::json> Create(const std::string& resource, nlohmann::json object,
                                        bool dry_run = false);
  // Replaces the stored object. When `expected_rv` is non-empty and differs from the stored one:
  // Aborted (the API maps it to 409 Conflict). NotFound when missing. Keeps uid and
  // creationTimestamp; bumps metadata.generation when anything outside metadata/status changed
  // (for types that have generations). A write that changes nothing returns the stored object
  // with its resourceVersion unchanged and records no event.
  absl::StatusOr<nlohmann::json> Update(const std::string& resource, nlohmann::json object,
                                        const std::string& expected_rv = "", bool dry_run = false);
  // Removes the object and records DELETED. NotFound when missing.
  absl::StatusOr<nlohmann::json> Delete(const std::string& resource, const std::string& ns,
                                        const std::string& name, bool dry_run = false);

  int64_t current_rv() const;
  // Watches may start from any rv >= compacted_rv(); older ones are Expired.
  int64_t compacted_rv() const;
  // Every recorded event with rv > `after_rv`, waiting up to `timeout` for at least one.
  std::vector<WatchEvent> WaitForEvents(int64_t after_rv, absl::Duration timeout) const;
  // Forgets all history (watches from older rvs get 410 Expired).
  void Compact();
  // Wakes every waiter (used on shutdown).
  void WakeAll();

 private:
  void Record(const std::string& type, const std::string& resource, const std::string& ns,
              const nlohmann::json& object) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NextRv() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::function<absl::Time()> now_;
  size_t history_limit_;
  mutable absl::Mutex mu_;
  mutable absl::CondVar cv_;
  int64_t rv_ ABSL_GUARDED_BY(mu_) = 100;
  int64_t compacted_rv_ ABSL_GUARDED_BY(mu_) = 100;
  int64_t wake_generation_ ABSL_GUARDED_BY(mu_) = 0;
  // resource -> "ns/name" -> object
  std::map<std::string, std::map<std::string, nlohmann::json>> objects_ ABSL_GUARDED_BY(mu_);
  std::deque<WatchEvent> history_ ABSL_GUARDED_BY(mu_);
};

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_STORE_H_
