// The one place where absl::Status meets grpc::Status. The numeric codes match by design
// (absl/status/status.h documents them as the gRPC codes), so the conversion keeps code and
// message and nothing else.
#ifndef REMEDIATOR_SERVER_COMMON_GRPC_STATUS_H_
#define REMEDIATOR_SERVER_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace remediator {

// Converts an absl::Status to the grpc::Status a handler returns.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Converts the status of a finished client call back into an absl::Status.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_GRPC_STATUS_H_
