// RemediatorServer assembles the remediator from its config: the store in the state dir, the
// classifier, the ingestor, the Telephony client, the gRPC service, and the server runner.
// main() and the in-process integration tests start exactly the same thing through Start().
#ifndef REMEDIATOR_SERVER_REMEDIATOR_REMEDIATOR_SERVER_H_
#define REMEDIATOR_SERVER_REMEDIATOR_REMEDIATOR_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/common/auth.h"
#include "server/common/clock.h"
#include "server/common/grpc_server.h"
#include "server/remediator/config.h"
#include "server/remediator/core/classifier.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/ingestor.h"
#include "server/remediator/core/phone.h"
#include "server/remediator/service/remediator_service.h"

namespace remediator {

class RemediatorServer {
 public:
  // Opens the store (creating the state dir), reads the token file, and starts serving.
  // Errors name the file or address that is wrong.
  static absl::StatusOr<std::unique_ptr<RemediatorServer>> Start(const RemediatorConfig& config,
                                                                 Clock& clock);
  ~RemediatorServer();

  const std::string& address() const { return grpc_server_->address(); }
  int port() const { return grpc_server_->port(); }
  IncidentStore& store() { return *store_; }
  // Graceful: stops accepting calls, lets calls in flight finish within `grace`.
  void Shutdown(absl::Duration grace);

 private:
  RemediatorServer() = default;
  TokenAuth auth_;
  std::unique_ptr<IncidentStore> store_;
  std::unique_ptr<Classifier> classifier_;
  std::unique_ptr<Ingestor> ingestor_;
  std::unique_ptr<Phone> phone_;
  std::unique_ptr<RemediatorService> service_;
  std::unique_ptr<GrpcServer> grpc_server_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_REMEDIATOR_SERVER_H_
