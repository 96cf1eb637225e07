// Helpers for the telephony tests: a temporary directory and running a shell command.
#ifndef REMEDIATOR_TESTS_SERVER_TELEPHONY_TEST_UTIL_H_
#define REMEDIATOR_TESTS_SERVER_TELEPHONY_TEST_UTIL_H_

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace remediator::telephony {

// A fresh directory under $TMPDIR, removed with its content on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "telephony-test-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `command` with /bin/sh and returns its stdout (stderr passes through).
inline std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

}  // namespace remediator::telephony

#endif  // REMEDIATOR_TESTS_SERVER_TELEPHONY_TEST_UTIL_H_
