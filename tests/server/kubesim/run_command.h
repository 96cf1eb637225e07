// Runs child processes for the kubesim integration tests (kubectl, openssl, the kubesim binary):
// fork/exec with stdout/stderr captured into files, bounded waits, no shell.
#ifndef REMEDIATOR_TESTS_SERVER_KUBESIM_RUN_COMMAND_H_
#define REMEDIATOR_TESTS_SERVER_KUBESIM_RUN_COMMAND_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace remediator::kubesim::testing {

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A running child process. Its stdout/stderr go to files next to `dir`.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& dir) {
    static int counter = 0;
    std::string id = std::to_string(getpid()) + "-" + std::to_string(++counter);
    out_path_ = dir + "/out-" + id;
    err_path_ = dir + "/err-" + id;
    pid_ = fork();
    if (pid_ == 0) {
      int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int in = open("/dev/null", O_RDONLY);
      dup2(out, 1);
      dup2(err, 2);
      dup2(in, 0);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Child() {
    if (!exited_) {
      kill(pid_, SIGKILL);
      Wait(absl::Seconds(5));
    }
  }
  std::string Stdout() const { return Slurp(out_path_); }
  std::string Stderr() const { return Slurp(err_path_); }
  pid_t pid() const { return pid_; }
  // Exit code, 128+signal when killed, -1 on timeout.
  int Wait(absl::Duration timeout) {
    if (exited_) return code_;
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return code_;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return -1;
  }
  bool Exited() { return Wait(absl::ZeroDuration()) != -1 || exited_; }
  void Signal(int sig) { kill(pid_, sig); }
  // Polls stdout until `pred` holds or the deadline passes.
  bool WaitForStdout(const std::function<bool(const std::string&)>& pred, absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (pred(Stdout())) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return pred(Stdout());
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
  std::string out_path_, err_path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline CommandResult Run(const std::vector<std::string>& argv, const std::string& dir,
                         absl::Duration timeout = absl::Seconds(30)) {
  Child child(argv, dir);
  CommandResult r;
  r.exit_code = child.Wait(timeout);
  r.out = child.Stdout();
  r.err = child.Stderr();
  return r;
}

}  // namespace remediator::kubesim::testing

#endif  // REMEDIATOR_TESTS_SERVER_KUBESIM_RUN_COMMAND_H_
