// Phone is what the Remediator needs from the Telephony service: place a call and read the call
// log. The real implementation is TelephonyGrpcPhone (adapters/).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_PHONE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_PHONE_H_

#include "absl/status/statusor.h"
#include "telephony/v1/telephony.pb.h"

namespace remediator {

// Implementations are thread-safe.
class Phone {
 public:
  virtual ~Phone() = default;
  // Places a call and returns its record once the call is over (answered or not). Errors are
  // the Telephony service's, e.g. InvalidArgument for a bad number, Unavailable when it is down.
  virtual absl::StatusOr<telephony::v1::CallRecord> PlaceCall(
      const telephony::v1::PlaceCallRequest& request) = 0;
  virtual absl::StatusOr<telephony::v1::ListCallsResponse> ListCalls(
      const telephony::v1::ListCallsRequest& request) = 0;
  // Makes every PlaceCall in progress return Cancelled now (for shutdown: the call is asked for
  // again with the same idempotency key at the next start). Later calls are not affected.
  virtual void CancelAll() {}
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_PHONE_H_
