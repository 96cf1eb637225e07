// remediator: the Remediator server. See --help and design.md §7.
#include <iostream>

#include "server/common/clock.h"
#include "server/common/flags.h"
#include "server/common/grpc_server.h"
#include "server/common/logging.h"
#include "server/remediator/config.h"
#include "server/remediator/remediator_server.h"

int main(int argc, char** argv) {
  using namespace remediator;
  BlockTerminationSignals();
  bool help = false;
  std::string usage;
  absl::StatusOr<RemediatorConfig> config = LoadRemediatorConfig(argc, argv, &help, &usage);
  if (!config.ok()) {
    std::cerr << "remediator: " << config.status().message() << "\n";
    return kExitUsage;
  }
  if (help) {
    std::cout << usage;
    return kExitOk;
  }
  LogFormat format = LogFormat::kText;
  ParseLogFormat(config->log_format, &format);
  ConfigureLogging(format);

  absl::StatusOr<std::unique_ptr<RemediatorServer>> server =
      RemediatorServer::Start(*config, RealClock::Get());
  if (!server.ok()) {
    LogError("cannot start", {{"error", std::string(server.status().message())}});
    const bool bad_input = server.status().code() == absl::StatusCode::kInvalidArgument ||
                           server.status().code() == absl::StatusCode::kNotFound ||
                           server.status().code() == absl::StatusCode::kFailedPrecondition;
    return bad_input ? kExitUsage : kExitFailure;
  }
  std::cout << "listening on " << (*server)->address() << std::endl;
  // Port 0 picks free ports: say which, one line each, after the gRPC one.
  if (!(*server)->metrics_address().empty()) {
    std::cout << "metrics on " << (*server)->metrics_address() << std::endl;
  }
  if (!(*server)->console_address().empty()) {
    std::cout << "console on http://" << (*server)->console_address() << "/" << std::endl;
  }
  LogInfo("remediator serving", {{"address", (*server)->address()},
                                 {"state_dir", config->state_dir},
                                 {"mode", config->mode},
                                 {"auth", (*server)->rpc_guard().enabled() ? "bearer" : "off"}});
  int signal_number = WaitForTerminationSignal();
  LogInfo("shutting down", {{"signal", std::to_string(signal_number)}});
  (*server)->Shutdown(absl::Seconds(5));
  LogInfo("stopped");
  return kExitOk;
}
