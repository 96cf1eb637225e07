#include "clients/log_shipper/shipper.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "server/common/file_util.h"
#include "server/common/logging.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/detection/cri_log.h"
#include "server/remediator/core/detection/log_patterns.h"

namespace remediator::log_shipper {
namespace {

bool Retryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDataLoss:
      return false;
    default:
      return true;
  }
}

// Bytes a line costs in a batch besides its text (protobuf framing, a rough upper bound).
constexpr int64_t kLineOverhead = 8;

}  // namespace

absl::StatusOr<std::unique_ptr<Shipper>> Shipper::Create(ShipperOptions options, BatchSink& sink,
                                                         Clock& clock) {
  if (options.state_dir.empty()) {
    return absl::InvalidArgumentError("state dir is empty: give --state-dir DIR");
  }
  if (options.paths.empty()) return absl::InvalidArgumentError("paths is empty: give --paths GLOB");
  if (options.batch_lines <= 0 || options.batch_bytes <= 0 || options.stream_batches <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch limits must be positive (batch lines ", options.batch_lines, ", batch bytes ",
        options.batch_bytes, ", stream batches ", options.stream_batches, ")"));
  }
  if (options.prefilter_context < 0 || options.prefilter_context > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefilter context ", options.prefilter_context, " is outside 0..100"));
  }
  if (options.max_line_bytes < 64) {
    return absl::InvalidArgumentError("max line bytes must be at least 64");
  }
  if (options.flush_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("flush interval must not be negative");
  }
  RETURN_IF_ERROR(MakeDirectories(options.state_dir));
  auto shipper = std::unique_ptr<Shipper>(new Shipper(std::move(options), sink, clock));
  shipper->checkpoint_file_ = shipper->options_.state_dir + "/checkpoints";
  ASSIGN_OR_RETURN(std::vector<Checkpoint> checkpoints, LoadCheckpoints(shipper->checkpoint_file_));
  for (Checkpoint& c : checkpoints) shipper->restored_[c.path] = c;
  if (shipper->options_.prefilter) {
    ASSIGN_OR_RETURN(shipper->matcher_,
                     detection::LineMatcher::Create(detection::DefaultLogPatterns()));
  }
  return shipper;
}

Shipper::Shipper(ShipperOptions options, BatchSink& sink, Clock& clock)
    : options_(std::move(options)),
      sink_(sink),
      clock_(clock),
      backoff_(options_.initial_backoff) {}

Shipper::~Shipper() { sink_.Cancel(); }

void Shipper::ReportOnce(const std::string& path, const absl::Status& status) {
  std::string text = status.ToString();
  auto it = reported_.find(path);
  if (it != reported_.end() && it->second == text) return;
  reported_[path] = text;
  LogError("skipping log file it cannot read; the other files go on, it is retried later",
           {{"file", path}, {"error", std::string(status.message())}});
}

void Shipper::Track(const std::string& path, const FileId& id) {
  uint64_t offset = 0;
  auto restored = restored_.find(path);
  if (restored != restored_.end()) {
    if (restored->second.id == id) {
      offset = restored->second.offset;
    } else {
      ResumeRotated(restored->second);
    }
    restored_.erase(restored);
  }
  absl::StatusOr<PodIdentity> identity = ParseCriLogFileName(path);
  if (!identity.ok()) {
    ReportOnce(path, identity.status());
    return;
  }
  absl::StatusOr<std::unique_ptr<FileTailer>> tailer =
      FileTailer::Open(path, offset, options_.max_line_bytes);
  if (!tailer.ok()) {
    ReportOnce(path, tailer.status());
    return;
  }
  reported_.erase(path);
  auto t = std::make_unique<Tracked>();
  t->path = path;
  t->identity = *std::move(identity);
  t->tailer = *std::move(tailer);
  t->committed = t->streamed = t->batched = t->tailer->offset();
  LogInfo("tailing log file", {{"file", path}, {"offset", absl::StrCat(t->committed)}});
  files_.push_back(std::move(t));
}

