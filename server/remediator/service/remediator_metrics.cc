#include "server/remediator/service/remediator_metrics.h"

#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "server/remediator/core/enum_names.h"
#include "telephony/v1/telephony.pb.h"

namespace remediator {
namespace {

using metrics::CollectedFamily;

// At most this many records of a kind are read per scrape (1000 per page).
constexpr int kMaxPages = 50;

std::string CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN";
}

std::string PayloadKind(const v1::Observation& o) {
  switch (o.payload_case()) {
    case v1::Observation::kPodJson:
      return "pod";
    case v1::Observation::kEventJson:
      return "event";
    case v1::Observation::kWatchEventJson:
      return "watch_event";
    case v1::Observation::kCriLog:
      return "cri_log";
    case v1::Observation::kPodLog:
      return "pod_log";
    case v1::Observation::kLoki:
      return "loki";
    default:
      return "other";
  }
}

// "CALL_OUTCOME_NO_ANSWER" -> "no_answer".
std::string ShortName(const std::string& full, const std::string& prefix) {
  std::string name = full.rfind(prefix, 0) == 0 ? full.substr(prefix.size()) : full;
  return absl::AsciiStrToLower(name);
}

CollectedFamily Samples(std::string name, std::string help, CollectedFamily::Type type,
                        std::vector<std::string> labels,
                        const std::map<metrics::LabelValues, double>& values) {
  CollectedFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  f.label_names = std::move(labels);
  for (const auto& [k, v] : values) f.samples.emplace_back(k, v);
  return f;
}

}  // namespace

RemediatorMetrics::RemediatorMetrics(metrics::Registry& registry, IncidentStore& store,
                                     const RpcGuard& guard)
    : store_(store),
      guard_(guard),
      rpcs_(registry.AddCounter("grpc_server_handled_total",
                                "RPCs completed on the server, by method and status code.",
                                {"grpc_method", "grpc_code"})),
      observations_(registry.AddCounter(
          "remediator_ingested_observations_total",
          "Observations received over the API (ReportError, ReportErrorStream), by payload kind.",
          {"kind"})),
      log_lines_(registry
                     .AddCounter("remediator_ingested_log_lines_total",
                                 "CRI log lines received over the API.", {})
                     .Get({})),
      reported_detections_(registry.AddCounter(
          "remediator_reported_detections_total",
          "Failures found in observations received over the API, by error class.", {"class"})) {
  registry.AddCollector([this] { return CollectFromStore(); });
}

void RemediatorMetrics::CountRpc(std::string_view method, grpc::StatusCode code) {
  size_t slash = method.rfind('/');
  rpcs_
      .Get({std::string(slash == std::string_view::npos ? method : method.substr(slash + 1)),
            CodeName(code)})
      .Increment();
}

void RemediatorMetrics::CountBatch(const v1::ReportErrorRequest& batch,
                                   const std::vector<v1::Detection>& found) {
  int64_t lines = 0;
  for (const v1::Observation& o : batch.observations()) {
    observations_.Get({PayloadKind(o)}).Increment();
    if (o.has_cri_log()) lines += o.cri_log().lines_size();
  }
  log_lines_.Increment(static_cast<double>(lines));
  for (const v1::Detection& d : found) {
    if (d.incident_id().empty()) continue;
    reported_detections_.Get({ErrorClassName(d.error_class())}).Increment();
  }
}

