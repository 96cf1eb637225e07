// Helpers for the log-shipper tests: CRI log files, a real remediator server in process, and
// counting what it stored.
#ifndef REMEDIATOR_TESTS_CLIENTS_SHIPPER_TEST_UTIL_H_
#define REMEDIATOR_TESTS_CLIENTS_SHIPPER_TEST_UTIL_H_

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/remediator/core/incident_store.h"

namespace remediator::testing {

inline constexpr char kContainerId[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// <dir>/<pod>_<ns>_<container>-<id>.log
inline std::string CriLogPath(const std::filesystem::path& dir, const std::string& pod,
                              const std::string& ns = "shop",
                              const std::string& container = "app") {
  return (dir / absl::StrCat(pod, "_", ns, "_", container, "-", kContainerId, ".log")).string();
}

inline std::string CriLine(const std::string& text, const std::string& stream = "stdout") {
  return absl::StrCat("2026-11-26T08:00:00.123456789Z ", stream, " F ", text, "\n");
}

// Appends `errors` error lines ("panic: ...") interleaved with `noise_per_error` ordinary lines.
// Returns the bytes written.
inline size_t AppendLines(const std::string& path, int errors, int noise_per_error,
                          const std::string& tag) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  size_t bytes = 0;
  for (int i = 0; i < errors; ++i) {
    for (int j = 0; j < noise_per_error; ++j) {
      std::string line = CriLine(absl::StrCat("GET /api/v1/orders/", i, " 200 served in 3ms"));
      out << line;
      bytes += line.size();
    }
    std::string line =
        CriLine(absl::StrCat("panic: assignment to entry in nil map ", tag, "-", i), "stderr");
    out << line;
    bytes += line.size();
  }
  return bytes;
}

// Sum of the counts of every incident in namespace `ns`.
inline int64_t IncidentCount(IncidentStore& store, const std::string& ns = "shop") {
  IncidentFilter filter;
  filter.namespace_name = ns;
  filter.page_size = 1000;
  auto page = store.ListIncidents(filter);
  if (!page.ok()) return -1;
  int64_t total = 0;
  for (const auto& incident : page->incidents) total += incident.count();
  return total;
}

// Polls `condition` every 10 ms until it holds or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& condition,
                    absl::Duration timeout = absl::Seconds(30)) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return condition();
}

}  // namespace remediator::testing

#endif  // REMEDIATOR_TESTS_CLIENTS_SHIPPER_TEST_UTIL_H_
