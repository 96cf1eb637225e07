// HttpClient is how Remediator talks HTTP to the services it cannot embed (LLM endpoints, forges,
// Loki, speech services). One real implementation over libcurl (CurlHttpClient); tests point it
// at stand-in servers on 127.0.0.1.
#ifndef REMEDIATOR_SERVER_COMMON_HTTP_CLIENT_H_
#define REMEDIATOR_SERVER_COMMON_HTTP_CLIENT_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace remediator {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  // Header names as sent; values may hold secrets (Authorization): they are never logged.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  absl::Duration timeout = absl::Seconds(30);
  absl::Duration connect_timeout = absl::Seconds(5);
  // PEM CA bundle to trust instead of the system's (empty: system CAs).
  std::string ca_pem;
  bool insecure_skip_verify = false;
};

struct HttpResponse {
  int status = 0;
  // Lower-case header names.
  std::map<std::string, std::string> headers;
  std::string body;

  // The header's value, or "" (name in lower case).
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// Thread-safe.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends the request and returns the response whatever its status code. Errors are transport
  // failures only: DeadlineExceeded for a timeout, Unavailable for connection failures,
  // InvalidArgument for a malformed URL. Messages never include header values.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

// libcurl, reusing connections per thread.
std::unique_ptr<HttpClient> NewCurlHttpClient();

// Percent-encodes `text` for a URL path segment or query value.
std::string UrlEncode(const std::string& text);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_HTTP_CLIENT_H_
