// CredentialSource hands out the credentials of a kubeconfig user for each request:
//   - a static token, else the tokenFile (re-read whenever its mtime or size changes), else the
//     token of the exec plugin;
//   - the client certificate/key of the kubeconfig, replaced by the exec plugin's when it prints
//     one;
//   - basic auth username/password.
// The exec plugin runs on first use and its credential is cached until its expirationTimestamp
// (by the injected clock), or until Invalidate() (called after a 401).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_CREDENTIALS_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_CREDENTIALS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/common/clock.h"
#include "server/remediator/adapters/kube/exec_plugin.h"
#include "server/remediator/adapters/kube/kubeconfig.h"

namespace remediator::kube {

// Secrets: never log.
struct Credentials {
  std::string bearer_token;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string username;
  std::string password;
};

// Thread-safe.
class CredentialSource {
 public:
  // `clock` is borrowed.
  CredentialSource(const KubeConfig& config, Clock& clock) : config_(config), clock_(clock) {}

  // The credentials to use now. Unauthenticated when the exec plugin fails or the tokenFile
  // cannot be read (the message names the file or command, never a secret).
  absl::StatusOr<Credentials> Get();

  // Forgets the cached exec credential and token-file text (after the server answered 401).
  void Invalidate();

  // How many times the exec plugin has run (for tests and metrics).
  int64_t exec_runs() const;

 private:
  absl::StatusOr<std::string> TokenFromFile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const KubeConfig config_;
  Clock& clock_;
  mutable absl::Mutex mu_;
  std::optional<ExecCredential> exec_cache_ ABSL_GUARDED_BY(mu_);
  int64_t exec_runs_ ABSL_GUARDED_BY(mu_) = 0;
  std::string file_token_ ABSL_GUARDED_BY(mu_);
  int64_t file_mtime_ns_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t file_size_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace remediator::kube

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_CREDENTIALS_H_
