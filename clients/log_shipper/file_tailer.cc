#include "clients/log_shipper/file_tailer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/common/file_util.h"

namespace remediator::log_shipper {
namespace {

// Read size: large enough for few syscalls, small enough that a re-read after a batch boundary
// (see ReadLines) costs little.
constexpr size_t kChunkBytes = 64 * 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<FileTailer>> FileTailer::Open(const std::string& path,
                                                             uint64_t offset,
                                                             size_t max_line_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("cannot open log file ", path));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int error = errno;
    ::close(fd);
    return ErrnoToStatus(error, absl::StrCat("cannot stat log file ", path));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read log file ", path, ": not a regular file"));
  }
  auto tailer = std::unique_ptr<FileTailer>(new FileTailer(
      path, fd, FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)},
      max_line_bytes));
  tailer->Rewind(offset > static_cast<uint64_t>(st.st_size) ? 0 : offset);
  return tailer;
}

FileTailer::FileTailer(std::string path, int fd, FileId id, size_t max_line_bytes)
    : path_(std::move(path)),
      fd_(fd),
      id_(id),
      max_line_bytes_(max_line_bytes),
      chunk_(new char[kChunkBytes]) {}

FileTailer::~FileTailer() { ::close(fd_); }

void FileTailer::Rewind(uint64_t offset) {
  offset_ = read_pos_ = offset;
  line_.clear();
  skipped_ = 0;
}

absl::StatusOr<bool> FileTailer::Truncated() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return ErrnoToStatus(errno, absl::StrCat("cannot stat ", path_));
  return static_cast<uint64_t>(st.st_size) < read_pos_;
}

absl::StatusOr<bool> FileTailer::ReadLines(
    const std::function<bool(std::string_view line)>& on_line) {
  while (true) {
    ssize_t n = ::pread(fd_, chunk_.get(), kChunkBytes, static_cast<off_t>(read_pos_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, absl::StrCat("cannot read log file ", path_));
    }
    if (n == 0) return true;
    const char* data = chunk_.get();
    size_t size = static_cast<size_t>(n);
    size_t pos = 0;
    while (pos < size) {
      const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', size - pos));
      size_t end = nl == nullptr ? size : static_cast<size_t>(nl - data);
      // Keep at most max_line_bytes_ of the line; count the rest as skipped.
      size_t room = max_line_bytes_ > line_.size() ? max_line_bytes_ - line_.size() : 0;
      size_t take = std::min(room, end - pos);
      line_.append(data + pos, take);
      skipped_ += (end - pos) - take;
      if (nl == nullptr) {
        pos = size;
        break;
      }
      pos = end + 1;
      offset_ = read_pos_ + pos;
      if (skipped_ > 0) absl::StrAppend(&line_, " [truncated ", skipped_, " bytes]");
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      bool more = on_line(line_);
      line_.clear();
      skipped_ = 0;
      if (!more) {
        // Stop right after this line; the rest of the chunk is read again next time.
        read_pos_ = offset_;
        return false;
      }
    }
    read_pos_ += size;
  }
}

}  // namespace remediator::log_shipper
