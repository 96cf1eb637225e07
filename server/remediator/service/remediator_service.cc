#include "server/remediator/service/remediator_service.h"

#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "server/common/grpc_status.h"
#include "server/common/phone_number.h"
#include "server/common/rpc_guard.h"
#include "server/common/time_util.h"
#include "server/remediator/core/enum_names.h"
#include "server/remediator/core/oncall/escalator.h"

namespace remediator {
namespace {

grpc::Status InvalidArgument(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// Checks what the Ingestor cannot: the batch's shape. Payload contents are the classifier's.
grpc::Status ValidateBatch(const v1::ReportErrorRequest& request) {
  if (request.observations_size() == 0) {
    return InvalidArgument("observations is empty: send at least one observation");
  }
  if (request.observations_size() > kMaxObservationsPerBatch) {
    return InvalidArgument(absl::StrCat("a batch holds at most ", kMaxObservationsPerBatch,
                                        " observations, got ", request.observations_size(),
                                        ": split it"));
  }
  for (int i = 0; i < request.observations_size(); ++i) {
    if (request.observations(i).payload_case() == v1::Observation::PAYLOAD_NOT_SET) {
      return InvalidArgument(absl::StrCat(
          "observations[", i,
          "]: no payload; set one of pod_json, event_json, watch_event_json, cri_log, pod_log, "
          "loki"));
    }
  }
  return grpc::Status::OK;
}

// Ids are short ("inc-<hex>"); a longer one is refused without being echoed (a 20 KB id would
// make the error itself exceed gRPC's metadata limit).
grpc::Status CheckLength(const char* field, const std::string& value, size_t max) {
  if (value.size() <= max) return grpc::Status::OK;
  return InvalidArgument(absl::StrCat(field, " is ", value.size(), " bytes long; at most ", max));
}

grpc::Status CheckId(const char* field, const std::string& value) {
  return CheckLength(field, value, kMaxIdBytes);
}

// Unknown enum numbers survive proto3 parsing; they would match nothing and answer an empty OK.
template <typename Enum>
grpc::Status CheckEnum(const char* field, int value, bool (*is_valid)(int),
                       const std::string& (*name)(Enum), Enum max) {
  if (is_valid(value)) return grpc::Status::OK;
  return InvalidArgument(absl::StrCat(field, " ", value, " is not a known value (0 = any, up to ",
                                      static_cast<int>(max), " = ", name(max), ")"));
}

#define RETURN_IF_INVALID(expr)                        \
  do {                                                 \
    if (grpc::Status _s = (expr); !_s.ok()) return _s; \
  } while (0)

grpc::Status CheckPageSize(int page_size) {
  if (page_size < 0 || page_size > 1000) {
    return InvalidArgument(
        absl::StrCat("page_size must be between 0 (server default) and 1000, got ", page_size));
  }
  return grpc::Status::OK;
}

}  // namespace

RemediatorService::RemediatorService(const RpcGuard& guard, Ingestor& ingestor,
                                     IncidentStore& store, Capabilities capabilities, Clock& clock)
    : guard_(guard),
      ingestor_(ingestor),
      store_(store),
      phone_(capabilities.phone),
      engine_(capabilities.engine),
      pull_requests_(capabilities.pull_requests),
      oncall_(capabilities.oncall),
      metrics_(capabilities.metrics),
      clock_(clock) {
  // Every method goes through the guard (server/common/rpc_guard.h). The indices are the order of
  // the methods in remediator.proto.
  using Self = RemediatorService;
  auto guard_method = [this](int index, const char* name, Access access, auto method) {
    MarkMethodStreamed(
        index, GuardUnary(this, &guard_, absl::StrCat("/remediator.v1.Remediator/", name), access,
                          method));
  };
  guard_method(0, "ReportError", Access::kReport, &Self::ReportError);
  guard_method(2, "GetIncident", Access::kRead, &Self::GetIncident);
  guard_method(3, "ListIncidents", Access::kRead, &Self::ListIncidents);
  guard_method(4, "AttemptFix", Access::kOperate, &Self::AttemptFix);
  guard_method(5, "ListFixAttempts", Access::kRead, &Self::ListFixAttempts);
  guard_method(6, "OpenPullRequest", Access::kOperate, &Self::OpenPullRequest);
  guard_method(7, "GetPullRequest", Access::kRead, &Self::GetPullRequest);
  guard_method(8, "ListPullRequests", Access::kRead, &Self::ListPullRequests);
  guard_method(9, "PlaceCall", Access::kOperate, &Self::PlaceCall);
  guard_method(10, "ListCalls", Access::kRead, &Self::ListCalls);
  // Method 1, ReportErrorStream, reads its batches as bytes (see ReportErrorStreamBytes); the
  // handler keeps the synchronous API and the wire format.
  MarkMethodStreamed(1,
                     new grpc::internal::ClientStreamingHandler<RemediatorService, grpc::ByteBuffer,
                                                                v1::ReportErrorStreamResponse>(
                         [](RemediatorService* service, grpc::ServerContext* context,
                            grpc::ServerReader<grpc::ByteBuffer>* reader,
                            v1::ReportErrorStreamResponse* response) {
                           return service->ReportErrorStreamBytes(context, reader, response);
                         },
                         this));
}

grpc::Status RemediatorService::ReportError(grpc::ServerContext*,
                                            const v1::ReportErrorRequest* request,
                                            v1::ReportErrorResponse* response) {
  if (grpc::Status s = ValidateBatch(*request); !s.ok()) return s;
  absl::StatusOr<std::vector<v1::Detection>> detections = ingestor_.Ingest(request->observations());
  if (!detections.ok()) return ToGrpcStatus(detections.status());
  if (metrics_ != nullptr) metrics_->CountBatch(*request, *detections);
  for (auto& detection : *detections) *response->add_detections() = std::move(detection);
  return grpc::Status::OK;
}

grpc::Status RemediatorService::ReportErrorStream(grpc::ServerContext*,
                                                  grpc::ServerReader<v1::ReportErrorRequest>*,
                                                  v1::ReportErrorStreamResponse*) {
  return grpc::Status(grpc::StatusCode::INTERNAL, "ReportErrorStream is served as bytes");
}

grpc::Status RemediatorService::ReportErrorStreamBytes(grpc::ServerContext* context,
                                                       grpc::ServerReader<grpc::ByteBuffer>* reader,
                                                       v1::ReportErrorStreamResponse* response) {
  constexpr char kMethod[] = "/remediator.v1.Remediator/ReportErrorStream";
  grpc::Status status = guard_.Authorize(*context, kMethod, Access::kReport);
  if (status.ok()) status = ReadBatches(reader, response);
  return guard_.Finished(kMethod, CapErrorMessage(std::move(status)));
}

grpc::Status RemediatorService::ReadBatches(grpc::ServerReader<grpc::ByteBuffer>* reader,
                                            v1::ReportErrorStreamResponse* response) {
  // Each batch is stored as it arrives, so memory stays bounded by one batch. The response (the
  // sender's acknowledgement) is only sent after the last batch is stored; an error stops the
  // stream, and the sender resends what it has not seen acknowledged (at-least-once).
  std::set<std::string> incident_ids;
  grpc::ByteBuffer bytes;
  v1::ReportErrorRequest batch;
  std::string wire;
  while (reader->Read(&bytes)) {
    wire = FlattenByteBuffer(bytes);
    bytes.Clear();
    if (!batch.ParseFromString(wire)) {
      grpc::Status why = UnparsableRequest("remediator.v1.ReportErrorRequest", wire);
      return InvalidArgument(absl::StrCat("batch ", response->batches(), ": ", why.error_message(),
                                          "; nothing from this batch on was stored"));
    }
    if (grpc::Status s = ValidateBatch(batch); !s.ok()) {
      return InvalidArgument(absl::StrCat("batch ", response->batches(), ": ", s.error_message()));
    }
    absl::StatusOr<std::vector<v1::Detection>> detections = ingestor_.Ingest(batch.observations());
    if (!detections.ok()) {
      absl::Status status = detections.status();
      return ToGrpcStatus(absl::Status(
          status.code(), absl::StrCat("batch ", response->batches(), ": ", status.message())));
    }
    if (metrics_ != nullptr) metrics_->CountBatch(batch, *detections);
    response->set_batches(response->batches() + 1);
    response->set_observations(response->observations() + batch.observations_size());
    for (const auto& detection : *detections) {
      if (detection.incident_id().empty()) continue;
      response->set_detections(response->detections() + 1);
      incident_ids.insert(detection.incident_id());
    }
  }
  for (const auto& id : incident_ids) response->add_incident_ids(id);
  return grpc::Status::OK;
}

grpc::Status RemediatorService::GetIncident(grpc::ServerContext*,
                                            const v1::GetIncidentRequest* request,
                                            v1::Incident* response) {
  if (request->id().empty()) return InvalidArgument("id is empty: give an incident id");
  RETURN_IF_INVALID(CheckId("id", request->id()));
  absl::StatusOr<v1::Incident> incident = store_.GetIncident(request->id());
  if (!incident.ok()) return ToGrpcStatus(incident.status());
  *response = *std::move(incident);
  return grpc::Status::OK;
}

grpc::Status RemediatorService::ListIncidents(grpc::ServerContext*,
                                              const v1::ListIncidentsRequest* request,
                                              v1::ListIncidentsResponse* response) {
  if (grpc::Status s = CheckPageSize(request->page_size()); !s.ok()) return s;
  RETURN_IF_INVALID(CheckEnum("state", request->state(), v1::IncidentState_IsValid,
                              v1::IncidentState_Name<v1::IncidentState>, v1::IncidentState_MAX));
  RETURN_IF_INVALID(CheckEnum("error_class", request->error_class(), v1::ErrorClass_IsValid,
                              v1::ErrorClass_Name<v1::ErrorClass>, v1::ErrorClass_MAX));
  RETURN_IF_INVALID(CheckLength("namespace", request->namespace_(), kMaxNameBytes));
  RETURN_IF_INVALID(CheckLength("page_token", request->page_token(), kMaxIdBytes));
  IncidentFilter filter;
  filter.state = request->state();
  filter.error_class = request->error_class();
  filter.namespace_name = request->namespace_();
  filter.page_size = request->page_size();
  filter.page_token = request->page_token();
  absl::StatusOr<IncidentPage> page = store_.ListIncidents(filter);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (auto& incident : page->incidents) *response->add_incidents() = std::move(incident);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status RemediatorService::AttemptFix(grpc::ServerContext*,
                                           const v1::AttemptFixRequest* request,
                                           v1::FixAttempt* response) {
  if (request->incident_id().empty()) {
    return InvalidArgument("incident_id is empty: give the incident to fix");
  }
  RETURN_IF_INVALID(CheckId("incident_id", request->incident_id()));
  RETURN_IF_INVALID(CheckEnum("mode", request->mode(), v1::FixMode_IsValid,
                              v1::FixMode_Name<v1::FixMode>, v1::FixMode_MAX));
  RETURN_IF_INVALID(CheckLength("strategy", request->strategy(), kMaxNameBytes));
  absl::StatusOr<v1::Incident> incident = store_.GetIncident(request->incident_id());
  if (!incident.ok()) return ToGrpcStatus(incident.status());
  if (engine_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "no cluster is configured to apply fixes to: start the remediator with "
                        "--kubeconfig FILE (and --context NAME)");
  }
  absl::StatusOr<v1::FixAttempt> attempt = engine_->AttemptFix(*request);
  if (!attempt.ok()) return ToGrpcStatus(attempt.status());
  *response = *std::move(attempt);
  return grpc::Status::OK;
}

grpc::Status RemediatorService::ListFixAttempts(grpc::ServerContext*,
                                                const v1::ListFixAttemptsRequest* request,
                                                v1::ListFixAttemptsResponse* response) {
  if (request->incident_id().empty()) return InvalidArgument("incident_id is empty");
  RETURN_IF_INVALID(CheckId("incident_id", request->incident_id()));
  // An unknown incident has no attempts, but an empty list would not say that it is unknown.
  if (absl::StatusOr<v1::Incident> incident = store_.GetIncident(request->incident_id());
      !incident.ok()) {
    return ToGrpcStatus(incident.status());
  }
  absl::StatusOr<std::vector<v1::FixAttempt>> attempts =
      store_.ListFixAttempts(request->incident_id());
  if (!attempts.ok()) return ToGrpcStatus(attempts.status());
  for (auto& attempt : *attempts) *response->add_attempts() = std::move(attempt);
  return grpc::Status::OK;
}

grpc::Status RemediatorService::OpenPullRequest(grpc::ServerContext*,
                                                const v1::OpenPullRequestRequest* request,
                                                v1::PullRequest* response) {
  if (request->incident_id().empty() && request->fix_attempt_id().empty()) {
    return InvalidArgument("give incident_id or fix_attempt_id");
  }
  RETURN_IF_INVALID(CheckId("incident_id", request->incident_id()));
  RETURN_IF_INVALID(CheckId("fix_attempt_id", request->fix_attempt_id()));
  if (!request->incident_id().empty()) {
    if (absl::StatusOr<v1::Incident> incident = store_.GetIncident(request->incident_id());
        !incident.ok()) {
      return ToGrpcStatus(incident.status());
    }
  }
  if (!request->fix_attempt_id().empty()) {
    if (absl::StatusOr<v1::FixAttempt> attempt = store_.GetFixAttempt(request->fix_attempt_id());
        !attempt.ok()) {
      return ToGrpcStatus(attempt.status());
    }
  }
  if (pull_requests_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "no GitOps repository is configured: start the remediator with "
                        "--gitops-repo URL (and --gitops-forge)");
  }
  absl::StatusOr<v1::PullRequest> pr =
      pull_requests_->Open(request->incident_id(), request->fix_attempt_id());
  if (!pr.ok()) return ToGrpcStatus(pr.status());
  *response = *std::move(pr);
  return grpc::Status::OK;
}

grpc::Status RemediatorService::GetPullRequest(grpc::ServerContext*,
                                               const v1::GetPullRequestRequest* request,
                                               v1::PullRequest* response) {
  if (request->id().empty()) return InvalidArgument("id is empty: give a pull request id");
  RETURN_IF_INVALID(CheckId("id", request->id()));
  absl::StatusOr<v1::PullRequest> pr = store_.GetPullRequest(request->id());
  if (!pr.ok()) return ToGrpcStatus(pr.status());
  *response = *std::move(pr);
  return grpc::Status::OK;
}

grpc::Status RemediatorService::ListPullRequests(grpc::ServerContext*,
                                                 const v1::ListPullRequestsRequest* request,
                                                 v1::ListPullRequestsResponse* response) {
  if (grpc::Status s = CheckPageSize(request->page_size()); !s.ok()) return s;
  RETURN_IF_INVALID(CheckId("incident_id", request->incident_id()));
  RETURN_IF_INVALID(CheckLength("page_token", request->page_token(), kMaxIdBytes));
  absl::StatusOr<PullRequestPage> page =
      store_.ListPullRequests(request->incident_id(), request->page_size(), request->page_token());
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (auto& pr : page->pull_requests) *response->add_pull_requests() = std::move(pr);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status RemediatorService::PlaceCall(grpc::ServerContext*, const v1::PlaceCallRequest* request,
                                          telephony::v1::CallRecord* response) {
  if (request->incident_id().empty() && request->message().empty()) {
    return InvalidArgument("give incident_id (to explain an incident) or message (to speak)");
  }
  RETURN_IF_INVALID(CheckId("incident_id", request->incident_id()));
  RETURN_IF_INVALID(CheckLength("number", request->number(), kMaxNameBytes));
  RETURN_IF_INVALID(CheckLength("message", request->message(), kMaxMessageBytes));
  RETURN_IF_INVALID(CheckLength("language", request->language(), kMaxNameBytes));
  RETURN_IF_INVALID(CheckId("idempotency_key", request->idempotency_key()));
  std::string number = request->number();
  if (number.empty()) {
    if (oncall_ == nullptr) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "number is empty and no on-call policy is configured (--oncall FILE): "
                          "give a number");
    }
    const oncall::Rotation* rotation = oncall_->OnDuty(clock_.Now());
    if (rotation == nullptr || rotation->people.empty()) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "number is empty and no rotation of the on-call policy is on duty now");
    }
    number = oncall_->Find(rotation->people.front())->number;
  }
  if (absl::Status valid = ValidatePhoneNumber(number); !valid.ok()) {
    return ToGrpcStatus(valid);
  }
  telephony::v1::PlaceCallRequest call;
  if (!request->incident_id().empty()) {
    absl::StatusOr<v1::Incident> incident = store_.GetIncident(request->incident_id());
    if (!incident.ok()) return ToGrpcStatus(incident.status());
    std::optional<v1::FixAttempt> attempt;
    if (!incident->last_fix_attempt_id().empty()) {
      absl::StatusOr<v1::FixAttempt> last = store_.GetFixAttempt(incident->last_fix_attempt_id());
      if (last.ok()) attempt = *std::move(last);
    }
    *call.mutable_incident() = oncall::SummarizeForSpeech(*incident, attempt ? &*attempt : nullptr);
  }
  if (phone_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "no Telephony server is configured: start the remediator with "
                        "--telephony HOST:PORT");
  }
  call.set_number(number);
  call.set_message(request->message());
  call.set_language(request->language());
  call.set_idempotency_key(request->idempotency_key());
  absl::StatusOr<telephony::v1::CallRecord> record = phone_->PlaceCall(call);
  if (!record.ok()) return ToGrpcStatus(record.status());
  if (record->incident_id().empty()) record->set_incident_id(request->incident_id());
  absl::StatusOr<telephony::v1::CallRecord> stored = store_.PutCall(*record);
  if (!stored.ok()) return ToGrpcStatus(stored.status());
  if (!request->incident_id().empty()) {
    absl::Status linked = store_.LinkIncident(request->incident_id(), "", "", stored->call_id());
    if (!linked.ok()) return ToGrpcStatus(linked);
  }
  *response = *std::move(stored);
  return grpc::Status::OK;
}

