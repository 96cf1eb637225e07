#include "server/telephony/adapters/state_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/file_util.h"

namespace remediator::telephony {

absl::StatusOr<std::unique_ptr<StateDirLock>> StateDirLock::Acquire(const std::string& state_dir) {
  const std::string path = state_dir + "/telephony.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoToStatus(errno, "open lock file " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) {
      ::close(fd);
      return ErrnoToStatus(err, "lock " + path);
    }
    // The holder wrote its pid when it took the lock (best effort: it may still be writing).
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    const std::string pid(absl::StripAsciiWhitespace(std::string(buf, n > 0 ? size_t(n) : 0)));
    return absl::FailedPreconditionError(absl::StrCat(
        "another telephony server", pid.empty() ? "" : absl::StrCat(" (pid ", pid, ")"),
        " is using the state directory ", state_dir, " (it holds the lock on ", path,
        "); give each server its own --state-dir"));
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoToStatus(err, "write lock file " + path);
  }
  return std::unique_ptr<StateDirLock>(new StateDirLock(fd, path));
}

StateDirLock::~StateDirLock() { ::close(fd_); }

}  // namespace remediator::telephony
