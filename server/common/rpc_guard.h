// RpcGuard: the one place where a call of our services is let in or turned away, before its
// handler runs (issue 11 item 3, issue 16 items 3 and 7). It
//   - authenticates the bearer token ("authorization: Bearer <token>") and maps it to a role;
//   - authorizes the role for the method's access class:
//       reporter: kReport only (ReportError, ReportErrorStream)
//       viewer:   kRead only (Get*, List*, the call log)
//       operator: everything;
//   - logs every refusal (method, peer and reason; never the token) and counts it;
//   - turns a request that does not parse into INVALID_ARGUMENT that says why (a string field
//     that is not UTF-8, or malformed protobuf) instead of gRPC's empty INTERNAL;
//   - caps the length of error messages (an echoed 20 KB id would not fit in the metadata).
// With no credential configured, authentication is off and every call is allowed.
//
// A service installs it on each of its unary methods in its constructor:
//   MarkMethodStreamed(2, GuardUnary(this, &guard, kGetIncident, Access::kRead,
//                                    &RemediatorService::GetIncident));
// (gRPC's "streamed unary" keeps the wire format; the handler reads the request itself, so the
// guard runs before anything is parsed or done.) Streaming handlers call Authorize() first.
// Thread-safe: immutable after construction except the counters.
#ifndef REMEDIATOR_SERVER_COMMON_RPC_GUARD_H_
#define REMEDIATOR_SERVER_COMMON_RPC_GUARD_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/method_handler.h>
#include <grpcpp/support/status.h>
#include <grpcpp/support/sync_stream.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace remediator {

// What a method does, for authorization.
enum class Access { kReport, kRead, kOperate };
enum class Role { kReporter, kViewer, kOperator };

const char* RoleName(Role role);
// "reporter", "viewer", "operator"; InvalidArgument otherwise.
absl::StatusOr<Role> ParseRole(std::string_view text);
bool RoleAllows(Role role, Access access);

// Longest error message a guarded call returns; longer ones are cut and marked.
inline constexpr size_t kMaxErrorMessageBytes = 1024;

class RpcGuard {
 public:
  struct Credential {
    std::string token;
    Role role = Role::kOperator;
  };

  // Authentication off.
  RpcGuard() = default;
  // InvalidArgument when a token is empty or given twice.
  static absl::StatusOr<RpcGuard> Create(std::vector<Credential> credentials);

  RpcGuard(RpcGuard&& other) noexcept
      : credentials_(std::move(other.credentials_)), observer_(std::move(other.observer_)) {}
  RpcGuard& operator=(RpcGuard&& other) noexcept {
    credentials_ = std::move(other.credentials_);
    observer_ = std::move(other.observer_);
    return *this;
  }

  bool enabled() const { return !credentials_.empty(); }

  // OK when authentication is off or the call's token has a role allowed `access`.
  // UNAUTHENTICATED (missing header, wrong scheme, unknown token) or PERMISSION_DENIED (naming
  // the role and the method); both logged and counted. `method` is the full name,
  // "/package.Service/Method".
  grpc::Status Authorize(const grpc::ServerContext& context, std::string_view method,
                         Access access) const;
  // The same check for other transports (the web console): `authorization` is the header's
  // value ("Bearer <token>"), or nullptr when there is none; `peer` is for the log.
  grpc::Status AuthorizeHeader(const std::string* authorization, std::string_view method,
                               Access access, const std::string& peer) const;

  // Called with the full method name and the status code of every guarded call when it ends
  // (metrics). Set before serving; null by default.
  using Observer = std::function<void(std::string_view method, grpc::StatusCode code)>;
  void SetObserver(Observer observer) { observer_ = std::move(observer); }
  // `status`, after telling the observer.
  grpc::Status Finished(std::string_view method, grpc::Status status) const {
    if (observer_) observer_(method, status.error_code());
    return status;
  }

  int64_t authentication_failures() const { return authentication_failures_.load(); }
  int64_t permission_denials() const { return permission_denials_.load(); }

 private:
  std::vector<Credential> credentials_;
  Observer observer_;
  mutable std::atomic<int64_t> authentication_failures_{0};
  mutable std::atomic<int64_t> permission_denials_{0};
};

// A guard from token files (see ReadTokenFile), each optional: the operator's, the viewer's and
// the reporter's. All empty: authentication off. A viewer or reporter token without an operator
// token is allowed (nobody may operate over the API then).
absl::StatusOr<RpcGuard> RpcGuardFromTokenFiles(const std::string& operator_file,
                                                const std::string& viewer_file,
                                                const std::string& reporter_file);

// INVALID_ARGUMENT for a request of type `type_name` whose bytes `wire` did not parse.
grpc::Status UnparsableRequest(std::string_view type_name, const std::string& wire);
// The bytes of a received message.
std::string FlattenByteBuffer(const grpc::ByteBuffer& buffer);
// `status` with its message cut to kMaxErrorMessageBytes.
grpc::Status CapErrorMessage(grpc::Status status);

// The handler of one guarded unary method: authorize, read and parse the request, call
// (impl->*method), cap the error message, send the response.
template <class Impl, class Request, class Response>
grpc::internal::MethodHandler* GuardUnary(Impl* impl, const RpcGuard* guard, std::string name,
                                          Access access,
                                          grpc::Status (Impl::*method)(grpc::ServerContext*,
                                                                       const Request*, Response*)) {
  return new grpc::internal::StreamedUnaryHandler<grpc::ByteBuffer, Response>(
      [impl, guard, name = std::move(name), access, method](
          grpc::ServerContext* context,
          grpc::ServerUnaryStreamer<grpc::ByteBuffer, Response>* stream) -> grpc::Status {
        if (grpc::Status s = guard->Authorize(*context, name, access); !s.ok()) {
          return guard->Finished(name, std::move(s));
        }
        grpc::ByteBuffer bytes;
        if (!stream->Read(&bytes)) {
          return guard->Finished(
              name, grpc::Status(grpc::StatusCode::CANCELLED, "the request never arrived"));
        }
        std::string wire = FlattenByteBuffer(bytes);
        Request request;
        if (!request.ParseFromString(wire)) {
          return guard->Finished(name, UnparsableRequest(Request::descriptor()->full_name(), wire));
        }
        Response response;
        grpc::Status status = (impl->*method)(context, &request, &response);
        if (!status.ok()) return guard->Finished(name, CapErrorMessage(std::move(status)));
        stream->Write(response);
        return guard->Finished(name, grpc::Status::OK);
      });
}

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_RPC_GUARD_H_
