// Helpers for integration tests that look at a gRPC server the way grpcurl does: the health
// check, the services listed by reflection, and a raw call to any method by name.
#ifndef REMEDIATOR_TESTS_TESTING_GRPC_PROBE_H_
#define REMEDIATOR_TESTS_TESTING_GRPC_PROBE_H_

#include <grpcpp/channel.h>
#include <grpcpp/generic/generic_stub.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace remediator::testing {

// grpc.health.v1.Health/Check for `service` ("" for the server as a whole). Returns the status
// name, e.g. "SERVING".
absl::StatusOr<std::string> HealthCheck(grpc::Channel& channel, const std::string& service = "");

// The service names listed by reflection (v1alpha).
absl::StatusOr<std::vector<std::string>> ListServices(grpc::Channel& channel);

// The fully qualified methods ("/pkg.Service/Method") of `service`, from the linked descriptors.
std::vector<std::string> MethodsOf(const std::string& service);

// Calls `method` ("/pkg.Service/Method") with `request_bytes` (serialized request; empty is a
// valid empty message) and optional metadata; returns the call's status. Streaming methods are
// sent one message and half-closed.
grpc::Status RawCall(grpc::Channel& channel, const std::string& method,
                     const std::string& request_bytes,
                     const std::vector<std::pair<std::string, std::string>>& metadata = {});

}  // namespace remediator::testing

#endif  // REMEDIATOR_TESTS_TESTING_GRPC_PROBE_H_
