// Subprocess: a child process in its own process group, always killed and reaped.
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_SUBPROCESS_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace remediator::telephony {

class Subprocess {
 public:
  // Starts argv[0] (looked up in PATH) with stdin from `stdin_path` (default /dev/null) and
  // stdout+stderr appended to `log_path`. Unavailable naming the program when it cannot be
  // started.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(const std::vector<std::string>& argv,
                                                           const std::string& log_path,
                                                           const std::string& stdin_path = "");
  // Kills the process group (SIGKILL) if still running, and reaps the child.
  ~Subprocess();

  // True while the child has not exited (reaps it when it has).
  bool Running();
  // Waits up to `timeout` for the child to exit by itself; true when it did.
  bool WaitFor(absl::Duration timeout);
  // SIGTERM, then SIGKILL after `grace`; always reaps.
  void Stop(absl::Duration grace = absl::Milliseconds(500));
  pid_t pid() const { return pid_; }
  // Exit status as from waitpid, once reaped.
  int wait_status() const { return wait_status_; }

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
  int wait_status_ = 0;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_SUBPROCESS_H_
