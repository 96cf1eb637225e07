// RemediatorServer assembles the remediator from its config: the store in the state dir, the
// classifier, the ingestor, the Telephony client, the gRPC service, and the server runner.
// main() and the in-process integration tests start exactly the same thing through Start().
#ifndef REMEDIATOR_SERVER_REMEDIATOR_REMEDIATOR_SERVER_H_
#define REMEDIATOR_SERVER_REMEDIATOR_REMEDIATOR_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "server/common/clock.h"
#include "server/common/grpc_server.h"
#include "server/common/http_client.h"
#include "server/common/rpc_guard.h"
#include "server/metrics/metrics_server.h"
#include "server/metrics/registry.h"
#include "server/remediator/config.h"
#include "server/remediator/console/web_console.h"
#include "server/remediator/core/classifier.h"
#include "server/remediator/core/cluster.h"
#include "server/remediator/core/forge.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/ingestor.h"
#include "server/remediator/core/loki_source.h"
#include "server/remediator/core/oncall/escalator.h"
#include "server/remediator/core/oncall/oncall_policy.h"
#include "server/remediator/core/phone.h"
#include "server/remediator/core/pipeline/pipeline.h"
#include "server/remediator/core/pr/pull_request_opener.h"
#include "server/remediator/core/remediation/engine.h"
#include "server/remediator/core/remediation/fix_strategy.h"
#include "server/remediator/core/remediation/guard.h"
#include "server/remediator/core/remediation/manifest_source.h"
#include "server/remediator/core/repository.h"
#include "server/remediator/core/watch_source.h"
#include "server/remediator/service/remediator_metrics.h"
#include "server/remediator/service/remediator_service.h"

namespace remediator {

class RemediatorServer {
 public:
  // Opens the store (creating the state dir), reads the token file, connects what is configured
  // (cluster, GitOps repository and forge, Telephony server), resumes fix attempts a crash
  // interrupted (in the background), starts the Kubernetes watch source, and starts serving.
  // Errors name the file, setting or address that is wrong.
  static absl::StatusOr<std::unique_ptr<RemediatorServer>> Start(const RemediatorConfig& config,
                                                                 Clock& clock);
  ~RemediatorServer();

  const std::string& address() const { return grpc_server_->address(); }
  int port() const { return grpc_server_->port(); }
  IncidentStore& store() { return *store_; }
  // Null when not configured.
  remediation::RemediationEngine* engine() { return engine_.get(); }
  pr::PullRequestOpener* pull_requests() { return opener_.get(); }
  WatchSource* watch_source() { return watch_source_.get(); }
  Pipeline& pipeline() { return *pipeline_; }
  const RpcGuard& rpc_guard() const { return rpc_guard_; }
  metrics::Registry& registry() { return registry_; }
  // HOST:PORT of the web console; empty when not configured.
  std::string console_address() const { return console_ == nullptr ? "" : console_->address(); }
  // HOST:PORT of the Prometheus endpoint; empty when not configured.
  std::string metrics_address() const {
    return metrics_server_ == nullptr ? "" : metrics_server_->address();
  }
  // Graceful: stops accepting calls, lets calls in flight finish within `grace`.
  void Shutdown(absl::Duration grace);

 private:
  RemediatorServer() = default;
  RpcGuard rpc_guard_;
  metrics::Registry registry_;
  // SQLite or PostgreSQL (--store).
  std::unique_ptr<IncidentStore> backing_store_;
  // backing_store_, counting its errors (remediator_store_errors_total).
  std::unique_ptr<IncidentStore> store_;
  std::unique_ptr<RemediatorMetrics> metrics_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;
  std::unique_ptr<console::WebConsole> console_;
  std::unique_ptr<Classifier> classifier_;
  std::unique_ptr<Ingestor> ingestor_;
  std::unique_ptr<Phone> phone_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<Repository> repository_;
  std::unique_ptr<Forge> forge_;
  std::unique_ptr<pr::PullRequestOpener> opener_;
  std::unique_ptr<remediation::ManifestSource> manifests_;
  std::vector<std::unique_ptr<remediation::FixStrategy>> strategies_;
  remediation::Guard guard_;
  std::unique_ptr<remediation::RemediationEngine> engine_;
  std::unique_ptr<WatchSource> watch_source_;
  std::unique_ptr<oncall::OnCallPolicy> oncall_;
  std::unique_ptr<oncall::Escalator> escalator_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<LokiSource> loki_;
  std::atomic<bool> loki_stop_{false};
  std::thread loki_thread_;
  std::thread resume_thread_;
  std::unique_ptr<RemediatorService> service_;
  std::unique_ptr<GrpcServer> grpc_server_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_REMEDIATOR_SERVER_H_
