#include "server/telephony/adapters/csv_call_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/file_util.h"
#include "server/common/status_macros.h"
#include "server/common/time_util.h"
#include "server/telephony/core/csv.h"

namespace remediator::telephony {
namespace {

const std::vector<std::string>& Columns() {
  static const auto* columns = new std::vector<std::string>{
      "call_time",         "number",           "speech",  "can_intervene",   "incident_id",
      "transcript",        "outcome",          "call_id", "decision",        "confidence",
      "duration_ms",       "attempts",         "error",   "idempotency_key", "dialer",
      "prompt_audio_path", "answer_audio_path"};
  return *columns;
}

// An open descriptor holding a flock, released and closed on destruction.
class LockedFile {
 public:
  static absl::StatusOr<LockedFile> Open(const std::string& path, int flags, int lock) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoToStatus(errno, "open call log " + path);
    while (::flock(fd, lock) != 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return ErrnoToStatus(e, "lock call log " + path);
    }
    return LockedFile(fd);
  }
  LockedFile(LockedFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  LockedFile& operator=(LockedFile&&) = delete;
  ~LockedFile() {
    if (fd_ >= 0) {
      ::flock(fd_, LOCK_UN);
      ::close(fd_);
    }
  }
  int fd() const { return fd_; }

 private:
  explicit LockedFile(int fd) : fd_(fd) {}
  int fd_;
};

absl::StatusOr<std::string> ReadFd(int fd, const std::string& path) {
  std::string out;
  char buf[65536];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "read call log " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    offset += n;
  }
  return out;
}

absl::Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "write call log " + path);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

std::string OutcomeName(::telephony::v1::CallOutcome outcome) {
  switch (outcome) {
    case ::telephony::v1::CALL_OUTCOME_ANSWERED:
      return "answered";
    case ::telephony::v1::CALL_OUTCOME_NO_ANSWER:
      return "no_answer";
    case ::telephony::v1::CALL_OUTCOME_BUSY:
      return "busy";
    case ::telephony::v1::CALL_OUTCOME_FAILED:
      return "failed";
    default:
      return "";
  }
}

::telephony::v1::CallOutcome ParseOutcome(const std::string& s) {
  if (s == "answered") return ::telephony::v1::CALL_OUTCOME_ANSWERED;
  if (s == "no_answer") return ::telephony::v1::CALL_OUTCOME_NO_ANSWER;
  if (s == "busy") return ::telephony::v1::CALL_OUTCOME_BUSY;
  if (s == "failed") return ::telephony::v1::CALL_OUTCOME_FAILED;
  return ::telephony::v1::CALL_OUTCOME_UNSPECIFIED;
}

std::string DecisionName(::telephony::v1::Decision d) {
  switch (d) {
    case ::telephony::v1::DECISION_YES:
      return "yes";
    case ::telephony::v1::DECISION_NO:
      return "no";
    case ::telephony::v1::DECISION_UNCLEAR:
      return "unclear";
    default:
      return "";
  }
}

::telephony::v1::Decision ParseDecision(const std::string& s) {
  if (s == "yes") return ::telephony::v1::DECISION_YES;
  if (s == "no") return ::telephony::v1::DECISION_NO;
  if (s == "unclear") return ::telephony::v1::DECISION_UNCLEAR;
  return ::telephony::v1::DECISION_UNSPECIFIED;
}

}  // namespace

const std::string& CsvCallLog::Header() {
  static const auto* header = new std::string(absl::StrJoin(Columns(), ",") + "\n");
  return *header;
}

std::vector<std::string> CsvCallLog::ToCells(const CallRecord& r) {
  return {FormatIso8601(FromProtoTime(r.call_time()), /*millis=*/true),
          r.number(),
          r.speech(),
          r.can_intervene() ? "true" : "false",
          r.incident_id(),
          r.transcript(),
          OutcomeName(r.outcome()),
          r.call_id(),
          DecisionName(r.decision()),
          absl::StrCat(r.confidence()),
          absl::StrCat(absl::ToInt64Milliseconds(FromProtoDuration(r.duration()))),
          absl::StrCat(r.attempts()),
          r.error(),
          r.idempotency_key(),
          r.dialer(),
          r.prompt_audio_path(),
          r.answer_audio_path()};
}

absl::StatusOr<CallRecord> CsvCallLog::FromCells(const std::vector<std::string>& c) {
  if (c.size() < 8) {
    return absl::DataLossError(absl::StrCat("call log row has ", c.size(), " cells, want >= 8"));
  }
  auto cell = [&](size_t i) -> std::string { return i < c.size() ? c[i] : std::string(); };
  CallRecord r;
  absl::Time t;
  if (!ParseIso8601(c[0], &t)) {
    return absl::DataLossError(absl::StrCat("call log row has a bad call_time \"", c[0], "\""));
  }
  *r.mutable_call_time() = ToProtoTime(t);
  r.set_number(c[1]);
  r.set_speech(c[2]);
  r.set_can_intervene(c[3] == "true");
  r.set_incident_id(c[4]);
  r.set_transcript(c[5]);
  r.set_outcome(ParseOutcome(c[6]));
  r.set_call_id(c[7]);
  r.set_decision(ParseDecision(cell(8)));
  double confidence = 0;
  if (absl::SimpleAtod(cell(9), &confidence)) r.set_confidence(confidence);
  int64_t ms = 0;
  if (absl::SimpleAtoi(cell(10), &ms)) {
    *r.mutable_duration() = ToProtoDuration(absl::Milliseconds(ms));
  }
  int attempts = 0;
  if (absl::SimpleAtoi(cell(11), &attempts)) r.set_attempts(attempts);
  r.set_error(cell(12));
  r.set_idempotency_key(cell(13));
  r.set_dialer(cell(14));
  r.set_prompt_audio_path(cell(15));
  r.set_answer_audio_path(cell(16));
  return r;
}