std::vector<CollectedFamily> RemediatorMetrics::CollectFromStore() const {
  std::map<metrics::LabelValues, double> incidents, detections, attempts, refusals, prs, calls;
  std::map<std::string, std::unique_ptr<metrics::Histogram>> durations;
  IncidentFilter filter;
  filter.page_size = 1000;
  for (int page = 0; page < kMaxPages; ++page) {
    absl::StatusOr<IncidentPage> listed = store_.ListIncidents(filter);
    if (!listed.ok()) break;
    for (const v1::Incident& incident : listed->incidents) {
      std::string error_class = ErrorClassName(incident.error_class());
      incidents[{error_class, IncidentStateName(incident.state())}] += 1;
      detections[{error_class}] += static_cast<double>(incident.count());
      if (incident.last_fix_attempt_id().empty()) continue;
      absl::StatusOr<std::vector<v1::FixAttempt>> tried = store_.ListFixAttempts(incident.id());
      if (!tried.ok()) continue;
      for (const v1::FixAttempt& a : *tried) {
        attempts[{a.strategy(), FixStatusName(a.status())}] += 1;
        if (a.status() == v1::FIX_STATUS_REFUSED) {
          for (const std::string& violation : a.guard().violations()) {
            refusals[{violation.substr(0, violation.find(':'))}] += 1;
          }
        }
        if (a.has_duration()) {
          auto& h = durations[a.strategy()];
          if (h == nullptr) h = std::make_unique<metrics::Histogram>(metrics::DurationBuckets());
          h->Observe(static_cast<double>(a.duration().seconds()) + a.duration().nanos() / 1e9);
        }
      }
    }
    if (listed->next_page_token.empty()) break;
    filter.page_token = listed->next_page_token;
  }
  std::string token;
  for (int page = 0; page < kMaxPages; ++page) {
    absl::StatusOr<PullRequestPage> listed = store_.ListPullRequests("", 1000, token);
    if (!listed.ok()) break;
    for (const v1::PullRequest& pr : listed->pull_requests) prs[{pr.forge(), pr.state()}] += 1;
    if (listed->next_page_token.empty()) break;
    token = listed->next_page_token;
  }
  CallFilter call_filter;
  call_filter.page_size = 1000;
  for (int page = 0; page < kMaxPages; ++page) {
    absl::StatusOr<CallPage> listed = store_.ListCalls(call_filter);
    if (!listed.ok()) break;
    for (const telephony::v1::CallRecord& c : listed->calls) {
      calls[{ShortName(telephony::v1::CallOutcome_Name(c.outcome()), "CALL_OUTCOME_"),
             ShortName(telephony::v1::Decision_Name(c.decision()), "DECISION_")}] += 1;
    }
    if (listed->next_page_token.empty()) break;
    call_filter.page_token = listed->next_page_token;
  }
  using Type = CollectedFamily::Type;
  std::vector<CollectedFamily> out;
  out.push_back(Samples("remediator_incidents", "Incidents in the store, by error class and state.",
                        Type::kGauge, {"class", "state"}, incidents));
  out.push_back(Samples("remediator_detections_total",
                        "Detections that opened or joined an incident, by error class.",
                        Type::kCounter, {"class"}, detections));
  out.push_back(Samples("remediator_fix_attempts_total", "Fix attempts by strategy and outcome.",
                        Type::kCounter, {"strategy", "status"}, attempts));
  out.push_back(Samples("remediator_guard_refusals_total",
                        "Rules the guard found broken in refused edits, by rule.", Type::kCounter,
                        {"rule"}, refusals));
  out.push_back(Samples("remediator_pull_requests_total",
                        "Pull requests opened, by forge and state.", Type::kCounter,
                        {"forge", "state"}, prs));
  out.push_back(Samples("remediator_calls_total", "Calls placed, by outcome and decision.",
                        Type::kCounter, {"outcome", "decision"}, calls));
  out.push_back(
      Samples("remediator_auth_failures_total", "Calls refused by the token check, by reason.",
              Type::kCounter, {"reason"},
              {{{"unauthenticated"}, static_cast<double>(guard_.authentication_failures())},
               {{"permission_denied"}, static_cast<double>(guard_.permission_denials())}}));
  CollectedFamily fix;
  fix.name = "remediator_fix_duration_seconds";
  fix.help = "How long fix attempts took (propose, check, apply, verify), by strategy.";
  fix.type = Type::kHistogram;
  fix.label_names = {"strategy"};
  for (auto& [strategy, h] : durations) {
    fix.histograms.emplace_back(metrics::LabelValues{strategy}, h.get());
    fix.owned.push_back(std::move(h));
  }
  out.push_back(std::move(fix));
  return out;
}

}  // namespace remediator
