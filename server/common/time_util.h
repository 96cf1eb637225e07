// Conversions between absl::Time/Duration and google.protobuf.Timestamp/Duration, and the
// ISO 8601 UTC text form used in CSV files and tables.
#ifndef REMEDIATOR_SERVER_COMMON_TIME_UTIL_H_
#define REMEDIATOR_SERVER_COMMON_TIME_UTIL_H_

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <string>

#include "absl/time/time.h"

namespace remediator {

google::protobuf::Timestamp ToProtoTime(absl::Time time);
absl::Time FromProtoTime(const google::protobuf::Timestamp& timestamp);
google::protobuf::Duration ToProtoDuration(absl::Duration duration);
absl::Duration FromProtoDuration(const google::protobuf::Duration& duration);

// "2026-11-26T07:01:02Z" (seconds) or with `millis`, "2026-11-26T07:01:02.123Z".
std::string FormatIso8601(absl::Time time, bool millis = false);
// Parses RFC 3339 / ISO 8601 with a zone ("Z" or +hh:mm); false when it is not one.
bool ParseIso8601(const std::string& text, absl::Time* time);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_TIME_UTIL_H_
