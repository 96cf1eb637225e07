#include "server/remediator/core/remediation/engine.h"

#include <map>
#include <set>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/common/logging.h"
#include "server/common/redact.h"
#include "server/common/status_macros.h"
#include "server/common/time_util.h"
#include "server/remediator/core/enum_names.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/manifest/yaml_text_edit.h"

namespace remediator::remediation {
namespace {

using json = nlohmann::json;
using manifest::At;
using manifest::Int;
using manifest::Str;

std::string NewId(const std::string& prefix) {
  static absl::Mutex mu;
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock lock(&mu);
  return absl::StrFormat("%s-%012x", prefix, absl::Uniform<uint64_t>(*gen) & 0xffffffffffffull);
}

std::string WorkloadKey(const v1::WorkloadRef& w) {
  return absl::StrCat(w.cluster(), "/", w.namespace_(), "/", w.kind(), "/", w.name());
}

KubeRef RefOf(const v1::WorkloadRef& w) {
  return KubeRef{ApiVersionOf(w.kind()), w.kind(), w.namespace_(), w.name()};
}

std::string LiveSnapshotKey(const std::string& attempt_id) {
  return absl::StrCat("fix-attempt/", attempt_id, "/live");
}

// The live object as a manifest: what the cluster adds on its own is removed.
json StripLive(json object) {
  object.erase("status");
  if (object.contains("metadata") && object["metadata"].is_object()) {
    json& meta = object["metadata"];
    for (const char* key : {"uid", "resourceVersion", "generation", "creationTimestamp",
                            "managedFields", "selfLink"}) {
      meta.erase(key);
    }
    if (meta.contains("annotations") && meta["annotations"].is_object()) {
      meta["annotations"].erase("deployment.kubernetes.io/revision");
      meta["annotations"].erase("kubectl.kubernetes.io/last-applied-configuration");
      if (meta["annotations"].empty()) meta.erase("annotations");
    }
  }
  return object;
}

// "k1=v1,k2=v2" from spec.selector.matchLabels (or spec.selector for a bare map).
std::string SelectorOf(const json& live) {
  const json* labels = nullptr;
  if (live.contains("spec") && live["spec"].contains("selector")) {
    const json& selector = live["spec"]["selector"];
    labels = selector.contains("matchLabels") ? &selector["matchLabels"] : &selector;
  }
  if (labels == nullptr || !labels->is_object()) return "";
  std::vector<std::string> parts;
  for (auto it = labels->begin(); it != labels->end(); ++it) {
    if (it.value().is_string()) parts.push_back(it.key() + "=" + it.value().get<std::string>());
  }
  return absl::StrJoin(parts, ",");
}

bool Deleting(const json& pod) {
  return pod.contains("metadata") && pod["metadata"].contains("deletionTimestamp");
}

bool PodReady(const json& pod) {
  if (!pod.contains("status") || !pod["status"].contains("conditions")) return false;
  for (const json& c : pod["status"]["conditions"]) {
    if (Str(c, "type") == "Ready") return Str(c, "status") == "True";
  }
  return false;
}

}  // namespace

std::string ApiVersionOf(const std::string& kind) {
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" ||
      kind == "ReplicaSet") {
    return "apps/v1";
  }
  if (kind == "Job" || kind == "CronJob") return "batch/v1";
  return "v1";
}

RemediationEngine::RemediationEngine(IncidentStore& store, Cluster& cluster,
                                     ManifestSource* manifests,
                                     std::vector<FixStrategy*> strategies, const Guard& guard,
                                     Clock& clock, EngineOptions options)
    : store_(store),
      cluster_(cluster),
      manifests_(manifests),
      strategies_(std::move(strategies)),
      guard_(guard),
      clock_(clock),
      options_(std::move(options)) {}

