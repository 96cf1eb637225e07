#include "server/common/logging.h"

#include <atomic>
#include <iostream>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/common/redact.h"

namespace remediator {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};
std::atomic<LogLevel> g_min_level{LogLevel::kInfo};
std::atomic<std::ostream*> g_sink{nullptr};
std::mutex g_mu;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// Text values with spaces, quotes or '=' are quoted so that the line stays parseable.
std::string QuoteIfNeeded(const std::string& value) {
  if (!value.empty() && value.find_first_of(" \"=\t\n") == std::string::npos) return value;
  return nlohmann::json(value).dump();
}

}  // namespace

void ConfigureLogging(LogFormat format, LogLevel min_level) {
  g_format = format;
  g_min_level = min_level;
}

void SetLogSinkForTesting(std::ostream* sink) { g_sink = sink; }

bool ParseLogFormat(std::string_view text, LogFormat* format) {
  if (text == "text") {
    *format = LogFormat::kText;
  } else if (text == "json") {
    *format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (level < g_min_level.load()) return;
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::string line;
  if (g_format.load() == LogFormat::kJson) {
    nlohmann::ordered_json record;
    record["time"] = time;
    record["level"] = LevelName(level);
    record["msg"] = RedactSecrets(std::string(message));
    for (const auto& [key, value] : fields) record[std::string(key)] = RedactSecrets(value);
    line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    std::string upper = LevelName(level);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    line = time + " " + upper + " " + RedactSecrets(std::string(message));
    for (const auto& [key, value] : fields) {
      line += " ";
      line += key;
      line += "=";
      line += QuoteIfNeeded(RedactSecrets(value));
    }
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(g_mu);
  std::ostream* sink = g_sink.load();
  std::ostream& out = sink != nullptr ? *sink : std::cerr;
  out << line;
  out.flush();
}

}  // namespace remediator
