#include "server/remediator/core/detection/log_sources.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "server/remediator/core/detection/cri_log.h"
#include "server/remediator/core/detection/json_util.h"

namespace remediator::detection {
namespace {

using internal::Json;

std::string FirstLabel(const Json& labels, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    std::string v = internal::Str(labels, k);
    if (!v.empty()) return v;
  }
  return "";
}

}  // namespace

absl::StatusOr<LogBatch> BatchFromCri(const v1::CriLogLines& cri) {
  LogBatch batch;
  ContainerLogIdentity id;
  if (!cri.log_file().empty() && !ParseContainerLogPath(cri.log_file(), &id) &&
      (cri.namespace_().empty() || cri.pod().empty())) {
    return absl::InvalidArgumentError(
        absl::StrCat("cri_log.log_file \"", cri.log_file(),
                     "\" is not /var/log/containers/<pod>_<namespace>_<container>-<id>.log or "
                     "/var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log"));
  }
  batch.namespace_ = cri.namespace_().empty() ? id.namespace_ : cri.namespace_();
  batch.pod = cri.pod().empty() ? id.pod : cri.pod();
  batch.container = cri.container().empty() ? id.container : cri.container();
  std::vector<std::string_view> raw(cri.lines().begin(), cri.lines().end());
  batch.lines.reserve(raw.size());
  absl::Status joined = JoinCriLines(raw, &batch.lines, &batch.storage);
  if (!joined.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("cri_log: ", joined.message()));
  }
  return batch;
}

absl::StatusOr<LogBatch> BatchFromPodLog(const v1::PodLogText& log) {
  LogBatch batch;
  std::string ns, pod, query;
  if (!log.request().empty()) {
    static const LazyRE2 kPath = {R"re(/namespaces/([^/?\s]+)/pods/([^/?\s]+)/log(?:\?(\S*))?)re"};
    if (!RE2::PartialMatch(log.request(), *kPath, &ns, &pod, &query) &&
        (log.namespace_().empty() || log.pod().empty())) {
      return absl::InvalidArgumentError(
          absl::StrCat("pod_log.request \"", log.request(),
                       "\" is not .../namespaces/<ns>/pods/<pod>/log[?container=<c>]"));
    }
  }
  std::string container;
  static const LazyRE2 kContainer = {R"re((?:^|&)container=([^&]+))re"};
  RE2::PartialMatch(query, *kContainer, &container);
  batch.namespace_ = log.namespace_().empty() ? ns : log.namespace_();
  batch.pod = log.pod().empty() ? pod : log.pod();
  batch.container = log.container().empty() ? container : log.container();
  std::string_view text = log.text();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    batch.lines.push_back(line);
    start = end + 1;
  }
  return batch;
}

absl::StatusOr<std::vector<LogBatch>> BatchesFromLoki(const v1::LokiResult& loki) {
  absl::StatusOr<Json> body = internal::ParseObject(loki.response_json(), "loki.response_json");
  if (!body.ok()) return body.status();
  const std::string status = internal::Str(*body, "status");
  if (!status.empty() && status != "success") {
    return absl::InvalidArgumentError(
        absl::StrCat("loki.response_json: query status is \"", status, "\", not \"success\""));
  }
  const Json* data = internal::Field(*body, "data");
  if (data == nullptr || internal::Str(*data, "resultType") != "streams") {
    return absl::InvalidArgumentError(
        "loki.response_json: want data.resultType \"streams\" (a log query_range response)");
  }
  std::vector<LogBatch> batches;
  for (const Json& stream : internal::Array(*data, "result")) {
    LogBatch batch;
    const Json* labels = internal::Field(stream, "stream");
    if (labels != nullptr) {
      batch.namespace_ = FirstLabel(*labels, {"namespace", "k8s_namespace_name", "namespace_name"});
      batch.pod = FirstLabel(*labels, {"pod", "k8s_pod_name", "pod_name"});
      batch.container = FirstLabel(*labels, {"container", "k8s_container_name", "container_name"});
      batch.deployment = internal::Str(*labels, "k8s_deployment_name");
    }
    std::vector<std::pair<std::string, std::string>> values;
    for (const Json& v : internal::Array(stream, "values")) {
      if (!v.is_array() || v.size() < 2 || !v[0].is_string() || !v[1].is_string()) {
        return absl::InvalidArgumentError(
            "loki.response_json: a stream value is not [\"<ns timestamp>\", \"<line>\"]");
      }
      values.emplace_back(v[0].get<std::string>(), v[1].get<std::string>());
    }
    // Nanosecond timestamps as decimal strings: order by length, then text.
    std::stable_sort(values.begin(), values.end(), [](const auto& a, const auto& b) {
      return a.first.size() != b.first.size() ? a.first.size() < b.first.size() : a.first < b.first;
    });
    for (auto& v : values) {
      batch.storage.push_back(std::make_unique<std::string>(std::move(v.second)));
      batch.lines.push_back(*batch.storage.back());
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

}  // namespace remediator::detection