absl::StatusOr<v1::FixAttempt> RemediationEngine::AttemptFix(const v1::AttemptFixRequest& request) {
  if (request.incident_id().empty()) {
    return absl::InvalidArgumentError("incident_id is empty: give the incident to fix");
  }
  if (!request.strategy().empty()) {
    bool known = false;
    for (FixStrategy* s : strategies_) known = known || s->name() == request.strategy();
    if (!known) {
      std::vector<std::string> names;
      for (FixStrategy* s : strategies_) names.push_back(s->name());
      return absl::InvalidArgumentError(
          absl::StrCat("unknown strategy \"", request.strategy(),
                       "\"; configured: ", absl::StrJoin(names, ", ")));
    }
  }
  ASSIGN_OR_RETURN(v1::Incident incident, store_.GetIncident(request.incident_id()));
  const v1::FixMode mode =
      request.mode() == v1::FIX_MODE_UNSPECIFIED ? options_.default_mode : request.mode();
  switch (incident.state()) {
    case v1::INCIDENT_STATE_FIXING:
      return absl::FailedPreconditionError(
          absl::StrCat("incident ", incident.id(), " is being fixed already"));
    case v1::INCIDENT_STATE_VERIFIED:
    case v1::INCIDENT_STATE_PR_OPENED:
    case v1::INCIDENT_STATE_RESOLVED:
      return absl::FailedPreconditionError(absl::StrCat(
          "incident ", incident.id(), " is ", IncidentStateName(incident.state()),
          ": a verified fix exists already (attempt ", incident.last_fix_attempt_id(), ")"));
    default:
      break;
  }
  if (incident.workload().name().empty() || incident.workload().kind().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "incident ", incident.id(), " has no workload to fix (", incident.summary(), ")"));
  }
  const std::string key = WorkloadKey(incident.workload());
  {
    absl::MutexLock lock(&mu_);
    if (!busy_workloads_.insert(key).second) {
      return absl::AbortedError(
          absl::StrCat("another fix attempt for ", key, " is in progress; one at a time"));
    }
  }
  absl::StatusOr<v1::FixAttempt> attempt;
  if (mode == v1::FIX_MODE_APPLY) {
    absl::StatusOr<v1::Incident> moved =
        store_.TransitionIncident(incident.id(), incident.state(), v1::INCIDENT_STATE_FIXING,
                                  "fix attempt started", clock_.Now());
    if (!moved.ok()) {
      attempt = absl::AbortedError(
          absl::StrCat("incident changed meanwhile: ", moved.status().message()));
    } else {
      attempt = Run(*moved, mode, request.strategy());
    }
  } else {
    attempt = Run(incident, mode, request.strategy());
  }
  absl::MutexLock lock(&mu_);
  busy_workloads_.erase(key);
  return attempt;
}

void RemediationEngine::MoveIncident(const std::string& id, v1::IncidentState from,
                                     v1::IncidentState to, const std::string& note) {
  absl::StatusOr<v1::Incident> moved = store_.TransitionIncident(id, from, to, note, clock_.Now());
  if (!moved.ok()) {
    LogWarning("incident transition failed",
               {{"incident", id}, {"error", std::string(moved.status().message())}});
  }
}

void RemediationEngine::Finish(v1::FixAttempt& attempt, v1::FixStatus status) {
  attempt.set_status(status);
  const absl::Time now = clock_.Now();
  *attempt.mutable_finished() = ToProtoTime(now);
  *attempt.mutable_duration() = ToProtoDuration(now - FromProtoTime(attempt.started()));
  absl::Status stored = store_.PutFixAttempt(attempt);
  if (!stored.ok()) {
    LogError("cannot store fix attempt",
             {{"attempt", attempt.id()}, {"error", std::string(stored.message())}});
  }
  LogInfo("fix attempt finished", {{"attempt", attempt.id()},
                                   {"incident", attempt.incident_id()},
                                   {"status", FixStatusName(status)},
                                   {"strategy", attempt.strategy()}});
}

