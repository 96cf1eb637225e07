// A smart-HTTP git server on 127.0.0.1:0 for the credential tests: cpp-httplib in front of the
// real `git http-backend` (CGI), demanding HTTP basic auth with one user/token pair.
#ifndef REMEDIATOR_TESTS_SERVER_REMEDIATOR_PR_GIT_HTTP_SERVER_H_
#define REMEDIATOR_TESTS_SERVER_REMEDIATOR_PR_GIT_HTTP_SERVER_H_

#include <atomic>
#include <filesystem>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/server/remediator/pr/git_fixture.h"
#include "tests/server/remediator/pr/stand_in_server.h"

namespace remediator::pr::testing {

class GitHttpServer {
 public:
  // Serves the repositories under `root` (URL /<name>.git/...); scratch files go to `scratch`.
  GitHttpServer(std::filesystem::path root, std::filesystem::path scratch, std::string user,
                std::string token)
      : root_(std::move(root)), scratch_(std::move(scratch)) {
    expected_auth_ = "Basic " + absl::Base64Escape(user + ":" + token);
    std::filesystem::create_directories(scratch_);
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { Serve(req, res); };
    http_.server().Get(R"(/.*)", handler);
    http_.server().Post(R"(/.*)", handler);
  }

  std::string Start() { return http_.Start(); }
  int unauthorized() const { return unauthorized_.load(); }
  int requests() const { return requests_.load(); }

 private:
  static std::string Quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    return out + "'";
  }

  void Serve(const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    // The stand-in closes every connection after the answer; say so, so that libgit2 does not
    // reuse it.
    res.set_header("Connection", "close");
    if (req.get_header_value("Authorization") != expected_auth_) {
      ++unauthorized_;
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=\"git\"");
      res.set_content("unauthorized\n", "text/plain");
      return;
    }
    int n = ++counter_;
    std::filesystem::path in = scratch_ / ("req" + std::to_string(n));
    std::filesystem::path out = scratch_ / ("res" + std::to_string(n));
    WriteAll(in, req.body);
    std::string query;
    for (const auto& [key, value] : req.params) {
      absl::StrAppend(&query, query.empty() ? "" : "&", key, "=", value);
    }
    std::string command =
        absl::StrCat("env GIT_PROJECT_ROOT=", Quote(root_.string()), " GIT_HTTP_EXPORT_ALL=1",
                     " REMOTE_USER=tester REMOTE_ADDR=127.0.0.1 GIT_CONFIG_NOSYSTEM=1",
                     " GIT_CONFIG_GLOBAL=/dev/null PATH_INFO=", Quote(req.path),
                     " REQUEST_METHOD=", req.method, " QUERY_STRING=", Quote(query),
                     " CONTENT_TYPE=", Quote(req.get_header_value("Content-Type")),
                     " CONTENT_LENGTH=", req.body.size(), " git http-backend < ",
                     Quote(in.string()), " > ", Quote(out.string()));
    CommandResult result = Run(command);
    std::string cgi = ReadAll(out);
    size_t split = cgi.find("\r\n\r\n");
    size_t skip = 4;
    if (split == std::string::npos) {
      split = cgi.find("\n\n");
      skip = 2;
    }
    if (result.exit_code != 0 || split == std::string::npos) {
      res.status = 500;
      res.set_content("http-backend failed: " + result.output, "text/plain");
      return;
    }
    std::string headers = cgi.substr(0, split);
    std::string body = cgi.substr(split + skip);
    std::string content_type = "application/octet-stream";
    res.status = 200;
    for (absl::string_view line : absl::StrSplit(headers, '\n')) {
      line = absl::StripAsciiWhitespace(line);
      size_t colon = line.find(':');
      if (colon == absl::string_view::npos) continue;
      std::string name(line.substr(0, colon));
      std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      if (absl::EqualsIgnoreCase(name, "Status")) {
        res.status = std::stoi(value.substr(0, 3));
      } else if (absl::EqualsIgnoreCase(name, "Content-Type")) {
        content_type = value;
      } else if (!absl::EqualsIgnoreCase(name, "Content-Length")) {
        res.set_header(name.c_str(), value);
      }
    }
    res.set_content(body, content_type.c_str());
  }

  std::filesystem::path root_;
  std::filesystem::path scratch_;
  std::string expected_auth_;
  StandInServer http_;
  std::atomic<int> counter_{0};
  std::atomic<int> unauthorized_{0};
  std::atomic<int> requests_{0};
};

}  // namespace remediator::pr::testing

#endif  // REMEDIATOR_TESTS_SERVER_REMEDIATOR_PR_GIT_HTTP_SERVER_H_
