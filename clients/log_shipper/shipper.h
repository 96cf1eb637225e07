// Shipper: tails CRI log files matching a glob and ships their lines to the Remediator in
// batches over ReportErrorStream, at least once, with bounded memory.
//
// Contract:
//   - Files: `paths` is re-globbed every glob_interval, so files that appear later are picked
//     up. Each file is identified by (device, inode). A path whose inode changed was rotated by
//     rename: the old file (still open) is read to its end, then the new one from 0. A file that
//     became shorter than what was read was truncated in place (copytruncate): it is read again
//     from 0. A file that cannot be opened or read is reported once in the log, by name, and the
//     others go on; it is retried at the next glob.
//   - Lines: only complete lines ('\n' seen) travel; a line longer than max_line_bytes is cut
//     (see FileTailer). Lines that are not CRI are wrapped as "<now> stdout F <line>" so the
//     server accepts the batch. With `prefilter`, only lines the LineMatcher calls candidates
//     (and P chunks, which may hold half a signature) travel, with prefilter_context lines
//     before and after each.
//   - Batches: one CriLogLines observation per file and batch; a batch is sent when it holds
//     batch_lines lines or batch_bytes bytes, or when its first line waited flush_interval (at
//     once in `once` mode). At most stream_batches batches share one stream; the stream is closed
//     when caught up.
//   - At-least-once: the checkpoint of a file (<state_dir>/checkpoints) only moves to the end of
//     lines the server acknowledged (Finish() of the stream that carried them, whose counts of
//     batches and observations must equal what was sent: otherwise DataLoss, not retried).
//     File names that are not UTF-8 travel escaped (EscapeInvalidUtf8). Any send error
//     rewinds every file to its checkpoint, waits (exponential backoff from initial_backoff to
//     max_backoff) and sends again; a restart starts from the checkpoints.
//   - Bounded memory: one batch (≤ batch_bytes + one cut line) plus the transport's buffers.
//     Send() blocks when the server is slower, so reading slows down with it.
// Not thread-safe, except stats().
#ifndef REMEDIATOR_CLIENTS_LOG_SHIPPER_SHIPPER_H_
#define REMEDIATOR_CLIENTS_LOG_SHIPPER_SHIPPER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/log_shipper/batch_sink.h"
#include "clients/log_shipper/checkpoints.h"
#include "clients/log_shipper/cri_file_name.h"
#include "clients/log_shipper/file_tailer.h"
#include "server/common/clock.h"
#include "server/remediator/core/detection/line_matcher.h"

namespace remediator::log_shipper {

struct ShipperOptions {
  std::string paths = "/var/log/containers/*.log";
  std::string state_dir;
  int batch_lines = 1000;
  int batch_bytes = 1 << 20;
  absl::Duration flush_interval = absl::Seconds(1);
  size_t max_line_bytes = 256 * 1024;
  int stream_batches = 16;
  bool prefilter = false;
  // With `prefilter`: also ship this many lines before and after each candidate line (the
  // detector's evidence reads better with them), at most this many lines held per file.
  int prefilter_context = 2;
  bool once = false;
  absl::Duration poll_interval = absl::Milliseconds(200);
  absl::Duration glob_interval = absl::Seconds(2);
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Observation.source, e.g. "log-shipper/node-1".
  std::string source = "log-shipper";
};

struct ShipperStats {
  std::atomic<int64_t> lines_read{0};
  std::atomic<int64_t> lines_sent{0};
  std::atomic<int64_t> lines_filtered{0};
  std::atomic<int64_t> lines_acknowledged{0};
  std::atomic<int64_t> batches_sent{0};
  std::atomic<int64_t> streams_acknowledged{0};
  std::atomic<int64_t> send_failures{0};
};

class Shipper {
 public:
  // InvalidArgument for bad options (non-positive limits, empty state_dir); errors reading the
  // checkpoint file or creating the state dir name the path.
  static absl::StatusOr<std::unique_ptr<Shipper>> Create(ShipperOptions options, BatchSink& sink,
                                                         Clock& clock);
  ~Shipper();

  // Runs Step() until `stop` is set, or in `once` mode until caught up. Sleeps poll_interval
  // (on the clock) when caught up. Returns an error only when retrying cannot help: the server
  // refused the credentials (Unauthenticated, PermissionDenied) or the batch (InvalidArgument),
  // acknowledged fewer batches than were sent (DataLoss), or the checkpoint cannot be written.
  absl::Status Run(const std::atomic<bool>& stop);

  // One pass: re-glob if due, read what there is, send, close the stream and record the
  // acknowledged checkpoints. Returns true when caught up (every file read to its end and
  // everything read acknowledged or filtered). After a retryable send error, waits the backoff
  // and returns false.
  absl::StatusOr<bool> Step();

  const ShipperStats& stats() const { return stats_; }

 private:
  struct Tracked {
    std::string path;
    std::unique_ptr<FileTailer> tailer;
    PodIdentity identity;
    // Offsets: acknowledged <= streamed <= batched <= tailer->offset().
    uint64_t committed = 0;
    uint64_t streamed = 0;
    uint64_t batched = 0;
    int64_t lines_in_stream = 0;
    int64_t lines_in_batch = 0;
    bool draining = false;
    bool at_end = false;
    // Prefilter context: the last lines left out, and how many lines may still follow a candidate.
    std::deque<std::string> context;
    int context_after = 0;
  };

  Shipper(ShipperOptions options, BatchSink& sink, Clock& clock);
  void Glob();
  void Track(const std::string& path, const FileId& id);
  void ResumeRotated(const Checkpoint& checkpoint);
  // Reads `t` into the batch until its end; sends full batches. False on a send error.
  absl::Status ReadFile(Tracked& t, bool* at_end);
  void AddLine(Tracked& t, std::string_view line);
  void AppendToBatch(Tracked& t, std::string_view line, bool is_cri);
  bool BatchFull() const;
  absl::Status SendBatch();
  absl::Status FinishStream();
  absl::Status SaveState();
  // Rewinds everything to the checkpoints; returns `status` when it is not retryable.
  absl::Status Fail(const absl::Status& status);
  void ReportOnce(const std::string& path, const absl::Status& status);

  ShipperOptions options_;
  BatchSink& sink_;
  Clock& clock_;
  std::unique_ptr<detection::LineMatcher> matcher_;
  std::string checkpoint_file_;
  std::map<std::string, Checkpoint> restored_;
  std::vector<std::unique_ptr<Tracked>> files_;
  std::map<std::string, std::string> reported_;
  absl::Time last_glob_ = absl::InfinitePast();
  absl::Duration backoff_;

  v1::ReportErrorRequest batch_;
  Tracked* batch_last_file_ = nullptr;
  int batch_lines_ = 0;
  int64_t batch_bytes_ = 0;
  absl::Time batch_started_;
  bool stream_open_ = false;
  int stream_batches_ = 0;
  int64_t stream_observations_ = 0;
  std::string now_text_;
  bool state_error_ = false;
  ShipperStats stats_;
};

}  // namespace remediator::log_shipper

#endif  // REMEDIATOR_CLIENTS_LOG_SHIPPER_SHIPPER_H_
