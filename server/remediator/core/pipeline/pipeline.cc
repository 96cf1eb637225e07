#include "server/remediator/core/pipeline/pipeline.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/common/logging.h"
#include "server/common/status_macros.h"
#include "server/common/time_util.h"
#include "server/remediator/core/enum_names.h"

namespace remediator {
namespace {

using remediation::Mode;

bool SameWorkload(const v1::WorkloadRef& a, const v1::WorkloadRef& b) {
  return a.cluster() == b.cluster() && a.namespace_() == b.namespace_() && a.kind() == b.kind() &&
         a.name() == b.name() && !a.name().empty();
}

std::string WorkloadKey(const v1::Incident& incident) {
  const v1::WorkloadRef& w = incident.workload();
  if (w.name().empty()) return "incident/" + incident.id();
  return absl::StrCat(w.cluster(), "/", w.namespace_(), "/", w.kind(), "/", w.name());
}

// Every incident matching `filter`, page after page.
absl::StatusOr<std::vector<v1::Incident>> ListAll(IncidentStore& store, IncidentFilter filter) {
  std::vector<v1::Incident> all;
  filter.page_size = 1000;
  while (true) {
    ASSIGN_OR_RETURN(IncidentPage page, store.ListIncidents(filter));
    for (v1::Incident& incident : page.incidents) all.push_back(std::move(incident));
    if (page.next_page_token.empty()) return all;
    filter.page_token = page.next_page_token;
  }
}

// When the incident entered its current state (its last transition).
absl::Time EnteredStateAt(const v1::Incident& incident) {
  if (incident.transitions().empty()) return FromProtoTime(incident.first_seen());
  return FromProtoTime(incident.transitions().rbegin()->time());
}

// The escalating incident of a failure that leads (is called about): the oldest.
bool Leads(const v1::Incident& a, const v1::Incident& b) {
  const absl::Time ta = FromProtoTime(a.first_seen()), tb = FromProtoTime(b.first_seen());
  return ta != tb ? ta < tb : a.id() < b.id();
}

}  // namespace

Pipeline::Pipeline(IncidentStore& store, remediation::RemediationEngine* engine,
                   pr::PullRequestOpener* pull_requests, oncall::Escalator* escalator, Clock& clock,
                   PipelineOptions options)
    : store_(store),
      engine_(engine),
      pull_requests_(pull_requests),
      escalator_(escalator),
      clock_(clock),
      options_(std::move(options)),
      fixes_(std::make_unique<Lane>("fixes", options_.fix_threads)),
      calls_(std::make_unique<Lane>("calls", options_.call_threads)) {}

Pipeline::~Pipeline() {
  Stop();
  fixes_.reset();
  calls_.reset();
}

absl::StatusOr<std::vector<v1::Incident>> Pipeline::Workload(const v1::Incident& incident) {
  IncidentFilter filter;
  filter.namespace_name = incident.workload().namespace_();
  ASSIGN_OR_RETURN(std::vector<v1::Incident> all, ListAll(store_, filter));
  std::vector<v1::Incident> same;
  for (v1::Incident& other : all) {
    if (other.id() != incident.id() && SameWorkload(other.workload(), incident.workload())) {
      same.push_back(std::move(other));
    }
  }
  return same;
}

absl::StatusOr<Pipeline::Siblings> Pipeline::SiblingsOf(const v1::Incident& incident) {
  ASSIGN_OR_RETURN(std::vector<v1::Incident> same, Workload(incident));
  Siblings siblings;
  for (const v1::Incident& other : same) {
    switch (other.state()) {
      case v1::INCIDENT_STATE_OPEN:
        if (other.fixable_by_manifest()) siblings.fix_pending = other.id();
        break;
      case v1::INCIDENT_STATE_FIXING:
        siblings.fix_pending = other.id();
        break;
      case v1::INCIDENT_STATE_VERIFIED:
      case v1::INCIDENT_STATE_PR_OPENED:
        siblings.fixed = other.id();
        break;
      default:
        break;
    }
  }
  return siblings;
}

void Pipeline::Record(const std::string& incident_id, const absl::Status& status) {
  if (status.ok()) return;
  LogWarning("pipeline step failed",
             {{"incident", incident_id}, {"error", std::string(status.message())}});
  absl::MutexLock lock(&error_mu_);
  if (first_error_.ok()) first_error_ = status;
}

absl::Status Pipeline::Fix(const v1::Incident& incident, bool apply) {
  v1::AttemptFixRequest request;
  request.set_incident_id(incident.id());
  request.set_mode(apply ? v1::FIX_MODE_APPLY : v1::FIX_MODE_SUGGEST);
  absl::StatusOr<v1::FixAttempt> attempt = engine_->AttemptFix(request);
  if (!attempt.ok()) {
    // Busy workload or a concurrent step: the next pass tries again.
    if (attempt.status().code() == absl::StatusCode::kAborted ||
        attempt.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::OkStatus();
    }
    return attempt.status();
  }
  LogInfo("pipeline: fix tried", {{"incident", incident.id()},
                                  {"status", FixStatusName(attempt->status())},
                                  {"strategy", attempt->strategy()}});
  return absl::OkStatus();
}

absl::Status Pipeline::OpenPullRequest(const v1::Incident& incident) {
  absl::StatusOr<v1::FixAttempt> attempt = store_.GetFixAttempt(incident.last_fix_attempt_id());
  if (!attempt.ok() || !attempt->pr_possible()) return absl::OkStatus();
  ASSIGN_OR_RETURN(v1::PullRequest pr, pull_requests_->Open(incident.id(), ""));
  LogInfo("pipeline: pull request opened",
          {{"incident", incident.id()}, {"branch", pr.branch()}, {"commit", pr.commit()}});
  return absl::OkStatus();
}

// One failure, one call: the oldest escalating incident of the workload is called about; the
// others wait for it and then take its outcome.
absl::Status Pipeline::Escalate(const v1::Incident& incident) {
  ASSIGN_OR_RETURN(std::vector<v1::Incident> same, Workload(incident));
  const absl::Time escalated_at = EnteredStateAt(incident);
  for (const v1::Incident& other : same) {
    if (other.state() == v1::INCIDENT_STATE_ESCALATING && Leads(other, incident)) {
      return absl::OkStatus();  // the leader's call covers this failure
    }
  }
  for (const v1::Incident& other : same) {
    const bool ended = other.state() == v1::INCIDENT_STATE_ACKNOWLEDGED ||
                       other.state() == v1::INCIDENT_STATE_UNANSWERED;
    if (ended && EnteredStateAt(other) >= escalated_at) {
      return store_
          .TransitionIncident(incident.id(), v1::INCIDENT_STATE_ESCALATING, other.state(),
                              absl::StrCat("escalated together with incident ", other.id(), " (",
                                           IncidentStateName(other.state()), ")"),
                              clock_.Now())
          .status();
    }
  }
  return escalator_->Step(incident).status();
}

absl::Status Pipeline::Dispatch(const v1::Incident& incident) {
  const Mode mode = ModeFor(incident.workload().namespace_());
  if (mode == Mode::kObserve) return absl::OkStatus();
  const bool fix = mode == Mode::kFix;
  const std::string key = WorkloadKey(incident);
  const v1::IncidentState state = incident.state();
  // A symptom of a failure that is being fixed (a crash loop of an OOM-killed container) waits
  // for that fix, and is resolved by it: one failure, one call at most.
  if (state == v1::INCIDENT_STATE_OPEN || state == v1::INCIDENT_STATE_FIX_FAILED) {
    ASSIGN_OR_RETURN(Siblings siblings, SiblingsOf(incident));
    if (!siblings.fixed.empty()) {
      return store_
          .TransitionIncident(incident.id(), state, v1::INCIDENT_STATE_RESOLVED,
                              absl::StrCat("resolved by the verified fix of incident ",
                                           siblings.fixed, " on the same workload"),
                              clock_.Now())
          .status();
    }
    const bool self_fixable =
        state == v1::INCIDENT_STATE_OPEN && incident.fixable_by_manifest() && engine_ != nullptr;
    if ((!siblings.fix_pending.empty() || fixes_->Busy(key)) && !self_fixable) {
      return absl::OkStatus();
    }
  }
  auto submit = [this, &incident](Lane& lane, const std::string& key,
                                  std::function<absl::Status()> step) {
    const std::string id = incident.id();
    lane.Submit(key, [this, id, step = std::move(step)] {
      Record(id, step());
      Wake();
    });
    return absl::OkStatus();
  };
  switch (state) {
    case v1::INCIDENT_STATE_OPEN: {
      const bool fixable = incident.fixable_by_manifest() && engine_ != nullptr &&
                           !incident.workload().name().empty();
      if (fixable) {
        // In suggest mode the proposal is made once; the incident stays open for people.
        if (!fix && !incident.last_fix_attempt_id().empty()) return absl::OkStatus();
        return submit(*fixes_, key, [this, incident, fix] { return Fix(incident, fix); });
      }
      if (!fix || escalator_ == nullptr) return absl::OkStatus();
      return store_
          .TransitionIncident(incident.id(), v1::INCIDENT_STATE_OPEN, v1::INCIDENT_STATE_ESCALATING,
                              "no fix can be attempted: escalating to the on-call person",
                              clock_.Now())
          .status();
    }
    case v1::INCIDENT_STATE_VERIFIED:
      if (pull_requests_ == nullptr || incident.last_fix_attempt_id().empty()) {
        return absl::OkStatus();
      }
      return submit(*fixes_, key, [this, incident] { return OpenPullRequest(incident); });
    case v1::INCIDENT_STATE_FIX_FAILED:
      if (!fix || escalator_ == nullptr) return absl::OkStatus();
      return store_
          .TransitionIncident(
              incident.id(), v1::INCIDENT_STATE_FIX_FAILED, v1::INCIDENT_STATE_ESCALATING,
              "the fix did not work: escalating to the on-call person", clock_.Now())
          .status();
    case v1::INCIDENT_STATE_ESCALATING:
      if (escalator_ == nullptr) return absl::OkStatus();
      // Keyed by incident: the failure's leader and its followers each get their step, and
      // Escalate makes only the leader call.
      return submit(*calls_, "incident/" + incident.id(),
                    [this, incident] { return Escalate(incident); });
    default:
      return absl::OkStatus();
  }
}

absl::Status Pipeline::DispatchPass() {
  absl::MutexLock lock(&pass_mu_);
  for (v1::IncidentState state : {v1::INCIDENT_STATE_OPEN, v1::INCIDENT_STATE_VERIFIED,
                                  v1::INCIDENT_STATE_FIX_FAILED, v1::INCIDENT_STATE_ESCALATING}) {
    IncidentFilter filter;
    filter.state = state;
    ASSIGN_OR_RETURN(std::vector<v1::Incident> incidents, ListAll(store_, filter));
    for (const v1::Incident& incident : incidents) {
      if (stop_) return absl::OkStatus();
      // Re-read: an earlier step of this pass may have moved it.
      absl::StatusOr<v1::Incident> current = store_.GetIncident(incident.id());
      if (!current.ok() || current->state() != state) continue;
      Record(incident.id(), Dispatch(*current));
    }
  }
  return absl::OkStatus();
}

absl::Status Pipeline::RunOnce() {
  {
    absl::MutexLock lock(&error_mu_);
    first_error_ = absl::OkStatus();
  }
  // Steps that end in a state with a next step (open -> escalating -> a call) continue in the
  // same pass: dispatch until the lanes are idle and nothing new was dispatched.
  absl::Status listed = DispatchPass();
  fixes_->WaitIdle();
  calls_->WaitIdle();
  if (listed.ok()) listed = DispatchPass();
  fixes_->WaitIdle();
  calls_->WaitIdle();
  absl::MutexLock lock(&error_mu_);
  return listed.ok() ? first_error_ : listed;
}

void Pipeline::Wake() {
  absl::MutexLock lock(&wake_mu_);
  wake_ = true;
}

void Pipeline::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    while (!stop_) {
      absl::Status pass = DispatchPass();
      if (!pass.ok()) {
        LogWarning("pipeline pass failed", {{"error", std::string(pass.message())}});
      }
      absl::MutexLock lock(&wake_mu_);
      wake_mu_.AwaitWithTimeout(absl::Condition(&wake_), options_.interval);
      wake_ = false;
    }
  });
}

void Pipeline::Stop() {
  stop_ = true;
  Wake();
  if (thread_.joinable()) thread_.join();
  if (fixes_) fixes_->Stop();
  if (calls_) calls_->Stop();
}

}  // namespace remediator
