// Running a kubeconfig `exec` credential plugin (client.authentication.k8s.io/v1 and v1beta1,
// api-contracts.md §3.2): the command runs with its args, the kubeconfig's env entries added to
// this process's environment, stdin from /dev/null and KUBERNETES_EXEC_INFO holding an
// ExecCredential whose spec is {"interactive": false[, "cluster": {...}]}; it must print one
// ExecCredential with the same apiVersion on stdout.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_EXEC_PLUGIN_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_EXEC_PLUGIN_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/remediator/adapters/kube/kubeconfig.h"

namespace remediator::kube {

// status of the printed ExecCredential. Holds secrets: never log it.
struct ExecCredential {
  std::string token;
  std::string client_cert_pem;  // clientCertificateData (PEM text, not base64)
  std::string client_key_pem;   // clientKeyData
  std::optional<absl::Time> expiration;
};

// Runs the plugin of `config.exec` (which must be set) and parses its output. The cluster fields
// of `config` go into spec.cluster when provideClusterInfo is true. The plugin is killed after
// `timeout`.
// Unauthenticated, naming the command (never its output's secrets), when it cannot be started
// (with the installHint), exits non-zero (with the first line of stderr, redacted), times out, or
// prints something that is not a valid ExecCredential of the same apiVersion with a token or a
// certificate/key pair.
absl::StatusOr<ExecCredential> RunExecPlugin(const KubeConfig& config,
                                             absl::Duration timeout = absl::Seconds(60));

// Parses a plugin's stdout (exposed for tests). `command` is only used in messages.
absl::StatusOr<ExecCredential> ParseExecCredential(const std::string& text,
                                                   const std::string& api_version,
                                                   const std::string& command);

}  // namespace remediator::kube

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_EXEC_PLUGIN_H_
