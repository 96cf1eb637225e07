#include "server/remediator/core/pr/pr_content.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"
#include "server/common/redact.h"
#include "server/common/time_util.h"
#include "server/remediator/core/enum_names.h"

namespace remediator::pr {
namespace {

// The words people use for each class, when the incident's reason is not a short Kubernetes
// reason already ("OOMKilled", "CrashLoopBackOff").
std::string FailureName(const v1::Incident& incident) {
  const std::string& reason = incident.reason();
  if (!reason.empty() && reason.size() <= 40 && !absl::StrContains(reason, ' ')) {
    return RedactSecrets(reason);
  }
  switch (incident.error_class()) {
    case v1::ERROR_CLASS_OOM_KILLED:
      return "OOMKilled";
    case v1::ERROR_CLASS_CRASH_LOOP:
      return "CrashLoopBackOff";
    case v1::ERROR_CLASS_IMAGE_PULL:
      return "ImagePullBackOff";
    case v1::ERROR_CLASS_CONFIG_ERROR:
      return "a configuration error";
    case v1::ERROR_CLASS_PROBE_FAILURE:
      return "probe failures";
    case v1::ERROR_CLASS_UNSCHEDULABLE:
      return "FailedScheduling";
    case v1::ERROR_CLASS_EVICTED:
      return "eviction";
    case v1::ERROR_CLASS_APP_ERROR_LOG:
      return "application errors";
    case v1::ERROR_CLASS_ADMISSION_REJECTED:
      return "admission rejection";
    default:
      return "a failure";
  }
}

// Kubernetes quantities ("256Mi", "1.5", "500m") as numbers, to tell a raise from a lowering.
std::optional<double> ParseQuantity(const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return std::nullopt;
  std::string text = value.get<std::string>();
  static const std::vector<std::pair<std::string, double>> kSuffixes = {
      {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"k", 1e3},     {"M", 1e6},        {"G", 1e9},           {"T", 1e12},
      {"m", 1e-3}};
  double scale = 1;
  for (const auto& [suffix, factor] : kSuffixes) {
    if (absl::EndsWith(text, suffix)) {
      text.resize(text.size() - suffix.size());
      scale = factor;
      break;
    }
  }
  double number = 0;
  if (!absl::SimpleAtod(text, &number)) return std::nullopt;
  return number * scale;
}

nlohmann::json ParseValue(const std::string& json_text) {
  if (json_text.empty()) return nullptr;
  nlohmann::json value = nlohmann::json::parse(json_text, nullptr, false);
  return value.is_discarded() ? nlohmann::json(json_text) : value;
}

// "spec.template.spec.containers[name=nginx].resources.limits.memory" -> "memory limit".
std::string FieldName(const std::string& path) {
  struct Known {
    const char* suffix;
    const char* name;
  };
  static constexpr Known kKnown[] = {{"resources.limits.memory", "memory limit"},
                                     {"resources.requests.memory", "memory request"},
                                     {"resources.limits.cpu", "CPU limit"},
                                     {"resources.requests.cpu", "CPU request"},
                                     {".image", "image"},
                                     {"spec.replicas", "replicas"},
                                     {".imagePullPolicy", "image pull policy"},
                                     {".command", "command"},
                                     {".args", "arguments"}};
  for (const Known& known : kKnown) {
    if (absl::EndsWith(path, known.suffix)) return known.name;
  }
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    size_t at = path.find(probe);
    if (at != std::string::npos) {
      std::string kind(probe, std::string(probe).size() - 5);
      std::string rest = path.substr(at + std::string(probe).size());
      if (!rest.empty() && rest.front() == '.') rest.erase(0, 1);
      return rest.empty() ? absl::StrCat(kind, " probe") : absl::StrCat(kind, " probe ", rest);
    }
  }
  size_t dot = path.find_last_of('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

std::string DescribeChange(const v1::FieldChange& change) {
  nlohmann::json before = ParseValue(change.old_value_json());
  nlohmann::json after = ParseValue(change.new_value_json());
  std::string field = FieldName(change.path());
  if (before.is_null() && after.is_null()) return absl::StrCat("update ", field);
  if (before.is_null()) return absl::StrCat("set ", field);
  if (after.is_null()) return absl::StrCat("remove ", field);
  std::optional<double> old_number = ParseQuantity(before);
  std::optional<double> new_number = ParseQuantity(after);
  if (old_number.has_value() && new_number.has_value() && *old_number != *new_number) {
    return absl::StrCat(*new_number > *old_number ? "raise " : "lower ", field);
  }
  return absl::StrCat("change ", field);
}

std::string WhatChanged(const v1::FixAttempt& attempt) {
  std::vector<std::string> parts;
  for (const v1::FieldChange& change : attempt.changes()) {
    std::string part = DescribeChange(change);
    if (std::find(parts.begin(), parts.end(), part) == parts.end()) parts.push_back(part);
  }
  if (parts.empty()) return "update the manifest";
  if (parts.size() == 1) return parts[0];
  if (parts.size() == 2) return absl::StrCat(parts[0], " and ", parts[1]);
  return absl::StrCat(parts[0], ", ", parts[1], " and ", parts.size() - 2, " more");
}

std::string WorkloadName(const v1::WorkloadRef& workload) {
  if (workload.namespace_().empty()) return workload.name();
  return absl::StrCat(workload.namespace_(), "/", workload.name());
}

// A code fence longer than any backtick run inside `text`, so evidence cannot close it.
std::string Fence(const std::string& text) {
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return std::string(std::max<size_t>(3, longest + 1), '`');
}

std::string CodeBlock(const std::string& language, const std::string& text) {
  std::string fence = Fence(text);
  std::string body = text;
  if (!body.empty() && body.back() != '\n') body.push_back('\n');
  return absl::StrCat(fence, language, "\n", body, fence, "\n");
}

// Table cells: one line, pipes escaped.
std::string Cell(const std::string& text) {
  std::string out = absl::StrReplaceAll(RedactSecrets(text), {{"|", "\\|"}, {"\n", " "}});
  return out.empty() ? " " : out;
}

const v1::WorkloadRef& Workload(const v1::Incident& incident, const v1::FixAttempt& attempt) {
  return attempt.has_workload() && !attempt.workload().name().empty() ? attempt.workload()
                                                                      : incident.workload();
}

}  // namespace

std::string IncidentTrailer(const std::string& incident_id) {
  return absl::StrCat("Remediator-Incident: ", incident_id);
}

std::string PullRequestTitle(const v1::Incident& incident, const v1::FixAttempt& attempt) {
  return absl::StrCat("fix(", WorkloadName(Workload(incident, attempt)),
                      "): ", WhatChanged(attempt), " after ", FailureName(incident));
}

PrContent BuildPrContent(const v1::Incident& incident, const v1::FixAttempt& attempt,
                         const std::string& diff, const std::vector<std::string>& base_labels) {
  PrContent content;
  content.title = PullRequestTitle(incident, attempt);
  const v1::WorkloadRef& workload = Workload(incident, attempt);

  std::string body = absl::StrCat("Automated fix by Remediator for incident `", incident.id(),
                                  "` (fix attempt `", attempt.id(), "`).\n\n");
  absl::StrAppend(&body, "## Incident\n\n");
  absl::StrAppend(&body, "| | |\n|---|---|\n");
  absl::StrAppend(&body, "| Workload | ", Cell(workload.kind()), " `", Cell(WorkloadName(workload)),
                  "`",
                  workload.container().empty()
                      ? ""
                      : absl::StrCat(" (container `", Cell(workload.container()), "`)"),
                  " |\n");
  if (!workload.cluster().empty()) {
    absl::StrAppend(&body, "| Cluster | ", Cell(workload.cluster()), " |\n");
  }
  absl::StrAppend(&body, "| Class | `", ErrorClassName(incident.error_class()), "` |\n");
  if (!incident.reason().empty())
    absl::StrAppend(&body, "| Reason | ", Cell(incident.reason()), " |\n");
  if (!incident.severity().empty()) {
    absl::StrAppend(&body, "| Severity | ", Cell(incident.severity()), " |\n");
  }
  absl::StrAppend(&body, "| Seen | ", incident.count(), " time(s)");
  if (incident.has_first_seen()) {
    absl::StrAppend(&body, ", first ", FormatIso8601(FromProtoTime(incident.first_seen())),
                    ", last ", FormatIso8601(FromProtoTime(incident.last_seen())));
  }
  absl::StrAppend(&body, " |\n\n");
  if (!incident.summary().empty())
    absl::StrAppend(&body, RedactSecrets(incident.summary()), "\n\n");
  if (!incident.evidence().empty()) {
    absl::StrAppend(&body, "### Evidence\n\n");
    std::string evidence;
    for (const std::string& line : incident.evidence()) {
      absl::StrAppend(&evidence, RedactSecrets(line), "\n");
    }
    absl::StrAppend(&body, CodeBlock("text", evidence), "\n");
  }

  absl::StrAppend(&body, "## Change\n\n");
  if (!attempt.manifest_path().empty()) {
    absl::StrAppend(&body, "Manifest `", Cell(attempt.manifest_path()), "`, document ",
                    attempt.manifest_document(), ".\n\n");
  }
  if (!attempt.changes().empty()) {
    absl::StrAppend(&body, "| Field | Before | After | Why |\n|---|---|---|---|\n");
    for (const v1::FieldChange& change : attempt.changes()) {
      absl::StrAppend(&body, "| `", Cell(change.path()), "` | `", Cell(change.old_value_json()),
                      "` | `", Cell(change.new_value_json()), "` | ", Cell(change.reason()),
                      " |\n");
    }
    absl::StrAppend(&body, "\n");
  }
  std::string shown_diff = RedactSecrets(diff.empty() ? attempt.diff() : diff);
  if (!shown_diff.empty()) absl::StrAppend(&body, CodeBlock("diff", shown_diff), "\n");

  absl::StrAppend(&body, "## How the fix was chosen\n\n");
  absl::StrAppend(&body, "- Strategy: `", Cell(attempt.strategy()), "`\n");
  if (!attempt.model().empty()) absl::StrAppend(&body, "- Model: `", Cell(attempt.model()), "`\n");
  if (!attempt.explanation().empty()) {
    absl::StrAppend(&body, "\n", RedactSecrets(attempt.explanation()), "\n");
  }
  if (attempt.has_guard() && !attempt.guard().violations().empty()) {
    absl::StrAppend(&body, "\nGuard notes:\n");
    for (const std::string& v : attempt.guard().violations()) {
      absl::StrAppend(&body, "- ", RedactSecrets(v), "\n");
    }
  }
  absl::StrAppend(&body, "\n## Verification\n\n");
  absl::StrAppend(&body, "Applied to the cluster and verified (`", FixStatusName(attempt.status()),
                  "`).\n");
  if (!attempt.dry_run_result().empty()) {
    absl::StrAppend(&body, "\nServer-side dry run: ", RedactSecrets(attempt.dry_run_result()),
                    "\n");
  }
  if (!attempt.verification_evidence().empty()) {
    absl::StrAppend(&body, "\n");
    for (const std::string& line : attempt.verification_evidence()) {
      absl::StrAppend(&body, "- ", RedactSecrets(line), "\n");
    }
  }
  content.body = std::move(body);

  content.commit_message = absl::StrCat(
      content.title, "\n\nRemediator incident ", incident.id(), " (",
      ErrorClassName(incident.error_class()), ") on ", workload.kind(), " ", WorkloadName(workload),
      ", verified fix attempt ", attempt.id(), " (", RedactSecrets(attempt.strategy()), ").\n\n",
      IncidentTrailer(incident.id()), "\nRemediator-Fix-Attempt: ", attempt.id(), "\n");
  content.labels = base_labels;
  std::string class_label = absl::StrCat("remediator/", ErrorClassName(incident.error_class()));
  if (std::find(content.labels.begin(), content.labels.end(), class_label) ==
      content.labels.end()) {
    content.labels.push_back(class_label);
  }
  return content;
}

}  // namespace remediator::pr
