// MetricsServer serves a Registry over HTTP for Prometheus: GET /metrics answers the text
// exposition format; every other path is 404. No authentication (like node_exporter): bind it
// to an address only the scraper reaches.
#ifndef REMEDIATOR_SERVER_METRICS_METRICS_SERVER_H_
#define REMEDIATOR_SERVER_METRICS_METRICS_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/metrics/registry.h"

namespace httplib {
class Server;
}

namespace remediator::metrics {

class MetricsServer {
 public:
  // `listen` is HOST:PORT (port 0 picks a free port). `registry` is borrowed. InvalidArgument for
  // a malformed address, Unavailable when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& listen,
                                                              const Registry& registry);
  ~MetricsServer();

  // HOST:PORT with the port actually bound.
  const std::string& address() const { return address_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::string address_;
};

// Splits "HOST:PORT" ("[::1]:80" too). InvalidArgument naming the address otherwise.
absl::Status SplitHostPort(const std::string& address, std::string* host, int* port);

}  // namespace remediator::metrics

#endif  // REMEDIATOR_SERVER_METRICS_METRICS_SERVER_H_