Evidence RemediationEngine::GatherEvidence(const v1::Incident& incident, const json& live) {
  Evidence evidence;
  evidence.incident = incident;
  const v1::WorkloadRef& w = incident.workload();
  KubeListOptions by_selector;
  by_selector.label_selector = SelectorOf(live);
  if (!by_selector.label_selector.empty()) {
    absl::StatusOr<KubeList> pods = cluster_.List({"v1", "Pod", w.namespace_(), ""}, by_selector);
    if (pods.ok()) evidence.pods = pods->items;
  }
  absl::StatusOr<KubeList> events = cluster_.List({"v1", "Event", w.namespace_(), ""});
  if (events.ok()) {
    for (const json& e : events->items) {
      const std::string involved =
          e.contains("involvedObject") ? Str(e["involvedObject"], "name") : "";
      if (involved == w.name() || absl::StartsWith(involved, w.name() + "-")) {
        json redacted = e;
        if (redacted.contains("message") && redacted["message"].is_string()) {
          redacted["message"] = RedactSecrets(redacted["message"].get<std::string>());
        }
        evidence.events.push_back(std::move(redacted));
      }
    }
    if (evidence.events.size() > 30) {
      evidence.events.erase(evidence.events.begin(), evidence.events.end() - 30);
    }
  }
  // The failing container's last logs, from the most recently restarted pod.
  const std::string container = w.container();
  for (const json& pod : evidence.pods) {
    if (container.empty()) break;
    PodLogOptions options;
    options.container = container;
    options.previous = true;
    options.tail_lines = 50;
    const std::string name = Str(pod["metadata"], "name");
    absl::StatusOr<std::string> logs = cluster_.PodLogs(w.namespace_(), name, options);
    if (!logs.ok()) {
      options.previous = false;
      logs = cluster_.PodLogs(w.namespace_(), name, options);
    }
    if (logs.ok() && !logs->empty()) {
      evidence.logs = RedactSecrets(*logs);
      break;
    }
  }
  return evidence;
}

