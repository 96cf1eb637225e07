#include "server/metrics/metrics_server.h"

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace remediator::metrics {

absl::Status SplitHostPort(const std::string& address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), port) || *port < 0 || *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", address.substr(0, 256), "\" is not HOST:PORT"));
  }
  *host = address.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen,
                                                                    const Registry& registry) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(listen, &host, &port); !s.ok()) return s;
  auto server = std::unique_ptr<MetricsServer>(new MetricsServer());
  server->http_ = std::make_unique<httplib::Server>();
  server->http_->Get("/metrics", [&registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry.Expose(), kExpositionContentType);
  });
  int bound = port == 0 ? server->http_->bind_to_any_port(host)
                        : (server->http_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen, " for metrics"));
  }
  server->address_ = absl::StrCat(listen.substr(0, listen.rfind(':')), ":", bound);
  server->thread_ = std::thread([http = server->http_.get(), done = &server->done_] {
    http->listen_after_bind();
    done->store(true);
  });
  // The socket already listens (bind_to_*_port): connections queue until the loop accepts them.
  return server;
}

MetricsServer::~MetricsServer() {
  if (!thread_.joinable()) return;
  // stop() does nothing before the loop runs; repeat it until the loop has seen it.
  while (!done_.load()) {
    http_->stop();
    if (!done_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  thread_.join();
}

}  // namespace remediator::metrics
