// Cluster: the simulated control plane behind kubesim's HTTP API — the object store, the
// simulated clock, API write semantics (defaulting, validation, patch, apply, dry run), the
// deployment and ReplicaSet controllers, a garbage collector and the simulated kubelet.
#ifndef REMEDIATOR_SERVER_KUBESIM_CLUSTER_H_
#define REMEDIATOR_SERVER_KUBESIM_CLUSTER_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/common/clock.h"
#include "server/kubesim/resources.h"
#include "server/kubesim/store.h"
#include "server/kubesim/world.h"

namespace remediator::kubesim {

using nlohmann::json;

// Simulated time: start + offset + scale * (base clock elapsed), or start + offset when manual.
class SimClock {
 public:
  SimClock(Clock* base, absl::Time start, double scale, bool manual);
  absl::Time Now() const;
  void Advance(absl::Duration d);

 private:
  Clock* base_;
  absl::Time start_;
  absl::Time base_start_;
  double scale_;
  bool manual_;
  mutable absl::Mutex mu_;
  absl::Duration offset_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

struct ClusterOptions {
  Clock* base_clock = nullptr;  // default RealClock
  std::optional<absl::Time> start_time;
  double time_scale = 1.0;
  bool manual_clock = false;
  size_t history_limit = 10000;
  // When set, every container's log lines are also appended to CRI log files in this directory,
  // named like /var/log/containers/<pod>_<namespace>_<container>-<container id>.log, so that a
  // log-shipper can tail them as on a real node.
  std::string container_log_dir;
};

// The field manager of objects loaded from the world/manifests (and KubeSim::Apply). It owns no
// fields for server-side apply, so a later `kubectl apply --server-side` never conflicts with it.
inline constexpr char kLoaderManager[] = "kubesim-loader";

// Options common to write requests.
struct WriteOptions {
  bool dry_run = false;
  std::string field_manager;
  bool force = false;
};

struct LogOptions {
  std::string container;
  bool previous = false;
  int64_t tail_lines = -1;     // -1: all
  int64_t since_seconds = -1;  // -1: all
  bool timestamps = false;
};

class Cluster {
 public:
  static absl::StatusOr<std::unique_ptr<Cluster>> Create(World world,
                                                         const ClusterOptions& options);

  ~Cluster();

  Store& store() { return store_; }
  const Store& store() const { return store_; }
  absl::Time Now() const { return clock_.Now(); }
  const World& world() const { return world_; }
  // Where container logs are also written as CRI files; empty when they are not.
  const std::string& container_log_dir() const { return container_log_dir_; }

  // Runs every controller and the kubelet until nothing changes (bounded), at Now().
  void Reconcile();
  // Moves the simulated clock by `d` in steps of <= 1 s, reconciling after each.
  void AdvanceClock(absl::Duration d);

  // --- API semantics (errors are ApiError statuses, see api_error.h) ---
  absl::StatusOr<json> Get(const ResourceType& type, const std::string& ns,
                           const std::string& name) const;
  // POST: 409 AlreadyExists, 422 Invalid, 404 when the namespace is missing.
  absl::StatusOr<json> CreateObject(const ResourceType& type, const std::string& ns, json body,
                                    const WriteOptions& opts);
  // PUT (status_only for the /status subresource).
  absl::StatusOr<json> UpdateObject(const ResourceType& type, const std::string& ns,
                                    const std::string& name, json body, const WriteOptions& opts,
                                    bool status_only = false);
  // PATCH with a Content-Type; `*created` is set when server-side apply created the object.
  absl::StatusOr<json> PatchObject(const ResourceType& type, const std::string& ns,
                                   const std::string& name, const std::string& content_type,
                                   const std::string& body, const WriteOptions& opts,
                                   bool status_only, bool* created);
  absl::StatusOr<json> DeleteObject(const ResourceType& type, const std::string& ns,
                                    const std::string& name, const WriteOptions& opts);
  // Creates or updates like server-side apply with manager "kubesim" and force.
  absl::Status ApplyManifest(json object);

  // Pod logs as `GET .../log` returns them; 400 BadRequest Status for a bad container or a
  // missing previous instance.
  absl::StatusOr<std::string> Logs(const std::string& ns, const std::string& pod,
                                   const LogOptions& opts) const;

  // Records a core/v1 Event about `involved` (an object with metadata), aggregating repeats of
  // the same (object, fieldPath, reason, message) into count/lastTimestamp.
  void RecordEvent(const json& involved, const std::string& field_path, const std::string& type,
                   const std::string& reason, const std::string& message,
                   const std::string& component, const std::string& host, absl::Time when);

  // Simulated kubelet state (defined in kubelet.cc).
  struct PodSim;

 private:
  Cluster(World world, const ClusterOptions& options);
  absl::Status Bootstrap();

  // Defaulting and validation for a user write (api_ops.cc).
  void ApplyDefaults(const ResourceType& type, json* obj) const;
  absl::Status Validate(const ResourceType& type, const json& obj) const;
  absl::StatusOr<json> Finish(const ResourceType& type, const std::string& ns, json updated,
                              const json& current, const WriteOptions& opts, bool status_only);
  absl::StatusOr<json> ServerSideApply(const ResourceType& type, const std::string& ns,
                                       const std::string& name, const std::string& body,
                                       const WriteOptions& opts, bool* created);

  // Controllers (controllers.cc) and kubelet (kubelet.cc); each returns true when it wrote.
  bool ReconcileDeployments();
  bool ReconcileDeployment(json deployment);
  bool ReconcileReplicaSets();
  bool CollectGarbage();
  bool ReconcilePods();
  bool SyncPod(const json& pod);
  // Jobs, CronJobs and StatefulSets (workloads.cc).
  bool ReconcileJobs();
  bool ReconcileJob(json job);
  bool ReconcileCronJobs();
  bool ReconcileCronJob(json cronjob);
  bool TrackCronJobHistory(const json& cronjob, const std::vector<json>& jobs, json* status);
  bool ReconcileStatefulSets();
  bool ReconcileStatefulSet(json sts);
  bool SyncStatefulSetPods(const json& sts, const std::string& update_revision,
                           std::map<int64_t, json>& pods);

  SimClock clock_;
  World world_;
  std::string container_log_dir_;
  Store store_;
  absl::Mutex reconcile_mu_;
  // Event aggregation key -> event name (guarded by events_mu_).
  mutable absl::Mutex events_mu_;
  std::map<std::string, std::string> event_names_ ABSL_GUARDED_BY(events_mu_);
  // Server-side apply ownership: object uid -> manager -> owned field paths.
  absl::Mutex ssa_mu_;
  std::map<std::string, std::map<std::string, std::set<std::string>>> ownership_
      ABSL_GUARDED_BY(ssa_mu_);
  // Kubelet state per pod uid.
  mutable absl::Mutex pods_mu_;
  std::map<std::string, std::shared_ptr<PodSim>> pods_ ABSL_GUARDED_BY(pods_mu_);
  int next_ip_ = 10;
};

// Helpers shared by the controller and table code.
json PodReadyCondition(const json& pod);
bool PodIsReady(const json& pod);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_CLUSTER_H_
