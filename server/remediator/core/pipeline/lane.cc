#include "server/remediator/core/pipeline/lane.h"

#include <utility>

namespace remediator {

Lane::Lane(std::string name, int threads) : name_(std::move(name)) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Work(); });
}

Lane::~Lane() {
  Stop();
  for (std::thread& t : threads_) t.join();
}

bool Lane::Submit(const std::string& key, std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || !keys_.insert(key).second) return false;
  queue_.emplace_back(key, std::move(task));
  return true;
}

bool Lane::Busy(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  return keys_.count(key) > 0;
}

void Lane::WaitIdle() const {
  absl::MutexLock lock(&mu_);
  auto idle = [this]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return queue_.empty() && running_ == 0; };
  mu_.Await(absl::Condition(&idle));
}

void Lane::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  for (const auto& [key, task] : queue_) keys_.erase(key);
  queue_.clear();
}

void Lane::Work() {
  while (true) {
    std::pair<std::string, std::function<void()>> next;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, nothing left
      next = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    next.second();
    absl::MutexLock lock(&mu_);
    --running_;
    keys_.erase(next.first);
  }
}

}  // namespace remediator
