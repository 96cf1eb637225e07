// RemediatorConfig: every setting of the `remediator` binary, read from a YAML file (--config)
// and overridden by flags. Keys are the flag names with '_' for '-':
//
//   listen: 127.0.0.1:50051
//   state_dir: /var/lib/remediator
//   store: postgres://remediator@db/remediator   # default: SQLite <state_dir>/remediator.db
//   auth_token_file: /etc/remediator/token            # operator: every RPC
//   viewer_token_file: /etc/remediator/viewer-token   # reads only (Get*, List*), the web console
//   reporter_token_file: /etc/remediator/reporter-token  # ReportError* only (log-shipper)
//   metrics_listen: 127.0.0.1:9464   # Prometheus /metrics (text exposition format)
//   http_listen: 127.0.0.1:8080      # the read-only web console
//   console_audio_dir: /var/lib/telephony/audio   # the calls' WAVs (telephony keep_audio)
//   log_format: json
//   tls: {cert_file: ..., key_file: ..., client_ca_file: ...}
//   kubeconfig: /etc/remediator/app-cluster.kubeconfig
//   context: app
//   mode: fix                      # observe | suggest | fix
//   cluster_name: app                # names the cluster in incidents (default "default")
//   namespaces: [app, shop]          # watched namespaces (default: all)
//   gitops:
//     repo: file:///srv/gitops.git   # or https://..., ssh://...
//     branch: main
//     forge: local                   # local | github | gitlab | gitea | forgejo
//     api_url: https://api.github.com
//     repository: acme/gitops        # owner/repo (GitLab: group/project)
//     token_file: /etc/remediator/git-token
//     author: {name: Remediator, email: remediator@example.com}
//   verify: {window: 60s, rollout_timeout: 5m, poll_interval: 2s}
//   telephony: {address: 127.0.0.1:50052, token_file: ...,
//               tls: {ca_file: ..., cert_file: ..., key_file: ..., server_name: ...}}
//   oncall: /etc/remediator/oncall.yaml
//   namespace_modes: {staging: fix, payments: suggest}
//   pipeline_interval: 2s
//   parallel_fixes: 4                # workloads fixed and verified at once
//   guard:                           # widens the guard; no setting switches a rule off
//     extra_registries: [mirror.example.com]   # an image may move to these, path kept
//     namespaces:
//       batch: {extra_paths: ["pod.containers[*].workingDir"], max_memory: 16Gi,
//               max_cpu: "16", max_replicas: 50, max_memory_factor: 8, max_cpu_factor: 8,
//               max_empty_dir: 4Gi}
//   llm: {url: http://kubeai/openai/v1, model: qwen2.5-coder-1.5b}
//   loki:                            # Grafana Loki as a log source
//     url: http://loki.monitoring:3100
//     query: '{namespace=~"app|shop"} |~ "(?i)error|panic|fatal|exception"'
//     name: default                  # names the persisted cursor
//     tenant: ""                     # X-Scope-OrgID
//     token_file: ""
//     poll_interval: 10s
//     labels: {namespace: namespace, pod: pod, container: container}
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CONFIG_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/flags.h"
#include "server/common/grpc_server.h"
#include "server/common/tls_client.h"
#include "server/remediator/core/remediation/guard.h"

namespace remediator {

struct RemediatorConfig {
  std::string config_file;
  ServerOptions server;  // listen and TLS
  std::string state_dir = "./remediator-state";
  // The incident store URL (see adapters/postgres/incident_store_factory.h); empty: SQLite in
  // state_dir.
  std::string store;
  std::string auth_token_file;
  std::string viewer_token_file;
  std::string reporter_token_file;
  // Empty: not served.
  std::string metrics_listen;
  std::string http_listen;
  std::string console_audio_dir;
  std::string log_format = "text";
  std::string kubeconfig;
  std::string context;
  std::string mode = "fix";
  std::string cluster_name = "default";
  std::vector<std::string> namespaces;
  std::string gitops_repo;
  std::string gitops_branch = "main";
  std::string gitops_forge = "local";
  std::string gitops_api_url;
  std::string gitops_repository;
  std::string gitops_token_file;
  std::string gitops_author_name = "Remediator";
  std::string gitops_author_email = "remediator@localhost";
  absl::Duration verify_window = absl::Seconds(60);
  absl::Duration rollout_timeout = absl::Minutes(5);
  absl::Duration poll_interval = absl::Seconds(2);
  std::string telephony;
  std::string telephony_token_file;
  TlsClientOptions telephony_tls;
  std::string oncall;
  // Per-namespace overrides of `mode`, and how often the automatic pipeline runs.
  std::map<std::string, std::string> namespace_modes;
  remediation::GuardPolicy guard;
  // Workloads fixed at once by the pipeline (each one still one attempt at a time).
  int parallel_fixes = 4;
  absl::Duration pipeline_interval = absl::Seconds(2);
  // Grafana Loki: the source is on when loki_url and loki_query are set.
  std::string loki_url;
  std::string loki_query;
  std::string loki_name = "default";
  std::string loki_tenant;
  std::string loki_token_file;
  absl::Duration loki_poll_interval = absl::Seconds(10);
  std::string loki_namespace_label = "namespace";
  std::string loki_pod_label = "pod";
  std::string loki_container_label = "container";
  std::string llm_url;
  std::string llm_model;
  std::string llm_api_key_file;
};

// Declares every flag of the `remediator` binary on `flags`, bound to `config`.
void DeclareRemediatorFlags(FlagSet& flags, RemediatorConfig& config);

// Parses argv into a config: flags first, then the --config file for what flags did not set.
// InvalidArgument for bad flags, a bad file (naming file, line and key) or a bad value
// (e.g. --mode banana). Sets *help when --help was asked (and returns the usage in *usage).
absl::StatusOr<RemediatorConfig> LoadRemediatorConfig(int argc, const char* const* argv, bool* help,
                                                      std::string* usage);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CONFIG_H_
