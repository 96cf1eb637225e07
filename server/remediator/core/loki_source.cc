#include "server/remediator/core/loki_source.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "server/common/logging.h"
#include "server/common/status_macros.h"

namespace remediator {
namespace {

using Json = nlohmann::json;

struct Entry {
  int64_t ts = 0;
  std::string ts_text;
  std::string line;
};

struct Stream {
  Json labels;
  std::vector<Entry> entries;
};

// Loki's error bodies are text/plain; keep them short in statuses.
std::string Quote(const std::string& body) {
  std::string text(absl::StripAsciiWhitespace(body));
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text.empty() ? "(empty body)" : text;
}

absl::Status StatusFromHttp(int status, const std::string& body) {
  std::string message = absl::StrCat("Loki query_range returned HTTP ", status, ": ", Quote(body));
  switch (status) {
    case 400:
      return absl::InvalidArgumentError(message);
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
      return absl::NotFoundError(message);
    case 429:
      return absl::ResourceExhaustedError(message);
    default:
      if (status >= 500) return absl::UnavailableError(message);
      return absl::UnknownError(message);
  }
}

bool Retryable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsResourceExhausted(status) ||
         absl::IsDeadlineExceeded(status);
}

absl::StatusOr<std::vector<Stream>> ParseStreams(const std::string& body) {
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InternalError(
        absl::StrCat("Loki query_range answered something that is not JSON: ", Quote(body)));
  }
  auto status = json.find("status");
  if (status == json.end() || !status->is_string() || *status != "success") {
    return absl::InternalError(absl::StrCat("Loki query_range did not succeed: ", Quote(body)));
  }
  auto data = json.find("data");
  if (data == json.end() || !data->is_object()) {
    return absl::InternalError("Loki query_range response has no \"data\" object");
  }
  auto type = data->find("resultType");
  if (type == data->end() || !type->is_string() || *type != "streams") {
    return absl::InvalidArgumentError(
        "Loki query_range result is not \"streams\": the query must be a log query, not a metric "
        "query");
  }
  auto result = data->find("result");
  std::vector<Stream> streams;
  if (result == data->end() || result->is_null()) return streams;
  if (!result->is_array()) return absl::InternalError("Loki \"data.result\" is not an array");
  for (const Json& s : *result) {
    Stream stream;
    auto labels = s.find("stream");
    stream.labels = labels != s.end() && labels->is_object() ? *labels : Json::object();
    auto values = s.find("values");
    if (values == s.end() || !values->is_array()) continue;
    for (const Json& v : *values) {
      if (!v.is_array() || v.size() < 2 || !v[0].is_string() || !v[1].is_string()) {
        return absl::InternalError("Loki stream value is not [\"<ns>\", \"<line>\", ...]");
      }
      Entry entry;
      entry.ts_text = v[0].get<std::string>();
      if (!absl::SimpleAtoi(entry.ts_text, &entry.ts)) {
        return absl::InternalError(
            absl::StrCat("Loki timestamp \"", entry.ts_text, "\" is not Unix nanoseconds"));
      }
      entry.line = v[1].get<std::string>();
      stream.entries.push_back(std::move(entry));
    }
    streams.push_back(std::move(stream));
  }
  return streams;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LokiSource>> LokiSource::Create(LokiSourceOptions options,
                                                               HttpClient& http, Ingestor& ingestor,
                                                               IncidentStore& store, Clock& clock) {
  if (options.name.empty()) return absl::InvalidArgumentError("loki source name is empty");
  if (options.base_url.empty()) {
    return absl::InvalidArgumentError("loki url is empty: give e.g. http://loki:3100");
  }
  if (options.query.empty()) {
    return absl::InvalidArgumentError(
        "loki query is empty: give a LogQL selector like {namespace=\"shop\"}");
  }
  if (options.limit < 1 || options.limit > 5000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "loki limit ", options.limit, " is outside 1..5000 (Loki's max entries per query)"));
  }
  if (options.namespace_label.empty() || options.pod_label.empty() ||
      options.container_label.empty()) {
    return absl::InvalidArgumentError("loki label names (namespace, pod, container) must be set");
  }
  if (options.max_attempts < 1) options.max_attempts = 1;
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  return std::unique_ptr<LokiSource>(
      new LokiSource(std::move(options), http, ingestor, store, clock));
}

absl::StatusOr<std::string> LokiSource::Query(int64_t start_ns, int64_t end_ns,
                                              LokiPollResult& result) {
  HttpRequest request;
  request.url = absl::StrCat(
      options_.base_url, "/loki/api/v1/query_range?query=", UrlEncode(options_.query),
      "&start=", start_ns, "&end=", end_ns, "&limit=", options_.limit, "&direction=forward");
  request.timeout = options_.timeout;
  if (!options_.tenant.empty()) request.headers.emplace_back("X-Scope-OrgID", options_.tenant);
  if (!options_.bearer_token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + options_.bearer_token);
  }
  absl::Duration backoff = options_.initial_backoff;
  absl::Status last;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    ++result.requests;
    absl::StatusOr<HttpResponse> response = http_.Send(request);
    absl::Duration wait = backoff;
    if (response.ok() && response->status / 100 == 2) return std::move(response->body);
    if (response.ok()) {
      last = StatusFromHttp(response->status, response->body);
      int retry_after = 0;
      if (absl::SimpleAtoi(response->Header("retry-after"), &retry_after) && retry_after > 0) {
        wait = std::min(absl::Seconds(retry_after), options_.max_backoff);
      }
    } else {
      last = response.status();
    }
    if (!Retryable(last) || attempt == options_.max_attempts) break;
    LogWarning("Loki query failed; retrying", {{"source", options_.name},
                                               {"error", last.ToString()},
                                               {"retry_in", absl::FormatDuration(wait)}});
    SleepUnlessStopped(wait);
    if (stop_ != nullptr && stop_->load()) return last;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  return last;
}

