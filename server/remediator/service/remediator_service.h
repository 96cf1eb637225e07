// RemediatorService is the gRPC face of remediator.v1.Remediator: every call passes the RpcGuard
// (token, role, parsable request) before its handler runs; each handler validates the request
// (INVALID_ARGUMENT says which field is wrong and why), calls core, and converts the result. No
// domain logic lives here. Thread-safe: gRPC runs handlers concurrently; every collaborator is
// thread-safe.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_SERVICE_REMEDIATOR_SERVICE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_SERVICE_REMEDIATOR_SERVICE_H_

#include "remediator/v1/remediator.grpc.pb.h"
#include "server/common/clock.h"
#include "server/common/rpc_guard.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/ingestor.h"
#include "server/remediator/core/oncall/oncall_policy.h"
#include "server/remediator/core/phone.h"
#include "server/remediator/core/pr/pull_request_opener.h"
#include "server/remediator/core/remediation/engine.h"
#include "server/remediator/service/remediator_metrics.h"

namespace remediator {

// The largest batch ReportError accepts; bigger ones must be split.
inline constexpr int kMaxObservationsPerBatch = 100000;
// Longest id (incident, fix attempt, pull request, idempotency key, page token) a request may
// carry; longer ones are INVALID_ARGUMENT and not echoed back.
inline constexpr size_t kMaxIdBytes = 128;
// Longest name (namespace, number, language, strategy): a DNS subdomain is at most 253.
inline constexpr size_t kMaxNameBytes = 256;
// Longest free text to speak in PlaceCall.
inline constexpr size_t kMaxMessageBytes = 8000;

class RemediatorService final : public v1::Remediator::Service {
 public:
  // What the service can do beyond detection; each may be null when not configured, and the
  // RPC that needs it then fails with FAILED_PRECONDITION saying which setting is missing.
  struct Capabilities {
    // No Telephony server: PlaceCall fails, ListCalls reads the calls recorded in the store.
    Phone* phone = nullptr;
    // No cluster (--kubeconfig): AttemptFix fails.
    remediation::RemediationEngine* engine = nullptr;
    // No GitOps repository (--gitops-repo): OpenPullRequest fails.
    pr::PullRequestOpener* pull_requests = nullptr;
    // No on-call policy (--oncall): PlaceCall needs an explicit number.
    const oncall::OnCallPolicy* oncall = nullptr;
    // No metrics (--metrics-listen): nothing is counted.
    RemediatorMetrics* metrics = nullptr;
  };

  // All borrowed.
  RemediatorService(const RpcGuard& guard, Ingestor& ingestor, IncidentStore& store,
                    Capabilities capabilities, Clock& clock);

  grpc::Status ReportError(grpc::ServerContext* context, const v1::ReportErrorRequest* request,
                           v1::ReportErrorResponse* response) override;
  // Never called: ReportErrorStream is served by ReportErrorStreamBytes (see below).
  grpc::Status ReportErrorStream(grpc::ServerContext* context,
                                 grpc::ServerReader<v1::ReportErrorRequest>* reader,
                                 v1::ReportErrorStreamResponse* response) override;
  // ReportErrorStream, reading each batch as bytes and parsing it here: gRPC's typed reader
  // reports a batch it cannot parse exactly like the end of the stream, which would answer OK
  // for a stream whose rest was never stored. Here an unparsable batch is INVALID_ARGUMENT
  // "batch N: ..." (N counts from 0), like a batch the validation or the ingestor rejects.
  // The batches before it are stored; the response (the acknowledgement) is only sent on OK.
  grpc::Status ReportErrorStreamBytes(grpc::ServerContext* context,
                                      grpc::ServerReader<grpc::ByteBuffer>* reader,
                                      v1::ReportErrorStreamResponse* response);
  grpc::Status GetIncident(grpc::ServerContext* context, const v1::GetIncidentRequest* request,
                           v1::Incident* response) override;
  grpc::Status ListIncidents(grpc::ServerContext* context, const v1::ListIncidentsRequest* request,
                             v1::ListIncidentsResponse* response) override;
  grpc::Status AttemptFix(grpc::ServerContext* context, const v1::AttemptFixRequest* request,
                          v1::FixAttempt* response) override;
  grpc::Status ListFixAttempts(grpc::ServerContext* context,
                               const v1::ListFixAttemptsRequest* request,
                               v1::ListFixAttemptsResponse* response) override;
  grpc::Status OpenPullRequest(grpc::ServerContext* context,
                               const v1::OpenPullRequestRequest* request,
                               v1::PullRequest* response) override;
  grpc::Status GetPullRequest(grpc::ServerContext* context,
                              const v1::GetPullRequestRequest* request,
                              v1::PullRequest* response) override;
  grpc::Status ListPullRequests(grpc::ServerContext* context,
                                const v1::ListPullRequestsRequest* request,
                                v1::ListPullRequestsResponse* response) override;
  grpc::Status PlaceCall(grpc::ServerContext* context, const v1::PlaceCallRequest* request,
                         telephony::v1::CallRecord* response) override;
  grpc::Status ListCalls(grpc::ServerContext* context,
                         const telephony::v1::ListCallsRequest* request,
                         telephony::v1::ListCallsResponse* response) override;

 private:
  // The batches of one ReportErrorStream, after the guard.
  grpc::Status ReadBatches(grpc::ServerReader<grpc::ByteBuffer>* reader,
                           v1::ReportErrorStreamResponse* response);

  const RpcGuard& guard_;
  Ingestor& ingestor_;
  IncidentStore& store_;
  Phone* phone_;
  remediation::RemediationEngine* engine_;
  pr::PullRequestOpener* pull_requests_;
  const oncall::OnCallPolicy* oncall_;
  RemediatorMetrics* metrics_;
  Clock& clock_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_SERVICE_REMEDIATOR_SERVICE_H_