grpc::Status RemediatorService::ListCalls(grpc::ServerContext*,
                                          const telephony::v1::ListCallsRequest* request,
                                          telephony::v1::ListCallsResponse* response) {
  if (grpc::Status s = CheckPageSize(request->page_size()); !s.ok()) return s;
  RETURN_IF_INVALID(CheckId("incident_id", request->incident_id()));
  RETURN_IF_INVALID(CheckLength("number", request->number(), kMaxNameBytes));
  RETURN_IF_INVALID(CheckLength("page_token", request->page_token(), kMaxIdBytes));
  if (phone_ != nullptr) {
    absl::StatusOr<telephony::v1::ListCallsResponse> calls = phone_->ListCalls(*request);
    if (!calls.ok()) return ToGrpcStatus(calls.status());
    *response = *std::move(calls);
    return grpc::Status::OK;
  }
  CallFilter filter;
  filter.incident_id = request->incident_id();
  filter.number = request->number();
  if (request->has_since()) filter.since = FromProtoTime(request->since());
  if (request->has_until()) filter.until = FromProtoTime(request->until());
  filter.page_size = request->page_size();
  filter.page_token = request->page_token();
  absl::StatusOr<CallPage> page = store_.ListCalls(filter);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (auto& call : page->calls) *response->add_calls() = std::move(call);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

}  // namespace remediator
