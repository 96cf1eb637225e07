#include "server/remediator/adapters/telephony_grpc_phone.h"

#include <grpcpp/create_channel.h>

#include "absl/strings/str_cat.h"
#include "server/common/grpc_status.h"

namespace remediator {
namespace {

void Prepare(grpc::ClientContext& context, const std::string& token, absl::Duration deadline) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  if (!token.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
}

// Says which server failed, so that an operator knows where to look.
absl::Status FromTelephony(const grpc::Status& status) {
  absl::Status s = FromGrpcStatus(status);
  return absl::Status(s.code(), absl::StrCat("telephony server: ", s.message()));
}

}  // namespace

TelephonyGrpcPhone::TelephonyGrpcPhone(
    std::unique_ptr<telephony::v1::Telephony::StubInterface> stub, std::string token,
    absl::Duration call_deadline, absl::Duration list_deadline)
    : stub_(std::move(stub)),
      token_(std::move(token)),
      call_deadline_(call_deadline),
      list_deadline_(list_deadline) {}

std::unique_ptr<TelephonyGrpcPhone> TelephonyGrpcPhone::Connect(const std::string& address,
                                                                std::string token) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  return std::make_unique<TelephonyGrpcPhone>(telephony::v1::Telephony::NewStub(channel),
                                              std::move(token));
}

absl::StatusOr<telephony::v1::CallRecord> TelephonyGrpcPhone::PlaceCall(
    const telephony::v1::PlaceCallRequest& request) {
  grpc::ClientContext context;
  Prepare(context, token_, call_deadline_);
  {
    absl::MutexLock lock(&mu_);
    in_progress_.insert(&context);
  }
  telephony::v1::CallRecord record;
  grpc::Status status = stub_->PlaceCall(&context, request, &record);
  {
    absl::MutexLock lock(&mu_);
    in_progress_.erase(&context);
  }
  if (!status.ok()) return FromTelephony(status);
  return record;
}

void TelephonyGrpcPhone::CancelAll() {
  absl::MutexLock lock(&mu_);
  for (grpc::ClientContext* context : in_progress_) context->TryCancel();
}

absl::StatusOr<telephony::v1::ListCallsResponse> TelephonyGrpcPhone::ListCalls(
    const telephony::v1::ListCallsRequest& request) {
  grpc::ClientContext context;
  Prepare(context, token_, list_deadline_);
  telephony::v1::ListCallsResponse response;
  grpc::Status status = stub_->ListCalls(&context, request, &response);
  if (!status.ok()) return FromTelephony(status);
  return response;
}

}  // namespace remediator
