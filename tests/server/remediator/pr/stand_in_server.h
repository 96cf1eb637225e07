// A loopback HTTP stand-in for the forge tests: cpp-httplib on 127.0.0.1:0 in a thread, plus a
// log of what it was asked and the contract violations it saw.
#ifndef REMEDIATOR_TESTS_SERVER_REMEDIATOR_PR_STAND_IN_SERVER_H_
#define REMEDIATOR_TESTS_SERVER_REMEDIATOR_PR_STAND_IN_SERVER_H_

#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace remediator::pr::testing {

class StandInServer {
 public:
  StandInServer() { server_.set_keep_alive_timeout(0); }
  ~StandInServer() { Stop(); }

  httplib::Server& server() { return server_; }

  // Binds 127.0.0.1:0 and serves in a thread; returns "http://127.0.0.1:PORT".
  std::string Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Poll (bounded) until the listener runs; bind already happened, so this is short.
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // Records "METHOD target" and any contract violation (empty `problem` = none).
  void Log(const httplib::Request& req, const std::string& problem = "") {
    absl::MutexLock lock(&mu_);
    std::string target = req.target.empty() ? req.path : req.target;
    requests_.push_back(req.method + " " + target);
    if (!problem.empty()) violations_.push_back(req.method + " " + target + ": " + problem);
  }
  std::vector<std::string> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<std::string> violations() {
    absl::MutexLock lock(&mu_);
    return violations_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  absl::Mutex mu_;
  std::vector<std::string> requests_;
  std::vector<std::string> violations_;
};

}  // namespace remediator::pr::testing

#endif  // REMEDIATOR_TESTS_SERVER_REMEDIATOR_PR_STAND_IN_SERVER_H_
