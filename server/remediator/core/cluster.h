// Cluster is the Remediator's view of one Kubernetes cluster: read objects, read pod logs, write
// (patch, server-side apply, always with an optional server-side dry run), decide whether a
// rollout finished, roll a Deployment back, and list+watch collections.
//
// Objects are plain JSON (nlohmann::json) exactly as the API server returns them; the interface
// does not model Kubernetes types. Objects are named generically by apiVersion + kind (+ namespace
// + name), e.g. {"apps/v1", "Deployment", "app", "web"}. Kinds known to the implementation: Pod,
// Event (v1 and events.k8s.io/v1), Deployment, StatefulSet, DaemonSet, ReplicaSet, Namespace,
// Node, Service, ConfigMap, Secret, Job, CronJob, PersistentVolumeClaim; others map to the
// lower-case plural the way kubectl guesses it ("Foo" -> "foos", "Policy" -> "policies").
//
// Errors: every method returns the API server's `Status` mapped to an absl code, with the server's
// message (never a credential):
//   400 BadRequest, 415, 422 Invalid      -> InvalidArgument (422 lists details.causes)
//   401 Unauthorized                     -> Unauthenticated
//   403 Forbidden                        -> PermissionDenied
//   404 NotFound                         -> NotFound
//   409 AlreadyExists                    -> AlreadyExists
//   409 Conflict (stale RV, SSA conflict) -> Aborted
//   410 Gone / Expired                   -> OutOfRange (IsKubeExpired() is true; relist)
//   429, 5xx, connection/TLS failures    -> Unavailable
// The HTTP code and the Status `reason` also travel as status payloads (KubeHttpCode(),
// KubeReason()).
//
// Implementations are thread-safe: every method may be called concurrently.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_CLUSTER_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_CLUSTER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace remediator {

// Names one object, or (with an empty `name`) a collection. `namespace_name` empty means cluster
// scope for cluster-scoped kinds and "all namespaces" for a List/Watch of a namespaced kind.
struct KubeRef {
  std::string api_version;  // "v1", "apps/v1", "events.k8s.io/v1"
  std::string kind;         // "Pod", "Deployment", "Event", ...
  std::string namespace_name;
  std::string name;
};

struct KubeListOptions {
  std::string label_selector;  // e.g. "app=web,tier!=db"
  std::string field_selector;  // e.g. "metadata.name=web"
  // Page size for the chunked list (limit/continue); the call always returns every page.
  int64_t page_size = 500;
};

struct KubeList {
  std::vector<nlohmann::json> items;
  // metadata.resourceVersion of the list: watch from here to see every later change.
  std::string resource_version;
};

struct PodLogOptions {
  std::string container;  // required by the server when the pod has several containers
  bool previous = false;  // the last terminated instance of the container
  std::optional<int64_t> tail_lines;
  std::optional<int64_t> since_seconds;
  std::optional<int64_t> limit_bytes;
};

enum class PatchType {
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in kinds only)
  kMerge,           // application/merge-patch+json (RFC 7386)
  kJsonPatch,       // application/json-patch+json (RFC 6902)
};

struct WriteOptions {
  // dryRun=All: the server validates and computes the result but stores nothing.
  bool dry_run = false;
  // fieldManager; empty lets the server infer it (not allowed for Apply).
  std::string field_manager;
};

struct ApplyOptions {
  std::string field_manager;  // required
  bool force = false;         // take ownership of conflicting fields
  bool dry_run = false;       // dryRun=All
};

// The result of evaluating a rollout exactly like `kubectl rollout status` (one evaluation, no
// waiting). done and failed are never both true; message is kubectl's text.
struct RolloutStatus {
  bool done = false;
  bool failed = false;  // e.g. ProgressDeadlineExceeded
  std::string message;
};

struct RollbackOptions {
  int64_t to_revision = 0;  // 0: the previous revision (like `kubectl rollout undo`)
  bool dry_run = false;
  std::string field_manager;
};

struct RollbackResult {
  // True when the chosen revision's template already equals the current one (nothing written).
  bool skipped = false;
  int64_t revision = 0;       // the revision rolled back to
  nlohmann::json deployment;  // the Deployment as returned by the PATCH (or as read, if skipped)
  std::string message;        // kubectl's text: `deployment.apps/web rolled back`
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark };

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  nlohmann::json object;
};

struct KubeWatchOptions {
  std::string label_selector;
  std::string field_selector;
  // Watch changes strictly after this version (from a list or an earlier event/bookmark).
  std::string resource_version;
  bool allow_bookmarks = true;
  // Asks the server to end the stream after this many seconds (0: server default).
  int64_t timeout_seconds = 0;
};

// Called for every ADDED/MODIFIED/DELETED/BOOKMARK event, in stream order. Return false to end the
// watch (Watch then returns OK).
using WatchCallback = std::function<bool(const WatchEvent& event)>;

