// LokiSource: pulls container logs from Grafana Loki (GET /loki/api/v1/query_range,
// api-contracts.md §4.1) and feeds them to the Ingestor, without skipping or repeating lines
// across restarts.
//
// Contract:
//   - Each poll asks for [cursor, now - delay) with direction=forward and `limit`; start/end are
//     Unix nanoseconds as strings (start inclusive, end exclusive). Without a stored cursor the
//     first poll starts at now - lookback.
//   - Paging: a page with fewer than `limit` entries holds everything up to `end`: the cursor
//     becomes `end`. A full page ends at some timestamp T, and more entries at T may be missing:
//     the entries before T are ingested and the next page starts at T (inclusive), so nothing at T
//     is lost and nothing before T comes twice. If a full page holds only T, it is ingested and the
//     cursor moves to T+1 (lines at T beyond `limit` would be lost: raise the limit; logged).
//   - The cursor ("loki/<name>/cursor" in the IncidentStore, decimal ns) is written only after the
//     entries before it were ingested, so a crash repeats at most one page and skips nothing.
//   - Each stream of a page becomes one Observation{loki: LokiResult} holding only that stream,
//     whose labels get "namespace", "pod" and "container" copied from the configured label names
//     (Promtail's namespace/pod/container, OTLP's k8s_namespace_name/...: k8s-failures.md §3.12).
//   - Errors: Loki's text/plain error bodies become statuses that quote them: 400 InvalidArgument,
//     401 Unauthenticated, 403 PermissionDenied, 404 NotFound, 429 ResourceExhausted, 5xx
//     Unavailable. 429, 5xx and transport errors are retried with exponential backoff (on the
//     clock; Retry-After honoured) up to max_attempts; then the poll fails and the cursor stays.
// Not thread-safe: one poller per source.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_LOKI_SOURCE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_LOKI_SOURCE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/http_client.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/ingestor.h"

namespace remediator {

struct LokiSourceOptions {
  // Names the cursor: "loki/<name>/cursor".
  std::string name = "default";
  // e.g. "http://loki.monitoring:3100" (no trailing path).
  std::string base_url;
  // LogQL log query, e.g. {namespace=~"shop|pay"} |= "error".
  std::string query;
  // X-Scope-OrgID for multi-tenant Loki; empty sends none.
  std::string tenant;
  // Sent as "Authorization: Bearer <token>" when not empty; never logged.
  std::string bearer_token;
  std::string cluster;
  int limit = 1000;
  absl::Duration lookback = absl::Hours(1);
  // end = now - delay, so lines Loki has not indexed yet are not stepped over.
  absl::Duration delay = absl::Seconds(2);
  absl::Duration poll_interval = absl::Seconds(10);
  int max_pages_per_poll = 100;
  std::string namespace_label = "namespace";
  std::string pod_label = "pod";
  std::string container_label = "container";
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  absl::Duration timeout = absl::Seconds(30);
};

struct LokiPollResult {
  int requests = 0;
  int pages = 0;
  int64_t entries = 0;
  int observations = 0;
  // Observations found to be failures.
  int detections = 0;
  // The cursor after the poll (ns).
  int64_t cursor_ns = 0;
};

class LokiSource {
 public:
  // InvalidArgument for an empty base_url/query/name, a limit outside 1..5000 (Loki's default
  // max_entries_limit_per_query) or empty label names.
  static absl::StatusOr<std::unique_ptr<LokiSource>> Create(LokiSourceOptions options,
                                                            HttpClient& http, Ingestor& ingestor,
                                                            IncidentStore& store, Clock& clock);

  // One poll: every page from the cursor to now - delay (at most max_pages_per_poll).
  absl::StatusOr<LokiPollResult> PollOnce();

  // PollOnce every poll_interval until `stop`; failures are logged and retried next time.
  void Run(const std::atomic<bool>& stop);

  std::string cursor_key() const { return "loki/" + options_.name + "/cursor"; }

 private:
  LokiSource(LokiSourceOptions options, HttpClient& http, Ingestor& ingestor, IncidentStore& store,
             Clock& clock)
      : options_(std::move(options)),
        http_(http),
        ingestor_(ingestor),
        store_(store),
        clock_(clock) {}
  absl::StatusOr<std::string> Query(int64_t start_ns, int64_t end_ns, LokiPollResult& result);
  void SleepUnlessStopped(absl::Duration d);
  // Set by Run: waits end early once it is true.
  const std::atomic<bool>* stop_ = nullptr;

  LokiSourceOptions options_;
  HttpClient& http_;
  Ingestor& ingestor_;
  IncidentStore& store_;
  Clock& clock_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_LOKI_SOURCE_H_
