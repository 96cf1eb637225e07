#include "server/remediator/core/detection/workload_resolver.h"

#include <cctype>
#include <string_view>

namespace remediator::detection {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Splits "a-b-c" at the last '-': {"a-b", "c"}; false when there is no '-' or a side is empty.
bool SplitLast(std::string_view s, std::string_view* head, std::string_view* tail) {
  const size_t dash = s.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == s.size()) return false;
  *head = s.substr(0, dash);
  *tail = s.substr(dash + 1);
  return true;
}

// "<cronjob>-<minutes since epoch>" -> cronjob name, or "" when `job` is not shaped so.
std::string CronJobOf(std::string_view job) {
  std::string_view head, tail;
  if (SplitLast(job, &head, &tail) && tail.size() >= 8 && AllDigits(tail)) {
    return std::string(head);
  }
  return "";
}

}  // namespace

bool IsSafeEncoded(const std::string& s) {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  if (s.empty()) return false;
  for (char c : s) {
    if (kAlphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

WorkloadName WorkloadFromOwner(const std::string& owner_kind, const std::string& owner_name,
                               const std::string& pod_template_hash) {
  if (owner_kind == "ReplicaSet") {
    std::string_view head, tail;
    if (!pod_template_hash.empty() && owner_name.size() > pod_template_hash.size() + 1 &&
        owner_name.compare(owner_name.size() - pod_template_hash.size() - 1, std::string::npos,
                           "-" + pod_template_hash) == 0) {
      return {"Deployment", owner_name.substr(0, owner_name.size() - pod_template_hash.size() - 1)};
    }
    if (SplitLast(owner_name, &head, &tail) && tail.size() >= 5 && tail.size() <= 10 &&
        IsSafeEncoded(std::string(tail))) {
      return {"Deployment", std::string(head)};
    }
    return {"ReplicaSet", owner_name};
  }
  if (owner_kind == "Job") {
    std::string cron = CronJobOf(owner_name);
    if (!cron.empty()) return {"CronJob", cron};
  }
  return {owner_kind, owner_name};
}

WorkloadName WorkloadFromPodName(const std::string& pod_name) {
  std::string_view head, suffix;
  if (SplitLast(pod_name, &head, &suffix)) {
    std::string_view owner, hash;
    if (suffix.size() == 5 && IsSafeEncoded(std::string(suffix)) &&
        SplitLast(head, &owner, &hash)) {
      if (hash.size() >= 8 && AllDigits(hash)) return {"CronJob", std::string(owner)};
      if (hash.size() >= 5 && hash.size() <= 10 && IsSafeEncoded(std::string(hash))) {
        return {"Deployment", std::string(owner)};
      }
    }
    if (AllDigits(suffix)) return {"StatefulSet", std::string(head)};
  }
  return {"Pod", pod_name};
}

}  // namespace remediator::detection
