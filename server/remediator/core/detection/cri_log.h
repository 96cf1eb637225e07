// CRI container log format (k8s-failures.md §3.11):
//   "<RFC3339Nano time> <stdout|stderr> <tags> <text>"   e.g. "2016-10-06T00:17:09.669Z stdout F
//   hi"
// The first ':'-separated tag is P (partial chunk) or F (full line / last chunk).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_CRI_LOG_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_CRI_LOG_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace remediator::detection {

struct CriRecord {
  std::string_view time;
  std::string_view stream;  // "stdout" or "stderr"
  bool partial = false;     // tag P
  std::string_view text;    // may be empty; a trailing "\n" / "\r\n" is not part of it
};

// InvalidArgument (saying what is missing) unless `line` has the shape above: a timestamp that
// starts with 4 digits and '-' and contains 'T', stream stdout|stderr, first tag P or F.
absl::StatusOr<CriRecord> ParseCriLine(std::string_view line);

// Parses `lines` and joins each run of P chunks with the F record that ends it into one logical
// line. A run of P chunks at the end with no F yet is returned as a line too (the rest may come in
// the next batch). The error names the index of the bad line.
absl::StatusOr<std::vector<std::string>> JoinCriLines(const std::vector<std::string_view>& lines);

// The same without copying: unsplit lines are views into the memory `lines` points to; joined
// ones are appended to *joined (whose elements must stay where they are: unique_ptr). The views
// are valid as long as both are.
absl::Status JoinCriLines(const std::vector<std::string_view>& lines,
                          std::vector<std::string_view>* out,
                          std::vector<std::unique_ptr<std::string>>* joined);

struct ContainerLogIdentity {
  std::string namespace_;
  std::string pod;
  std::string container;
};

// Reads namespace/pod/container from
//   /var/log/containers/<pod>_<namespace>_<container>-<64 hex id>.log   or
//   /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log
// (any directory prefix). False when `path` has neither shape.
bool ParseContainerLogPath(std::string_view path, ContainerLogIdentity* identity);

}  // namespace remediator::detection

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_CRI_LOG_H_
