// CsvCallLog: the call log as one CSV file (design.md §5).
//
// Columns: call_time,number,speech,can_intervene,incident_id,transcript,outcome,call_id, then
// decision,confidence,duration_ms,attempts,error,idempotency_key,dialer,prompt_audio_path,
// answer_audio_path. call_time is ISO 8601 UTC with milliseconds; can_intervene is true/false;
// outcome is answered|no_answer|busy|failed; decision is yes|no|unclear.
//
// Appends take an in-process mutex and an exclusive flock(2) on the file, write the row with
// one write(2) on an O_APPEND descriptor, then fsync. A row torn by a crash (the file does not
// end with a complete row) is cut off by the next append before it writes; readers ignore it.
// Readers take a shared flock. Thread-safe and safe across processes.
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_CSV_CALL_LOG_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_CSV_CALL_LOG_H_

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/telephony/core/call_log.h"

namespace remediator::telephony {

class CsvCallLog final : public CallLog {
 public:
  // The header line, with its "\n".
  static const std::string& Header();

  // Creates the file (and its directory) with the header if it does not exist; checks the header
  // of an existing file (FailedPrecondition naming the file if it is another CSV).
  static absl::StatusOr<std::unique_ptr<CsvCallLog>> Open(const std::string& path);

  absl::Status Append(const CallRecord& record) override;
  absl::StatusOr<std::vector<CallRecord>> List(const CallFilter& filter) override;
  absl::StatusOr<std::optional<CallRecord>> FindByIdempotencyKey(
      const std::string& idempotency_key) override;
  absl::StatusOr<std::string> ReadCsv() override;

  const std::string& path() const { return path_; }

  // Conversions between a record and its cells (exposed for tests).
  static std::vector<std::string> ToCells(const CallRecord& record);
  static absl::StatusOr<CallRecord> FromCells(const std::vector<std::string>& cells);

 private:
  explicit CsvCallLog(std::string path) : path_(std::move(path)) {}
  absl::StatusOr<std::vector<CallRecord>> ReadAll();

  std::string path_;
  absl::Mutex mu_;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_CSV_CALL_LOG_H_
