// Helpers for the Kubernetes access tests: temp dirs, files, bounded polling, test certificates.
#ifndef REMEDIATOR_TESTS_SERVER_REMEDIATOR_KUBE_KUBE_TEST_UTIL_H_
#define REMEDIATOR_TESTS_SERVER_REMEDIATOR_KUBE_KUBE_TEST_UTIL_H_

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"

namespace remediator::kube::testing {

// A fresh directory under TEST_TMPDIR (or /tmp), removed at destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/kube_test_XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void WriteTextFile(const std::string& path, const std::string& text, int mode = 0600) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  chmod(path.c_str(), mode);
}

inline std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Polls `condition` every few milliseconds until it holds or `timeout` passes (no fixed sleeps
// as synchronization: the wait ends as soon as the condition is true).
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

// Test PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1/localhost and a
// client certificate, all signed by the CA. Files: ca.crt ca.key server.crt server.key client.crt
// client.key in `dir`. Returns false when openssl fails.
inline bool MakeTestPki(const std::string& dir) {
  const std::string script =
      "set -e; cd '" + dir +
      "'; "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "  -keyout ca.key -out ca.crt -days 2 -subj /CN=kube-test-ca 2>/dev/null; "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "  -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null; "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes\\n' > server.ext; "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
      "  -out server.crt -days 2 -extfile server.ext 2>/dev/null; "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "  -keyout client.key -out client.csr -subj /CN=remediator/O=system:masters 2>/dev/null; "
      "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
      "  -out client.crt -days 2 2>/dev/null; "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "  -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=other-ca 2>/dev/null";
  WriteTextFile(dir + "/pki.sh", script, 0700);
  return std::system(("sh '" + dir + "/pki.sh'").c_str()) == 0;
}

inline std::string B64(const std::string& text) { return absl::Base64Escape(text); }

}  // namespace remediator::kube::testing

#endif  // REMEDIATOR_TESTS_SERVER_REMEDIATOR_KUBE_KUBE_TEST_UTIL_H_
