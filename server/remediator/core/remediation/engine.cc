#include "server/remediator/core/remediation/engine.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
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
#include "server/remediator/core/remediation/quantity.h"

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

// Sets `path` in a strategic merge patch: a null removes the field; a removed list element
// (the path ends in [key=value]) is spelled {key: value, "$patch": "delete"}.
absl::Status SetPatchField(json& patch, const manifest::FieldPath& path, const json& value) {
  if (value.is_null() && !path.empty() &&
      path.back().kind == manifest::PathSegment::Kind::kSelector) {
    return manifest::SetField(patch, path,
                              json{{path.back().key, path.back().value}, {"$patch", "delete"}});
  }
  return manifest::SetField(patch, path, value, /*null_removes=*/false);
}

// Kinds whose rollout is followed like `kubectl rollout status`.
bool HasRolloutStatus(const std::string& kind) {
  return kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet";
}

absl::Status Cancelled() {
  return absl::CancelledError(
      "the remediator is shutting down; the attempt resumes at the next start");
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

absl::StatusOr<v1::FixMode> RemediationEngine::ModeFor(const v1::AttemptFixRequest& request,
                                                       const v1::Incident& incident) const {
  if (!v1::FixMode_IsValid(request.mode())) {
    return absl::InvalidArgumentError(
        absl::StrCat("mode ", static_cast<int>(request.mode()),
                     " is not a FixMode (FIX_MODE_SUGGEST = 1, FIX_MODE_APPLY = 2, or unset)"));
  }
  const std::string& ns = incident.workload().namespace_();
  const Mode ceiling = options_.modes.For(ns);
  if (ceiling == Mode::kObserve) {
    return absl::FailedPreconditionError(absl::StrCat(
        "namespace \"", ns, "\" is configured in observe mode: nothing is proposed or applied"));
  }
  const v1::FixMode allowed = ceiling == Mode::kFix ? v1::FIX_MODE_APPLY : v1::FIX_MODE_SUGGEST;
  if (request.mode() == v1::FIX_MODE_UNSPECIFIED) return allowed;
  if (request.mode() == v1::FIX_MODE_APPLY && allowed != v1::FIX_MODE_APPLY) {
    return absl::FailedPreconditionError(
        absl::StrCat("namespace \"", ns, "\" is configured in ", ModeName(ceiling),
                     " mode: a request may ask for less (FIX_MODE_SUGGEST), never for more"));
  }
  return request.mode();
}

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
  if (cancelled_.HasBeenNotified()) {
    return absl::UnavailableError("the remediator is shutting down: no new fix attempt starts");
  }
  ASSIGN_OR_RETURN(v1::Incident incident, store_.GetIncident(request.incident_id()));
  ASSIGN_OR_RETURN(const v1::FixMode mode, ModeFor(request, incident));
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
      // Every path out of fixing ends somewhere: an error that stopped the attempt midway
      // (the store failing) must not leave the incident in fixing, which nothing revisits.
      if (!attempt.ok()) {
        MoveIncident(incident.id(), v1::INCIDENT_STATE_FIXING, v1::INCIDENT_STATE_FIX_FAILED,
                     absl::StrCat("the fix attempt stopped: ", attempt.status().message()));
      }
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

namespace {

std::set<std::string> KeysOf(const json& object, std::initializer_list<const char*> maps) {
  std::set<std::string> keys;
  for (const char* map : maps) {
    const json& m = At(object, map);
    if (!m.is_object()) continue;
    for (auto it = m.begin(); it != m.end(); ++it) keys.insert(it.key());
  }
  return keys;
}

int64_t Quantity(const json& value) {
  absl::StatusOr<double> q = ParseQuantity(value);
  return q.ok() ? static_cast<int64_t>(*q) : 0;
}

}  // namespace

ClusterFacts RemediationEngine::GatherFacts(const v1::WorkloadRef& w, const json& live) {
  ClusterFacts facts;
  absl::StatusOr<KubeList> secrets = cluster_.List({"v1", "Secret", w.namespace_(), ""});
  absl::StatusOr<KubeList> config_maps = cluster_.List({"v1", "ConfigMap", w.namespace_(), ""});
  absl::StatusOr<KubeList> nodes = cluster_.List({"v1", "Node", "", ""});
  facts.known = secrets.ok() && config_maps.ok() && nodes.ok();
  if (!facts.known) return facts;
  // Only key names are kept: secret values never leave this function.
  for (const json& s : secrets->items) {
    facts.secret_keys[Str(At(s, "metadata"), "name")] = KeysOf(s, {"data", "stringData"});
  }
  for (const json& c : config_maps->items) {
    facts.config_map_keys[Str(At(c, "metadata"), "name")] = KeysOf(c, {"data", "binaryData"});
  }
  for (const json& n : nodes->items) {
    NodeFacts node;
    node.name = Str(At(n, "metadata"), "name");
    const json& labels = At(At(n, "metadata"), "labels");
    if (labels.is_object()) {
      for (auto it = labels.begin(); it != labels.end(); ++it) {
        if (it.value().is_string()) node.labels[it.key()] = it.value().get<std::string>();
      }
    }
    const json& allocatable = At(At(n, "status"), "allocatable");
    node.allocatable_cpu_millis = static_cast<int64_t>(Quantity(At(allocatable, "cpu")) * 1000);
    node.allocatable_memory_bytes = Quantity(At(allocatable, "memory"));
    for (const json& t : At(At(n, "spec"), "taints")) node.taints.push_back(t);
    facts.nodes.push_back(std::move(node));
  }
  if (w.kind() == "Deployment") facts.older_pod_specs = OlderPodSpecs(w, live);
  return facts;
}

std::vector<json> RemediationEngine::OlderPodSpecs(const v1::WorkloadRef& w, const json& live) {
  std::vector<json> specs;
  KubeListOptions by_selector;
  by_selector.label_selector = SelectorOf(live);
  absl::StatusOr<KubeList> sets =
      cluster_.List({"apps/v1", "ReplicaSet", w.namespace_(), ""}, by_selector);
  if (!sets.ok()) return specs;
  const std::string current =
      Str(At(At(live, "metadata"), "annotations"), "deployment.kubernetes.io/revision");
  std::vector<std::pair<int64_t, const json*>> owned;
  for (const json& rs : sets->items) {
    bool mine = false;
    for (const json& owner : At(At(rs, "metadata"), "ownerReferences")) {
      mine = mine || (Str(owner, "kind") == "Deployment" && Str(owner, "name") == w.name());
    }
    const std::string text =
        Str(At(At(rs, "metadata"), "annotations"), "deployment.kubernetes.io/revision");
    int64_t revision = 0;
    if (!mine || text == current || !absl::SimpleAtoi(text, &revision)) continue;
    owned.emplace_back(revision, &rs);
  }
  std::sort(owned.begin(), owned.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [revision, rs] : owned) {
    specs.push_back(At(At(At(*rs, "spec"), "template"), "spec"));
  }
  return specs;
}

Evidence RemediationEngine::GatherEvidence(const v1::Incident& incident, const json& live) {
  Evidence evidence;
  evidence.incident = incident;
  const v1::WorkloadRef& w = incident.workload();
  evidence.facts = GatherFacts(w, live);
  KubeListOptions by_selector;
  by_selector.label_selector = SelectorOf(live);
  if (!by_selector.label_selector.empty()) {
    absl::StatusOr<KubeList> pods = cluster_.List({"v1", "Pod", w.namespace_(), ""}, by_selector);
    if (pods.ok()) evidence.pods = pods->items;
  } else if (w.kind() == "CronJob") {
    // A CronJob has no selector: its pods are named <cronjob>-<run>-<suffix> by its Jobs.
    absl::StatusOr<KubeList> pods = cluster_.List({"v1", "Pod", w.namespace_(), ""});
    if (pods.ok()) {
      for (const json& pod : pods->items) {
        if (absl::StartsWith(Str(At(pod, "metadata"), "name"), w.name() + "-")) {
          evidence.pods.push_back(pod);
        }
      }
    }
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

struct RemediationEngine::ManifestChoice {
  json object;  // the manifest to edit
  std::optional<ManifestRecord> record;
  std::string note;  // said in the explanation (no PR possible, repository unreadable)
};

struct RemediationEngine::Choice {
  std::optional<Proposal> proposal;
  json edited;
  bool refused = false;
  bool review_only = false;  // the chosen proposal may only be shown to people
  std::vector<std::string> notes;
};

RemediationEngine::ManifestChoice RemediationEngine::ReadManifest(const v1::Incident& incident,
                                                                  const json& live,
                                                                  v1::FixAttempt& attempt) {
  ManifestChoice out;
  if (manifests_ != nullptr) {
    absl::StatusOr<ManifestRecord> found = manifests_->Find(incident.workload());
    if (found.ok()) {
      out.record = *std::move(found);
    } else if (found.status().code() != absl::StatusCode::kNotFound) {
      out.note = absl::StrCat(" The GitOps repository could not be read (",
                              found.status().message(), ").");
    }
  }
  if (out.record) {
    out.object = out.record->object;
    attempt.set_manifest_source("repo:" + out.record->path);
    attempt.set_manifest_path(out.record->path);
    attempt.set_manifest_document(out.record->document);
    attempt.set_manifest_commit(out.record->commit);
    attempt.set_pr_possible(true);
    return out;
  }
  out.object = StripLive(live);
  attempt.set_manifest_source("live");
  attempt.set_pr_possible(false);
  out.note +=
      " The workload is not in the GitOps repository, so the edit is made on the live "
      "object: it can be applied but no pull request can follow.";
  return out;
}

// Strategies in order; the first proposal the guard allows wins. A proposal the guard allows
// for review only is kept in case nothing else is allowed: it is recorded, never applied.
RemediationEngine::Choice RemediationEngine::Choose(const FixContext& context,
                                                    const std::string& only_strategy,
                                                    v1::FixAttempt& attempt) {
  Choice choice;
  v1::GuardVerdict review_verdict;
  for (FixStrategy* strategy : strategies_) {
    if (!only_strategy.empty() && strategy->name() != only_strategy) continue;
    absl::StatusOr<Proposal> proposal = strategy->Propose(context);
    if (!proposal.ok()) {
      choice.notes.push_back(absl::StrCat(strategy->name(), ": ", proposal.status().message()));
      continue;
    }
    absl::StatusOr<json> candidate = ApplyProposal(context.manifest, *proposal);
    if (!candidate.ok()) {
      choice.notes.push_back(absl::StrCat(proposal->strategy, ": ", candidate.status().message()));
      continue;
    }
    v1::GuardVerdict verdict = guard_.Check(context.manifest, *candidate, &context.evidence.facts);
    *attempt.mutable_guard() = verdict;
    attempt.set_strategy(proposal->strategy);
    attempt.set_model(proposal->model);
    if (verdict.allowed()) {
      choice.proposal = *std::move(proposal);
      choice.edited = *std::move(candidate);
      choice.review_only = false;
      return choice;
    }
    const std::string violations = absl::StrJoin(verdict.violations(), "; ");
    if (verdict.review_required()) {
      choice.notes.push_back(absl::StrCat(
          proposal->strategy, ": allowed only as a suggestion for people: ", violations));
      if (!choice.proposal) {
        choice.proposal = *std::move(proposal);
        choice.edited = *std::move(candidate);
        choice.review_only = true;
        review_verdict = verdict;
      }
      continue;
    }
    choice.refused = true;
    choice.notes.push_back(
        absl::StrCat(proposal->strategy, ": refused by the guard: ", violations));
  }
  if (choice.review_only) {
    *attempt.mutable_guard() = review_verdict;
    attempt.set_strategy(choice.proposal->strategy);
    attempt.set_model(choice.proposal->model);
  }
  return choice;
}

void RemediationEngine::Describe(const Choice& choice, const ManifestChoice& manifest,
                                 v1::FixAttempt& attempt) {
  std::vector<manifest::TextChange> text_changes;
  for (const ProposedChange& change : choice.proposal->changes) {
    v1::FieldChange* out = attempt.add_changes();
    out->set_path(manifest::FormatFieldPath(change.path));
    const json* old = manifest::FindField(manifest.object, change.path);
    out->set_old_value_json(old == nullptr ? "null" : old->dump());
    out->set_new_value_json(change.value.dump());
    out->set_reason(change.reason);
    text_changes.push_back({change.path, change.value});
  }
  const KubeRef ref = RefOf(attempt.workload());
  if (manifest.record) {
    absl::StatusOr<std::string> new_text = manifest::ApplyChangesToYamlText(
        manifest.record->text, manifest.record->document, text_changes);
    attempt.set_diff(
        new_text.ok()
            ? manifest::UnifiedDiff(manifest.record->text, *new_text, manifest.record->path)
            : manifest::UnifiedDiff(manifest.object.dump(2), choice.edited.dump(2),
                                    manifest.record->path));
    return;
  }
  attempt.set_diff(manifest::UnifiedDiff(
      manifest.object.dump(2), choice.edited.dump(2),
      absl::StrCat("live/", ref.namespace_name, "/", ref.kind, "/", ref.name)));
}

absl::StatusOr<bool> RemediationEngine::Apply(const Choice& choice, const json& live,
                                              v1::FixAttempt& attempt) {
  const KubeRef ref = RefOf(attempt.workload());
  // Only the changed fields are applied, so fields other managers own stay theirs.
  json object = {{"apiVersion", ref.api_version},
                 {"kind", ref.kind},
                 {"metadata", {{"name", ref.name}, {"namespace", ref.namespace_name}}}};
  bool removes = false;
  for (const ProposedChange& change : choice.proposal->changes) {
    removes = removes || change.value.is_null();
    RETURN_IF_ERROR(SetPatchField(object, change.path, change.value));
  }
  auto write = [&](bool dry_run) {
    return removes ? cluster_.Patch(ref, PatchType::kStrategicMerge, object,
                                    WriteOptions{dry_run, options_.field_manager})
                   : cluster_.Apply(object, ApplyOptions{options_.field_manager, true, dry_run});
  };
  absl::StatusOr<json> checked = write(/*dry_run=*/true);
  if (!checked.ok()) {
    attempt.set_dry_run_result(absl::StrCat("rejected: ", checked.status().message()));
    attempt.set_error(attempt.dry_run_result());
    Finish(attempt, v1::FIX_STATUS_DRY_RUN_FAILED);
    MoveIncident(attempt.incident_id(), v1::INCIDENT_STATE_FIXING, v1::INCIDENT_STATE_FIX_FAILED,
                 "the API server rejected the fix in a dry run");
    return false;
  }
  attempt.set_dry_run_result("accepted by the API server (dryRun=All)");
  // Stored before the apply: a crash from here on leaves an attempt that ResumeInterrupted
  // verifies or rolls back with these live values.
  RETURN_IF_ERROR(store_.PutValue(LiveSnapshotKey(attempt.id()), live.dump()));
  attempt.set_status(v1::FIX_STATUS_VERIFYING);
  RETURN_IF_ERROR(store_.PutFixAttempt(attempt));
  absl::StatusOr<json> applied = write(/*dry_run=*/false);
  if (!applied.ok()) {
    attempt.set_error(absl::StrCat("apply failed: ", applied.status().message()));
    Finish(attempt, v1::FIX_STATUS_FAILED);
    MoveIncident(attempt.incident_id(), v1::INCIDENT_STATE_FIXING, v1::INCIDENT_STATE_FIX_FAILED,
                 attempt.error());
    return false;
  }
  return true;
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
  const ManifestChoice manifest = ReadManifest(incident, *live, attempt);
  const Evidence evidence = GatherEvidence(incident, *live);
  const Choice choice = Choose(FixContext{evidence, manifest.object}, only_strategy, attempt);
  if (!choice.proposal) {
    attempt.set_error(absl::StrJoin(choice.notes, "\n"));
    attempt.set_explanation(absl::StrCat("No strategy produced an acceptable fix.", manifest.note));
    Finish(attempt, choice.refused ? v1::FIX_STATUS_REFUSED : v1::FIX_STATUS_NO_FIX);
    fail_incident(choice.refused ? "every proposed fix was refused by the guard"
                                 : "no fix applies");
    return attempt;
  }
  attempt.set_explanation(choice.proposal->explanation + manifest.note);
  Describe(choice, manifest, attempt);
  if (choice.review_only) {
    attempt.set_error(absl::StrCat("needs human review, nothing was applied: ",
                                   absl::StrJoin(choice.notes, "\n")));
    Finish(attempt, v1::FIX_STATUS_PROPOSED);
    fail_incident("the only fix found needs human review; it was proposed, not applied");
    return attempt;
  }
  if (!apply) {
    Finish(attempt, v1::FIX_STATUS_PROPOSED);
    return attempt;
  }
  ASSIGN_OR_RETURN(const bool applied, Apply(choice, *live, attempt));
  if (!applied) return attempt;
  LogInfo("fix applied", {{"attempt", attempt.id()},
                          {"workload", WorkloadKey(incident.workload())},
                          {"strategy", attempt.strategy()}});
  VerifyOrRollBack(incident, attempt);
  return attempt;
}

bool RemediationEngine::Pause(absl::Duration d) {
  return clock_.SleepUnlessCancelled(d, cancelled_);
}

void RemediationEngine::Cancel() {
  if (!cancelled_.HasBeenNotified()) cancelled_.Notify();
}

void RemediationEngine::VerifyOrRollBack(const v1::Incident& incident, v1::FixAttempt& attempt) {
  std::vector<std::string> evidence;
  absl::Status verified = Verify(attempt.workload(), evidence);
  if (absl::IsCancelled(verified)) {
    // Parked: the attempt stays VERIFYING and the incident fixing; the next start resumes the
    // verification (ResumeInterrupted), with the live snapshot stored before the apply.
    LogInfo("fix verification parked for shutdown",
            {{"attempt", attempt.id()}, {"incident", incident.id()}});
    return;
  }
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

// A CronJob is verified by its next run: a Job it creates from the fixed template must
// complete; a failed run fails the fix, and so does no completed run within rollout_timeout.
absl::Status RemediationEngine::VerifyCronJob(const v1::WorkloadRef& workload,
                                              std::vector<std::string>& evidence) {
  ASSIGN_OR_RETURN(json live, cluster_.Get(RefOf(workload)));
  const json fixed = At(At(At(At(At(live, "spec"), "jobTemplate"), "spec"), "template"), "spec");
  const absl::Time deadline = clock_.Now() + options_.rollout_timeout;
  while (true) {
    ASSIGN_OR_RETURN(KubeList jobs, cluster_.List({"batch/v1", "Job", workload.namespace_(), ""}));
    for (const json& job : jobs.items) {
      bool owned = false;
      for (const json& owner : At(At(job, "metadata"), "ownerReferences")) {
        owned = owned || (Str(owner, "kind") == "CronJob" && Str(owner, "name") == workload.name());
      }
      const json& containers = At(At(At(At(job, "spec"), "template"), "spec"), "containers");
      if (!owned || containers != At(fixed, "containers")) continue;  // an earlier template's run
      const std::string name = Str(At(job, "metadata"), "name");
      const json& status = At(job, "status");
      if (Int(status, "succeeded") > 0) {
        evidence.push_back(absl::StrCat("run: job ", name, " of the fixed template completed"));
        return absl::OkStatus();
      }
      for (const json& c : At(status, "conditions")) {
        if (Str(c, "type") == "Failed" && Str(c, "status") == "True") {
          return absl::FailedPreconditionError(
              absl::StrCat("job ", name, " of the fixed template failed: ", Str(c, "reason"), ": ",
                           RedactSecrets(Str(c, "message"))));
        }
      }
    }
    if (clock_.Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("no run of the fixed CronJob completed within ",
                       absl::FormatDuration(options_.rollout_timeout)));
    }
    if (!Pause(options_.poll_interval)) return Cancelled();
  }
}

absl::Status RemediationEngine::Verify(const v1::WorkloadRef& workload,
                                       std::vector<std::string>& evidence) {
  if (workload.kind() == "CronJob") return VerifyCronJob(workload, evidence);
  const KubeRef ref = RefOf(workload);
  if (HasRolloutStatus(workload.kind())) {
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
      if (!Pause(options_.poll_interval)) return Cancelled();
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
    if (!Pause(options_.poll_interval)) return Cancelled();
  }
}

namespace {

std::string Cut(std::string text, size_t max) {
  if (text.size() > max) text = text.substr(0, max) + "...";
  return text;
}

// The shortest prefix of `path` that `doc` lacks (a map or list element the fix created), or
// the whole path when every ancestor exists.
manifest::FieldPath CreatedPrefix(const json& doc, const manifest::FieldPath& path) {
  for (size_t n = 1; n <= path.size(); ++n) {
    manifest::FieldPath prefix(path.begin(), path.begin() + n);
    if (manifest::FindField(doc, prefix) == nullptr) return prefix;
  }
  return path;
}

// What a rollback of `path` must restore, and the subtree that must then equal the snapshot:
// the deepest ancestor that existed before the fix (for a field the fix created, its parent).
struct RestoreStep {
  manifest::FieldPath set;  // set to `value` (null: removed)
  json value;
  manifest::FieldPath anchor;  // compared with the snapshot afterwards
};

RestoreStep RestoreStepFor(const json& before, const manifest::FieldPath& path) {
  RestoreStep step;
  step.set = CreatedPrefix(before, path);
  const json* old = manifest::FindField(before, step.set);
  step.value = old == nullptr ? json() : *old;
  step.anchor =
      old == nullptr ? manifest::FieldPath(step.set.begin(), step.set.end() - 1) : step.set;
  return step;
}

}  // namespace

absl::Status RemediationEngine::RollBack(const v1::FixAttempt& attempt,
                                         std::vector<std::string>& evidence) {
  ASSIGN_OR_RETURN(std::optional<std::string> snapshot,
                   store_.GetValue(LiveSnapshotKey(attempt.id())));
  if (!snapshot) return absl::DataLossError("the live values before the fix were not stored");
  const json before = json::parse(*snapshot, nullptr, false);
  if (before.is_discarded()) return absl::DataLossError("the stored live values are corrupt");
  const KubeRef ref = RefOf(attempt.workload());
  json patch = json::object();
  std::vector<manifest::FieldPath> anchors;
  for (const v1::FieldChange& change : attempt.changes()) {
    ASSIGN_OR_RETURN(manifest::FieldPath path, manifest::ParseFieldPath(change.path()));
    RestoreStep step = RestoreStepFor(before, path);
    // A null in a strategic merge patch deletes the field: what the fix created goes away.
    RETURN_IF_ERROR(SetPatchField(patch, step.set, step.value));
    if (std::find(anchors.begin(), anchors.end(), step.anchor) == anchors.end()) {
      anchors.push_back(std::move(step.anchor));
    }
  }
  ASSIGN_OR_RETURN(json unused, cluster_.Patch(ref, PatchType::kStrategicMerge, patch,
                                               WriteOptions{false, options_.field_manager}));
  (void)unused;
  if (HasRolloutStatus(attempt.workload().kind())) {
    const absl::Time deadline = clock_.Now() + options_.rollout_timeout;
    while (clock_.Now() < deadline) {
      absl::StatusOr<RolloutStatus> status = cluster_.GetRolloutStatus(ref);
      if (status.ok() && (status->done || status->failed)) {
        evidence.push_back(absl::StrCat("rollback rollout: ", status->message));
        break;
      }
      if (!Pause(options_.poll_interval)) break;  // shutting down: check what is there now
    }
  }
  // Exact means: every subtree the fix touched equals the snapshot taken before the fix.
  ASSIGN_OR_RETURN(json now, cluster_.Get(ref));
  for (const manifest::FieldPath& anchor : anchors) {
    const json* was = manifest::FindField(before, anchor);
    const json* is = manifest::FindField(now, anchor);
    if (was == nullptr || is == nullptr || *was != *is) {
      return absl::InternalError(
          absl::StrCat("the rollback is not exact: ", manifest::FormatFieldPath(anchor), " is ",
                       is == nullptr ? "absent" : Cut(is->dump(), 300), ", before the fix it was ",
                       was == nullptr ? "absent" : Cut(was->dump(), 300)));
    }
  }
  evidence.push_back(absl::StrCat("rolled back exactly: ", anchors.size(),
                                  " changed subtree(s) equal the snapshot taken before the fix"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> RemediationEngine::ReserveInterrupted() {
  IncidentFilter filter;
  filter.state = v1::INCIDENT_STATE_FIXING;
  filter.page_size = 1000;
  std::vector<std::string> reserved;
  while (true) {
    ASSIGN_OR_RETURN(IncidentPage page, store_.ListIncidents(filter));
    absl::MutexLock lock(&mu_);
    for (const v1::Incident& incident : page.incidents) {
      if (busy_workloads_.insert(WorkloadKey(incident.workload())).second) {
        reserved.push_back(incident.id());
      }
    }
    if (page.next_page_token.empty()) return reserved;
    filter.page_token = page.next_page_token;
  }
}

absl::Status RemediationEngine::ResumeReserved(const std::vector<std::string>& incident_ids) {
  absl::Status first_error;
  for (const std::string& id : incident_ids) {
    absl::StatusOr<v1::Incident> incident = store_.GetIncident(id);
    absl::Status resumed = incident.ok() ? ResumeOne(*incident) : incident.status();
    if (first_error.ok()) first_error = resumed;
    if (incident.ok()) {
      absl::MutexLock lock(&mu_);
      busy_workloads_.erase(WorkloadKey(incident->workload()));
    }
  }
  return first_error;
}

absl::Status RemediationEngine::ResumeInterrupted() {
  ASSIGN_OR_RETURN(std::vector<std::string> reserved, ReserveInterrupted());
  return ResumeReserved(reserved);
}

absl::Status RemediationEngine::ResumeOne(const v1::Incident& incident) {
  if (incident.state() != v1::INCIDENT_STATE_FIXING) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<v1::FixAttempt> attempts, store_.ListFixAttempts(incident.id()));
  if (!attempts.empty() && attempts.back().status() == v1::FIX_STATUS_VERIFYING) {
    v1::FixAttempt attempt = attempts.back();
    LogInfo("resuming an interrupted fix",
            {{"attempt", attempt.id()}, {"incident", incident.id()}});
    attempt.add_verification_evidence("resumed after a restart");
    VerifyOrRollBack(incident, attempt);
    return absl::OkStatus();
  }
  if (!attempts.empty() && attempts.back().status() == v1::FIX_STATUS_UNSPECIFIED) {
    v1::FixAttempt attempt = attempts.back();
    attempt.set_error("interrupted before anything was applied");
    Finish(attempt, v1::FIX_STATUS_FAILED);
  }
  MoveIncident(incident.id(), v1::INCIDENT_STATE_FIXING, v1::INCIDENT_STATE_OPEN,
               "the fix attempt was interrupted before anything was applied");
  return absl::OkStatus();
}

}  // namespace remediator::remediation
