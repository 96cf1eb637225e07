// Helpers shared by the workload controllers (controllers.cc, workloads.cc): a pod stamped from a
// pod template for an owner, and a small cron schedule for CronJobs. Pure functions.
#ifndef REMEDIATOR_SERVER_KUBESIM_WORKLOADS_H_
#define REMEDIATOR_SERVER_KUBESIM_WORKLOADS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace remediator::kubesim {

// A Pod named `name` in `ns` from `tmpl` (a PodTemplateSpec), controlled by `owner` (an object
// with apiVersion, kind, metadata.name/uid), with `labels` added to the template's.
nlohmann::json PodFromTemplate(const nlohmann::json& tmpl, const std::string& ns,
                               const std::string& name, const nlohmann::json& owner,
                               const nlohmann::json& labels);

// The apiserver's StatefulSet defaults: podManagementPolicy OrderedReady, updateStrategy
// RollingUpdate with partition 0, revisionHistoryLimit 10, PVC retention Retain/Retain.
void DefaultStatefulSetSpec(nlohmann::json* spec);

// A standard 5-field cron schedule ("*/5 * * * *", lists, ranges, steps, names are not
// supported) or one of @yearly @annually @monthly @weekly @daily @midnight @hourly, in UTC.
class CronSchedule {
 public:
  // InvalidArgument naming the bad field.
  static absl::StatusOr<CronSchedule> Parse(const std::string& text);
  bool Matches(absl::Time t) const;
  // The latest minute in (after, upto] the schedule fires at, if any (looks back at most a day).
  std::optional<absl::Time> LastFireBetween(absl::Time after, absl::Time upto) const;

 private:
  std::vector<bool> fields_[5];  // minute, hour, day of month, month, day of week
  bool dom_star_ = false, dow_star_ = false;
};

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_WORKLOADS_H_