// The file was rotated while the shipper was not running: the checkpointed inode now has another
// name. Runtimes rename it next to the new file (kubelet: /var/log/pods/.../0.log.<time>, which
// the /var/log/containers symlink pointed to; logrotate: <file>.1), so look for it in the
// directory of the path and of its symlink target, and read its unacknowledged rest first.
void Shipper::ResumeRotated(const Checkpoint& checkpoint) {
  std::error_code ec;
  std::set<std::filesystem::path> dirs = {std::filesystem::path(checkpoint.path).parent_path()};
  std::filesystem::path target = std::filesystem::canonical(checkpoint.path, ec);
  if (!ec) dirs.insert(target.parent_path());
  for (const auto& dir : dirs) {
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      struct stat st;
      if (::stat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (static_cast<uint64_t>(st.st_dev) != checkpoint.id.device ||
          static_cast<uint64_t>(st.st_ino) != checkpoint.id.inode) {
        continue;
      }
      absl::StatusOr<PodIdentity> identity = ParseCriLogFileName(checkpoint.path);
      absl::StatusOr<std::unique_ptr<FileTailer>> tailer =
          FileTailer::Open(entry.path().string(), checkpoint.offset, options_.max_line_bytes);
      if (!identity.ok() || !tailer.ok()) return;
      auto t = std::make_unique<Tracked>();
      t->path = checkpoint.path;
      t->identity = *std::move(identity);
      t->tailer = *std::move(tailer);
      t->committed = t->streamed = t->batched = t->tailer->offset();
      t->draining = true;
      LogInfo("log file was rotated while stopped; finishing the old one first",
              {{"file", checkpoint.path}, {"rotated_to", entry.path().string()}});
      files_.push_back(std::move(t));
      return;
    }
  }
}

void Shipper::Glob() {
  last_glob_ = clock_.Now();
  glob_t matches{};
  int rc = ::glob(options_.paths.c_str(), GLOB_NOSORT, nullptr, &matches);
  std::set<std::string> seen;
  if (rc == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) seen.insert(matches.gl_pathv[i]);
  } else if (rc != GLOB_NOMATCH) {
    LogWarning("cannot list log files", {{"paths", options_.paths}});
  }
  ::globfree(&matches);
  bool idle = batch_lines_ == 0 && !stream_open_;
  for (const std::string& path : seen) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      ReportOnce(path, ErrnoToStatus(errno, absl::StrCat("cannot stat log file ", path)));
      continue;
    }
    FileId id{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
    Tracked* current = nullptr;
    for (auto& t : files_) {
      if (!t->draining && t->path == path) current = t.get();
    }
    if (current != nullptr && current->tailer->id() == id) {
      // Same file. Shorter than what was read: truncated in place (copytruncate).
      if (idle) {
        absl::StatusOr<bool> truncated = current->tailer->Truncated();
        if (truncated.ok() && *truncated) {
          LogInfo("log file was truncated; reading it again from the start", {{"file", path}});
          current->tailer->Rewind(0);
          current->committed = current->streamed = current->batched = 0;
        }
      }
      continue;
    }
    if (current != nullptr) {
      // Rotated by rename: finish the old file, then read the new one.
      LogInfo("log file was rotated; finishing the old one", {{"file", path}});
      current->draining = true;
      current->at_end = false;  // read it to its end again before forgetting it
    }
    Track(path, id);
  }
  for (auto& t : files_) {
    if (!t->draining && seen.count(t->path) == 0) {
      t->draining = true;
      t->at_end = false;
    }
  }
  // Forget drained files once everything read from them is acknowledged.
  if (idle) {
    files_.erase(std::remove_if(files_.begin(), files_.end(),
                                [](const std::unique_ptr<Tracked>& t) {
                                  return t->draining && t->at_end &&
                                         t->committed == t->tailer->offset();
                                }),
                 files_.end());
  }
}

bool Shipper::BatchFull() const {
  return batch_lines_ >= options_.batch_lines || batch_bytes_ >= options_.batch_bytes;
}

