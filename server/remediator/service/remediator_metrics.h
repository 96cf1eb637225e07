// RemediatorMetrics: what the remediator exposes to Prometheus (--metrics-listen). Two kinds:
//   - counted as it happens, by the service layer: RPCs by method and code, observations and log
//     lines received, detections returned (grpc_server_handled_total,
//     remediator_ingested_observations_total{kind}, remediator_ingested_log_lines_total), and
//     store errors (CountingIncidentStore);
//   - derived from the store when scraped, so that what core does (the watch source, the
//     pipeline, the engine) is counted without hooks in core:
//       remediator_incidents{class,state}               gauge
//       remediator_detections_total{class}              sum of the incidents' counts
//       remediator_fix_attempts_total{strategy,status}
//       remediator_guard_refusals_total{rule}           one per broken rule of a refused edit
//       remediator_fix_duration_seconds{strategy}       histogram of the attempts' durations
//       remediator_pull_requests_total{forge,state}
//       remediator_calls_total{outcome,decision}
//       remediator_auth_failures_total{reason}          unauthenticated / permission_denied
// Thread-safe.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_SERVICE_REMEDIATOR_METRICS_H_
#define REMEDIATOR_SERVER_REMEDIATOR_SERVICE_REMEDIATOR_METRICS_H_

#include <grpcpp/support/status.h>

#include <string_view>
#include <vector>

#include "remediator/v1/remediator.pb.h"
#include "server/common/rpc_guard.h"
#include "server/metrics/registry.h"
#include "server/remediator/core/incident_store.h"

namespace remediator {

class RemediatorMetrics {
 public:
  // All borrowed. Registers its families and a scrape-time collector reading `store`.
  RemediatorMetrics(metrics::Registry& registry, IncidentStore& store, const RpcGuard& guard);

  // One RPC finished with `code`; `method` is the full name.
  void CountRpc(std::string_view method, grpc::StatusCode code);
  // A batch accepted by ReportError or ReportErrorStream, and what it was found to be.
  void CountBatch(const v1::ReportErrorRequest& batch, const std::vector<v1::Detection>& found);

 private:
  std::vector<metrics::CollectedFamily> CollectFromStore() const;

  IncidentStore& store_;
  const RpcGuard& guard_;
  metrics::CounterFamily& rpcs_;
  metrics::CounterFamily& observations_;
  metrics::Counter& log_lines_;
  metrics::CounterFamily& reported_detections_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_SERVICE_REMEDIATOR_METRICS_H_
