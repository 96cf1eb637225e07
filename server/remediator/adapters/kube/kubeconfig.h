// Loading a kubeconfig the way kubectl does (api-contracts.md §3.1, §3.2).
//
// Files: an explicit path (--kubeconfig) wins; otherwise $KUBECONFIG, a ':'-separated list merged
// in order (for clusters, users and contexts the first file that defines a name wins; the first
// file that sets current-context wins; missing files in the list are skipped, as kubectl does);
// otherwise $HOME/.kube/config. The context is --context when given, else current-context.
// Relative file paths (certificate-authority, client-certificate, client-key, tokenFile, and an
// exec command containing a '/') are relative to the file that defined them.
//
// Every bad or missing field gives InvalidArgument naming the file and the field, e.g.
//   kubeconfig /x: context "app": cluster "c" not found
//   kubeconfig /x: users[0].user.exec.apiVersion "client.authentication.k8s.io/v9" unsupported
// Error messages never contain credential values.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_KUBECONFIG_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_KUBECONFIG_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace remediator::kube {

// users[].user.exec (client.authentication.k8s.io/v1 or v1beta1).
struct ExecConfig {
  std::string api_version;
  std::string command;  // resolved against the kubeconfig's directory when it contains a '/'
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;  // Never | IfAvailable | Always
};

// The resolved connection settings of one context. Credential fields hold secrets: never log them.
struct KubeConfig {
  std::string source;  // the file (or ':'-list) it came from, for messages
  std::string context_name;
  std::string cluster_name;
  std::string user_name;
  std::string namespace_name = "default";

  // Cluster.
  std::string server;  // https://host:port or http://host:port (no trailing slash)
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string ca_pem;  // certificate-authority-data (decoded) or the file's contents
  std::string proxy_url;

  // User.
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;
  std::string token_file;  // absolute; re-read when it changes
  std::string username;
  std::string password;
  std::optional<ExecConfig> exec;
};

struct KubeconfigOptions {
  // --kubeconfig; when empty, `kubeconfig_env` (or $KUBECONFIG when that is unset) is used.
  std::string explicit_path;
  std::optional<std::string> kubeconfig_env;
  // $HOME override for the default ~/.kube/config (tests).
  std::optional<std::string> home;
  // --context; empty means current-context.
  std::string context;
};

// Loads and resolves. NotFound when no kubeconfig file exists at all; InvalidArgument for every
// malformed or missing field.
absl::StatusOr<KubeConfig> LoadKubeconfig(const KubeconfigOptions& options);

// One file's text and the path it was read from (relative paths resolve against its directory).
struct KubeconfigFile {
  std::string path;
  std::string text;
};

// The same resolution over already-read files, in merge order.
absl::StatusOr<KubeConfig> ResolveKubeconfig(const std::vector<KubeconfigFile>& files,
                                             const std::string& context);

}  // namespace remediator::kube

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_KUBECONFIG_H_
