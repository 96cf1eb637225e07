// A small structured logger: one line per record on stderr, as text
//   2026-11-26T07:01:02.123Z INFO listening addr=127.0.0.1:50051
// or as JSON
//   {"time":"2026-11-26T07:01:02.123Z","level":"info","msg":"listening","addr":"127.0.0.1:50051"}
// Debian 12's Abseil has no absl/log, hence this facade. Field values pass through
// the redactor (server/common/redact.h) so a token that slips into a log call is masked.
// Thread-safe: records from several threads never interleave within a line.
#ifndef REMEDIATOR_SERVER_COMMON_LOGGING_H_
#define REMEDIATOR_SERVER_COMMON_LOGGING_H_

#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace remediator {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class LogFormat { kText, kJson };

using LogField = std::pair<std::string_view, std::string>;

// Sets the process-wide format and minimum level. Call once from main().
void ConfigureLogging(LogFormat format, LogLevel min_level = LogLevel::kInfo);

// Redirects records to `sink` (nullptr restores stderr). For tests; the stream must outlive use.
void SetLogSinkForTesting(std::ostream* sink);

// Parses "text" or "json"; returns false for anything else.
bool ParseLogFormat(std::string_view text, LogFormat* format);

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

inline void LogDebug(std::string_view m, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kDebug, m, f);
}
inline void LogInfo(std::string_view m, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kInfo, m, f);
}
inline void LogWarning(std::string_view m, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kWarning, m, f);
}
inline void LogError(std::string_view m, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kError, m, f);
}

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_LOGGING_H_
