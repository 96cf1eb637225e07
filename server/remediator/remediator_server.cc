#include "server/remediator/remediator_server.h"

#include "absl/strings/str_cat.h"
#include "server/common/file_util.h"
#include "server/common/status_macros.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "server/remediator/adapters/telephony_grpc_phone.h"
#include "server/remediator/core/detector_classifier.h"

namespace remediator {

absl::StatusOr<std::unique_ptr<RemediatorServer>> RemediatorServer::Start(
    const RemediatorConfig& config, Clock& clock) {
  auto server = std::unique_ptr<RemediatorServer>(new RemediatorServer());
  if (!config.auth_token_file.empty()) {
    ASSIGN_OR_RETURN(std::string token, ReadTokenFile(config.auth_token_file));
    server->auth_ = TokenAuth(std::move(token));
  }
  RETURN_IF_ERROR(MakeDirectories(config.state_dir));
  ASSIGN_OR_RETURN(server->store_,
                   SqliteIncidentStore::Open(absl::StrCat(config.state_dir, "/remediator.db")));
  ASSIGN_OR_RETURN(server->classifier_, MakeDetectorClassifier());
  server->ingestor_ = std::make_unique<Ingestor>(*server->classifier_, *server->store_, clock);
  if (!config.telephony.empty()) {
    std::string token;
    if (!config.telephony_token_file.empty()) {
      ASSIGN_OR_RETURN(token, ReadTokenFile(config.telephony_token_file));
    }
    server->phone_ = TelephonyGrpcPhone::Connect(config.telephony, std::move(token));
  }
  server->service_ = std::make_unique<RemediatorService>(
      server->auth_, *server->ingestor_, *server->store_, server->phone_.get(), clock);
  ASSIGN_OR_RETURN(server->grpc_server_, GrpcServer::Start(config.server, {server->service_.get()},
                                                           {"remediator.v1.Remediator"}));
  return server;
}

RemediatorServer::~RemediatorServer() { Shutdown(absl::Seconds(1)); }

void RemediatorServer::Shutdown(absl::Duration grace) {
  if (grpc_server_ != nullptr) grpc_server_->Shutdown(grace);
}

}  // namespace remediator
