// A Loki stand-in following api-contracts.md §4.1 for GET /loki/api/v1/query_range:
// stream selectors with = matchers only, start inclusive / end exclusive in Unix ns (strings),
// limit default 100 and at most 5000, direction default backward, the `limit` earliest (forward)
// or latest (backward) entries grouped per label set, text/plain errors. Failures can be queued.
// Runs on 127.0.0.1, port 0.
#ifndef REMEDIATOR_TESTS_SERVER_REMEDIATOR_LOKI_FAKE_LOKI_H_
#define REMEDIATOR_TESTS_SERVER_REMEDIATOR_LOKI_FAKE_LOKI_H_

#include <httplib.h>

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"

namespace remediator::testing {

class FakeLoki {
 public:
  struct Entry {
    std::map<std::string, std::string> labels;
    int64_t ts;
    std::string line;
  };
  struct Failure {
    int status;
    std::string body;
    std::string retry_after;
  };

  FakeLoki() {
    server_.Get("/loki/api/v1/query_range",
                [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    server_.set_keep_alive_timeout(0);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeLoki() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void Add(std::map<std::string, std::string> labels, int64_t ts, std::string line) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.push_back({std::move(labels), ts, std::move(line)});
  }
  void FailNext(int status, std::string body, std::string retry_after = "") {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.push_back({status, std::move(body), std::move(retry_after)});
  }
  // The query strings of the requests received, and their X-Scope-OrgID.
  std::vector<std::multimap<std::string, std::string>> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> tenants() {
    std::lock_guard<std::mutex> lock(mu_);
    return tenants_;
  }

 private:
  static void Text(httplib::Response& res, int status, const std::string& body) {
    res.status = status;
    res.set_content(body + "\n", "text/plain; charset=utf-8");
  }
  // {a="b", c="d"} → matchers; false when not that shape.
  static bool ParseSelector(const std::string& q, std::map<std::string, std::string>* out) {
    size_t open = q.find('{'), close = q.find('}');
    if (open != 0 || close == std::string::npos) return false;
    std::string body = q.substr(1, close - 1);
    size_t pos = 0;
    while (pos < body.size()) {
      while (pos < body.size() && (body[pos] == ' ' || body[pos] == ',')) ++pos;
      if (pos >= body.size()) break;
      size_t eq = body.find("=\"", pos);
      if (eq == std::string::npos) return false;
      size_t end = body.find('"', eq + 2);
      if (end == std::string::npos) return false;
      (*out)[body.substr(pos, eq - pos)] = body.substr(eq + 2, end - eq - 2);
      pos = end + 1;
    }
    return !out->empty();
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(req.params);
    tenants_.push_back(req.get_header_value("X-Scope-OrgID"));
    if (!failures_.empty()) {
      Failure f = failures_.front();
      failures_.pop_front();
      if (!f.retry_after.empty()) res.set_header("Retry-After", f.retry_after);
      Text(res, f.status, f.body);
      return;
    }
    std::map<std::string, std::string> matchers;
    if (!ParseSelector(req.get_param_value("query"), &matchers)) {
      Text(res, 400, "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER");
      return;
    }
    int64_t limit = 100;
    if (req.has_param("limit")) limit = std::stoll(req.get_param_value("limit"));
    if (limit > 5000) {
      Text(res, 400,
           "max entries limit per query exceeded, limit > max_entries_limit (" +
               std::to_string(limit) + " > 5000)");
      return;
    }
    int64_t end = req.has_param("end") ? std::stoll(req.get_param_value("end")) : INT64_MAX;
    int64_t start = req.has_param("start") ? std::stoll(req.get_param_value("start")) : 0;
    bool forward = req.get_param_value("direction") == "forward";
    std::vector<const Entry*> hits;
    for (const Entry& e : entries_) {
      bool match = e.ts >= start && e.ts < end;
      for (const auto& [k, v] : matchers) {
        auto it = e.labels.find(k);
        match = match && it != e.labels.end() && it->second == v;
      }
      if (match) hits.push_back(&e);
    }
    std::stable_sort(hits.begin(), hits.end(), [&](const Entry* a, const Entry* b) {
      return forward ? a->ts < b->ts : a->ts > b->ts;
    });
    if (static_cast<int64_t>(hits.size()) > limit) hits.resize(limit);
    std::vector<std::pair<std::map<std::string, std::string>, nlohmann::json>> streams;
    for (const Entry* e : hits) {
      auto it = std::find_if(streams.begin(), streams.end(),
                             [&](const auto& s) { return s.first == e->labels; });
      if (it == streams.end()) {
        streams.emplace_back(e->labels, nlohmann::json::array());
        it = streams.end() - 1;
      }
      it->second.push_back({std::to_string(e->ts), e->line});
    }
    nlohmann::json result = nlohmann::json::array();
    for (auto& [labels, values] : streams) {
      result.push_back({{"stream", labels}, {"values", values}});
    }
    nlohmann::json body = {{"status", "success"},
                           {"data",
                            {{"resultType", "streams"},
                             {"result", result},
                             {"stats", {{"summary", {{"totalLinesProcessed", hits.size()}}}}}}}};
    res.set_content(body.dump(), "application/json");
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<Entry> entries_;
  std::deque<Failure> failures_;
  std::vector<std::multimap<std::string, std::string>> requests_;
  std::vector<std::string> tenants_;
};

}  // namespace remediator::testing

#endif  // REMEDIATOR_TESTS_SERVER_REMEDIATOR_LOKI_FAKE_LOKI_H_
