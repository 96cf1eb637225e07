// BatchSink: where the shipper sends its batches, one stream at a time. The real one is
// GrpcBatchSink (ReportErrorStream); tests may use any other.
//   Begin() opens a stream; Send() writes one batch (blocking while the transport is full: this
//   is what slows the reader down); Finish() closes the stream and returns the server's
//   acknowledgement. Only a successful Finish() means every batch of the stream is stored.
//   After any error the stream is over; the next Begin() opens a new one.
#ifndef REMEDIATOR_CLIENTS_LOG_SHIPPER_BATCH_SINK_H_
#define REMEDIATOR_CLIENTS_LOG_SHIPPER_BATCH_SINK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "remediator/v1/remediator.pb.h"
#include "server/common/tls_client.h"

namespace remediator::log_shipper {

class BatchSink {
 public:
  virtual ~BatchSink() = default;
  virtual absl::Status Begin() = 0;
  virtual absl::Status Send(const v1::ReportErrorRequest& batch) = 0;
  virtual absl::StatusOr<v1::ReportErrorStreamResponse> Finish() = 0;
  // Abandons the open stream, if any.
  virtual void Cancel() = 0;
};

// ReportErrorStream to `address` (HOST:PORT), over TLS when `tls` says so, with
// "authorization: Bearer <token>" when `token` is not empty. Reconnects quickly (at most every
// `max_reconnect_backoff_ms`) once the server is back. Errors: a TLS file that cannot be read.
absl::StatusOr<std::unique_ptr<BatchSink>> NewGrpcBatchSink(const std::string& address,
                                                            const std::string& token,
                                                            const TlsClientOptions& tls = {},
                                                            int max_reconnect_backoff_ms = 1000);

}  // namespace remediator::log_shipper

#endif  // REMEDIATOR_CLIENTS_LOG_SHIPPER_BATCH_SINK_H_