void Shipper::AddLine(Tracked& t, std::string_view line) {
  stats_.lines_read.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<detection::CriRecord> record = detection::ParseCriLine(line);
  if (matcher_ != nullptr && record.ok() && !record->partial) {
    if (matcher_->IsCandidate(record->text)) {
      // A candidate: the lines kept before it go first, and the next few follow it.
      for (const std::string& before : t.context) {
        AppendToBatch(t, before, true);
        stats_.lines_filtered.fetch_sub(1, std::memory_order_relaxed);
      }
      t.context.clear();
      t.context_after = options_.prefilter_context;
    } else if (t.context_after > 0) {
      --t.context_after;
    } else {
      stats_.lines_filtered.fetch_add(1, std::memory_order_relaxed);
      if (options_.prefilter_context > 0) {
        t.context.emplace_back(line);
        if (static_cast<int>(t.context.size()) > options_.prefilter_context) t.context.pop_front();
      }
      t.batched = t.tailer->offset();
      return;
    }
  }
  AppendToBatch(t, line, record.ok());
}

void Shipper::AppendToBatch(Tracked& t, std::string_view line, bool is_cri) {
  if (batch_lines_ == 0) batch_started_ = clock_.Now();
  if (batch_last_file_ != &t) {
    v1::Observation* observation = batch_.add_observations();
    observation->set_source(options_.source);
    v1::CriLogLines* cri = observation->mutable_cri_log();
    // Names are bytes on disk but UTF-8 strings on the wire (see EscapeInvalidUtf8).
    cri->set_log_file(EscapeInvalidUtf8(t.path));
    cri->set_namespace_(EscapeInvalidUtf8(t.identity.namespace_name));
    cri->set_pod(EscapeInvalidUtf8(t.identity.pod));
    cri->set_container(EscapeInvalidUtf8(t.identity.container));
    batch_last_file_ = &t;
    batch_bytes_ += static_cast<int64_t>(t.path.size()) + 64;
  }
  v1::CriLogLines* cri =
      batch_.mutable_observations(batch_.observations_size() - 1)->mutable_cri_log();
  if (is_cri) {
    cri->add_lines(line.data(), line.size());
  } else {
    // Not CRI (e.g. a docker json-file line or garbage): wrap it so the server keeps the batch.
    if (now_text_.empty()) {
      now_text_ = absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", clock_.Now(), absl::UTCTimeZone());
    }
    cri->add_lines(absl::StrCat(now_text_, " stdout F ", std::string(line)));
  }
  batch_lines_ += 1;
  batch_bytes_ += static_cast<int64_t>(line.size()) + kLineOverhead;
  t.lines_in_batch += 1;
  t.batched = t.tailer->offset();
}

absl::Status Shipper::SendBatch() {
  if (batch_lines_ == 0) return absl::OkStatus();
  if (!stream_open_) {
    RETURN_IF_ERROR(sink_.Begin());
    stream_open_ = true;
    stream_batches_ = 0;
    stream_observations_ = 0;
  }
  RETURN_IF_ERROR(sink_.Send(batch_));
  stream_observations_ += batch_.observations_size();
  stats_.batches_sent.fetch_add(1, std::memory_order_relaxed);
  stats_.lines_sent.fetch_add(batch_lines_, std::memory_order_relaxed);
  for (auto& t : files_) {
    t->streamed = t->batched;
    t->lines_in_stream += t->lines_in_batch;
    t->lines_in_batch = 0;
  }
  batch_.Clear();
  batch_last_file_ = nullptr;
  batch_lines_ = 0;
  batch_bytes_ = 0;
  now_text_.clear();
  ++stream_batches_;
  if (stream_batches_ >= options_.stream_batches) return FinishStream();
  return absl::OkStatus();
}

absl::Status Shipper::FinishStream() {
  if (!stream_open_) return absl::OkStatus();
  stream_open_ = false;
  ASSIGN_OR_RETURN(v1::ReportErrorStreamResponse ack, sink_.Finish());
  // OK alone is not enough: a server that stopped reading early (an older one took a batch it
  // could not parse for the end of the stream) answers OK for fewer batches than were sent.
  if (ack.batches() != stream_batches_ || ack.observations() != stream_observations_) {
    return absl::DataLossError(absl::StrCat("the server acknowledged ", ack.batches(), " batches (",
                                            ack.observations(), " observations) of the ",
                                            stream_batches_, " (", stream_observations_,
                                            ") sent: nothing of this stream is checkpointed"));
  }
  stats_.streams_acknowledged.fetch_add(1, std::memory_order_relaxed);
  for (auto& t : files_) {
    t->committed = t->streamed;
    stats_.lines_acknowledged.fetch_add(t->lines_in_stream, std::memory_order_relaxed);
    t->lines_in_stream = 0;
  }
  backoff_ = options_.initial_backoff;
  return SaveState();
}

