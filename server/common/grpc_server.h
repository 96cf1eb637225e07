// GrpcServer runs our gRPC services the same way in every binary and test: server reflection and
// the standard grpc.health.v1.Health service (both visible through reflection), optional TLS,
// a listening address whose port 0 picks a free port, and a bounded graceful shutdown.
//
//   ServerOptions options;
//   options.listen = "127.0.0.1:0";
//   ASSIGN_OR_RETURN(auto server, GrpcServer::Start(options, {&remediator_service}));
//   std::cout << "listening on " << server->address() << std::endl;
//   WaitForTerminationSignal();
//   server->Shutdown(absl::Seconds(5));
//
// Thread-safe.
#ifndef REMEDIATOR_SERVER_COMMON_GRPC_SERVER_H_
#define REMEDIATOR_SERVER_COMMON_GRPC_SERVER_H_

#include <grpcpp/server.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace remediator {

struct ServerOptions {
  // HOST:PORT; port 0 picks a free port (see GrpcServer::port()).
  std::string listen = "127.0.0.1:0";
  // TLS is on when both are set (PEM files). With `tls_client_ca_file`, clients must present a
  // certificate signed by that CA (mutual TLS).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Largest request a client may send; log batches can be big.
  int max_receive_message_bytes = 64 * 1024 * 1024;
};

class GrpcServer {
 public:
  // Registers `services` (borrowed; they must outlive the server), reflection and health, binds
  // and starts serving. Each name in `health_names` is reported SERVING besides "".
  // Returns Unavailable naming the address when it cannot be bound, InvalidArgument for a bad
  // TLS file.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const ServerOptions& options, const std::vector<grpc::Service*>& services,
      const std::vector<std::string>& health_names = {});

  ~GrpcServer();

  int port() const { return port_; }
  // "HOST:PORT" with the port actually bound.
  const std::string& address() const { return address_; }
  grpc::Server* server() { return server_.get(); }

  // Marks every service NOT_SERVING, then stops accepting calls and waits up to `grace` for
  // calls in flight before cancelling them. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  GrpcServer(std::unique_ptr<grpc::Server> server, int port, std::string address);
  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::string address_;
  bool shut_down_ = false;
};

// Blocks SIGINT and SIGTERM in the calling thread and in every thread it starts afterwards.
// Call first thing in main(), before any thread exists, then WaitForTerminationSignal().
void BlockTerminationSignals();

// Waits for SIGINT or SIGTERM (blocked by BlockTerminationSignals) and returns its number.
int WaitForTerminationSignal();

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_GRPC_SERVER_H_
