// KubeApiCluster: the Cluster (server/remediator/core/cluster.h) of a real Kubernetes API server,
// over its REST API with libcurl (kube_transport.h), configured from a kubeconfig (kubeconfig.h):
// TLS with CA / client certificates, bearer tokens, tokenFile, exec credential plugins.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<KubeApiCluster> cluster,
//                    KubeApiCluster::FromKubeconfig({.explicit_path = path, .context = "prod"}));
//
// URL building needs no discovery: "v1" maps to /api/v1, any other apiVersion to /apis/<it>, and
// the kind to its plural and scope from a built-in table (see cluster.h). Thread-safe.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_KUBE_API_CLUSTER_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_KUBE_API_CLUSTER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/common/clock.h"
#include "server/remediator/adapters/kube/kube_transport.h"
#include "server/remediator/adapters/kube/kubeconfig.h"
#include "server/remediator/core/cluster.h"

namespace remediator::kube {

struct KubeClientOptions {
  TransportOptions transport;
  // A watch stream with no byte (not even a bookmark) for this long beyond its timeoutSeconds is
  // considered dead and ends with Unavailable.
  absl::Duration watch_idle_grace = absl::Seconds(60);
};

class KubeApiCluster final : public Cluster {
 public:
  // `clock` (exec credential expiry) is borrowed and must outlive the cluster.
  static absl::StatusOr<std::unique_ptr<KubeApiCluster>> Create(const KubeConfig& config,
                                                                Clock& clock,
                                                                KubeClientOptions options = {});
  // LoadKubeconfig(options) + Create.
  static absl::StatusOr<std::unique_ptr<KubeApiCluster>> FromKubeconfig(
      const KubeconfigOptions& options, Clock& clock = RealClock::Get(),
      KubeClientOptions client_options = {});

  std::string DefaultNamespace() const override;
  absl::StatusOr<nlohmann::json> Get(const KubeRef& ref) override;
  absl::StatusOr<KubeList> List(const KubeRef& collection,
                                const KubeListOptions& options = {}) override;
  absl::StatusOr<std::string> PodLogs(const std::string& namespace_name, const std::string& pod,
                                      const PodLogOptions& options) override;
  absl::StatusOr<nlohmann::json> Patch(const KubeRef& ref, PatchType type,
                                       const nlohmann::json& patch,
                                       const WriteOptions& options = {}) override;
  absl::StatusOr<nlohmann::json> Apply(const nlohmann::json& object,
                                       const ApplyOptions& options) override;
  absl::StatusOr<RolloutStatus> GetRolloutStatus(const KubeRef& workload) override;
  absl::StatusOr<RollbackResult> Rollback(const KubeRef& deployment,
                                          const RollbackOptions& options = {}) override;
  absl::Status Watch(const KubeRef& collection, const KubeWatchOptions& options,
                     const WatchCallback& on_event, const std::atomic<bool>* stop) override;

  // How many times the exec credential plugin ran (0 without one).
  int64_t exec_plugin_runs() const;
  const KubeConfig& config() const { return transport_->config(); }

 private:
  KubeApiCluster(std::unique_ptr<KubeTransport> transport, KubeClientOptions options);
  // GET/PATCH/... returning the parsed JSON body of a 2xx answer, else the mapped Status error.
  absl::StatusOr<nlohmann::json> Call(const HttpRequest& request);

  std::unique_ptr<KubeTransport> transport_;
  const KubeClientOptions options_;
};

// The URL path of an object (ref.name set) or collection (ref.name empty), without query.
// `default_namespace` fills an empty namespace of a namespaced object (not of a collection: an
// empty namespace there means all namespaces). InvalidArgument for an empty apiVersion or kind.
absl::StatusOr<std::string> KubePath(const KubeRef& ref, const std::string& default_namespace);

}  // namespace remediator::kube

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_KUBE_API_CLUSTER_H_
