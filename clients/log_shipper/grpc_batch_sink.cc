#include <grpcpp/grpcpp.h>

#include "clients/log_shipper/batch_sink.h"
#include "remediator/v1/remediator.grpc.pb.h"
#include "server/common/grpc_status.h"
#include "server/common/status_macros.h"

namespace remediator::log_shipper {
namespace {

class GrpcBatchSink final : public BatchSink {
 public:
  GrpcBatchSink(std::shared_ptr<grpc::Channel> channel, std::string token)
      : token_(std::move(token)), channel_(std::move(channel)) {
    stub_ = v1::Remediator::NewStub(channel_);
  }
  ~GrpcBatchSink() override { Cancel(); }

  absl::Status Begin() override {
    Cancel();
    context_ = std::make_unique<grpc::ClientContext>();
    if (!token_.empty()) context_->AddMetadata("authorization", "Bearer " + token_);
    response_ = v1::ReportErrorStreamResponse();
    writer_ = stub_->ReportErrorStream(context_.get(), &response_);
    return absl::OkStatus();
  }

  absl::Status Send(const v1::ReportErrorRequest& batch) override {
    if (writer_ == nullptr) return absl::FailedPreconditionError("no open stream");
    if (writer_->Write(batch)) return absl::OkStatus();
    // The stream broke; Finish() tells why.
    grpc::Status status = writer_->Finish();
    writer_.reset();
    if (status.ok()) return absl::UnavailableError("stream closed by the server");
    return FromGrpcStatus(status);
  }

  absl::StatusOr<v1::ReportErrorStreamResponse> Finish() override {
    if (writer_ == nullptr) return absl::FailedPreconditionError("no open stream");
    writer_->WritesDone();
    grpc::Status status = writer_->Finish();
    writer_.reset();
    if (!status.ok()) return FromGrpcStatus(status);
    return response_;
  }

  void Cancel() override {
    if (writer_ != nullptr) {
      context_->TryCancel();
      writer_->Finish();
      writer_.reset();
    }
  }

 private:
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Remediator::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> context_;
  v1::ReportErrorStreamResponse response_;
  std::unique_ptr<grpc::ClientWriter<v1::ReportErrorRequest>> writer_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<BatchSink>> NewGrpcBatchSink(const std::string& address,
                                                            const std::string& token,
                                                            const TlsClientOptions& tls,
                                                            int max_reconnect_backoff_ms) {
  grpc::ChannelArguments args;
  // gRPC's default reconnect backoff grows to 120 s; a restarted server should see the
  // shipper again within about a second.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_reconnect_backoff_ms);
  args.SetMaxSendMessageSize(64 * 1024 * 1024);
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, MakeChannel(address, tls, args));
  return std::unique_ptr<BatchSink>(new GrpcBatchSink(std::move(channel), token));
}

}  // namespace remediator::log_shipper
