// The commands of remediatorctl. Each takes the connection context and its own arguments (after
// the command name), prints to ctx.out / ctx.err, and returns the process exit code:
// 0 success, 1 the server or the network failed, 2 bad usage or bad input.
// Commands talk to the servers through generated stub interfaces, so tests can run them against
// in-process servers.
#ifndef REMEDIATOR_CLIENTS_CLI_COMMANDS_H_
#define REMEDIATOR_CLIENTS_CLI_COMMANDS_H_

#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "clients/cli/output.h"
#include "remediator/v1/remediator.grpc.pb.h"
#include "telephony/v1/telephony.grpc.pb.h"

namespace remediator::cli {

struct CliContext {
  std::ostream* out;
  std::ostream* err;
  std::istream* in;  // for `report -f -`
  OutputFormat format = OutputFormat::kTable;
  // True when -o was given (report prints JSON lines unless -o table was asked).
  bool format_given = false;
  // Null when the corresponding server was not given; commands that need it say so.
  std::unique_ptr<v1::Remediator::StubInterface> remediator;
  std::unique_ptr<telephony::v1::Telephony::StubInterface> telephony;
  std::string token;
  absl::Duration timeout = absl::Seconds(30);
  // Calls take as long as the phone rings and the person talks.
  absl::Duration call_timeout = absl::Minutes(5);
};

// Runs `command` with `args`. Unknown commands print the command list and return 2.
int RunCommand(CliContext& ctx, const std::string& command, const std::vector<std::string>& args);

// The command list shown by --help.
std::string CommandHelp();

}  // namespace remediator::cli

#endif  // REMEDIATOR_CLIENTS_CLI_COMMANDS_H_
