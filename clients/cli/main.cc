// remediatorctl: the command-line client for the Remediator and Telephony servers.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdlib>
#include <iostream>

#include "clients/cli/commands.h"
#include "server/common/auth.h"
#include "server/common/file_util.h"
#include "server/common/flags.h"
#include "server/common/tls_client.h"

int main(int argc, char** argv) {
  using namespace remediator;
  const char* env_server = std::getenv("REMEDIATOR_SERVER");
  std::string server = env_server != nullptr ? env_server : "127.0.0.1:50051";
  std::string telephony, token, token_file, output = "table";
  TlsClientOptions tls;
  int timeout_seconds = 30;
  FlagSet flags("remediatorctl [flags] COMMAND [command flags]",
                "Talks to the Remediator server (and the Telephony server) over gRPC.");
  flags.String("server", &server, "Remediator server HOST:PORT (environment: REMEDIATOR_SERVER)");
  flags.String("telephony", &telephony,
               "Telephony server HOST:PORT; `call` and `calls` then go straight to it");
  flags.String("token-file", &token_file, "file holding the bearer token to send");
  flags.String("token", &token, "bearer token to send (visible in `ps`; prefer --token-file)");
  flags.String("output", &output, "table (for people) or json (one JSON object per line)", 'o');
  flags.Bool("tls", &tls.tls, "connect with TLS, trusting the system's CAs (see --tls-ca)");
  flags.String("tls-ca", &tls.ca_file, "PEM CA bundle: connect with TLS, trusting this CA");
  flags.String("tls-cert", &tls.cert_file,
               "PEM client certificate, for servers started with --tls-client-ca");
  flags.String("tls-key", &tls.key_file, "PEM private key of --tls-cert");
  flags.String("tls-server-name", &tls.server_name,
               "name the server's certificate carries, when not the host of the address");
  flags.Int("timeout", &timeout_seconds, "deadline in seconds for quick calls");
  flags.set_stop_at_first_positional(true);
  flags.set_epilogue(cli::CommandHelp() +
                     "\nExit codes: 0 success, 1 server or network failure, 2 bad usage or "
                     "bad input.");
  absl::Status parsed = flags.Parse(argc, argv);
  if (!parsed.ok()) {
    std::cerr << "remediatorctl: " << parsed.message() << "\n";
    return kExitUsage;
  }
  if (flags.help_requested() || flags.positional().empty()) {
    (flags.help_requested() ? std::cout : std::cerr) << flags.Usage();
    return flags.help_requested() ? kExitOk : kExitUsage;
  }
  cli::CliContext ctx;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  ctx.in = &std::cin;
  ctx.format_given = flags.IsSet("output");
  if (output == "json") {
    ctx.format = cli::OutputFormat::kJson;
  } else if (output != "table") {
    std::cerr << "remediatorctl: -o wants table or json, got \"" << output << "\"\n";
    return kExitUsage;
  }
  if (!token_file.empty()) {
    absl::StatusOr<std::string> read = ReadTokenFile(token_file);
    if (!read.ok()) {
      std::cerr << "remediatorctl: " << read.status().message() << "\n";
      return kExitUsage;
    }
    token = *read;
  }
  ctx.token = token;
  ctx.timeout = absl::Seconds(timeout_seconds);
  for (const std::string* address : {&server, &telephony}) {
    if (address->empty()) continue;
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(*address, tls);
    if (!channel.ok()) {
      std::cerr << "remediatorctl: " << channel.status().message() << "\n";
      return kExitUsage;
    }
    if (address == &server) ctx.remediator = v1::Remediator::NewStub(*channel);
    if (address == &telephony) ctx.telephony = telephony::v1::Telephony::NewStub(*channel);
  }
  std::vector<std::string> args(flags.positional().begin() + 1, flags.positional().end());
  return cli::RunCommand(ctx, flags.positional()[0], args);
}
