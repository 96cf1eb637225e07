// Bearer-token check with a single token. The services use RpcGuard (rpc_guard.h: tokens with
// roles, in front of every RPC); ReadTokenFile is shared by both. The standard health and
// reflection services stay open (probes and grpcurl-style discovery need them, and they reveal
// nothing secret).
// Thread-safe (immutable after construction).
#ifndef REMEDIATOR_SERVER_COMMON_AUTH_H_
#define REMEDIATOR_SERVER_COMMON_AUTH_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/statusor.h"

namespace remediator {

class TokenAuth {
 public:
  // An empty `token` disables the check (every call is allowed).
  explicit TokenAuth(std::string token = "") : token_(std::move(token)) {}

  // OK when authentication is off, or when the call carries "authorization: Bearer <token>"
  // with the configured token. Otherwise UNAUTHENTICATED with a message that says what was wrong
  // (missing header, wrong scheme, wrong token) but never echoes the token.
  grpc::Status Check(const grpc::ServerContext& context) const;

  bool enabled() const { return !token_.empty(); }

 private:
  std::string token_;
};

// Reads a token file: the first line, trimmed. InvalidArgument if the file is empty.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_AUTH_H_
