// CallLog: where every placed call is recorded (design.md §5) and read back for ListCalls,
// GetCallLogCsv and idempotent PlaceCall retries. Implementations are thread-safe, and safe
// across processes sharing the same log.
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_CALL_LOG_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_CALL_LOG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "telephony/v1/telephony.pb.h"

namespace remediator::telephony {

using CallRecord = ::telephony::v1::CallRecord;

struct CallFilter {
  std::string incident_id;                    // empty: any
  std::string number;                         // empty: any
  absl::Time since = absl::InfinitePast();    // call_time >= since
  absl::Time until = absl::InfiniteFuture();  // call_time < until
};

class CallLog {
 public:
  virtual ~CallLog() = default;
  // Appends one record durably: when this returns OK the record survives a crash.
  virtual absl::Status Append(const CallRecord& record) = 0;
  // Every record matching `filter`, newest first (ties: later in the log first).
  virtual absl::StatusOr<std::vector<CallRecord>> List(const CallFilter& filter) = 0;
  // The first record carrying `idempotency_key` (non-empty), if any.
  virtual absl::StatusOr<std::optional<CallRecord>> FindByIdempotencyKey(
      const std::string& idempotency_key) = 0;
  // The log in its stored CSV form (header only when empty).
  virtual absl::StatusOr<std::string> ReadCsv() = 0;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_CALL_LOG_H_