absl::StatusOr<v1::FixAttempt> RemediationEngine::Run(const v1::Incident& incident,
                                                      v1::FixMode mode,
                                                      const std::string& only_strategy) {
  v1::FixAttempt attempt;
  attempt.set_id(NewId("fix"));
  attempt.set_incident_id(incident.id());
  attempt.set_mode(mode);
  *attempt.mutable_workload() = incident.workload();
  *attempt.mutable_started() = ToProtoTime(clock_.Now());
  const bool apply = mode == v1::FIX_MODE_APPLY;
  auto fail_incident = [&](const std::string& note) {
    if (apply)
      MoveIncident(incident.id(), v1::INCIDENT_STATE_FIXING, v1::INCIDENT_STATE_FIX_FAILED, note);
  };
  RETURN_IF_ERROR(store_.PutFixAttempt(attempt));
  RETURN_IF_ERROR(store_.LinkIncident(incident.id(), attempt.id(), "", ""));

  const KubeRef ref = RefOf(incident.workload());
  absl::StatusOr<json> live = cluster_.Get(ref);
  if (!live.ok()) {
    attempt.set_error(absl::StrCat("cannot read ", ref.kind, " ", ref.namespace_name, "/", ref.name,
                                   " from the cluster: ", live.status().message()));
    Finish(attempt, v1::FIX_STATUS_FAILED);
    fail_incident(attempt.error());
    return attempt;
  }

  // The manifest to edit: the GitOps repository's, else the live object's.
  json manifest_object;
  std::optional<ManifestRecord> record;
  std::string live_note;
  if (manifests_ != nullptr) {
    absl::StatusOr<ManifestRecord> found = manifests_->Find(incident.workload());
    if (found.ok()) {
      record = *std::move(found);
    } else if (found.status().code() != absl::StatusCode::kNotFound) {
      live_note = absl::StrCat(" The GitOps repository could not be read (",
                               found.status().message(), ").");
    }
  }
  if (record) {
    manifest_object = record->object;
    attempt.set_manifest_source("repo:" + record->path);
    attempt.set_manifest_path(record->path);
    attempt.set_manifest_document(record->document);
    attempt.set_manifest_commit(record->commit);
    attempt.set_pr_possible(true);
  } else {
    manifest_object = StripLive(*live);
    attempt.set_manifest_source("live");
    attempt.set_pr_possible(false);
    live_note +=
        " The workload is not in the GitOps repository, so the edit is made on the live "
        "object: it can be applied but no pull request can follow.";
  }

  const Evidence evidence = GatherEvidence(incident, *live);
  const FixContext context{evidence, manifest_object};
  std::vector<std::string> notes;
  std::optional<Proposal> chosen;
  json edited;
  bool refused = false;
  for (FixStrategy* strategy : strategies_) {
    if (!only_strategy.empty() && strategy->name() != only_strategy) continue;
    absl::StatusOr<Proposal> proposal = strategy->Propose(context);
    if (!proposal.ok()) {
      notes.push_back(absl::StrCat(strategy->name(), ": ", proposal.status().message()));
      continue;
    }
    absl::StatusOr<json> candidate = ApplyProposal(manifest_object, *proposal);
    if (!candidate.ok()) {
      notes.push_back(absl::StrCat(proposal->strategy, ": ", candidate.status().message()));
      continue;
    }
    *attempt.mutable_guard() = guard_.Check(manifest_object, *candidate);
    attempt.set_strategy(proposal->strategy);
    attempt.set_model(proposal->model);
    if (!attempt.guard().allowed()) {
      refused = true;
      notes.push_back(absl::StrCat(proposal->strategy, ": refused by the guard: ",
                                   absl::StrJoin(attempt.guard().violations(), "; ")));
      continue;
    }
    chosen = *std::move(proposal);
    edited = *std::move(candidate);
    break;
  }
  if (!chosen) {
    attempt.set_error(absl::StrJoin(notes, "\n"));
    attempt.set_explanation(absl::StrCat("No strategy produced an acceptable fix.", live_note));
    Finish(attempt, refused ? v1::FIX_STATUS_REFUSED : v1::FIX_STATUS_NO_FIX);
    fail_incident(refused ? "every proposed fix was refused by the guard" : "no fix applies");
    return attempt;
  }

  attempt.set_explanation(chosen->explanation + live_note);
  std::vector<manifest::TextChange> text_changes;
  for (const ProposedChange& change : chosen->changes) {
    v1::FieldChange* out = attempt.add_changes();
    out->set_path(manifest::FormatFieldPath(change.path));
    const json* old = manifest::FindField(manifest_object, change.path);
    out->set_old_value_json(old == nullptr ? "null" : old->dump());
    out->set_new_value_json(change.value.dump());
    out->set_reason(change.reason);
    text_changes.push_back({change.path, change.value});
  }
  if (record) {
    absl::StatusOr<std::string> new_text =
        manifest::ApplyChangesToYamlText(record->text, record->document, text_changes);
    if (new_text.ok()) {
      attempt.set_diff(manifest::UnifiedDiff(record->text, *new_text, record->path));
    } else {
      attempt.set_diff(
          manifest::UnifiedDiff(manifest_object.dump(2), edited.dump(2), record->path));
    }
  } else {
    attempt.set_diff(manifest::UnifiedDiff(
        manifest_object.dump(2), edited.dump(2),
        absl::StrCat("live/", ref.namespace_name, "/", ref.kind, "/", ref.name)));
  }

  if (!apply) {
    Finish(attempt, v1::FIX_STATUS_PROPOSED);
    return attempt;
  }

  // Only the changed fields are applied, so fields other managers own stay theirs.
  json object = {{"apiVersion", ref.api_version},
                 {"kind", ref.kind},
                 {"metadata", {{"name", ref.name}, {"namespace", ref.namespace_name}}}};
  bool removes = false;
  for (const ProposedChange& change : chosen->changes) {
    removes = removes || change.value.is_null();
    RETURN_IF_ERROR(manifest::SetField(object, change.path, change.value, /*null_removes=*/false));
  }
  ApplyOptions dry_run{options_.field_manager, /*force=*/true, /*dry_run=*/true};
  absl::StatusOr<json> checked =
      removes ? cluster_.Patch(ref, PatchType::kStrategicMerge, object,
                               WriteOptions{/*dry_run=*/true, options_.field_manager})
              : cluster_.Apply(object, dry_run);
  if (!checked.ok()) {
    attempt.set_dry_run_result(absl::StrCat("rejected: ", checked.status().message()));
    attempt.set_error(attempt.dry_run_result());
    Finish(attempt, v1::FIX_STATUS_DRY_RUN_FAILED);
    fail_incident("the API server rejected the fix in a dry run");
    return attempt;
  }
  attempt.set_dry_run_result("accepted by the API server (dryRun=All)");

  // Stored before the apply: a crash from here on leaves an attempt that ResumeInterrupted
  // verifies or rolls back with these live values.
  RETURN_IF_ERROR(store_.PutValue(LiveSnapshotKey(attempt.id()), live->dump()));
  attempt.set_status(v1::FIX_STATUS_VERIFYING);
  RETURN_IF_ERROR(store_.PutFixAttempt(attempt));
  absl::StatusOr<json> applied =
      removes ? cluster_.Patch(ref, PatchType::kStrategicMerge, object,
                               WriteOptions{false, options_.field_manager})
              : cluster_.Apply(object, ApplyOptions{options_.field_manager, true, false});
  if (!applied.ok()) {
    attempt.set_error(absl::StrCat("apply failed: ", applied.status().message()));
    Finish(attempt, v1::FIX_STATUS_FAILED);
    fail_incident(attempt.error());
    return attempt;
  }
  LogInfo("fix applied", {{"attempt", attempt.id()},
                          {"workload", WorkloadKey(incident.workload())},
                          {"strategy", attempt.strategy()}});
  VerifyOrRollBack(incident, attempt);
  return attempt;
}

