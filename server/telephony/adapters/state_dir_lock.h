// StateDirLock: an exclusive flock(2) on STATE_DIR/telephony.lock, held for the life of the
// server, so that a call log and its idempotency keys have exactly one writer. A second server
// on the same directory fails to start (main exits 2) instead of dialing a key twice.
// The lock is released by the kernel when the process ends, even on SIGKILL.
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_STATE_DIR_LOCK_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_STATE_DIR_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace remediator::telephony {

class StateDirLock {
 public:
  // Takes the lock without waiting and writes this process's pid into the lock file.
  // FailedPrecondition naming the directory and the holder's pid when another process holds it;
  // another error when the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<StateDirLock>> Acquire(const std::string& state_dir);
  ~StateDirLock();
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  StateDirLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_STATE_DIR_LOCK_H_