absl::StatusOr<LokiPollResult> LokiSource::PollOnce() {
  LokiPollResult result;
  ASSIGN_OR_RETURN(std::optional<std::string> stored, store_.GetValue(cursor_key()));
  int64_t cursor = absl::ToUnixNanos(clock_.Now() - options_.lookback);
  if (stored.has_value() && !absl::SimpleAtoi(*stored, &cursor)) {
    return absl::InternalError(absl::StrCat("stored cursor ", cursor_key(), " = \"", *stored,
                                            "\" is not a number of nanoseconds"));
  }
  result.cursor_ns = cursor;
  const int64_t end = absl::ToUnixNanos(clock_.Now() - options_.delay);
  for (int page = 0; page < options_.max_pages_per_poll && cursor < end; ++page) {
    ASSIGN_OR_RETURN(std::string body, Query(cursor, end, result));
    ASSIGN_OR_RETURN(std::vector<Stream> streams, ParseStreams(body));
    ++result.pages;
    int64_t count = 0;
    int64_t last_ts = cursor;
    for (const Stream& s : streams) {
      count += static_cast<int64_t>(s.entries.size());
      for (const Entry& e : s.entries) last_ts = std::max(last_ts, e.ts);
    }
    int64_t next = end;
    int64_t keep_before = end;  // entries with ts < keep_before are ingested
    if (count >= options_.limit) {
      bool any_before = false;
      for (const Stream& s : streams) {
        for (const Entry& e : s.entries) any_before |= e.ts < last_ts;
      }
      if (any_before) {
        next = keep_before = last_ts;
      } else {
        LogWarning(
            "a full Loki page holds a single timestamp; entries beyond the limit at that "
            "nanosecond may be missed (raise the limit)",
            {{"source", options_.name}, {"ts", absl::StrCat(last_ts)}});
        next = keep_before = last_ts + 1;
      }
    }
    google::protobuf::RepeatedPtrField<v1::Observation> observations;
    for (Stream& s : streams) {
      Json values = Json::array();
      for (const Entry& e : s.entries) {
        if (e.ts >= cursor && e.ts < keep_before)
          values.push_back(Json::array({e.ts_text, e.line}));
      }
      if (values.empty()) continue;
      result.entries += static_cast<int64_t>(values.size());
      Json labels = s.labels;
      auto copy = [&](const std::string& from, const char* to) {
        auto it = s.labels.find(from);
        if (it != s.labels.end() && it->is_string()) labels[to] = *it;
      };
      copy(options_.namespace_label, "namespace");
      copy(options_.pod_label, "pod");
      copy(options_.container_label, "container");
      Json response = {{"status", "success"},
                       {"data",
                        {{"resultType", "streams"},
                         {"result", Json::array({{{"stream", labels}, {"values", values}}})}}}};
      v1::Observation* observation = observations.Add();
      observation->set_cluster(options_.cluster);
      observation->set_source("loki/" + options_.name);
      observation->mutable_loki()->set_query(options_.query);
      observation->mutable_loki()->set_response_json(
          response.dump(-1, ' ', false, Json::error_handler_t::replace));
    }
    if (!observations.empty()) {
      ASSIGN_OR_RETURN(std::vector<v1::Detection> detections, ingestor_.Ingest(observations));
      result.observations += observations.size();
      for (const v1::Detection& d : detections)
        result.detections += d.incident_id().empty() ? 0 : 1;
    }
    // Only now, with everything before `next` stored, may the cursor move.
    RETURN_IF_ERROR(store_.PutValue(cursor_key(), absl::StrCat(next)));
    cursor = next;
    result.cursor_ns = cursor;
  }
  return result;
}

// Sleeps in short slices so that Run's caller can stop the source promptly.
void LokiSource::SleepUnlessStopped(absl::Duration d) {
  constexpr absl::Duration kSlice = absl::Milliseconds(200);
  while (d > absl::ZeroDuration() && (stop_ == nullptr || !stop_->load())) {
    const absl::Duration step = std::min(d, kSlice);
    clock_.SleepFor(step);
    d -= step;
  }
}

void LokiSource::Run(const std::atomic<bool>& stop) {
  stop_ = &stop;
  while (!stop.load()) {
    absl::StatusOr<LokiPollResult> result = PollOnce();
    if (!result.ok()) {
      LogError("Loki poll failed; the cursor did not move, the next poll retries",
               {{"source", options_.name}, {"error", result.status().ToString()}});
    }
    SleepUnlessStopped(options_.poll_interval);
  }
}

}  // namespace remediator
