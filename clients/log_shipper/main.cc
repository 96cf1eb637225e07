// log-shipper: tails CRI container log files on a node and ships their lines to the Remediator
// (ReportErrorStream), at least once, with bounded memory. See shipper.h for the contract.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "clients/log_shipper/batch_sink.h"
#include "clients/log_shipper/shipper.h"
#include "server/common/file_util.h"
#include "server/common/flags.h"
#include "server/common/logging.h"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnSignal(int) { g_stop.store(true); }

// VmHWM of this process, in KiB (-1 when unknown): reported when it stops, so tests and
// benchmarks can check the memory bound of the shipper alone.
long PeakRssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

int Usage(const std::string& message) {
  std::cerr << "log-shipper: " << message << "\n(see log-shipper --help)\n";
  return remediator::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace remediator;
  log_shipper::ShipperOptions options;
  std::string server;
  std::string token_file;
  remediator::TlsClientOptions tls;
  std::string log_format = "text";
  std::string flush_interval = "1s";
  std::string poll_interval = "200ms";
  std::string glob_interval = "2s";
  int max_line_bytes = static_cast<int>(options.max_line_bytes);
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  options.source = absl::StrCat("log-shipper/", host);

  FlagSet flags("log-shipper",
                "Tails CRI container log files and ships their lines to the Remediator, at least "
                "once (checkpoints move only after the server acknowledged).");
  flags.String("server", &server, "Remediator address HOST:PORT (required)");
  flags.String("paths", &options.paths, "glob of the CRI log files to tail");
  flags.String("state-dir", &options.state_dir, "directory for the checkpoints (required)");
  flags.String("token-file", &token_file, "file holding the bearer token for the server");
  flags.Bool("tls", &tls.tls, "connect with TLS, trusting the system's CAs (see --tls-ca)");
  flags.String("tls-ca", &tls.ca_file, "PEM CA that signs the server's certificate (TLS)");
  flags.String("tls-cert", &tls.cert_file,
               "PEM client certificate, for servers started with --tls-client-ca");
  flags.String("tls-key", &tls.key_file, "PEM private key of --tls-cert");
  flags.String("tls-server-name", &tls.server_name,
               "name the server's certificate carries, when not the host of --server");
  flags.Int("batch-lines", &options.batch_lines, "send a batch when it holds this many lines");
  flags.Int("batch-bytes", &options.batch_bytes, "send a batch when it holds this many bytes");
  flags.String("flush-interval", &flush_interval,
               "send a batch at the latest this long after its first line (e.g. 1s, 200ms)");
  flags.Int("max-line-bytes", &max_line_bytes,
            "longer lines are cut to this size and marked \"[truncated N bytes]\"");
  flags.Int("stream-batches", &options.stream_batches,
            "batches per stream (each stream is acknowledged, then checkpointed)");
  flags.String("poll-interval", &poll_interval, "wait this long when caught up");
  flags.String("glob-interval", &glob_interval, "look for new and rotated files this often");
  flags.Bool("prefilter", &options.prefilter,
             "ship only lines that may match an error signature (the server's LineMatcher)");
  flags.Int("prefilter-context", &options.prefilter_context,
            "with --prefilter, also ship this many lines before and after each candidate");
  flags.Bool("once", &options.once, "ship what is there, wait for the acknowledgement, and exit");
  flags.String("source", &options.source, "Observation.source sent with every batch");
  flags.String("log-format", &log_format, "text or json");
  flags.set_epilogue(
      "Exit codes: 0 done (--once) or stopped by SIGTERM/SIGINT, 1 runtime failure (the server "
      "refused the token or a batch, the state dir is not writable), 2 bad usage.\n");
  if (absl::Status s = flags.Parse(argc, argv); !s.ok()) return Usage(std::string(s.message()));
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return kExitOk;
  }
  if (!flags.positional().empty()) {
    return Usage("unexpected argument \"" + flags.positional()[0] + "\"");
  }
  LogFormat format;
  if (!ParseLogFormat(log_format, &format)) {
    return Usage("--log-format must be text or json, not \"" + log_format + "\"");
  }
  ConfigureLogging(format);
  if (server.empty()) return Usage("--server HOST:PORT is required");
  if (options.state_dir.empty()) return Usage("--state-dir DIR is required");
  struct {
    const char* name;
    const std::string* text;
    absl::Duration* out;
  } durations[] = {{"flush-interval", &flush_interval, &options.flush_interval},
                   {"poll-interval", &poll_interval, &options.poll_interval},
                   {"glob-interval", &glob_interval, &options.glob_interval}};
  for (auto& d : durations) {
    if (!absl::ParseDuration(*d.text, d.out) || *d.out < absl::ZeroDuration()) {
      return Usage(absl::StrCat("--", d.name, " must be a duration like 1s or 200ms, not \"",
                                *d.text, "\""));
    }
  }
  if (max_line_bytes < 64) return Usage("--max-line-bytes must be at least 64");
  options.max_line_bytes = static_cast<size_t>(max_line_bytes);
  std::string token;
  if (!token_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(token_file);
    if (!text.ok())
      return Usage("cannot read --token-file: " + std::string(text.status().message()));
    token = std::string(absl::StripAsciiWhitespace(*text));
    if (token.empty()) return Usage("--token-file " + token_file + " is empty");
  }

  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  absl::StatusOr<std::unique_ptr<log_shipper::BatchSink>> made =
      log_shipper::NewGrpcBatchSink(server, token, tls);
  if (!made.ok()) return Usage(std::string(made.status().message()));
  std::unique_ptr<log_shipper::BatchSink> sink = *std::move(made);
  absl::StatusOr<std::unique_ptr<log_shipper::Shipper>> shipper =
      log_shipper::Shipper::Create(options, *sink, RealClock::Get());
  if (!shipper.ok()) {
    if (shipper.status().code() == absl::StatusCode::kInvalidArgument) {
      return Usage(std::string(shipper.status().message()));
    }
    LogError("cannot start", {{"error", shipper.status().ToString()}});
    return kExitFailure;
  }
  LogInfo("shipping log files", {{"paths", options.paths}, {"server", server}});
  absl::Status status = (*shipper)->Run(g_stop);
  const log_shipper::ShipperStats& stats = (*shipper)->stats();
  LogInfo("stopped", {{"lines_read", absl::StrCat(stats.lines_read.load())},
                      {"lines_acknowledged", absl::StrCat(stats.lines_acknowledged.load())},
                      {"lines_filtered", absl::StrCat(stats.lines_filtered.load())},
                      {"send_failures", absl::StrCat(stats.send_failures.load())},
                      {"peak_rss_kib", absl::StrCat(PeakRssKib())}});
  if (!status.ok()) {
    LogError("log-shipper failed", {{"error", status.ToString()}});
    return kExitFailure;
  }
  return kExitOk;
}
