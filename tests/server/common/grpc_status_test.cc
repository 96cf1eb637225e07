#include "server/common/grpc_status.h"

#include <gtest/gtest.h>

namespace remediator {
namespace {

TEST(GrpcStatusTest, OkMapsToOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(GrpcStatusTest, CodesAndMessagesSurviveBothWays) {
  const std::vector<absl::StatusCode> codes = {
      absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
      absl::StatusCode::kUnimplemented,   absl::StatusCode::kUnauthenticated,
      absl::StatusCode::kUnavailable,     absl::StatusCode::kFailedPrecondition,
      absl::StatusCode::kAlreadyExists,   absl::StatusCode::kDeadlineExceeded};
  for (absl::StatusCode code : codes) {
    absl::Status original(code, "what went wrong");
    grpc::Status converted = ToGrpcStatus(original);
    EXPECT_EQ(static_cast<int>(converted.error_code()), static_cast<int>(code));
    EXPECT_EQ(converted.error_message(), "what went wrong");
    EXPECT_EQ(FromGrpcStatus(converted), original);
  }
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError("x")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcStatus(absl::UnimplementedError("x")).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace remediator
