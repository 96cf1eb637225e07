// KubeSim: a Kubernetes API server simulator that the real kubectl (v1.32) accepts, for tests and
// the local demo. It serves discovery, OpenAPI v3 (the subset kubectl asks for), namespaces, nodes,
// pods, events (core/v1 and events.k8s.io/v1), secrets, configmaps, services, deployments and
// replicasets; GET/LIST (label and field selectors, Table output), watch streams (bookmarks, 410
// Expired), pod logs, PATCH (strategic merge, merge, JSON patch, server-side apply), POST, PUT,
// DELETE and `dryRun=All`. A deployment controller, a ReplicaSet controller and a simulated kubelet
// driven by a world file (see world.h) make pods crash, get OOM-killed, fail image pulls and so on,
// on a simulated clock.
//
// Typical use from a test:
//   KubeSimOptions options;
//   options.world_yaml = "...";          // or world_file
//   options.manual_clock = true;         // time moves only via AdvanceClock()
//   ASSIGN_OR_RETURN(auto sim, KubeSim::Start(options));
//   sim->WriteKubeconfig(dir + "/kubeconfig");
//   sim->AdvanceClock(absl::Seconds(30)); // runs controllers and the kubelet for 30 sim-seconds
//   /usr/bin/kubectl --kubeconfig dir/kubeconfig --cache-dir dir/cache get pods -n app
//
// Thread-safe: every method may be called from any thread while the server runs.
#ifndef REMEDIATOR_SERVER_KUBESIM_KUBESIM_H_
#define REMEDIATOR_SERVER_KUBESIM_KUBESIM_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/common/clock.h"

namespace remediator::kubesim {

class Cluster;
class ApiServer;
class ReconcileLoop;

struct KubeSimOptions {
  // The world (images, nodes, secrets, manifests). `world_file` wins when both are set; when both
  // are empty the world has one node and no images (every image pull fails).
  std::string world_file;
  std::string world_yaml;
  // Directories whose *.yaml / *.yml / *.json files (multi-document) are applied at start, after
  // the world's own manifests, in file-name order.
  std::vector<std::string> manifest_dirs;

  // Listening address. Port 0 picks a free port (see KubeSim::port()).
  std::string listen_host = "127.0.0.1";
  int port = 0;

  // When set, container logs are also written as CRI log files here (for a log-shipper).
  std::string container_log_dir;

  // Simulated clock. With manual_clock the simulated time moves only through AdvanceClock() (or
  // POST /kubesim/v1/advance?seconds=N); otherwise it runs `time_scale` simulated seconds per
  // real second. `clock`, when set, replaces the real clock that time_scale multiplies (tests may
  // inject a FakeClock; it must outlive the KubeSim). `start_time` defaults to the clock's now.
  bool manual_clock = false;
  double time_scale = 1.0;
  Clock* clock = nullptr;
  std::optional<absl::Time> start_time;

  // HTTPS when both are set (PEM files). `client_ca_file` additionally requires a client
  // certificate signed by that CA. `tls_ca_file` is the CA written into the kubeconfig as
  // certificate-authority-data (default: the server certificate itself, fine when self-signed).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string client_ca_file;
  std::string tls_ca_file;
  // The client certificate/key written into the kubeconfig (for client_ca_file setups).
  std::string kubeconfig_client_cert_file;
  std::string kubeconfig_client_key_file;
  // When non-empty every request needs `Authorization: Bearer <token>` (else 401 Status).
  std::string token;

  // Watches from a resourceVersion older than the retained history get an HTTP 410 Status when
  // true; when false (the default, like a real apiserver's watch cache) they get HTTP 200 and an
  // in-stream {"type":"ERROR","object":{...,"reason":"Expired","code":410}} event.
  bool watch_expired_as_http_status = false;
  // How many change events the watch history keeps before the oldest are dropped.
  size_t history_limit = 10000;
  // Bookmark interval (real time) on watches that ask for allowWatchBookmarks.
  absl::Duration bookmark_interval = absl::Seconds(1);
};

class KubeSim {
 public:
  // Loads the world and manifests, starts the HTTP(S) server and, unless manual_clock, a background
  // reconcile loop. InvalidArgument for a bad world/manifest (naming file and line), Unavailable
  // when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<KubeSim>> Start(const KubeSimOptions& options);
  ~KubeSim();

  KubeSim(const KubeSim&) = delete;
  KubeSim& operator=(const KubeSim&) = delete;

  // Stops the server (open watches end) and the reconcile loop. Idempotent.
  void Stop();

  const std::string& host() const;
  int port() const;
  // "http://127.0.0.1:PORT" or "https://...".
  std::string url() const;

  // The kubeconfig text for this server (cluster "kubesim", context "kubesim", user "kubesim"),
  // with CA data when HTTPS, the token when set and the client certificate when configured.
  std::string KubeconfigYaml(const std::string& default_namespace = "default") const;
  // Writes KubeconfigYaml() to `path` (mode 0600).
  absl::Status WriteKubeconfig(const std::string& path,
                               const std::string& default_namespace = "default") const;

  // Moves simulated time forward by `d` in steps of at most one simulated second, reconciling
  // after each step, then returns. Works in every clock mode (adds an offset).
  void AdvanceClock(absl::Duration d);
  // Runs the controllers and the simulated kubelet once at the current simulated time.
  void Reconcile();
  absl::Time Now() const;

  // Drops the whole watch history: watches from any older resourceVersion then get 410 Expired.
  void CompactHistory();

  // Creates or replaces (like `kubectl apply`, server-side) every object in `yaml` (multi-doc).
  absl::Status Apply(const std::string& yaml);
  // The stored object (with apiVersion/kind), NotFound when missing. `resource` is the plural
  // lower-case name ("pods", "deployments", "events", ...); `ns` is empty for cluster scope.
  absl::StatusOr<nlohmann::json> Get(const std::string& resource, const std::string& ns,
                                     const std::string& name) const;
  // The objects of `resource` in `ns` (every namespace when empty) matching `label_selector`.
  absl::StatusOr<std::vector<nlohmann::json>> List(const std::string& resource,
                                                   const std::string& ns,
                                                   const std::string& label_selector = "") const;
  absl::Status Delete(const std::string& resource, const std::string& ns, const std::string& name);
  // The log text a GET .../log would return (current or previous container instance).
  absl::StatusOr<std::string> Logs(const std::string& ns, const std::string& pod,
                                   const std::string& container, bool previous) const;

  // Number of HTTP requests served (for tests that assert traffic).
  int64_t request_count() const;

  Cluster& cluster() { return *cluster_; }

 private:
  KubeSim();
  KubeSimOptions options_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<ReconcileLoop> loop_;
};

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_KUBESIM_H_
