// FakeClock: time moves only when a test (or SleepFor) advances it. Thread-safe.
#ifndef REMEDIATOR_TESTS_TESTING_FAKE_CLOCK_H_
#define REMEDIATOR_TESTS_TESTING_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "server/common/clock.h"

namespace remediator::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1780000000)) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  // Sleeping advances the fake time at once.
  void SleepFor(absl::Duration duration) override { Advance(duration); }
  void Advance(absl::Duration duration) {
    absl::MutexLock lock(&mu_);
    now_ += duration;
  }
  void Set(absl::Time time) {
    absl::MutexLock lock(&mu_);
    now_ = time;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace remediator::testing

#endif  // REMEDIATOR_TESTS_TESTING_FAKE_CLOCK_H_
