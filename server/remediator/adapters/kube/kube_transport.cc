#include "server/remediator/adapters/kube/kube_transport.h"

#include <curl/curl.h>

#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace remediator::kube {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlSlist {
  curl_slist* list = nullptr;
  ~CurlSlist() { curl_slist_free_all(list); }
  void Add(const std::string& line) { list = curl_slist_append(list, line.c_str()); }
};

}  // namespace

std::string UrlEscape(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Per-request state shared with the libcurl callbacks.
struct KubeTransport::Call {
  CURL* curl = nullptr;
  const std::function<bool(std::string_view)>* on_data = nullptr;
  const std::atomic<bool>* stop = nullptr;
  long status = 0;
  std::string body;          // whole body (Do) or the error body (Stream, non-2xx)
  bool ended_by_us = false;  // on_data returned false or stop was set
  char error[CURL_ERROR_SIZE] = {0};

  static size_t Write(char* data, size_t size, size_t count, void* user) {
    Call* call = static_cast<Call*>(user);
    const size_t n = size * count;
    if (call->status == 0) curl_easy_getinfo(call->curl, CURLINFO_RESPONSE_CODE, &call->status);
    if (call->on_data == nullptr || call->status < 200 || call->status >= 300) {
      if (call->body.size() < (64u << 20)) call->body.append(data, n);
      return n;
    }
    if ((call->stop != nullptr && call->stop->load()) ||
        !(*call->on_data)(std::string_view(data, n))) {
      call->ended_by_us = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    return n;
  }

  static int Progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    Call* call = static_cast<Call*>(user);
    if (call->stop != nullptr && call->stop->load()) {
      call->ended_by_us = true;
      return 1;  // aborts with CURLE_ABORTED_BY_CALLBACK
    }
    return 0;
  }
};

KubeTransport::KubeTransport(KubeConfig config, Clock& clock, TransportOptions options)
    : config_(std::move(config)), options_(std::move(options)), credentials_(config_, clock) {
  GlobalInit();
  url_prefix_ = config_.server;
  if (!config_.tls_server_name.empty()) {
    // Verify (and send SNI for) tls-server-name while connecting to the server's address.
    const size_t scheme_end = config_.server.find("://");
    const std::string scheme = config_.server.substr(0, scheme_end);
    std::string rest = config_.server.substr(scheme_end + 3);
    const std::string host_port = rest.substr(0, rest.find('/'));
    const std::string tail = rest.substr(host_port.size());
    std::string host = host_port;
    std::string port = scheme == "https" ? "443" : "80";
    const size_t bracket = host_port.rfind(']');
    const size_t colon = host_port.rfind(':');
    if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
      host = host_port.substr(0, colon);
      port = host_port.substr(colon + 1);
    }
    url_prefix_ = absl::StrCat(scheme, "://", config_.tls_server_name, ":", port, tail);
    connect_to_ = absl::StrCat(config_.tls_server_name, ":", port, ":", host, ":", port);
  }
}

KubeTransport::~KubeTransport() {
  absl::MutexLock lock(&mu_);
  for (void* handle : idle_) curl_easy_cleanup(static_cast<CURL*>(handle));
  idle_.clear();
}

void* KubeTransport::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* handle = idle_.back();
      idle_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void KubeTransport::Release(void* handle) {
  if (handle == nullptr) return;
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(idle_.size()) < options_.max_idle_handles) {
    idle_.push_back(handle);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

absl::Status KubeTransport::Perform(const HttpRequest& request, Call& call, bool streaming,
                                    absl::Duration idle_timeout, const Credentials& credentials) {
  CURL* curl = call.curl;
  // Reset keeps the handle's connection cache, so the next request reuses the connection.
  curl_easy_reset(curl);
  const std::string url = url_prefix_ + request.path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, call.error);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Call::Write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &call);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  if (streaming) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Call::Progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &call);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(std::max<int64_t>(1, absl::ToInt64Seconds(idle_timeout))));
  } else {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(options_.request_timeout)));
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  }
  CurlSlist connect_to;
  if (!connect_to_.empty()) {
    connect_to.Add(connect_to_);
    curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to.list);
  }
  if (!config_.proxy_url.empty()) curl_easy_setopt(curl, CURLOPT_PROXY, config_.proxy_url.c_str());

  // TLS.
  if (config_.insecure_skip_tls_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!config_.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(config_.ca_pem.data()), config_.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!credentials.client_cert_pem.empty()) {
    curl_blob cert{const_cast<char*>(credentials.client_cert_pem.data()),
                   credentials.client_cert_pem.size(), CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(credentials.client_key_pem.data()),
                  credentials.client_key_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
    curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &key);
  }
  if (!credentials.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, credentials.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, credentials.password.c_str());
  }

  CurlSlist headers;
  headers.Add("Accept: " + request.accept);
  headers.Add("Expect:");
  if (!request.content_type.empty()) headers.Add("Content-Type: " + request.content_type);
  if (!credentials.bearer_token.empty()) {
    headers.Add("Authorization: Bearer " + credentials.bearer_token);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);

  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method != "DELETE" || !request.body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
  }

  const CURLcode code = curl_easy_perform(curl);
  if (call.status == 0) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &call.status);
  if (code == CURLE_OK) return absl::OkStatus();
  if (call.ended_by_us && (code == CURLE_WRITE_ERROR || code == CURLE_ABORTED_BY_CALLBACK)) {
    return absl::OkStatus();
  }
  const std::string detail = call.error[0] != '\0' ? call.error : curl_easy_strerror(code);
  return absl::UnavailableError(absl::StrCat(request.method, " ", config_.server,
                                             request.path.substr(0, request.path.find('?')), ": ",
                                             detail));
}

absl::StatusOr<HttpResponse> KubeTransport::Do(const HttpRequest& request) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<Credentials> credentials = credentials_.Get();
    if (!credentials.ok()) return credentials.status();
    Call call;
    call.curl = static_cast<CURL*>(Acquire());
    if (call.curl == nullptr) return absl::InternalError("curl_easy_init failed");
    absl::Status status =
        Perform(request, call, /*streaming=*/false, absl::ZeroDuration(), *credentials);
    Release(call.curl);
    if (!status.ok()) return status;
    const bool refreshable = config_.exec.has_value() || !config_.token_file.empty();
    if (call.status == 401 && attempt == 0 && refreshable) {
      credentials_.Invalidate();
      continue;
    }
    return HttpResponse{call.status, std::move(call.body)};
  }
}

absl::Status KubeTransport::Stream(const HttpRequest& request,
                                   const std::function<bool(std::string_view)>& on_data,
                                   const std::atomic<bool>* stop, absl::Duration idle_timeout,
                                   HttpResponse* response) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<Credentials> credentials = credentials_.Get();
    if (!credentials.ok()) return credentials.status();
    Call call;
    call.curl = static_cast<CURL*>(Acquire());
    if (call.curl == nullptr) return absl::InternalError("curl_easy_init failed");
    call.on_data = &on_data;
    call.stop = stop;
    absl::Status status = Perform(request, call, /*streaming=*/true, idle_timeout, *credentials);
    Release(call.curl);
    const bool refreshable = config_.exec.has_value() || !config_.token_file.empty();
    if (status.ok() && call.status == 401 && attempt == 0 && refreshable) {
      credentials_.Invalidate();
      continue;
    }
    response->status = call.status;
    response->body = std::move(call.body);
    return status;
  }
}

}  // namespace remediator::kube