void RemediationEngine::VerifyOrRollBack(const v1::Incident& incident, v1::FixAttempt& attempt) {
  std::vector<std::string> evidence;
  absl::Status verified = Verify(attempt.workload(), evidence);
  for (auto& line : evidence) attempt.add_verification_evidence(std::move(line));
  if (verified.ok()) {
    Finish(attempt, v1::FIX_STATUS_VERIFIED);
    MoveIncident(incident.id(), v1::INCIDENT_STATE_FIXING, v1::INCIDENT_STATE_VERIFIED,
                 absl::StrCat("fix ", attempt.id(), " verified: ", attempt.explanation()));
    return;
  }
  attempt.set_rollback_reason(std::string(verified.message()));
  std::vector<std::string> rollback_evidence;
  absl::Status rolled_back = RollBack(attempt, rollback_evidence);
  for (auto& line : rollback_evidence) attempt.add_verification_evidence(std::move(line));
  attempt.set_rolled_back(rolled_back.ok());
  if (!rolled_back.ok()) {
    attempt.set_error(absl::StrCat("the fix did not hold (", verified.message(),
                                   ") and the rollback failed: ", rolled_back.message()));
    Finish(attempt, v1::FIX_STATUS_FAILED);
  } else {
    attempt.set_error(absl::StrCat("the fix did not hold: ", verified.message()));
    Finish(attempt, v1::FIX_STATUS_ROLLED_BACK);
  }
  MoveIncident(incident.id(), v1::INCIDENT_STATE_FIXING, v1::INCIDENT_STATE_FIX_FAILED,
               attempt.error());
}