absl::Status Shipper::SaveState() {
  std::vector<Checkpoint> checkpoints;
  for (auto& t : files_) {
    checkpoints.push_back(Checkpoint{t->path, t->tailer->id(), t->committed});
  }
  // Files not seen again yet (e.g. unreadable for now) keep their checkpoint.
  for (auto& [path, c] : restored_) checkpoints.push_back(c);
  absl::Status status = SaveCheckpoints(checkpoint_file_, checkpoints);
  if (!status.ok()) {
    state_error_ = true;
    return absl::Status(status.code(),
                        absl::StrCat("cannot write checkpoints: ", status.message()));
  }
  return absl::OkStatus();
}

absl::Status Shipper::Fail(const absl::Status& status) {
  sink_.Cancel();
  stream_open_ = false;
  batch_.Clear();
  batch_last_file_ = nullptr;
  batch_lines_ = 0;
  batch_bytes_ = 0;
  now_text_.clear();
  for (auto& t : files_) {
    t->tailer->Rewind(t->committed);
    t->streamed = t->batched = t->committed;
    t->lines_in_stream = t->lines_in_batch = 0;
    t->at_end = false;
    t->context.clear();
    t->context_after = 0;
  }
  stats_.send_failures.fetch_add(1, std::memory_order_relaxed);
  if (!Retryable(status)) {
    LogError("the server refused the log lines; stopping", {{"error", status.ToString()}});
    return status;
  }
  LogWarning("cannot ship log lines; retrying from the last acknowledged position",
             {{"error", status.ToString()}, {"retry_in", absl::FormatDuration(backoff_)}});
  clock_.SleepFor(backoff_);
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  return absl::OkStatus();
}

absl::Status Shipper::ReadFile(Tracked& t, bool* at_end) {
  while (true) {
    absl::StatusOr<bool> end = t.tailer->ReadLines([&](std::string_view line) {
      AddLine(t, line);
      return !BatchFull();
    });
    if (!end.ok()) {
      ReportOnce(t.path, end.status());
      *at_end = true;
      return absl::OkStatus();
    }
    if (*end) {
      *at_end = true;
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(SendBatch());
  }
}

absl::StatusOr<bool> Shipper::Step() {
  if (clock_.Now() - last_glob_ >= options_.glob_interval || last_glob_ == absl::InfinitePast()) {
    Glob();
  }
  absl::Status status;
  for (size_t i = 0; i < files_.size() && status.ok(); ++i) {
    bool at_end = false;
    status = ReadFile(*files_[i], &at_end);
    files_[i]->at_end = at_end;
  }
  if (status.ok() && batch_lines_ > 0 &&
      (options_.once || clock_.Now() - batch_started_ >= options_.flush_interval)) {
    status = SendBatch();
  }
  if (status.ok()) status = FinishStream();
  if (!status.ok()) {
    if (state_error_) return status;
    RETURN_IF_ERROR(Fail(status));
    return false;
  }
  if (batch_lines_ > 0) return false;
  // Nothing pending: lines left out by the prefilter are done too.
  bool moved = false;
  for (auto& t : files_) {
    if (t->committed != t->tailer->offset()) {
      t->committed = t->streamed = t->batched = t->tailer->offset();
      moved = true;
    }
  }
  if (moved) RETURN_IF_ERROR(SaveState());
  return true;
}

absl::Status Shipper::Run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    ASSIGN_OR_RETURN(bool caught_up, Step());
    if (!caught_up) continue;
    if (options_.once) return absl::OkStatus();
    clock_.SleepFor(options_.poll_interval);
  }
  return absl::OkStatus();
}

}  // namespace remediator::log_shipper
