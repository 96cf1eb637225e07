// Which workload a pod (or a controller object) belongs to.
//
// With owner references (a Pod object):        Pod -> owner kind/name -> WorkloadFromOwner.
// Without them (events, log files, Loki):      WorkloadFromPodName, by naming convention.
//
// Naming conventions (k8s-failures.md §1 "Attribution"); "safe" = the alphabet
// bcdfghjklmnpqrstvwxz2456789 used by apimachinery for generated suffixes:
//   <deploy>-<hash: 5..10 safe>-<5 safe>     -> Deployment <deploy>
//   <cronjob>-<8+ digits>-<5 safe>           -> CronJob <cronjob> (Job named after schedule time)
//   <sts>-<ordinal digits>                   -> StatefulSet <sts>
//   anything else                            -> Pod <name> (DaemonSet and Job pods, <x>-<5 safe>,
//                                               cannot be told apart by name; not guessed)
// Owners: ReplicaSet <deploy>-<hash> -> Deployment (hash from the pod-template-hash label when
// given, else the pattern above; a ReplicaSet without a hash suffix stays a ReplicaSet);
// Job <cronjob>-<8+ digits> -> CronJob; any other kind (StatefulSet, DaemonSet, Job, custom
// controllers) is the workload itself.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_WORKLOAD_RESOLVER_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_WORKLOAD_RESOLVER_H_

#include <string>

namespace remediator::detection {

struct WorkloadName {
  std::string kind;
  std::string name;
};

// `pod_template_hash` may be empty.
WorkloadName WorkloadFromOwner(const std::string& owner_kind, const std::string& owner_name,
                               const std::string& pod_template_hash = "");

WorkloadName WorkloadFromPodName(const std::string& pod_name);

// True when every character of `s` is in the generated-suffix alphabet.
bool IsSafeEncoded(const std::string& s);

}  // namespace remediator::detection

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_WORKLOAD_RESOLVER_H_
