// RemediatorService is the gRPC face of remediator.v1.Remediator: each handler checks the
// caller's token, validates the request (INVALID_ARGUMENT says which field is wrong and why),
// calls core, and converts the result. No domain logic lives here.
// Thread-safe: gRPC runs handlers concurrently; every collaborator is thread-safe.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_SERVICE_REMEDIATOR_SERVICE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_SERVICE_REMEDIATOR_SERVICE_H_

#include "remediator/v1/remediator.grpc.pb.h"
#include "server/common/auth.h"
#include "server/common/clock.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/ingestor.h"
#include "server/remediator/core/oncall/oncall_policy.h"
#include "server/remediator/core/phone.h"
#include "server/remediator/core/pr/pull_request_opener.h"
#include "server/remediator/core/remediation/engine.h"

namespace remediator {

// The largest batch ReportError accepts; bigger ones must be split.
inline constexpr int kMaxObservationsPerBatch = 100000;

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
  };

  // All borrowed.
  RemediatorService(const TokenAuth& auth, Ingestor& ingestor, IncidentStore& store,
                    Capabilities capabilities, Clock& clock)
      : auth_(auth),
        ingestor_(ingestor),
        store_(store),
        phone_(capabilities.phone),
        engine_(capabilities.engine),
        pull_requests_(capabilities.pull_requests),
        oncall_(capabilities.oncall),
        clock_(clock) {}

  grpc::Status ReportError(grpc::ServerContext* context, const v1::ReportErrorRequest* request,
                           v1::ReportErrorResponse* response) override;
  grpc::Status ReportErrorStream(grpc::ServerContext* context,
                                 grpc::ServerReader<v1::ReportErrorRequest>* reader,
                                 v1::ReportErrorStreamResponse* response) override;
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
  const TokenAuth& auth_;
  Ingestor& ingestor_;
  IncidentStore& store_;
  Phone* phone_;
  remediation::RemediationEngine* engine_;
  pr::PullRequestOpener* pull_requests_;
  const oncall::OnCallPolicy* oncall_;
  Clock& clock_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_SERVICE_REMEDIATOR_SERVICE_H_
