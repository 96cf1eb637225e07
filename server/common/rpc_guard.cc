#include "server/common/rpc_guard.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/empty.pb.h"
#include "server/common/auth.h"
#include "server/common/logging.h"
#include "server/common/status_macros.h"

namespace remediator {
namespace {

// Compares without an early exit so that the time taken does not tell how much of a guess matched.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

const char* AccessName(Access access) {
  switch (access) {
    case Access::kReport:
      return "report";
    case Access::kRead:
      return "read";
    case Access::kOperate:
      return "operate";
  }
  return "operate";
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kReporter:
      return "reporter";
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
  }
  return "operator";
}

absl::StatusOr<Role> ParseRole(std::string_view text) {
  for (Role role : {Role::kReporter, Role::kViewer, Role::kOperator}) {
    if (text == std::string_view(RoleName(role))) return role;
  }
  return absl::InvalidArgumentError(absl::StrCat("role \"", std::string(text.substr(0, 64)),
                                                 "\" is not reporter, viewer or operator"));
}

bool RoleAllows(Role role, Access access) {
  switch (role) {
    case Role::kReporter:
      return access == Access::kReport;
    case Role::kViewer:
      return access == Access::kRead;
    case Role::kOperator:
      return true;
  }
  return false;
}

absl::StatusOr<RpcGuard> RpcGuard::Create(std::vector<Credential> credentials) {
  std::set<std::string> seen;
  for (const Credential& c : credentials) {
    if (c.token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("the ", RoleName(c.role), " token is empty"));
    }
    if (!seen.insert(c.token).second) {
      return absl::InvalidArgumentError(
          "the same token is given for two roles: give each role its own token");
    }
  }
  RpcGuard guard;
  guard.credentials_ = std::move(credentials);
  return guard;
}

grpc::Status RpcGuard::Authorize(const grpc::ServerContext& context, std::string_view method,
                                 Access access) const {
  if (credentials_.empty()) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return AuthorizeHeader(nullptr, method, access, context.peer());
  std::string value(it->second.data(), it->second.size());
  return AuthorizeHeader(&value, method, access, context.peer());
}

grpc::Status RpcGuard::AuthorizeHeader(const std::string* authorization, std::string_view method,
                                       Access access, const std::string& peer) const {
  if (credentials_.empty()) return grpc::Status::OK;
  auto refuse = [&](grpc::StatusCode code, const std::string& reason) {
    (code == grpc::StatusCode::UNAUTHENTICATED ? authentication_failures_ : permission_denials_)
        .fetch_add(1, std::memory_order_relaxed);
    LogWarning("refused a call",
               {{"method", std::string(method)}, {"peer", peer}, {"reason", reason}});
    return grpc::Status(code, reason);
  };
  if (authorization == nullptr) {
    return refuse(grpc::StatusCode::UNAUTHENTICATED,
                  "missing \"authorization: Bearer <token>\" metadata");
  }
  std::string_view value(*authorization);
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size() ||
      !absl::EqualsIgnoreCase(std::string(value.substr(0, kScheme.size())), std::string(kScheme))) {
    return refuse(grpc::StatusCode::UNAUTHENTICATED,
                  "authorization metadata must use the Bearer scheme");
  }
  std::string presented(absl::StripAsciiWhitespace(std::string(value.substr(kScheme.size()))));
  const Credential* match = nullptr;
  // Every credential is compared, so the time does not tell which role a guess came close to.
  for (const Credential& c : credentials_) {
    if (ConstantTimeEquals(presented, c.token)) match = &c;
  }
  if (match == nullptr) return refuse(grpc::StatusCode::UNAUTHENTICATED, "invalid bearer token");
  if (!RoleAllows(match->role, access)) {
    return refuse(grpc::StatusCode::PERMISSION_DENIED,
                  absl::StrCat("the ", RoleName(match->role), " role may not call ",
                               std::string(method), " (it needs ", AccessName(access), " access)"));
  }
  return grpc::Status::OK;
}

absl::StatusOr<RpcGuard> RpcGuardFromTokenFiles(const std::string& operator_file,
                                                const std::string& viewer_file,
                                                const std::string& reporter_file) {
  std::vector<RpcGuard::Credential> credentials;
  for (auto [file, role] :
       {std::pair{&operator_file, Role::kOperator}, std::pair{&viewer_file, Role::kViewer},
        std::pair{&reporter_file, Role::kReporter}}) {
    if (file->empty()) continue;
    ASSIGN_OR_RETURN(std::string token, ReadTokenFile(*file));
    credentials.push_back({std::move(token), role});
  }
  return RpcGuard::Create(std::move(credentials));
}

std::string FlattenByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string wire;
  if (!buffer.Dump(&slices).ok()) return wire;
  for (const grpc::Slice& slice : slices) {
    wire.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return wire;
}

// Parsed as a message without fields, every field is unknown and no string is checked for
// UTF-8: if that works, the wire format is sound and a string field must hold invalid UTF-8
// (proto3 refuses it).
grpc::Status UnparsableRequest(std::string_view type_name, const std::string& wire) {
  google::protobuf::Empty shape;
  if (shape.ParseFromString(wire)) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("the request is not a valid ", std::string(type_name),
                     ": a string field is not valid UTF-8 (string fields must be UTF-8)"));
  }
  return grpc::Status(
      grpc::StatusCode::INVALID_ARGUMENT,
      absl::StrCat("the request is not a valid ", std::string(type_name), ": malformed protobuf"));
}

grpc::Status CapErrorMessage(grpc::Status status) {
  if (status.error_message().size() <= kMaxErrorMessageBytes) return status;
  std::string message = status.error_message().substr(0, kMaxErrorMessageBytes);
  // Do not end inside a UTF-8 sequence.
  while (!message.empty() && (static_cast<unsigned char>(message.back()) & 0xC0) == 0x80) {
    message.pop_back();
  }
  if (!message.empty() && static_cast<unsigned char>(message.back()) >= 0xC0) message.pop_back();
  absl::StrAppend(&message, "... [", status.error_message().size() - message.size(),
                  " more bytes]");
  return grpc::Status(status.error_code(), message, status.error_details());
}

}  // namespace remediator
