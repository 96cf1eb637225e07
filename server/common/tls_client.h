// TLS for our gRPC clients (remediator -> telephony, log-shipper, remediatorctl): the CA that
// signs the server's certificate, and a client certificate for servers that require one
// (--tls-client-ca on the server: mutual TLS).
#ifndef REMEDIATOR_SERVER_COMMON_TLS_CLIENT_H_
#define REMEDIATOR_SERVER_COMMON_TLS_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace remediator {

struct TlsClientOptions {
  // TLS is on when `tls` is set or any file is given. Without `ca_file`, the system's roots.
  bool tls = false;
  std::string ca_file;
  // PEM client certificate chain and its key: both or neither.
  std::string cert_file;
  std::string key_file;
  // The name the server's certificate must carry when it is not the host of the address
  // (e.g. dialing 127.0.0.1 a certificate for "telephony.internal").
  std::string server_name;

  bool enabled() const {
    return tls || !ca_file.empty() || !cert_file.empty() || !key_file.empty();
  }
};

// Insecure credentials when TLS is off. InvalidArgument when only one of cert/key is given;
// the file's error (naming it) when one cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsClientOptions& options);

// A channel to `address` with those credentials; `args` may carry other settings.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& address, const TlsClientOptions& options,
    grpc::ChannelArguments args = grpc::ChannelArguments());

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_TLS_CLIENT_H_
