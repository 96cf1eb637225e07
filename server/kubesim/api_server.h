// ApiServer: the HTTP(S) front of kubesim. Routes Kubernetes API paths onto a Cluster: discovery,
// OpenAPI v3, CRUD + PATCH, Table output, watch streams, pod logs, SelfSubjectAccessReview, and
// the test hooks under /kubesim/v1 (advance, compact, now).
#ifndef REMEDIATOR_SERVER_KUBESIM_API_SERVER_H_
#define REMEDIATOR_SERVER_KUBESIM_API_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/kubesim/cluster.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace remediator::kubesim {

struct ApiServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string client_ca_file;
  std::string token;
  bool watch_expired_as_http_status = false;
  absl::Duration bookmark_interval = absl::Seconds(1);
  // Called by POST /kubesim/v1/advance?seconds=N.
  std::function<void(absl::Duration)> advance;
};

class ApiServer {
 public:
  static absl::StatusOr<std::unique_ptr<ApiServer>> Start(Cluster* cluster,
                                                          const ApiServerOptions& options);
  ~ApiServer();
  void Stop();
  int port() const { return port_; }
  bool tls() const { return tls_; }
  int64_t request_count() const { return requests_.load(); }

 private:
  ApiServer(Cluster* cluster, ApiServerOptions options);
  void Handle(const httplib::Request& req, httplib::Response& res);
  void HandleResource(const httplib::Request& req, httplib::Response& res, const ResourceType& type,
                      const std::string& ns, const std::string& name,
                      const std::string& subresource);
  void HandleScale(const httplib::Request& req, httplib::Response& res, const ResourceType& type,
                   const std::string& ns, const std::string& name);
  void HandleList(const httplib::Request& req, httplib::Response& res, const ResourceType& type,
                  const std::string& ns);
  void HandleWatch(const httplib::Request& req, httplib::Response& res, const ResourceType& type,
                   const std::string& ns);

  Cluster* cluster_;
  ApiServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  bool tls_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> requests_{0};
};

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_API_SERVER_H_