absl::Status RemediationEngine::Verify(const v1::WorkloadRef& workload,
                                       std::vector<std::string>& evidence) {
  const KubeRef ref = RefOf(workload);
  if (workload.kind() == "Deployment") {
    const absl::Time deadline = clock_.Now() + options_.rollout_timeout;
    while (true) {
      absl::StatusOr<RolloutStatus> status = cluster_.GetRolloutStatus(ref);
      if (!status.ok()) return status.status();
      if (status->done) {
        evidence.push_back(absl::StrCat("rollout: ", status->message));
        break;
      }
      if (status->failed) {
        return absl::FailedPreconditionError(absl::StrCat("rollout failed: ", status->message));
      }
      if (clock_.Now() >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("the rollout did not finish within ",
                         absl::FormatDuration(options_.rollout_timeout), ": ", status->message));
      }
      clock_.SleepFor(options_.poll_interval);
    }
  } else {
    evidence.push_back(absl::StrCat("rollout status is not evaluated for a ", workload.kind()));
  }
  ASSIGN_OR_RETURN(json live, cluster_.Get(ref));
  KubeListOptions by_selector;
  by_selector.label_selector = SelectorOf(live);
  if (by_selector.label_selector.empty()) {
    return absl::FailedPreconditionError("the workload has no selector to find its pods");
  }
  // Restarts counted from the start of the window: any increase is a failure.
  std::map<std::string, int64_t> baseline;
  const absl::Time window_start = clock_.Now();
  const absl::Time window_end = window_start + options_.verify_window;
  bool first = true;
  while (true) {
    ASSIGN_OR_RETURN(KubeList pods,
                     cluster_.List({"v1", "Pod", workload.namespace_(), ""}, by_selector));
    int ready = 0, total = 0;
    std::set<std::string> current;
    for (const json& pod : pods.items) {
      if (Deleting(pod)) continue;
      ++total;
      const std::string name = Str(pod["metadata"], "name");
      current.insert(name);
      const json& status = At(pod, "status");
      if (Str(status, "phase") == "Pending" && status.contains("conditions")) {
        for (const json& c : status["conditions"]) {
          if (Str(c, "type") == "PodScheduled" && Str(c, "status") == "False") {
            return absl::FailedPreconditionError(
                absl::StrCat("pod ", name, " cannot be scheduled: ", Str(c, "message")));
          }
        }
      }
      for (const json& cs : At(status, "containerStatuses")) {
        const std::string key = name + "/" + Str(cs, "name");
        const int64_t restarts = Int(cs, "restartCount");
        if (first) baseline[key] = restarts;
        const auto it = baseline.find(key);
        const int64_t before = it == baseline.end() ? 0 : it->second;
        if (restarts > before) {
          std::string reason = cs.contains("lastState") && cs["lastState"].contains("terminated")
                                   ? Str(cs["lastState"]["terminated"], "reason")
                                   : "";
          return absl::FailedPreconditionError(
              absl::StrCat("container ", key, " restarted during the verification window",
                           reason.empty() ? "" : " (" + reason + ")"));
        }
        if (cs.contains("state") && cs["state"].contains("waiting")) {
          const std::string reason = Str(cs["state"]["waiting"], "reason");
          if (reason == "CrashLoopBackOff" || reason == "ImagePullBackOff" ||
              reason == "ErrImagePull" || reason == "CreateContainerConfigError" ||
              reason == "RunContainerError" || reason == "StartError") {
            return absl::FailedPreconditionError(
                absl::StrCat("container ", key, " is waiting: ", reason));
          }
        }
      }
      if (PodReady(pod)) ++ready;
    }
    first = false;
    // Probe failures of the current pods reported during the window count too (the old pods keep
    // failing until the rollout replaces them).
    absl::StatusOr<KubeList> events = cluster_.List({"v1", "Event", workload.namespace_(), ""});
    if (events.ok()) {
      for (const json& e : events->items) {
        const std::string involved =
            e.contains("involvedObject") ? Str(e["involvedObject"], "name") : "";
        if (current.count(involved) == 0) continue;
        absl::Time last;
        std::string stamp = Str(e, "lastTimestamp");
        if (stamp.empty()) stamp = Str(e, "eventTime");
        if (!ParseIso8601(stamp, &last) || last < window_start) continue;
        const std::string reason = Str(e, "reason");
        if (reason == "Unhealthy" || reason == "FailedScheduling" || reason == "OOMKilling" ||
            reason == "BackOff") {
          return absl::FailedPreconditionError(absl::StrCat(
              "after the fix: ", reason, " on ", involved, ": ", RedactSecrets(Str(e, "message"))));
        }
      }
    }
    if (clock_.Now() >= window_end) {
      if (total == 0 || ready < total) {
        return absl::FailedPreconditionError(absl::StrCat(
            ready, " of ", total, " pods Ready at the end of the verification window"));
      }
      evidence.push_back(absl::StrCat("window: ", total, " of ", total, " pods Ready, no restart, ",
                                      "no probe failure for ",
                                      absl::FormatDuration(options_.verify_window)));
      return absl::OkStatus();
    }
    clock_.SleepFor(options_.poll_interval);
  }
}

