// Clock is the source of time for everything that schedules, times out or stamps a record.
// Production code uses RealClock; tests use testing::FakeClock and never sleep.
#ifndef REMEDIATOR_SERVER_COMMON_CLOCK_H_
#define REMEDIATOR_SERVER_COMMON_CLOCK_H_

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace remediator {

// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current wall-clock time.
  virtual absl::Time Now() const = 0;
  // Blocks the caller for `duration` of this clock's time (a fake clock may return at once).
  virtual void SleepFor(absl::Duration duration) = 0;
  // Like SleepFor, but returns early once `cancel` is notified; false when it was.
  virtual bool SleepUnlessCancelled(absl::Duration duration, const absl::Notification& cancel) {
    if (cancel.HasBeenNotified()) return false;
    SleepFor(duration);
    return !cancel.HasBeenNotified();
  }
};

// RealClock reads the system clock.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  void SleepFor(absl::Duration duration) override { absl::SleepFor(duration); }
  bool SleepUnlessCancelled(absl::Duration duration, const absl::Notification& cancel) override {
    return !cancel.WaitForNotificationWithTimeout(duration);
  }
  // A process-wide instance, for main() to pass down.
  static RealClock& Get() {
    static RealClock* clock = new RealClock();
    return *clock;
  }
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_CLOCK_H_
