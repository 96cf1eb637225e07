#include "server/common/tls_client.h"

#include <grpcpp/create_channel.h>

#include "server/common/file_util.h"
#include "server/common/status_macros.h"

namespace remediator {

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsClientOptions& options) {
  if (!options.enabled()) return grpc::InsecureChannelCredentials();
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "a TLS client certificate needs both the certificate file and its key file");
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.ca_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile(options.ca_file));
  }
  if (!options.cert_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadFile(options.cert_file));
    ASSIGN_OR_RETURN(ssl.pem_private_key, ReadFile(options.key_file));
  }
  return grpc::SslCredentials(ssl);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& address,
                                                           const TlsClientOptions& options,
                                                           grpc::ChannelArguments args) {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                   MakeChannelCredentials(options));
  if (options.enabled() && !options.server_name.empty()) {
    args.SetSslTargetNameOverride(options.server_name);
  }
  return grpc::CreateCustomChannel(address, credentials, args);
}

}  // namespace remediator
