#include "server/remediator/core/incident_records.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/time_util.h"
#include "server/remediator/core/enum_names.h"

namespace remediator {
namespace {

// FNV-1a, for short stable identifiers.
uint64_t Fnv1a(const std::string& text) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

void MergeEvidence(const v1::Detection& detection, v1::Incident* incident) {
  for (const std::string& line : detection.evidence()) {
    auto& evidence = *incident->mutable_evidence();
    if (std::find(evidence.begin(), evidence.end(), line) != evidence.end()) continue;
    evidence.Add(std::string(line));
  }
  auto* evidence = incident->mutable_evidence();
  if (evidence->size() > kMaxIncidentEvidence) {
    evidence->DeleteSubrange(0, evidence->size() - kMaxIncidentEvidence);
  }
}

}  // namespace

absl::Status ValidateDetections(const std::vector<DetectionToRecord>& detections) {
  for (size_t i = 0; i < detections.size(); ++i) {
    const auto& d = detections[i];
    if (d.detection.error_class() == v1::ERROR_CLASS_NONE ||
        d.detection.error_class() == v1::ERROR_CLASS_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("detection ", i, " has no error class; only failures become incidents"));
    }
    if (d.fingerprint.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("detection ", i, " has no fingerprint"));
    }
    if (d.count < 1) {
      return absl::InvalidArgumentError(absl::StrCat("detection ", i, " has count ", d.count));
    }
  }
  return absl::OkStatus();
}

std::string IncidentIdFromSeed(const std::string& seed) {
  return absl::StrFormat("inc-%012x", Fnv1a(seed) & 0xffffffffffffull);
}

v1::Incident NewIncident(const DetectionToRecord& d, const std::string& id) {
  v1::Incident incident;
  incident.set_id(id);
  incident.set_fingerprint(d.fingerprint);
  incident.set_error_class(d.detection.error_class());
  *incident.mutable_workload() = d.detection.workload();
  incident.set_state(v1::INCIDENT_STATE_OPEN);
  incident.set_count(d.count);
  *incident.mutable_first_seen() = ToProtoTime(d.seen);
  *incident.mutable_last_seen() = ToProtoTime(d.seen);
  *incident.mutable_updated() = ToProtoTime(d.seen);
  incident.set_reason(d.detection.reason());
  incident.set_summary(d.detection.summary());
  incident.set_fixable_by_manifest(d.detection.fixable_by_manifest());
  incident.set_severity(d.severity);
  MergeEvidence(d.detection, &incident);
  v1::StateTransition* opened = incident.add_transitions();
  opened->set_from(v1::INCIDENT_STATE_UNSPECIFIED);
  opened->set_to(v1::INCIDENT_STATE_OPEN);
  *opened->mutable_time() = ToProtoTime(d.seen);
  opened->set_note(absl::StrCat("detected: ", d.detection.reason()));
  return incident;
}

void JoinDetection(const DetectionToRecord& d, v1::Incident* incident) {
  incident->set_count(incident->count() + d.count);
  if (d.seen > FromProtoTime(incident->last_seen())) {
    *incident->mutable_last_seen() = ToProtoTime(d.seen);
  }
  *incident->mutable_updated() = ToProtoTime(std::max(d.seen, FromProtoTime(incident->updated())));
  // A pod name changes with every restart; keep the latest one seen.
  if (!d.detection.workload().pod().empty()) {
    incident->mutable_workload()->set_pod(d.detection.workload().pod());
  }
  // A fixable detection joining makes the failure fixable (a BackOff event opens a crash loop
  // as not fixable; the pod status that follows says what can be fixed).
  if (d.detection.fixable_by_manifest()) incident->set_fixable_by_manifest(true);
  MergeEvidence(d.detection, incident);
}

absl::Status ApplyTransition(v1::IncidentState from, v1::IncidentState to, const std::string& note,
                             absl::Time time, v1::Incident* incident) {
  if (incident->state() != from) {
    return absl::FailedPreconditionError(absl::StrCat(
        "incident ", incident->id(), " is ", IncidentStateName(incident->state()), ", not ",
        IncidentStateName(from), "; cannot move it to ", IncidentStateName(to)));
  }
  incident->set_state(to);
  *incident->mutable_updated() = ToProtoTime(time);
  v1::StateTransition* transition = incident->add_transitions();
  transition->set_from(from);
  transition->set_to(to);
  *transition->mutable_time() = ToProtoTime(time);
  transition->set_note(note);
  return absl::OkStatus();
}

void ApplyLinks(const std::string& fix_attempt_id, const std::string& pull_request_id,
                const std::string& call_id, v1::Incident* incident) {
  if (!fix_attempt_id.empty()) incident->set_last_fix_attempt_id(fix_attempt_id);
  if (!pull_request_id.empty()) incident->set_pull_request_id(pull_request_id);
  if (!call_id.empty()) incident->set_last_call_id(call_id);
}

absl::StatusOr<int64_t> ParsePageToken(const std::string& token) {
  if (token.empty()) return 0;
  int64_t offset = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), offset);
  if (ec != std::errc() || end != token.data() + token.size() || offset < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token \"", token, "\" is not a token returned by this server"));
  }
  return offset;
}

absl::StatusOr<int> CheckPageSize(int page_size) {
  if (page_size < 0) {
    return absl::InvalidArgumentError(absl::StrCat("page_size must be >= 0, got ", page_size));
  }
  if (page_size == 0) return 50;
  return std::min(page_size, 1000);
}

absl::Status ValidateClaimRequest(const ClaimRequest& request) {
  if (request.owner.empty()) return absl::InvalidArgumentError("a claim needs an owner id");
  if (request.lease <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a claim's lease must be > 0, got ", absl::FormatDuration(request.lease)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ClaimableStatesSql(const std::vector<v1::IncidentState>& states) {
  if (states.empty()) return absl::InvalidArgumentError("claiming needs at least one state");
  std::string sql = "state IN (";
  for (size_t i = 0; i < states.size(); ++i) {
    if (!v1::IncidentState_IsValid(states[i]) || states[i] == v1::INCIDENT_STATE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot claim incidents in state ", static_cast<int>(states[i])));
    }
    absl::StrAppend(&sql, i == 0 ? "" : ", ", static_cast<int>(states[i]));
  }
  return absl::StrCat(sql, ")");
}

absl::Status ClaimHeldError(const std::string& id, const std::string& holder, absl::Time expires) {
  return absl::FailedPreconditionError(absl::StrCat("incident ", id, " is claimed by ", holder,
                                                    " until ", FormatIso8601(expires, true)));
}

absl::Status ClaimLostError(const std::string& id, const std::string& owner,
                            const std::string& holder) {
  return absl::FailedPreconditionError(
      absl::StrCat(owner, " does not hold incident ", id, "; ",
                   holder.empty() ? "nobody holds it" : absl::StrCat(holder, " holds it")));
}

}  // namespace remediator
