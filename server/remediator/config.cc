#include "server/remediator/config.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/common/yaml_config.h"
#include "server/remediator/core/remediation/quantity.h"

namespace remediator {
namespace {

absl::Status ReadGuardBounds(const YamlDocument& doc, const YAML::Node& map,
                             remediation::GuardBounds& bounds) {
  RETURN_IF_ERROR(ReadString(doc, map, "max_memory", &bounds.max_memory));
  RETURN_IF_ERROR(ReadString(doc, map, "max_cpu", &bounds.max_cpu));
  RETURN_IF_ERROR(ReadString(doc, map, "max_empty_dir", &bounds.max_empty_dir));
  RETURN_IF_ERROR(ReadInt(doc, map, "max_replicas", &bounds.max_replicas));
  RETURN_IF_ERROR(ReadDouble(doc, map, "max_memory_factor", &bounds.max_memory_factor));
  RETURN_IF_ERROR(ReadDouble(doc, map, "max_cpu_factor", &bounds.max_cpu_factor));
  for (const std::string* q : {&bounds.max_memory, &bounds.max_cpu, &bounds.max_empty_dir}) {
    if (!remediation::ParseQuantity(*q).ok()) {
      return YamlError(doc, map, "guard", absl::StrCat("\"", *q, "\" is not a quantity"));
    }
  }
  if (bounds.max_replicas < 1 || bounds.max_memory_factor < 1 || bounds.max_cpu_factor < 1) {
    return YamlError(doc, map, "guard", "max_replicas and the factors must be >= 1");
  }
  return absl::OkStatus();
}

// guard: {extra_registries: [...], namespaces: {NS: {extra_paths: [...], bounds...}}}
absl::Status ReadGuard(const YamlDocument& doc, const YAML::Node& guard,
                       remediation::GuardPolicy& policy) {
  RETURN_IF_ERROR(CheckKnownKeys(doc, guard, {"extra_registries", "namespaces"}, "guard"));
  RETURN_IF_ERROR(ReadStringList(doc, guard, "extra_registries", &policy.extra_registries));
  YAML::Node namespaces = guard["namespaces"];
  if (!namespaces) return absl::OkStatus();
  if (!namespaces.IsMap()) {
    return YamlError(doc, namespaces, "guard.namespaces", "wants {namespace: {...}}");
  }
  for (const auto& entry : namespaces) {
    const std::string ns = entry.first.Scalar();
    const YAML::Node& map = entry.second;
    RETURN_IF_ERROR(CheckKnownKeys(doc, map,
                                   {"extra_paths", "max_memory", "max_cpu", "max_replicas",
                                    "max_memory_factor", "max_cpu_factor", "max_empty_dir"},
                                   "guard.namespaces." + ns));
    remediation::NamespaceGuardPolicy& out = policy.namespaces[ns];
    out.bounds = policy.bounds;
    RETURN_IF_ERROR(ReadStringList(doc, map, "extra_paths", &out.extra_paths));
    for (const std::string& path : out.extra_paths) {
      if (!absl::StartsWith(path, "pod.") && !absl::StartsWith(path, "spec.")) {
        return YamlError(doc, map, "extra_paths",
                         absl::StrCat("\"", path, "\" must start with pod. or spec."));
      }
    }
    RETURN_IF_ERROR(ReadGuardBounds(doc, map, out.bounds));
  }
  return absl::OkStatus();
}

// Fills the fields whose flag was not given from the YAML document.
absl::Status ApplyYaml(const YamlDocument& doc, const FlagSet& flags, RemediatorConfig& c) {
  const YAML::Node& root = doc.root;
  RETURN_IF_ERROR(CheckKnownKeys(doc, root,
                                 {"listen",
                                  "state_dir",
                                  "auth_token_file",
                                  "viewer_token_file",
                                  "reporter_token_file",
                                  "metrics_listen",
                                  "http_listen",
                                  "console_audio_dir",
                                  "log_format",
                                  "tls",
                                  "kubeconfig",
                                  "context",
                                  "mode",
                                  "gitops",
                                  "telephony",
                                  "oncall",
                                  "llm",
                                  "cluster_name",
                                  "namespaces",
                                  "verify",
                                  "namespace_modes",
                                  "pipeline_interval",
                                  "loki",
                                  "guard",
                                  "store",
                                  "parallel_fixes"},
                                 "the remediator config"));
  auto read = [&](const char* flag, const YAML::Node& map, const char* key,
                  std::string* out) -> absl::Status {
    if (flags.IsSet(flag)) return absl::OkStatus();
    return ReadString(doc, map, key, out);
  };
  RETURN_IF_ERROR(read("listen", root, "listen", &c.server.listen));
  RETURN_IF_ERROR(read("state-dir", root, "state_dir", &c.state_dir));
  RETURN_IF_ERROR(read("store", root, "store", &c.store));
  RETURN_IF_ERROR(read("auth-token-file", root, "auth_token_file", &c.auth_token_file));
  RETURN_IF_ERROR(read("viewer-token-file", root, "viewer_token_file", &c.viewer_token_file));
  RETURN_IF_ERROR(read("reporter-token-file", root, "reporter_token_file", &c.reporter_token_file));
  RETURN_IF_ERROR(read("metrics-listen", root, "metrics_listen", &c.metrics_listen));
  RETURN_IF_ERROR(read("http-listen", root, "http_listen", &c.http_listen));
  RETURN_IF_ERROR(read("console-audio-dir", root, "console_audio_dir", &c.console_audio_dir));
  RETURN_IF_ERROR(read("log-format", root, "log_format", &c.log_format));
  RETURN_IF_ERROR(read("kubeconfig", root, "kubeconfig", &c.kubeconfig));
  RETURN_IF_ERROR(read("context", root, "context", &c.context));
  RETURN_IF_ERROR(read("mode", root, "mode", &c.mode));
  RETURN_IF_ERROR(read("oncall", root, "oncall", &c.oncall));
  RETURN_IF_ERROR(read("cluster-name", root, "cluster_name", &c.cluster_name));
  if (!flags.IsSet("namespace")) {
    RETURN_IF_ERROR(ReadStringList(doc, root, "namespaces", &c.namespaces));
  }
  RETURN_IF_ERROR(ReadDuration(doc, root, "pipeline_interval", &c.pipeline_interval));
  RETURN_IF_ERROR(ReadInt(doc, root, "parallel_fixes", &c.parallel_fixes));
  if (c.parallel_fixes < 1 || c.parallel_fixes > 64) {
    return YamlError(doc, root["parallel_fixes"], "parallel_fixes", "wants 1..64");
  }
  if (YAML::Node modes = root["namespace_modes"]; modes) {
    if (!modes.IsMap()) return YamlError(doc, modes, "namespace_modes", "wants {namespace: mode}");
    for (const auto& entry : modes) {
      const std::string ns = entry.first.Scalar();
      std::string mode;
      RETURN_IF_ERROR(ReadString(doc, modes, ns, &mode));
      if (mode != "observe" && mode != "suggest" && mode != "fix") {
        return YamlError(doc, entry.second, ns, "wants observe, suggest or fix");
      }
      c.namespace_modes[ns] = mode;
    }
  }
  if (YAML::Node guard = root["guard"]; guard) RETURN_IF_ERROR(ReadGuard(doc, guard, c.guard));
  if (YAML::Node loki = root["loki"]; loki) {
    RETURN_IF_ERROR(CheckKnownKeys(
        doc, loki, {"url", "query", "name", "tenant", "token_file", "poll_interval", "labels"},
        "loki"));
    RETURN_IF_ERROR(ReadString(doc, loki, "url", &c.loki_url));
    RETURN_IF_ERROR(ReadString(doc, loki, "query", &c.loki_query));
    RETURN_IF_ERROR(ReadString(doc, loki, "name", &c.loki_name));
    RETURN_IF_ERROR(ReadString(doc, loki, "tenant", &c.loki_tenant));
    RETURN_IF_ERROR(ReadString(doc, loki, "token_file", &c.loki_token_file));
    RETURN_IF_ERROR(ReadDuration(doc, loki, "poll_interval", &c.loki_poll_interval));
    if (YAML::Node labels = loki["labels"]; labels) {
      RETURN_IF_ERROR(
          CheckKnownKeys(doc, labels, {"namespace", "pod", "container"}, "loki.labels"));
      RETURN_IF_ERROR(ReadString(doc, labels, "namespace", &c.loki_namespace_label));
      RETURN_IF_ERROR(ReadString(doc, labels, "pod", &c.loki_pod_label));
      RETURN_IF_ERROR(ReadString(doc, labels, "container", &c.loki_container_label));
    }
    if (c.loki_url.empty() != c.loki_query.empty()) {
      return YamlError(doc, loki, "loki", "needs both url and query");
    }
  }
  if (YAML::Node verify = root["verify"]; verify) {
    RETURN_IF_ERROR(
        CheckKnownKeys(doc, verify, {"window", "rollout_timeout", "poll_interval"}, "verify"));
    RETURN_IF_ERROR(ReadDuration(doc, verify, "window", &c.verify_window));
    RETURN_IF_ERROR(ReadDuration(doc, verify, "rollout_timeout", &c.rollout_timeout));
    RETURN_IF_ERROR(ReadDuration(doc, verify, "poll_interval", &c.poll_interval));
  }
  if (YAML::Node tls = root["tls"]; tls) {
    RETURN_IF_ERROR(CheckKnownKeys(doc, tls, {"cert_file", "key_file", "client_ca_file"}, "tls"));
    RETURN_IF_ERROR(read("tls-cert", tls, "cert_file", &c.server.tls_cert_file));
    RETURN_IF_ERROR(read("tls-key", tls, "key_file", &c.server.tls_key_file));
    RETURN_IF_ERROR(read("tls-client-ca", tls, "client_ca_file", &c.server.tls_client_ca_file));
  }
  if (YAML::Node gitops = root["gitops"]; gitops) {
    RETURN_IF_ERROR(CheckKnownKeys(
        doc, gitops, {"repo", "branch", "forge", "api_url", "repository", "token_file", "author"},
        "gitops"));
    RETURN_IF_ERROR(read("gitops-repo", gitops, "repo", &c.gitops_repo));
    RETURN_IF_ERROR(read("gitops-branch", gitops, "branch", &c.gitops_branch));
    RETURN_IF_ERROR(read("gitops-forge", gitops, "forge", &c.gitops_forge));
    RETURN_IF_ERROR(read("gitops-api-url", gitops, "api_url", &c.gitops_api_url));
    RETURN_IF_ERROR(read("gitops-repository", gitops, "repository", &c.gitops_repository));
    RETURN_IF_ERROR(read("gitops-token-file", gitops, "token_file", &c.gitops_token_file));
    if (YAML::Node author = gitops["author"]; author) {
      RETURN_IF_ERROR(CheckKnownKeys(doc, author, {"name", "email"}, "gitops.author"));
      RETURN_IF_ERROR(ReadString(doc, author, "name", &c.gitops_author_name));
      RETURN_IF_ERROR(ReadString(doc, author, "email", &c.gitops_author_email));
    }
  }
  if (YAML::Node telephony = root["telephony"]; telephony) {
    RETURN_IF_ERROR(CheckKnownKeys(doc, telephony, {"address", "token_file", "tls"}, "telephony"));
    RETURN_IF_ERROR(read("telephony", telephony, "address", &c.telephony));
    RETURN_IF_ERROR(read("telephony-token-file", telephony, "token_file", &c.telephony_token_file));
    if (YAML::Node tls = telephony["tls"]; tls) {
      RETURN_IF_ERROR(CheckKnownKeys(doc, tls, {"ca_file", "cert_file", "key_file", "server_name"},
                                     "telephony.tls"));
      c.telephony_tls.tls = true;
      RETURN_IF_ERROR(read("telephony-tls-ca", tls, "ca_file", &c.telephony_tls.ca_file));
      RETURN_IF_ERROR(read("telephony-tls-cert", tls, "cert_file", &c.telephony_tls.cert_file));
      RETURN_IF_ERROR(read("telephony-tls-key", tls, "key_file", &c.telephony_tls.key_file));
      RETURN_IF_ERROR(
          read("telephony-tls-server-name", tls, "server_name", &c.telephony_tls.server_name));
    }
  }
  if (YAML::Node llm = root["llm"]; llm) {
    RETURN_IF_ERROR(CheckKnownKeys(doc, llm, {"url", "model", "api_key_file"}, "llm"));
    RETURN_IF_ERROR(read("llm-api-key-file", llm, "api_key_file", &c.llm_api_key_file));
    RETURN_IF_ERROR(read("llm-url", llm, "url", &c.llm_url));
    RETURN_IF_ERROR(read("llm-model", llm, "model", &c.llm_model));
  }
  return absl::OkStatus();
}

absl::Status Validate(const RemediatorConfig& c) {
  if (c.mode != "observe" && c.mode != "suggest" && c.mode != "fix") {
    return absl::InvalidArgumentError(
        absl::StrCat("mode \"", c.mode, "\" is not one of observe, suggest, fix"));
  }
  if (c.log_format != "text" && c.log_format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("log format \"", c.log_format, "\" is not text or json"));
  }
  if (c.state_dir.empty()) return absl::InvalidArgumentError("state dir is empty");
  static const std::set<std::string> kForges = {"local", "github", "gitlab", "gitea", "forgejo"};
  if (kForges.count(c.gitops_forge) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("gitops forge \"", c.gitops_forge,
                     "\" is not one of local, github, gitlab, gitea, forgejo"));
  }
  if (c.verify_window <= absl::ZeroDuration() || c.poll_interval <= absl::ZeroDuration() ||
      c.rollout_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "verify window, rollout timeout and poll interval must be > 0");
  }
  return absl::OkStatus();
}

}  // namespace

