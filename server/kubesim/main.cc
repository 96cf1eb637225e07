// kubesim: a Kubernetes API simulator for kubectl and the Remediator's tests and demo.
#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/common/flags.h"
#include "server/common/grpc_server.h"
#include "server/common/logging.h"
#include "server/kubesim/kubesim.h"

int main(int argc, char** argv) {
  using namespace remediator;
  BlockTerminationSignals();
  std::string world, listen = "127.0.0.1:0", kubeconfig_out, tls_cert, tls_key, client_ca, tls_ca,
                     kc_cert, kc_key, token, ns = "default", log_format = "text";
  std::vector<std::string> manifests;
  double time_scale = 1.0;
  bool manual_clock = false, watch_expired_http = false;
  std::string start_offset;
  FlagSet flags("kubesim",
                "A Kubernetes API server simulator that the real kubectl accepts. A world file "
                "says which images exist and how their containers behave; controllers and a "
                "simulated kubelet make pods run, crash, get OOM-killed or fail to pull, on a "
                "simulated clock.");
  flags.String("world", &world,
               "world file (YAML): nodes, images and their behaviour, secrets, configmaps, "
               "manifests (see server/kubesim/world.h); empty = one node, no images");
  flags.String("listen", &listen, "HOST:PORT to listen on; port 0 picks a free port");
  std::string container_logs;
  flags.String("container-logs", &container_logs,
               "also write container logs as CRI files in this directory, named like "
               "/var/log/containers/<pod>_<ns>_<container>-<id>.log (for a log-shipper)");
  flags.String("kubeconfig-out", &kubeconfig_out,
               "write a kubeconfig for this server to this path (kubectl --kubeconfig)");
  flags.String("namespace", &ns, "default namespace written into the kubeconfig context");
  flags.Repeated("manifests", &manifests,
                 "directory of *.yaml/*.yml/*.json manifests (multi-document) applied at start; "
                 "may be repeated");
  flags.Double("time-scale", &time_scale, "simulated seconds per real second (e.g. 60)");
  flags.Bool("manual-clock", &manual_clock,
             "freeze the simulated clock; move it with POST /kubesim/v1/advance?seconds=N");
  flags.String("start-offset", &start_offset,
               "start the simulated clock this far from now, e.g. -1h (with --time-scale > 1, "
               "client-side ages such as `kubectl describe` events stay valid longer)");
  flags.String("tls-cert", &tls_cert, "PEM server certificate; with --tls-key serves HTTPS");
  flags.String("tls-key", &tls_key, "PEM server private key");
  flags.String("client-ca", &client_ca,
               "PEM CA bundle; when set, clients must present a certificate signed by it");
  flags.String("tls-ca", &tls_ca,
               "PEM CA written into the kubeconfig as certificate-authority-data (default: the "
               "server certificate itself, right for a self-signed one)");
  flags.String("kubeconfig-client-cert", &kc_cert,
               "PEM client certificate written into the kubeconfig (for --client-ca setups)");
  flags.String("kubeconfig-client-key", &kc_key, "PEM client key written into the kubeconfig");
  flags.String("token", &token,
               "require 'Authorization: Bearer TOKEN' on every request (also written into the "
               "kubeconfig); never logged");
  flags.Bool("watch-expired-http", &watch_expired_http,
             "answer watches from a too-old resourceVersion with HTTP 410 instead of an in-stream "
             "ERROR event");
  flags.String("log-format", &log_format, "text or json");
  flags.set_epilogue(
      "Test hooks (POST with an empty body, e.g. curl -d ''): POST "
      "/kubesim/v1/advance?seconds=N moves the simulated clock, POST "
      "/kubesim/v1/compact drops the watch history (watches from older resourceVersions get 410 "
      "Expired), GET /kubesim/v1/now shows the simulated time.\n"
      "On start it prints 'listening on HOST:PORT' on stdout. SIGINT/SIGTERM stop it.\n"
      "Exit codes: 0 ok, 1 failure, 2 usage.");
  if (auto st = flags.Parse(argc, argv); !st.ok()) {
    std::cerr << "kubesim: " << st.message() << "\n";
    return kExitUsage;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return kExitOk;
  }
  LogFormat format;
  if (!ParseLogFormat(log_format, &format)) {
    std::cerr << "kubesim: --log-format must be text or json\n";
    return kExitUsage;
  }
  ConfigureLogging(format);
  kubesim::KubeSimOptions options;
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &options.port) ||
      options.port < 0 || options.port > 65535) {
    std::cerr << "kubesim: --listen wants HOST:PORT, got \"" << listen << "\"\n";
    return kExitUsage;
  }
  options.listen_host = listen.substr(0, colon);
  if (options.listen_host.empty()) options.listen_host = "127.0.0.1";
  if (time_scale <= 0) {
    std::cerr << "kubesim: --time-scale must be > 0\n";
    return kExitUsage;
  }
  if (!start_offset.empty()) {
    absl::Duration offset;
    if (!absl::ParseDuration(start_offset, &offset)) {
      std::cerr << "kubesim: --start-offset wants a duration like -1h or -90m, got \""
                << start_offset << "\"\n";
      return kExitUsage;
    }
    options.start_time = absl::Now() + offset;
  }
  options.world_file = world;
  options.manifest_dirs = manifests;
  options.container_log_dir = container_logs;
  options.time_scale = time_scale;
  options.manual_clock = manual_clock;
  options.tls_cert_file = tls_cert;
  options.tls_key_file = tls_key;
  options.client_ca_file = client_ca;
  options.tls_ca_file = tls_ca;
  options.kubeconfig_client_cert_file = kc_cert;
  options.kubeconfig_client_key_file = kc_key;
  options.token = token;
  options.watch_expired_as_http_status = watch_expired_http;
  auto sim = kubesim::KubeSim::Start(options);
  if (!sim.ok()) {
    std::cerr << "kubesim: " << sim.status().message() << "\n";
    return kExitFailure;
  }
  if (!kubeconfig_out.empty()) {
    if (auto st = (*sim)->WriteKubeconfig(kubeconfig_out, ns); !st.ok()) {
      std::cerr << "kubesim: " << st.message() << "\n";
      return kExitFailure;
    }
  }
  std::cout << "listening on " << options.listen_host << ":" << (*sim)->port() << std::endl;
  LogInfo("kubesim started", {{"url", (*sim)->url()},
                              {"world", world.empty() ? "<empty>" : world},
                              {"time_scale", manual_clock ? "manual" : absl::StrCat(time_scale)}});
  int sig = WaitForTerminationSignal();
  LogInfo("kubesim stopping", {{"signal", std::to_string(sig)}});
  (*sim)->Stop();
  return kExitOk;
}
