// RemediationEngine runs a fix attempt for an incident, end to end:
//
//   1. one attempt at a time per workload (FailedPrecondition / Aborted otherwise);
//   2. evidence: the workload's pods, recent events and the failing container's logs (redacted);
//   3. the manifest: from the GitOps repository (ManifestSource), else the live object (the fix
//      is then applied but no pull request can follow; the attempt says so);
//   4. strategies in the configured order propose an edit; the Guard checks each proposal with
//      the facts read from the cluster (a refused edit is never applied; the next strategy is
//      tried; an edit the guard allows for review only is kept as a proposal for people);
//   5. suggest mode stops here (FIX_STATUS_PROPOSED), and so does an edit for review only;
//   6. server-side dry run, then server-side apply (field manager "remediator") of only the
//      changed fields, after the attempt is stored as VERIFYING with the live values it replaces;
//   7. verification: rollout status like kubectl, then a window in which no pod may restart, be
//      OOM-killed, fail a probe or stay unscheduled, and every pod must end Ready (a CronJob:
//      its next run from the fixed template must complete);
//   8. if verification fails: roll back to the exact previous values (subtrees the fix created
//      are removed), and check that every changed subtree equals the pre-fix snapshot; a
//      rollback that is not exact fails the attempt and says so.
//
// Incident states move open -> fixing -> verified, or fixing -> fix_failed. Every step is stored,
// so a restarted server resumes an interrupted verification (ResumeInterrupted) or rolls back:
// an attempt is never left half-done.
// Thread-safe.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_ENGINE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_ENGINE_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/remediator/core/cluster.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/remediation/fix_strategy.h"
#include "server/remediator/core/remediation/guard.h"
#include "server/remediator/core/remediation/manifest_source.h"
#include "server/remediator/core/remediation/mode.h"

namespace remediator::remediation {

struct EngineOptions {
  // The configured mode per namespace: the ceiling of every request (observe refuses them all,
  // suggest allows FIX_MODE_SUGGEST only, fix both). A request without a mode gets the ceiling.
  ModePolicy modes;
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
  // attempt: NotFound (no incident), FailedPrecondition (already fixed, or being fixed, or a
  // mode above the namespace's configured mode), InvalidArgument (unknown strategy or mode).
  // Failures during the attempt are the attempt's status; an incident moved to fixing always
  // leaves it (verified, or fix_failed).
  absl::StatusOr<v1::FixAttempt> AttemptFix(const v1::AttemptFixRequest& request);

  // For every incident left in state fixing by a crash: an attempt stored as VERIFYING is
  // verified again (and rolled back if it does not hold); one interrupted before its apply is
  // closed as failed and its incident reopened (nothing was changed on the cluster).
  // ReserveInterrupted marks their workloads busy (so that nothing else starts on them) and
  // returns them; ResumeReserved does the rest and frees them. ResumeInterrupted does both.
  absl::StatusOr<std::vector<std::string>> ReserveInterrupted();
  absl::Status ResumeReserved(const std::vector<std::string>& incident_ids);
  absl::Status ResumeInterrupted();

  // Ends every wait of the running attempts at once: a verification in progress is parked (the
  // attempt stays VERIFYING and its incident fixing, and the next start resumes it), and no new
  // attempt starts. For shutdown; irreversible.
  void Cancel();

 private:
  struct ManifestChoice;
  struct Choice;
  absl::StatusOr<v1::FixMode> ModeFor(const v1::AttemptFixRequest& request,
                                      const v1::Incident& incident) const;
  absl::StatusOr<v1::FixAttempt> Run(const v1::Incident& incident, v1::FixMode mode,
                                     const std::string& only_strategy);
  ManifestChoice ReadManifest(const v1::Incident& incident, const nlohmann::json& live,
                              v1::FixAttempt& attempt);
  Evidence GatherEvidence(const v1::Incident& incident, const nlohmann::json& live);
  ClusterFacts GatherFacts(const v1::WorkloadRef& workload, const nlohmann::json& live);
  // The pod specs of the Deployment's older ReplicaSets, newest revision first.
  std::vector<nlohmann::json> OlderPodSpecs(const v1::WorkloadRef& workload,
                                            const nlohmann::json& live);
  Choice Choose(const FixContext& context, const std::string& only_strategy,
                v1::FixAttempt& attempt);
  void Describe(const Choice& choice, const ManifestChoice& manifest, v1::FixAttempt& attempt);
  // Dry run, snapshot, apply. False (and the attempt finished) when it did not get applied.
  absl::StatusOr<bool> Apply(const Choice& choice, const nlohmann::json& live,
                             v1::FixAttempt& attempt);
  // Verifies the applied attempt; on failure rolls back. Updates `attempt` and the incident.
  void VerifyOrRollBack(const v1::Incident& incident, v1::FixAttempt& attempt);
  absl::Status Verify(const v1::WorkloadRef& workload, std::vector<std::string>& evidence);
  absl::Status VerifyCronJob(const v1::WorkloadRef& workload, std::vector<std::string>& evidence);
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

  absl::Status ResumeOne(const v1::Incident& incident);
  // Waits `d` of the clock's time; false when the engine was cancelled meanwhile.
  bool Pause(absl::Duration d);

  absl::Notification cancelled_;
  absl::Mutex mu_;
  std::set<std::string> busy_workloads_ ABSL_GUARDED_BY(mu_);
};

// The apiVersion of a workload kind ("apps/v1" for Deployment...).
std::string ApiVersionOf(const std::string& kind);

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_ENGINE_H_
