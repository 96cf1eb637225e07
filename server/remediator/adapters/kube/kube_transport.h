// KubeTransport: HTTP(S) to one API server over libcurl, with the kubeconfig's TLS settings and
// credentials (credentials.h). Easy handles are pooled and reused (curl_easy_reset keeps their
// live connections), so sequential requests from any thread reuse TCP+TLS connections.
// TLS material is handed to libcurl from memory (CURLOPT_CAINFO_BLOB / SSLCERT_BLOB / SSLKEY_BLOB).
// A 401 answer makes it forget cached credentials (exec plugin, tokenFile) and retry once.
// Thread-safe.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_KUBE_TRANSPORT_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_KUBE_TRANSPORT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/remediator/adapters/kube/credentials.h"
#include "server/remediator/adapters/kube/kubeconfig.h"

namespace remediator::kube {

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // "/api/v1/..." including an already-escaped query string
  std::string body;
  std::string content_type;
  std::string accept = "application/json";
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

struct TransportOptions {
  absl::Duration connect_timeout = absl::Seconds(10);
  // Whole-request limit of Do(); streams use the idle timeout of Stream() instead.
  absl::Duration request_timeout = absl::Seconds(60);
  std::string user_agent = "remediator/1.0 (linux) kube-client";
  int max_idle_handles = 8;
};

class KubeTransport {
 public:
  // `clock` is borrowed (used for exec credential expiry).
  KubeTransport(KubeConfig config, Clock& clock, TransportOptions options = {});
  ~KubeTransport();

  KubeTransport(const KubeTransport&) = delete;
  KubeTransport& operator=(const KubeTransport&) = delete;

  // One request; any HTTP status is returned as a response (callers map non-2xx). Unavailable for
  // connection, TLS and timeout failures; Unauthenticated when credentials cannot be obtained.
  absl::StatusOr<HttpResponse> Do(const HttpRequest& request);

  // A streaming GET. For a 2xx answer the body goes to `on_data` chunk by chunk (arbitrary
  // fragments); returning false from it ends the stream. The stream also ends when `*stop`
  // becomes true (checked about once a second even when idle) or when no byte arrives for
  // `idle_timeout`. Returns the HTTP status and, for non-2xx, the body in `response`.
  // OK when the stream ended (server closed, on_data false, stop); Unavailable on transport
  // failures (idle timeout included).
  absl::Status Stream(const HttpRequest& request,
                      const std::function<bool(std::string_view)>& on_data,
                      const std::atomic<bool>* stop, absl::Duration idle_timeout,
                      HttpResponse* response);

  const KubeConfig& config() const { return config_; }
  CredentialSource& credentials() { return credentials_; }

 private:
  struct Call;
  void* Acquire();
  void Release(void* handle);
  absl::Status Perform(const HttpRequest& request, Call& call, bool streaming,
                       absl::Duration idle_timeout, const Credentials& credentials);

  const KubeConfig config_;
  const TransportOptions options_;
  CredentialSource credentials_;
  // Parsed from config_.server for tls-server-name (CURLOPT_CONNECT_TO).
  std::string url_prefix_;
  std::string connect_to_;

  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);
};

// Percent-encodes a path segment or query value (RFC 3986 unreserved characters stay).
std::string UrlEscape(const std::string& text);

}  // namespace remediator::kube

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_KUBE_KUBE_TRANSPORT_H_
