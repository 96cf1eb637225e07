#include "server/remediator/core/detection/detector.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/common/redact.h"
#include "server/remediator/core/detection/classifiers.h"
#include "server/remediator/core/detection/log_patterns.h"
#include "server/remediator/core/detection/log_sources.h"

namespace remediator::detection {
namespace {

using internal::Finding;
using internal::Json;

// Cuts at a UTF-8 character boundary and marks the cut.
std::string Bound(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  text += "...";
  return text;
}

// Logs need not be UTF-8, proto3 strings must be: invalid sequences become U+FFFD.
std::string SanitizeUtf8(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  size_t i = 0;
  auto cont = [&](size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
  while (i < n) {
    const unsigned char c = s[i];
    size_t len = 0;
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = cont(1) ? 2 : 0;
    } else if (c >= 0xE0 && c <= 0xEF) {
      const bool second_ok = i + 1 < n && (c == 0xE0   ? (s[i + 1] >= 0xA0 && s[i + 1] <= 0xBF)
                                           : c == 0xED ? (s[i + 1] >= 0x80 && s[i + 1] <= 0x9F)
                                                       : (s[i + 1] & 0xC0) == 0x80);
      len = second_ok && cont(2) ? 3 : 0;
    } else if (c >= 0xF0 && c <= 0xF4) {
      const bool second_ok = i + 1 < n && (c == 0xF0   ? (s[i + 1] >= 0x90 && s[i + 1] <= 0xBF)
                                           : c == 0xF4 ? (s[i + 1] >= 0x80 && s[i + 1] <= 0x8F)
                                                       : (s[i + 1] & 0xC0) == 0x80);
      len = second_ok && cont(2) && cont(3) ? 4 : 0;
    }
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(in, i, len);
      i += len;
    }
  }
  return out;
}

// Redacted, valid UTF-8, at most max_bytes (+ "...").
std::string Clean(std::string text, size_t max_bytes) {
  return Bound(SanitizeUtf8(RedactSecrets(std::move(text))), max_bytes);
}

absl::StatusOr<Finding> ClassifyObject(const Json& object, const std::string& what,
                                       const internal::PodContext& pod_context) {
  const std::string kind = internal::Str(object, "kind");
  if (kind == "Pod") return internal::ClassifyPod(object, pod_context);
  if (kind == "Event") return internal::ClassifyEvent(object);
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": object kind is \"", kind, "\", want \"Pod\" or \"Event\""));
}

}  // namespace

Detector::Detector(Options options, std::unique_ptr<LineMatcher> matcher)
    : options_(options), matcher_(std::move(matcher)) {}

absl::StatusOr<std::unique_ptr<Detector>> Detector::Create() {
  return Create(Options(), DefaultLogPatterns());
}

absl::StatusOr<std::unique_ptr<Detector>> Detector::Create(Options options,
                                                           std::vector<PatternSpec> log_patterns) {
  if (options.weak_threshold < 1) {
    return absl::InvalidArgumentError("Detector: weak_threshold must be at least 1");
  }
  absl::StatusOr<std::unique_ptr<LineMatcher>> matcher =
      LineMatcher::Create(std::move(log_patterns));
  if (!matcher.ok()) return matcher.status();
  return std::unique_ptr<Detector>(new Detector(options, *std::move(matcher)));
}

absl::StatusOr<v1::Detection> Detector::Detect(const v1::Observation& observation) const {
  internal::PodContext pod_context;
  pod_context.readiness_grace = options_.readiness_grace;
  if (observation.has_observed_time()) {
    pod_context.observed = absl::FromUnixSeconds(observation.observed_time().seconds()) +
                           absl::Nanoseconds(observation.observed_time().nanos());
  }
  absl::StatusOr<Finding> finding;
  switch (observation.payload_case()) {
    case v1::Observation::kPodJson: {
      absl::StatusOr<Json> pod = internal::ParseObject(observation.pod_json(), "pod_json");
      if (!pod.ok()) return pod.status();
      finding = internal::ClassifyPod(*pod, pod_context);
      break;
    }
    case v1::Observation::kEventJson: {
      absl::StatusOr<Json> event = internal::ParseObject(observation.event_json(), "event_json");
      if (!event.ok()) return event.status();
      finding = internal::ClassifyEvent(*event);
      break;
    }
    case v1::Observation::kWatchEventJson: {
      absl::StatusOr<Json> watch =
          internal::ParseObject(observation.watch_event_json(), "watch_event_json");
      if (!watch.ok()) return watch.status();
      const std::string type = internal::Str(*watch, "type");
      const Json* object = internal::Field(*watch, "object");
      if (type.empty() || object == nullptr || !object->is_object()) {
        return absl::InvalidArgumentError(
            "watch_event_json: want {\"type\": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "
            "\"object\": {...}}");
      }
      if (type == "BOOKMARK" || type == "ERROR") {
        finding = Finding();
      } else if (type == "ADDED" || type == "MODIFIED" || type == "DELETED") {
        finding = ClassifyObject(*object, "watch_event_json", pod_context);
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("watch_event_json: unknown type \"", type, "\""));
      }
      break;
    }
    case v1::Observation::kCriLog: {
      absl::StatusOr<LogBatch> batch = BatchFromCri(observation.cri_log());
      if (!batch.ok()) return batch.status();
      std::vector<LogBatch> batches;
      batches.push_back(*std::move(batch));
      finding = internal::ClassifyLogs(batches, {matcher_.get(), options_.weak_threshold});
      break;
    }
    case v1::Observation::kPodLog: {
      absl::StatusOr<LogBatch> batch = BatchFromPodLog(observation.pod_log());
      if (!batch.ok()) return batch.status();
      std::vector<LogBatch> batches;
      batches.push_back(*std::move(batch));
      finding = internal::ClassifyLogs(batches, {matcher_.get(), options_.weak_threshold});
      break;
    }
    case v1::Observation::kLoki: {
      absl::StatusOr<std::vector<LogBatch>> batches = BatchesFromLoki(observation.loki());
      if (!batches.ok()) return batches.status();
      finding = internal::ClassifyLogs(*batches, {matcher_.get(), options_.weak_threshold});
      break;
    }
    case v1::Observation::PAYLOAD_NOT_SET:
      return absl::InvalidArgumentError("observation: no payload set");
  }
  if (!finding.ok()) return finding.status();

  v1::Detection detection;
  detection.set_error_class(finding->error_class);
  *detection.mutable_workload() = std::move(finding->workload);
  detection.mutable_workload()->set_cluster(observation.cluster());
  detection.set_fixable_by_manifest(finding->error_class != v1::ERROR_CLASS_NONE &&
                                    finding->fixable_by_manifest);
  detection.set_reason(finding->reason);
  if (finding->error_class != v1::ERROR_CLASS_NONE) {
    detection.set_summary(Clean(std::move(finding->summary), options_.max_summary_bytes));
    for (std::string& e : finding->evidence) {
      if (static_cast<size_t>(detection.evidence_size()) >= options_.max_evidence) break;
      // Redact before cutting, so a cut cannot split a secret into an unrecognisable prefix.
      detection.add_evidence(Clean(std::move(e), options_.max_evidence_bytes));
    }
  }
  return detection;
}

}  // namespace remediator::detection