class Cluster {
 public:
  virtual ~Cluster() = default;

  // The default namespace of this client (the kubeconfig context's namespace, else "default").
  virtual std::string DefaultNamespace() const = 0;

  // GET one object. NotFound when it does not exist.
  virtual absl::StatusOr<nlohmann::json> Get(const KubeRef& ref) = 0;

  // LIST a collection (ref.name must be empty), following `continue` tokens. An expired continue
  // token gives OutOfRange (IsKubeExpired).
  virtual absl::StatusOr<KubeList> List(const KubeRef& collection,
                                        const KubeListOptions& options = {}) = 0;

  // GET .../pods/{name}/log: the raw text. InvalidArgument (400) when the container is not given
  // for a multi-container pod, when `previous` has no terminated instance, or when the container is
  // waiting to start.
  virtual absl::StatusOr<std::string> PodLogs(const std::string& namespace_name,
                                              const std::string& pod,
                                              const PodLogOptions& options) = 0;

  // PATCH the object named by `ref` with `patch` (an object for the merge types, an array of
  // operations for kJsonPatch). Returns the object the server returned (the would-be object when
  // dry_run). InvalidArgument when `patch` has the wrong JSON shape for `type` (nothing sent).
  virtual absl::StatusOr<nlohmann::json> Patch(const KubeRef& ref, PatchType type,
                                               const nlohmann::json& patch,
                                               const WriteOptions& options = {}) = 0;

  // Server-side apply of `object` (apiVersion, kind, metadata.name required; metadata.namespace
  // defaults to DefaultNamespace() for namespaced kinds). Creates the object when missing.
  // InvalidArgument when the object lacks those fields or options.field_manager is empty.
  // Aborted on a field-manager conflict without force.
  virtual absl::StatusOr<nlohmann::json> Apply(const nlohmann::json& object,
                                               const ApplyOptions& options) = 0;

  // Reads the workload and evaluates it once like `kubectl rollout status` (api-contracts.md
  // §3.7): for a Deployment generation vs observedGeneration, ProgressDeadlineExceeded (failed),
  // updatedReplicas, replicas, availableReplicas; DaemonSets and StatefulSets by kubectl's own
  // rules for them (see core/kube_rollout.h). Other kinds: Unimplemented; a DaemonSet/StatefulSet
  // with the OnDelete strategy: FailedPrecondition.
  virtual absl::StatusOr<RolloutStatus> GetRolloutStatus(const KubeRef& workload) = 0;

  // `kubectl rollout undo` (api-contracts.md §3.8): finds the ReplicaSets controlled by the
  // Deployment, picks the previous (or the requested) revision and JSON-patches the Deployment's
  // template and annotations with it. NotFound "no rollout history found" / "unable to find
  // specified revision N"; FailedPrecondition for a paused Deployment.
  virtual absl::StatusOr<RollbackResult> Rollback(const KubeRef& deployment,
                                                  const RollbackOptions& options = {}) = 0;

  // WATCH a collection (ref.name empty) from options.resource_version, delivering events to
  // `on_event` until the server ends the stream (OK), `on_event` returns false (OK), `*stop`
  // becomes true (OK, noticed within about a second even when the stream is idle), or an error.
  // An in-stream ERROR event is returned as its mapped status: code 410 -> OutOfRange
  // (IsKubeExpired), so the caller relists. One call = one HTTP stream; reconnecting is the
  // caller's job (see KubeWatcher in core/kube_watcher.h).
  virtual absl::Status Watch(const KubeRef& collection, const KubeWatchOptions& options,
                             const WatchCallback& on_event, const std::atomic<bool>* stop) = 0;
};

// Status payload URLs carrying the API server's HTTP code and Status reason.
inline constexpr char kKubeHttpCodePayload[] = "remediator.kube/http-code";
inline constexpr char kKubeReasonPayload[] = "remediator.kube/reason";

// The HTTP code recorded in `status` by a Cluster implementation (0 when none).
inline int KubeHttpCode(const absl::Status& status) {
  auto payload = status.GetPayload(kKubeHttpCodePayload);
  if (!payload.has_value()) return 0;
  int code = 0;
  for (char c : std::string(*payload)) {
    if (c < '0' || c > '9') return 0;
    code = code * 10 + (c - '0');
  }
  return code;
}

// The Status `reason` recorded in `status` ("NotFound", "Expired", ...; empty when none).
inline std::string KubeReason(const absl::Status& status) {
  auto payload = status.GetPayload(kKubeReasonPayload);
  return payload.has_value() ? std::string(*payload) : std::string();
}

// True for "resourceVersion too old / continue token expired" (HTTP 410 or an in-stream ERROR
// event with code 410): the caller must list again.
inline bool IsKubeExpired(const absl::Status& status) {
  return status.code() == absl::StatusCode::kOutOfRange;
}

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_CLUSTER_H_