void DeclareRemediatorFlags(FlagSet& flags, RemediatorConfig& c) {
  flags.String("config", &c.config_file, "YAML config file; flags given on the command line win");
  flags.String("listen", &c.server.listen,
               "HOST:PORT to serve gRPC on; port 0 picks a free port and prints "
               "\"listening on HOST:PORT\"");
  flags.String("state-dir", &c.state_dir,
               "directory for the SQLite store (remediator.db) and other state");
  flags.String("store", &c.store,
               "incident store: empty for <state-dir>/remediator.db, sqlite:///path, or "
               "postgres://user@host/db (shared by replicas)");
  flags.String("auth-token-file", &c.auth_token_file,
               "file holding the operator token (every RPC); without any token file, auth is off");
  flags.String("viewer-token-file", &c.viewer_token_file,
               "file holding a token of the viewer role: reads only (Get*, List*, web console)");
  flags.String("reporter-token-file", &c.reporter_token_file,
               "file holding a token of the reporter role: ReportError and ReportErrorStream only");
  flags.String("metrics-listen", &c.metrics_listen,
               "HOST:PORT to serve Prometheus metrics on (GET /metrics); empty: off");
  flags.String("http-listen", &c.http_listen,
               "HOST:PORT to serve the read-only web console on; empty: off");
  flags.String("console-audio-dir", &c.console_audio_dir,
               "the telephony server's audio directory (STATE_DIR/audio with keep_audio): the "
               "console plays the calls' prompt and answer from it");
  flags.String("log-format", &c.log_format, "log format on stderr: text or json");
  flags.String("tls-cert", &c.server.tls_cert_file, "PEM certificate chain: serve TLS");
  flags.String("tls-key", &c.server.tls_key_file, "PEM private key for --tls-cert");
  flags.String("tls-client-ca", &c.server.tls_client_ca_file,
               "PEM CA bundle: require client certificates signed by it (mutual TLS)");
  flags.String("kubeconfig", &c.kubeconfig,
               "kubeconfig of the cluster to watch and repair (KUBECONFIG is honoured too)");
  flags.String("context", &c.context, "kubeconfig context to use (default: current-context)");
  flags.String("mode", &c.mode,
               "observe (detect only), suggest (propose fixes, apply nothing) or fix (apply, "
               "verify, open PRs)");
  flags.String("gitops-repo", &c.gitops_repo, "URL or path of the GitOps repository");
  flags.String("gitops-branch", &c.gitops_branch, "base branch of the GitOps repository");
  flags.String("gitops-forge", &c.gitops_forge,
               "where pull requests go: local (a record next to the pushed branch), github, "
               "gitlab, gitea or forgejo");
  flags.String("gitops-api-url", &c.gitops_api_url,
               "forge API base URL (GitHub Enterprise, self-hosted GitLab or Gitea)");
  flags.String("gitops-repository", &c.gitops_repository,
               "the repository on the forge: owner/repo (GitLab: group/project)");
  flags.String("gitops-token-file", &c.gitops_token_file,
               "file holding the forge and HTTPS git token (kept in memory only)");
  flags.String("cluster-name", &c.cluster_name, "name of the watched cluster in incidents");
  flags.Repeated("namespace", &c.namespaces,
                 "namespace to watch (repeatable); none watches every namespace");
  flags.String("telephony", &c.telephony, "HOST:PORT of the Telephony server used for calls");
  flags.String("telephony-token-file", &c.telephony_token_file,
               "bearer token file for the Telephony server");
  flags.String("telephony-tls-ca", &c.telephony_tls.ca_file,
               "PEM CA that signs the Telephony server's certificate: dial it with TLS");
  flags.String("telephony-tls-cert", &c.telephony_tls.cert_file,
               "PEM client certificate for the Telephony server (mutual TLS)");
  flags.String("telephony-tls-key", &c.telephony_tls.key_file, "PEM key of --telephony-tls-cert");
  flags.String("telephony-tls-server-name", &c.telephony_tls.server_name,
               "name the Telephony server's certificate carries, when not the dialed host");
  flags.String("oncall", &c.oncall, "on-call policy YAML (who to call, when)");
  flags.String("llm-url", &c.llm_url,
               "OpenAI-compatible base URL (e.g. http://kubeai/openai/v1); empty: playbooks only");
  flags.String("llm-model", &c.llm_model, "model name for --llm-url");
  flags.String("llm-api-key-file", &c.llm_api_key_file,
               "file holding the API key for --llm-url (sent as a bearer token)");
  flags.set_epilogue(
      "Exit codes: 0 stopped cleanly, 1 runtime failure, 2 bad usage or bad configuration.\n"
      "Example: remediator --listen 127.0.0.1:0 --state-dir /tmp/r --telephony 127.0.0.1:50052");
}

absl::StatusOr<RemediatorConfig> LoadRemediatorConfig(int argc, const char* const* argv, bool* help,
                                                      std::string* usage) {
  RemediatorConfig config;
  FlagSet flags("remediator",
                "Detects failing Kubernetes workloads, fixes them with a verified manifest "
                "change and a pull request, or phones the on-call person.");
  DeclareRemediatorFlags(flags, config);
  RETURN_IF_ERROR(flags.Parse(argc, argv));
  *help = flags.help_requested();
  *usage = flags.Usage();
  if (*help) return config;
  if (!flags.positional().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument \"", flags.positional()[0], "\" (see --help)"));
  }
  if (!config.config_file.empty()) {
    ASSIGN_OR_RETURN(YamlDocument doc, LoadYamlFile(config.config_file));
    RETURN_IF_ERROR(ApplyYaml(doc, flags, config));
  }
  RETURN_IF_ERROR(Validate(config));
  return config;
}

}  // namespace remediator
