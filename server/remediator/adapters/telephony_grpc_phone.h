// TelephonyGrpcPhone places calls through a Telephony server's gRPC API.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_TELEPHONY_GRPC_PHONE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_TELEPHONY_GRPC_PHONE_H_

#include <memory>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/remediator/core/phone.h"
#include "telephony/v1/telephony.grpc.pb.h"

namespace remediator {

// Thread-safe.
class TelephonyGrpcPhone final : public Phone {
 public:
  // `token` (may be empty) is sent as "authorization: Bearer <token>". A call may last minutes
  // (ringing, speech, the answer), hence the separate deadlines.
  TelephonyGrpcPhone(std::unique_ptr<telephony::v1::Telephony::StubInterface> stub,
                     std::string token, absl::Duration call_deadline = absl::Minutes(5),
                     absl::Duration list_deadline = absl::Seconds(30));

  // Connects to `address` (HOST:PORT) without TLS.
  static std::unique_ptr<TelephonyGrpcPhone> Connect(const std::string& address, std::string token);

  absl::StatusOr<telephony::v1::CallRecord> PlaceCall(
      const telephony::v1::PlaceCallRequest& request) override;
  absl::StatusOr<telephony::v1::ListCallsResponse> ListCalls(
      const telephony::v1::ListCallsRequest& request) override;
  void CancelAll() override;

 private:
  absl::Mutex mu_;
  std::set<grpc::ClientContext*> in_progress_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<telephony::v1::Telephony::StubInterface> stub_;
  std::string token_;
  absl::Duration call_deadline_;
  absl::Duration list_deadline_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_TELEPHONY_GRPC_PHONE_H_
