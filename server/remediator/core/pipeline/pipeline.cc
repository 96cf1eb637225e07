#include "server/remediator/core/pipeline/pipeline.h"

#include "absl/strings/str_cat.h"
#include "server/common/logging.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/enum_names.h"

namespace remediator {

Pipeline::Pipeline(IncidentStore& store, remediation::RemediationEngine* engine,
                   pr::PullRequestOpener* pull_requests, oncall::Escalator* escalator,
                   PipelineOptions options)
    : store_(store),
      engine_(engine),
      pull_requests_(pull_requests),
      escalator_(escalator),
      options_(std::move(options)) {}

Pipeline::~Pipeline() { Stop(); }

std::string Pipeline::ModeFor(const std::string& namespace_name) const {
  auto it = options_.namespace_modes.find(namespace_name);
  return it != options_.namespace_modes.end() ? it->second : options_.mode;
}

namespace {

bool SameWorkload(const v1::WorkloadRef& a, const v1::WorkloadRef& b) {
  return a.cluster() == b.cluster() && a.namespace_() == b.namespace_() && a.kind() == b.kind() &&
         a.name() == b.name() && !a.name().empty();
}

}  // namespace

absl::StatusOr<Pipeline::Siblings> Pipeline::SiblingsOf(const v1::Incident& incident) {
  IncidentFilter filter;
  filter.namespace_name = incident.workload().namespace_();
  filter.page_size = 1000;
  ASSIGN_OR_RETURN(IncidentPage page, store_.ListIncidents(filter));
  Siblings siblings;
  for (const v1::Incident& other : page.incidents) {
    if (other.id() == incident.id() || !SameWorkload(other.workload(), incident.workload())) {
      continue;
    }
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

absl::Status Pipeline::Advance(const v1::Incident& incident) {
  const std::string mode = ModeFor(incident.workload().namespace_());
  if (mode == "observe") return absl::OkStatus();
  const bool fix = mode == "fix";
  // A symptom of a failure that is being fixed (a crash loop of an OOM-killed container) waits
  // for that fix, and is resolved by it: one failure, one call at most.
  if (incident.state() == v1::INCIDENT_STATE_OPEN ||
      incident.state() == v1::INCIDENT_STATE_FIX_FAILED) {
    ASSIGN_OR_RETURN(Siblings siblings, SiblingsOf(incident));
    if (!siblings.fixed.empty()) {
      return store_
          .TransitionIncident(incident.id(), incident.state(), v1::INCIDENT_STATE_RESOLVED,
                              absl::StrCat("resolved by the verified fix of incident ",
                                           siblings.fixed, " on the same workload"),
                              absl::Now())
          .status();
    }
    const bool self_fixable = incident.state() == v1::INCIDENT_STATE_OPEN &&
                              incident.fixable_by_manifest() && engine_ != nullptr;
    if (!siblings.fix_pending.empty() && !self_fixable) return absl::OkStatus();
  }
  switch (incident.state()) {
    case v1::INCIDENT_STATE_OPEN: {
      const bool fixable = incident.fixable_by_manifest() && engine_ != nullptr &&
                           !incident.workload().name().empty();
      if (fixable) {
        // In suggest mode the proposal is made once; the incident stays open for people.
        if (!fix && !incident.last_fix_attempt_id().empty()) return absl::OkStatus();
        v1::AttemptFixRequest request;
        request.set_incident_id(incident.id());
        request.set_mode(fix ? v1::FIX_MODE_APPLY : v1::FIX_MODE_SUGGEST);
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
      if (!fix || escalator_ == nullptr) return absl::OkStatus();
      return store_
          .TransitionIncident(incident.id(), v1::INCIDENT_STATE_OPEN, v1::INCIDENT_STATE_ESCALATING,
                              "no fix can be attempted: escalating to the on-call person",
                              absl::Now())
          .status();
    }
    case v1::INCIDENT_STATE_VERIFIED: {
      if (pull_requests_ == nullptr || incident.last_fix_attempt_id().empty()) {
        return absl::OkStatus();
      }
      absl::StatusOr<v1::FixAttempt> attempt = store_.GetFixAttempt(incident.last_fix_attempt_id());
      if (!attempt.ok() || !attempt->pr_possible()) return absl::OkStatus();
      absl::StatusOr<v1::PullRequest> pr = pull_requests_->Open(incident.id(), "");
      if (!pr.ok()) return pr.status();
      LogInfo("pipeline: pull request opened",
              {{"incident", incident.id()}, {"branch", pr->branch()}, {"commit", pr->commit()}});
      return absl::OkStatus();
    }
    case v1::INCIDENT_STATE_FIX_FAILED:
      if (!fix || escalator_ == nullptr) return absl::OkStatus();
      return store_
          .TransitionIncident(incident.id(), v1::INCIDENT_STATE_FIX_FAILED,
                              v1::INCIDENT_STATE_ESCALATING,
                              "the fix did not work: escalating to the on-call person", absl::Now())
          .status();
    case v1::INCIDENT_STATE_ESCALATING:
      if (escalator_ == nullptr) return absl::OkStatus();
      return escalator_->Step(incident).status();
    default:
      return absl::OkStatus();
  }
}

absl::Status Pipeline::RunOnce() {
  absl::MutexLock lock(&run_mu_);
  absl::Status first_error;
  for (v1::IncidentState state : {v1::INCIDENT_STATE_OPEN, v1::INCIDENT_STATE_VERIFIED,
                                  v1::INCIDENT_STATE_FIX_FAILED, v1::INCIDENT_STATE_ESCALATING}) {
    IncidentFilter filter;
    filter.state = state;
    filter.page_size = 1000;
    absl::StatusOr<IncidentPage> page = store_.ListIncidents(filter);
    if (!page.ok()) return page.status();
    for (const v1::Incident& incident : page->incidents) {
      if (stop_) return first_error;
      // Re-read: an earlier step of this pass may have moved it.
      absl::StatusOr<v1::Incident> current = store_.GetIncident(incident.id());
      if (!current.ok() || current->state() != state) continue;
      absl::Status advanced = Advance(*current);
      if (!advanced.ok()) {
        LogWarning("pipeline step failed", {{"incident", incident.id()},
                                            {"state", IncidentStateName(state)},
                                            {"error", std::string(advanced.message())}});
        if (first_error.ok()) first_error = advanced;
      }
    }
  }
  return first_error;
}

void Pipeline::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    while (!stop_) {
      (void)RunOnce();
      absl::MutexLock lock(&wake_mu_);
      wake_mu_.AwaitWithTimeout(absl::Condition(&wake_), options_.interval);
      wake_ = false;
    }
  });
}

void Pipeline::Stop() {
  stop_ = true;
  {
    absl::MutexLock lock(&wake_mu_);
    wake_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace remediator
