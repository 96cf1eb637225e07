// Pipeline is the automatic loop of the mission, driven by the incidents' states in the store:
//
//   open (fixable)          -> AttemptFix (apply in mode fix, propose in mode suggest)
//   open (not fixable)      -> escalating                          (mode fix)
//   verified                -> OpenPullRequest -> pr_opened        (when a PR is possible)
//   fix_failed              -> escalating                          (mode fix)
//   escalating              -> a call per step through the on-call policy
//                              -> acknowledged | unanswered
//
// Incidents of one workload are one failure seen several ways (an OOM kill and the crash loop it
// causes): while one of them is being fixed the others wait, and a verified fix resolves them,
// so a fixed failure never phones anybody.
//
// Mode observe does nothing but detect. The mode can be overridden per namespace. Every step is
// also an RPC of its own. Because the state lives in the store, a restarted pipeline continues
// where it was; the steps themselves are idempotent (one attempt at a time per workload, one PR
// per incident, idempotency keys for calls).
// Thread-safe: RunOnce is serialized; Start runs it every `interval` on a thread of its own.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_PIPELINE_PIPELINE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_PIPELINE_PIPELINE_H_

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/common/clock.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/oncall/escalator.h"
#include "server/remediator/core/pr/pull_request_opener.h"
#include "server/remediator/core/remediation/engine.h"

namespace remediator {

struct PipelineOptions {
  // observe | suggest | fix, and per-namespace overrides.
  std::string mode = "fix";
  std::map<std::string, std::string> namespace_modes;
  // How often the background loop looks at the store (real time).
  absl::Duration interval = absl::Seconds(2);
};

class Pipeline {
 public:
  // All borrowed; engine, pull_requests and escalator may be null (that step is then skipped).
  Pipeline(IncidentStore& store, remediation::RemediationEngine* engine,
           pr::PullRequestOpener* pull_requests, oncall::Escalator* escalator,
           PipelineOptions options);
  ~Pipeline();

  // One pass over every incident that has a next step. Returns the first error after trying
  // every incident (a failing incident does not block the others).
  absl::Status RunOnce();

  void Start();
  void Stop();

  // The mode that applies to `namespace_name`.
  std::string ModeFor(const std::string& namespace_name) const;

 private:
  // Other incidents of the same workload: one whose fix is pending (open and fixable, or being
  // fixed) and one that a verified fix resolved; ids, empty when none.
  struct Siblings {
    std::string fix_pending;
    std::string fixed;
  };
  absl::StatusOr<Siblings> SiblingsOf(const v1::Incident& incident);
  absl::Status Advance(const v1::Incident& incident);

  IncidentStore& store_;
  remediation::RemediationEngine* engine_;
  pr::PullRequestOpener* pull_requests_;
  oncall::Escalator* escalator_;
  PipelineOptions options_;
  absl::Mutex run_mu_;
  std::atomic<bool> stop_{false};
  absl::Mutex wake_mu_;
  bool wake_ ABSL_GUARDED_BY(wake_mu_) = false;
  std::thread thread_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_PIPELINE_PIPELINE_H_
