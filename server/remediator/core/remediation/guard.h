// Guard decides whether a proposed manifest edit may be applied. It fails closed: it compares the
// manifest before and after the edit itself (it never trusts the proposer's list of changes),
// and anything it cannot prove allowed is refused. A refused edit is never applied.
//
// Rules (each refusal names its rule and the path):
//   identity            apiVersion, kind, metadata.name and metadata.namespace are unchanged
//   no-change           the edit changes nothing
//   allowed-path        every changed field matches an allow-list pattern (GuardPolicy)
//   privileged          no container or pod becomes privileged / allows privilege escalation
//   host-namespaces     no hostNetwork, hostPID or hostIPC
//   host-path           no hostPath volume is added
//   capabilities        no capability is added
//   image-repository    an image may change its tag or digest, never its registry or repository
//   removed-limit       no resource limit that was set is removed
//   removed-probe       no probe that was set is removed
//   plaintext-secret    no env value that looks like a secret, or whose name says it is one
//   bounded-memory      memory at most max_memory_factor x the old value and at most max_memory
//   bounded-cpu         cpu at most max_cpu_factor x the old value and at most max_cpu
//   bounded-replicas    replicas between 1 (when it was >= 1) and max_replicas
//   request-within-limit  every request is at most its limit
//   quantity            memory and cpu values are valid Kubernetes quantities
// Log text never reaches the guard: evidence cannot instruct it.
// Thread-safe (immutable).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_GUARD_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_GUARD_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "remediator/v1/remediator.pb.h"

namespace remediator::remediation {

struct GuardPolicy {
  // Field path patterns that may change. "pod." stands for the pod spec of the workload's kind
  // (spec.template.spec for Deployments, spec for Pods...). "*" matches one key, "[*]" one list
  // element, a trailing ".**" anything below.
  std::vector<std::string> allowed_paths = {
      "spec.replicas",
      "pod.containers[*].resources.limits.*",
      "pod.containers[*].resources.requests.*",
      "pod.containers[*].livenessProbe.**",
      "pod.containers[*].readinessProbe.**",
      "pod.containers[*].startupProbe.**",
      "pod.containers[*].image",
      "pod.containers[*].env[*].name",
      "pod.containers[*].env[*].value",
      "pod.containers[*].command",
      "pod.containers[*].args",
      "pod.initContainers[*].resources.limits.*",
      "pod.initContainers[*].resources.requests.*",
      "pod.initContainers[*].image",
  };
  double max_memory_factor = 8;
  std::string max_memory = "8Gi";
  double max_cpu_factor = 8;
  std::string max_cpu = "8";
  int max_replicas = 20;
};

class Guard {
 public:
  explicit Guard(GuardPolicy policy = {}) : policy_(std::move(policy)) {}

  // The verdict on changing `before` into `after` (both whole Kubernetes objects).
  v1::GuardVerdict Check(const nlohmann::json& before, const nlohmann::json& after) const;

  const GuardPolicy& policy() const { return policy_; }

 private:
  GuardPolicy policy_;
};

// The path of the pod spec inside an object of `kind` ("spec.template.spec", "spec",
// "spec.jobTemplate.spec.template.spec"), or "" for kinds without one.
std::string PodSpecPrefix(const std::string& kind);

// The image without its tag or digest: "registry.example/team/app:1.2" ->
// "registry.example/team/app".
std::string ImageRepository(const std::string& image);

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_GUARD_H_
