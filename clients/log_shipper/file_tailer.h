// FileTailer reads one log file line by line from an offset, with bounded memory:
//   - A line is returned only once its '\n' has been read; a trailing line without '\n' waits
//     (the writer has not finished it). offset() is always just after the last returned line,
//     which is what a checkpoint may record.
//   - A line longer than max_line_bytes is cut: its first max_line_bytes bytes are kept, the rest
//     is skipped as it is read (never held), and " [truncated N bytes]" is appended.
//   - The file stays open: after a rename-rotation the old file can be read to its end.
// Not thread-safe.
#ifndef REMEDIATOR_CLIENTS_LOG_SHIPPER_FILE_TAILER_H_
#define REMEDIATOR_CLIENTS_LOG_SHIPPER_FILE_TAILER_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace remediator::log_shipper {

struct FileId {
  uint64_t device = 0;
  uint64_t inode = 0;
  bool operator==(const FileId& other) const {
    return device == other.device && inode == other.inode;
  }
};

class FileTailer {
 public:
  // Opens `path` and positions it at `offset` (0 when offset is past the end: the file was
  // truncated since). Errors name the file and the reason (permission denied...).
  static absl::StatusOr<std::unique_ptr<FileTailer>> Open(const std::string& path, uint64_t offset,
                                                          size_t max_line_bytes);
  ~FileTailer();
  FileTailer(const FileTailer&) = delete;
  FileTailer& operator=(const FileTailer&) = delete;

  // Calls on_line(line) (without '\n') for complete lines until on_line returns false (stop
  // after that line), or the end of the file. Returns true when it stopped at the end of the file
  // (caught up). Errors name the file (e.g. "Is a directory").
  absl::StatusOr<bool> ReadLines(const std::function<bool(std::string_view line)>& on_line);

  // Goes back to `offset` (a value offset() returned), dropping any partial line.
  void Rewind(uint64_t offset);
  // True when the file is now shorter than what was read (copytruncate): the caller rewinds to 0.
  absl::StatusOr<bool> Truncated() const;

  uint64_t offset() const { return offset_; }
  const FileId& id() const { return id_; }
  const std::string& path() const { return path_; }

 private:
  FileTailer(std::string path, int fd, FileId id, size_t max_line_bytes);

  std::string path_;
  int fd_;
  FileId id_;
  size_t max_line_bytes_;
  // Just after the last complete line returned.
  uint64_t offset_ = 0;
  // Where the next read() starts; bytes in [offset_, read_pos_) are in line_ (or were skipped).
  uint64_t read_pos_ = 0;
  std::string line_;
  uint64_t skipped_ = 0;
  std::unique_ptr<char[]> chunk_;
};

}  // namespace remediator::log_shipper

#endif  // REMEDIATOR_CLIENTS_LOG_SHIPPER_FILE_TAILER_H_
