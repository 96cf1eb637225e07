// Lane runs keyed tasks on a bounded pool of threads: at most one task per key at a time (a
// workload is fixed by one attempt at a time), at most `threads` tasks at once, the rest queued
// in order. The pipeline has a lane for fixes and one for calls, so a call never waits for a
// fix or a verification, and never holds one up.
// Thread-safe.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_PIPELINE_LANE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_PIPELINE_LANE_H_

#include <deque>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace remediator {

class Lane {
 public:
  Lane(std::string name, int threads);
  // Stops taking tasks, lets the running ones finish, drops the queued ones, joins.
  ~Lane();

  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

  // Queues `task` under `key`. False (and nothing queued) when a task of that key is queued or
  // running, or the lane is stopping.
  bool Submit(const std::string& key, std::function<void()> task);
  // True while a task of `key` is queued or running.
  bool Busy(const std::string& key) const;
  // Blocks until nothing is queued or running.
  void WaitIdle() const;
  // Stops taking tasks and drops the queued ones; running tasks finish. Idempotent.
  void Stop();

 private:
  void Work();

  const std::string name_;
  mutable absl::Mutex mu_;
  std::deque<std::pair<std::string, std::function<void()>>> queue_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> keys_ ABSL_GUARDED_BY(mu_);  // queued or running
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_PIPELINE_LANE_H_
