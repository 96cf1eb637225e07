// Pipeline is the automatic loop of the mission, driven by the incidents' states in the store:
//
//   open (fixable)          -> AttemptFix (apply in mode fix, propose in mode suggest)
//   open (not fixable)      -> escalating                          (mode fix)
//   verified                -> OpenPullRequest -> pr_opened        (when a PR is possible)
//   fix_failed              -> escalating                          (mode fix)
//   escalating              -> a call per step through the on-call policy
//                              -> acknowledged | unanswered
//
// Work runs on two lanes (lane.h): fixes and pull requests on the fix lane, one task per workload
// at a time and `fix_threads` workloads at once; calls on the call lane, so a call never waits
// for a fix or a verification and never holds one up. A pass dispatches every incident that has
// a next step and whose workload (or escalation) is not already in flight; the background loop
// runs a pass every `interval`, and at once when Wake() is called (new detections, a finished
// task). Lists are read to their last page.
//
// One failure, one call: incidents of one workload are one failure seen several ways (an OOM
// kill and the crash loop it causes). While one of them is being fixed the others wait, and a
// verified fix resolves them. When several are escalating, the oldest leads: only it is called
// about, and the others take its outcome (acknowledged or unanswered) when it ends.
//
// Mode observe does nothing but detect; the mode can be set per namespace. Because the state
// lives in the store, a restarted pipeline continues where it was; the steps themselves are
// idempotent (one attempt at a time per workload, one PR per incident, idempotency keys for
// calls).
// Thread-safe.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_PIPELINE_PIPELINE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_PIPELINE_PIPELINE_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/common/clock.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/oncall/escalator.h"
#include "server/remediator/core/pipeline/lane.h"
#include "server/remediator/core/pr/pull_request_opener.h"
#include "server/remediator/core/remediation/engine.h"
#include "server/remediator/core/remediation/mode.h"

namespace remediator {

struct PipelineOptions {
  // observe | suggest | fix, and per-namespace overrides.
  remediation::ModePolicy modes;
  // How often the background loop looks at the store when nothing wakes it (real time).
  absl::Duration interval = absl::Seconds(2);
  // Workloads fixed (applied and verified) at once, and calls placed at once.
  int fix_threads = 4;
  int call_threads = 2;
};

class Pipeline {
 public:
  // All borrowed; engine, pull_requests and escalator may be null (that step is then skipped).
  Pipeline(IncidentStore& store, remediation::RemediationEngine* engine,
           pr::PullRequestOpener* pull_requests, oncall::Escalator* escalator, Clock& clock,
           PipelineOptions options);
  ~Pipeline();

  // One pass: dispatches every incident that has a next step and waits until the lanes are
  // idle. Returns the first error after trying every incident (one failing incident does not
  // block the others).
  absl::Status RunOnce();

  // The background loop: a pass every `interval` or on Wake(), without waiting for the tasks.
  void Start();
  // Stops the loop and the lanes: queued tasks are dropped, running ones finish (the engine's
  // waits end early when it is cancelled first). Idempotent.
  void Stop();
  // Asks the background loop for a pass now.
  void Wake();

  remediation::Mode ModeFor(const std::string& namespace_name) const {
    return options_.modes.For(namespace_name);
  }

 private:
  // Other incidents of the same workload: one whose fix is pending (open and fixable, or being
  // fixed) and one that a verified fix resolved; ids, empty when none.
  struct Siblings {
    std::string fix_pending;
    std::string fixed;
  };
  absl::StatusOr<std::vector<v1::Incident>> Workload(const v1::Incident& incident);
  absl::StatusOr<Siblings> SiblingsOf(const v1::Incident& incident);
  // Schedules the next step of `incident` (or takes it inline when it is quick).
  absl::Status Dispatch(const v1::Incident& incident);
  absl::Status DispatchPass();
  absl::Status Fix(const v1::Incident& incident, bool apply);
  absl::Status OpenPullRequest(const v1::Incident& incident);
  absl::Status Escalate(const v1::Incident& incident);
  void Record(const std::string& incident_id, const absl::Status& status);

  IncidentStore& store_;
  remediation::RemediationEngine* engine_;
  pr::PullRequestOpener* pull_requests_;
  oncall::Escalator* escalator_;
  Clock& clock_;
  PipelineOptions options_;
  std::unique_ptr<Lane> fixes_;
  std::unique_ptr<Lane> calls_;

  absl::Mutex pass_mu_;  // one pass at a time
  absl::Mutex error_mu_;
  absl::Status first_error_ ABSL_GUARDED_BY(error_mu_);

  std::atomic<bool> stop_{false};
  absl::Mutex wake_mu_;
  bool wake_ ABSL_GUARDED_BY(wake_mu_) = false;
  std::thread thread_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_PIPELINE_PIPELINE_H_