absl::StatusOr<std::unique_ptr<CsvCallLog>> CsvCallLog::Open(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) RETURN_IF_ERROR(MakeDirectories(parent.string()));
  auto log = std::unique_ptr<CsvCallLog>(new CsvCallLog(path));
  ASSIGN_OR_RETURN(LockedFile file, LockedFile::Open(path, O_RDWR | O_CREAT | O_APPEND, LOCK_EX));
  ASSIGN_OR_RETURN(std::string content, ReadFd(file.fd(), path));
  if (content.empty()) {
    RETURN_IF_ERROR(WriteAll(file.fd(), Header(), path));
    if (::fsync(file.fd()) != 0) return ErrnoToStatus(errno, "fsync call log " + path);
  } else {
    const std::string first_columns = "call_time,number,speech,can_intervene";
    if (content.compare(0, first_columns.size(), first_columns) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " exists but is not a call log (its first line does not start with \"",
                       first_columns, "\")"));
    }
  }
  return log;
}

absl::Status CsvCallLog::Append(const CallRecord& record) {
  std::string row = FormatCsvRow(ToCells(record));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(LockedFile file, LockedFile::Open(path_, O_RDWR | O_CREAT | O_APPEND, LOCK_EX));
  struct stat st;
  if (::fstat(file.fd(), &st) != 0) return ErrnoToStatus(errno, "stat call log " + path_);
  if (st.st_size == 0) {
    row = Header() + row;
  } else {
    char last = 0;
    if (::pread(file.fd(), &last, 1, st.st_size - 1) != 1) {
      return ErrnoToStatus(errno, "read call log " + path_);
    }
    if (last != '\n') {
      // A previous append was torn by a crash: cut the partial row (it was never acknowledged).
      ASSIGN_OR_RETURN(std::string content, ReadFd(file.fd(), path_));
      ASSIGN_OR_RETURN(CsvParseResult parsed, ParseCsv(content));
      if (::ftruncate(file.fd(), static_cast<off_t>(parsed.complete_bytes)) != 0) {
        return ErrnoToStatus(errno, "truncate torn row of call log " + path_);
      }
    }
  }
  RETURN_IF_ERROR(WriteAll(file.fd(), row, path_));
  if (::fsync(file.fd()) != 0) return ErrnoToStatus(errno, "fsync call log " + path_);
  return absl::OkStatus();
}

absl::StatusOr<std::string> CsvCallLog::ReadCsv() {
  ASSIGN_OR_RETURN(LockedFile file, LockedFile::Open(path_, O_RDONLY, LOCK_SH));
  ASSIGN_OR_RETURN(std::string content, ReadFd(file.fd(), path_));
  if (content.empty()) return Header();
  // Never hand out a torn last row.
  if (content.back() != '\n') {
    ASSIGN_OR_RETURN(CsvParseResult parsed, ParseCsv(content));
    content.resize(parsed.complete_bytes);
  }
  return content;
}

absl::StatusOr<std::vector<CallRecord>> CsvCallLog::ReadAll() {
  ASSIGN_OR_RETURN(std::string content, ReadCsv());
  ASSIGN_OR_RETURN(CsvParseResult parsed, ParseCsv(content));
  std::vector<CallRecord> records;
  for (size_t i = 1; i < parsed.rows.size(); ++i) {                         // row 0 is the header
    if (parsed.rows[i].size() == 1 && parsed.rows[i][0].empty()) continue;  // blank line
    absl::StatusOr<CallRecord> record = FromCells(parsed.rows[i]);
    if (!record.ok()) {
      return absl::DataLossError(
          absl::StrCat(path_, ": row ", i + 1, ": ", record.status().message()));
    }
    records.push_back(*std::move(record));
  }
  return records;
}

absl::StatusOr<std::vector<CallRecord>> CsvCallLog::List(const CallFilter& filter) {
  ASSIGN_OR_RETURN(std::vector<CallRecord> all, ReadAll());
  std::vector<CallRecord> out;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    absl::Time t = FromProtoTime(it->call_time());
    if (!filter.incident_id.empty() && it->incident_id() != filter.incident_id) continue;
    if (!filter.number.empty() && it->number() != filter.number) continue;
    if (t < filter.since || t >= filter.until) continue;
    out.push_back(*it);
  }
  std::stable_sort(out.begin(), out.end(), [](const CallRecord& a, const CallRecord& b) {
    return FromProtoTime(a.call_time()) > FromProtoTime(b.call_time());
  });
  return out;
}

absl::StatusOr<std::optional<CallRecord>> CsvCallLog::FindByIdempotencyKey(const std::string& key) {
  if (key.empty()) return std::nullopt;
  ASSIGN_OR_RETURN(std::vector<CallRecord> all, ReadAll());
  for (const CallRecord& r : all) {
    if (r.idempotency_key() == key) return r;
  }
  return std::nullopt;
}

}  // namespace remediator::telephony