absl::Status RemediationEngine::RollBack(const v1::FixAttempt& attempt,
                                         std::vector<std::string>& evidence) {
  ASSIGN_OR_RETURN(std::optional<std::string> snapshot,
                   store_.GetValue(LiveSnapshotKey(attempt.id())));
  if (!snapshot) return absl::DataLossError("the live values before the fix were not stored");
  const json before = json::parse(*snapshot, nullptr, false);
  if (before.is_discarded()) return absl::DataLossError("the stored live values are corrupt");
  const KubeRef ref = RefOf(attempt.workload());
  json patch = json::object();
  std::vector<std::pair<manifest::FieldPath, json>> expected;
  for (const v1::FieldChange& change : attempt.changes()) {
    ASSIGN_OR_RETURN(manifest::FieldPath path, manifest::ParseFieldPath(change.path()));
    const json* old = manifest::FindField(before, path);
    const json value = old == nullptr ? json() : *old;
    RETURN_IF_ERROR(manifest::SetField(patch, path, value, /*null_removes=*/false));
    expected.emplace_back(path, value);
  }
  ASSIGN_OR_RETURN(json unused, cluster_.Patch(ref, PatchType::kStrategicMerge, patch,
                                               WriteOptions{false, options_.field_manager}));
  (void)unused;
  if (attempt.workload().kind() == "Deployment") {
    const absl::Time deadline = clock_.Now() + options_.rollout_timeout;
    while (clock_.Now() < deadline) {
      absl::StatusOr<RolloutStatus> status = cluster_.GetRolloutStatus(ref);
      if (status.ok() && (status->done || status->failed)) {
        evidence.push_back(absl::StrCat("rollback rollout: ", status->message));
        break;
      }
      clock_.SleepFor(options_.poll_interval);
    }
  }
  ASSIGN_OR_RETURN(json now, cluster_.Get(ref));
  for (const auto& [path, value] : expected) {
    const json* current = manifest::FindField(now, path);
    const json actual = current == nullptr ? json() : *current;
    if (actual != value) {
      return absl::InternalError(absl::StrCat("after the rollback ",
                                              manifest::FormatFieldPath(path), " is ",
                                              actual.dump(), ", not ", value.dump()));
    }
  }
  evidence.push_back(absl::StrCat("rolled back: every changed field is again as before (",
                                  expected.size(), " fields checked)"));
  return absl::OkStatus();
}

absl::Status RemediationEngine::ResumeInterrupted() {
  IncidentFilter filter;
  filter.state = v1::INCIDENT_STATE_FIXING;
  filter.page_size = 1000;
  ASSIGN_OR_RETURN(IncidentPage page, store_.ListIncidents(filter));
  for (const v1::Incident& incident : page.incidents) {
    ASSIGN_OR_RETURN(std::vector<v1::FixAttempt> attempts, store_.ListFixAttempts(incident.id()));
    if (!attempts.empty() && attempts.back().status() == v1::FIX_STATUS_VERIFYING) {
      v1::FixAttempt attempt = attempts.back();
      LogInfo("resuming an interrupted fix",
              {{"attempt", attempt.id()}, {"incident", incident.id()}});
      attempt.add_verification_evidence("resumed after a restart");
      VerifyOrRollBack(incident, attempt);
      continue;
    }
    if (!attempts.empty() && attempts.back().status() == v1::FIX_STATUS_UNSPECIFIED) {
      v1::FixAttempt attempt = attempts.back();
      attempt.set_error("interrupted before anything was applied");
      Finish(attempt, v1::FIX_STATUS_FAILED);
    }
    MoveIncident(incident.id(), v1::INCIDENT_STATE_FIXING, v1::INCIDENT_STATE_OPEN,
                 "the fix attempt was interrupted before anything was applied");
  }
  return absl::OkStatus();
}

}  // namespace remediator::remediation
