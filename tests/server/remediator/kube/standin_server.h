// A scripted Kubernetes list/watch stand-in (cpp-httplib, 127.0.0.1) for the watch tests that
// need exact wire control: HTTP 410 on a watch, an in-stream ERROR 410 event, bookmarks, events
// split across chunks, and a restart on the same port. It serves one collection,
// GET /api/v1/namespaces/app/pods (list, or watch with ?watch=1), following
// api-contracts.md §3.4.
#ifndef REMEDIATOR_TESTS_SERVER_REMEDIATOR_KUBE_STANDIN_SERVER_H_
#define REMEDIATOR_TESTS_SERVER_REMEDIATOR_KUBE_STANDIN_SERVER_H_

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

namespace remediator::kube::testing {

class WatchStandIn {
 public:
  struct WatchReply {
    int status = 200;
    // Raw chunks written in order (each may hold part of a line, or several lines).
    std::vector<std::string> chunks;
    // Keep the stream open after the chunks (until Stop or ReleaseHeld).
    bool hold = false;
  };
  struct ListReply {
    std::string resource_version;
    nlohmann::json items = nlohmann::json::array();
  };

  // port 0 picks a free port.
  explicit WatchStandIn(int port = 0) { Start(port); }
  ~WatchStandIn() { Stop(); }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Lists are answered in order; the last one repeats.
  void AddList(ListReply reply) {
    absl::MutexLock lock(&mu_);
    lists_.push_back(std::move(reply));
  }
  // Watches are answered in order; when none is left a watch is held open with no events.
  void AddWatch(WatchReply reply) {
    absl::MutexLock lock(&mu_);
    watches_.push_back(std::move(reply));
  }
  int list_count() const {
    absl::MutexLock lock(&mu_);
    return list_count_;
  }
  // The query parameters of every watch request, in order.
  std::vector<httplib::Params> watch_params() const {
    absl::MutexLock lock(&mu_);
    return watch_params_;
  }
  int open_streams() const { return open_streams_.load(); }

  void Stop() {
    if (server_ == nullptr) return;
    stopping_.store(true);
    server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  // Stop, then listen again on the same port (scripted replies and counters are kept).
  bool Restart() {
    const int port = port_;
    Stop();
    return Start(port);
  }

 private:
  bool Start(int port) {
    stopping_.store(false);
    server_ = std::make_unique<httplib::Server>();
    server_->Get("/api/v1/namespaces/app/pods",
                 [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    if (port == 0) {
      port_ = server_->bind_to_any_port("127.0.0.1");
    } else {
      bool bound = false;
      // The old socket may linger for a moment after a restart.
      for (int i = 0; i < 200 && !bound; ++i) {
        bound = server_->bind_to_port("127.0.0.1", port);
        if (!bound) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (!bound) return false;
      port_ = port;
    }
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return true;
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("watch")) {
      absl::MutexLock lock(&mu_);
      ++list_count_;
      ListReply reply = lists_.empty() ? ListReply{"1"} : lists_.front();
      if (lists_.size() > 1) lists_.pop_front();
      res.set_content(nlohmann::json{{"kind", "PodList"},
                                     {"apiVersion", "v1"},
                                     {"metadata", {{"resourceVersion", reply.resource_version}}},
                                     {"items", reply.items}}
                          .dump(),
                      "application/json");
      return;
    }
    WatchReply reply;
    reply.hold = true;
    {
      absl::MutexLock lock(&mu_);
      watch_params_.push_back(req.params);
      if (!watches_.empty()) {
        reply = watches_.front();
        watches_.pop_front();
      }
    }
    if (reply.status != 200) {
      res.status = reply.status;
      res.set_content(nlohmann::json{{"kind", "Status"},
                                     {"apiVersion", "v1"},
                                     {"status", "Failure"},
                                     {"reason", reply.status == 410 ? "Expired" : "InternalError"},
                                     {"message", "scripted failure"},
                                     {"code", reply.status}}
                          .dump(),
                      "application/json");
      return;
    }
    auto shared = std::make_shared<WatchReply>(std::move(reply));
    res.set_chunked_content_provider("application/json",
                                     [this, shared](size_t, httplib::DataSink& sink) {
                                       ++open_streams_;
                                       for (const std::string& chunk : shared->chunks) {
                                         sink.write(chunk.data(), chunk.size());
                                       }
                                       // While holding, a blank line (ignored by watch clients)
                                       // every 100 ms notices a client that went away, so held
                                       // streams do not pile up in the server's thread pool.
                                       int ticks = 0;
                                       while (shared->hold && !stopping_.load()) {
                                         std::this_thread::sleep_for(std::chrono::milliseconds(10));
                                         if (++ticks % 10 == 0 && !sink.write("\n", 1)) break;
                                       }
                                       --open_streams_;
                                       sink.done();
                                       return true;
                                     });
  }

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> open_streams_{0};
  mutable absl::Mutex mu_;
  std::deque<ListReply> lists_ ABSL_GUARDED_BY(mu_);
  std::deque<WatchReply> watches_ ABSL_GUARDED_BY(mu_);
  std::vector<httplib::Params> watch_params_ ABSL_GUARDED_BY(mu_);
  int list_count_ ABSL_GUARDED_BY(mu_) = 0;
};

inline nlohmann::json Pod(const std::string& name, const std::string& rv) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "app"}, {"resourceVersion", rv}}}};
}

inline std::string EventLine(const std::string& type, const nlohmann::json& object) {
  return nlohmann::json{{"type", type}, {"object", object}}.dump() + "\n";
}

inline std::string BookmarkLine(const std::string& rv) {
  return EventLine(
      "BOOKMARK", {{"kind", "Pod"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", rv}}}});
}

}  // namespace remediator::kube::testing

#endif  // REMEDIATOR_TESTS_SERVER_REMEDIATOR_KUBE_STANDIN_SERVER_H_
