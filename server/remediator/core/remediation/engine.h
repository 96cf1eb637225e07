// RemediationEngine runs a fix attempt for an incident, end to end:
//
//   1. one attempt at a time per workload (FailedPrecondition / Aborted otherwise);
//   2. evidence: the workload's pods, recent events and the failing container's logs (redacted);
//   3. the manifest: from the GitOps repository (ManifestSource), else the live object (the fix
//      is then applied but no pull request can follow; the attempt says so);
//   4. strategies in the configured order propose an edit; the Guard checks each proposal
//      (a refused edit is never applied; the next strategy is tried);
//   5. suggest mode stops here (FIX_STATUS_PROPOSED);
//   6. server-side dry run, then server-side apply (field manager "remediator") of only the
//      changed fields, after the attempt is stored as VERIFYING with the live values it replaces;
//   7. verification: rollout status like kubectl, then a window in which no pod may restart, be
//      OOM-killed, fail a probe or stay unscheduled, and every pod must end Ready;
//   8. if verification fails: roll back to the exact previous values, and check they are back.
//
// Incident states move open -> fixing -> verified, or fixing -> fix_failed. Every step is stored,
// so a restarted server resumes an interrupted verification (ResumeInterrupted) or rolls back:
// an attempt is never left half-done.
// Thread-safe.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_ENGINE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_ENGINE_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/remediator/core/cluster.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/remediation/fix_strategy.h"
#include "server/remediator/core/remediation/guard.h"
#include "server/remediator/core/remediation/manifest_source.h"

namespace remediator::remediation {

struct EngineOptions {
  // The mode used when a request does not say: suggest (propose only) or apply.
  v1::FixMode default_mode = v1::FIX_MODE_APPLY;
  // How long a rollout may take, how long the workload must stay healthy afterwards, and how
  // often to look.
  absl::Duration rollout_timeout = absl::Minutes(5);
  absl::Duration verify_window = absl::Seconds(60);
  absl::Duration poll_interval = absl::Seconds(2);
  std::string field_manager = "remediator";
};

class RemediationEngine {
 public:
  // All borrowed. `manifests` may be null (no GitOps repository: live objects only).
  RemediationEngine(IncidentStore& store, Cluster& cluster, ManifestSource* manifests,
                    std::vector<FixStrategy*> strategies, const Guard& guard, Clock& clock,
                    EngineOptions options = {});

  // Runs one attempt and returns it as stored. Errors are for requests that cannot start an
  // attempt: NotFound (no incident), FailedPrecondition (already fixed, or being fixed),
  // InvalidArgument (unknown strategy). Failures during the attempt are the attempt's status.
  absl::StatusOr<v1::FixAttempt> AttemptFix(const v1::AttemptFixRequest& request);

  // For every incident left in state fixing by a crash: an attempt stored as VERIFYING is
  // verified again (and rolled back if it does not hold); one interrupted before its apply is
  // closed as failed and its incident reopened (nothing was changed on the cluster).
  absl::Status ResumeInterrupted();

 private:
  struct Workload;
  absl::StatusOr<v1::FixAttempt> Run(const v1::Incident& incident, v1::FixMode mode,
                                     const std::string& only_strategy);
  Evidence GatherEvidence(const v1::Incident& incident, const nlohmann::json& live);
  // Verifies the applied attempt; on failure rolls back. Updates `attempt` and the incident.
  void VerifyOrRollBack(const v1::Incident& incident, v1::FixAttempt& attempt);
  absl::Status Verify(const v1::WorkloadRef& workload, std::vector<std::string>& evidence);
  absl::Status RollBack(const v1::FixAttempt& attempt, std::vector<std::string>& evidence);
  void Finish(v1::FixAttempt& attempt, v1::FixStatus status);
  void MoveIncident(const std::string& id, v1::IncidentState from, v1::IncidentState to,
                    const std::string& note);

  IncidentStore& store_;
  Cluster& cluster_;
  ManifestSource* manifests_;
  std::vector<FixStrategy*> strategies_;
  const Guard& guard_;
  Clock& clock_;
  EngineOptions options_;

  absl::Mutex mu_;
  std::set<std::string> busy_workloads_ ABSL_GUARDED_BY(mu_);
};

// The apiVersion of a workload kind ("apps/v1" for Deployment...).
std::string ApiVersionOf(const std::string& kind);

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_ENGINE_H_
