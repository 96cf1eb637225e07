// Guard decides whether a proposed manifest edit may be applied. It fails closed: it compares the
// manifest before and after the edit itself (it never trusts the proposer's list of changes, so
// a removal is a change like any other), and anything it cannot prove allowed is refused. A
// refused edit is never applied. The rules, one function each in guard.cc, in this order:
//
//   identity            apiVersion, kind, metadata.name and metadata.namespace are unchanged
//   no-change           the edit changes nothing
//   allowed-path        every changed field matches an allow-list pattern (GuardPolicy)
//   quantity            memory and cpu values are valid Kubernetes quantities
//   bounded-memory      memory at most max_memory_factor x the old value (or memory_floor) and
//                       at most max_memory
//   bounded-cpu         cpu at most max_cpu_factor x the old value and at most max_cpu
//   bounded-replicas    replicas between 1 (when it was >= 1) and max_replicas
//   image-repository    an image may change its tag or digest, never its repository (an extra
//                       registry of the policy may replace the registry host, path kept)
//   plaintext-secret    no env value that looks like a secret, or whose name says it is one
//   fetch-and-exec      no command, args, probe or hook exec, or env value that brings code from
//                       elsewhere and runs it (exec_content.h)
//   exec-review         command, args, lifecycle and probe exec changes that are not token-level
//                       corrections, env values that look like commands or URLs: REVIEW only
//   code-loading-env    no LD_PRELOAD, BASH_ENV, NODE_OPTIONS..., no JVM agent options
//   value-from          an env valueFrom names a key that exists in a Secret or ConfigMap of the
//                       workload's namespace (ClusterFacts)
//   volume-source       an added or changed volume is an emptyDir with a sizeLimit (at most
//                       max_empty_dir) or a ConfigMap/Secret that exists
//   volume-mount        a mount names a volume of the pod and no system path (/proc, /sys, /dev,
//                       service account tokens)
//   node-selector       nodeSelector and node affinity values are labels some node has
//   host-namespaces     no hostNetwork, hostPID or hostIPC
//   privileged          no container or pod becomes privileged / allows privilege escalation
//   host-path           no hostPath volume is added
//   capabilities        no capability is added
//   request-within-limit  every request is at most its limit
//   removed-limit       no resource limit that was set is removed
//   removed-probe       no probe that was set is removed
//
// A verdict with only review violations has review_required: the edit may be shown to people as
// a suggestion, never applied. Any other violation is a refusal. The policy can widen the
// allow-list and the bounds (per namespace) and name extra registries; no setting switches a
// rule off. Log text never reaches the guard: evidence cannot instruct it.
// Thread-safe (immutable).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_GUARD_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_GUARD_H_

#include <map>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "remediator/v1/remediator.pb.h"
#include "server/remediator/core/remediation/cluster_facts.h"

namespace remediator::remediation {

// Bounds that a namespace may widen.
struct GuardBounds {
  // Any memory value up to memory_floor is within bounds whatever the factor (raising a 4Mi
  // limit to 64Mi is harmless; 8x would stop at 32Mi, too little for real images).
  std::string memory_floor = "128Mi";
  double max_memory_factor = 8;
  std::string max_memory = "8Gi";
  double max_cpu_factor = 8;
  std::string max_cpu = "8";
  int max_replicas = 20;
  std::string max_empty_dir = "2Gi";
};

struct NamespaceGuardPolicy {
  // Added to GuardPolicy::allowed_paths for this namespace.
  std::vector<std::string> extra_paths;
  GuardBounds bounds;
};

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
      "pod.containers[*].lifecycle.**",
      "pod.containers[*].image",
      "pod.containers[*].env[*].name",
      "pod.containers[*].env[*].value",
      "pod.containers[*].env[*].valueFrom.secretKeyRef.*",
      "pod.containers[*].env[*].valueFrom.configMapKeyRef.*",
      "pod.containers[*].command",
      "pod.containers[*].args",
      "pod.containers[*].volumeMounts[*].name",
      "pod.containers[*].volumeMounts[*].mountPath",
      "pod.containers[*].volumeMounts[*].subPath",
      "pod.containers[*].volumeMounts[*].readOnly",
      "pod.volumes[*].name",
      "pod.volumes[*].emptyDir.sizeLimit",
      "pod.volumes[*].configMap.**",
      "pod.volumes[*].secret.**",
      "pod.nodeSelector.*",
      "pod.affinity.nodeAffinity.**",
      "pod.initContainers[*].resources.limits.*",
      "pod.initContainers[*].resources.requests.*",
      "pod.initContainers[*].image",
      "pod.initContainers[*].command",
      "pod.initContainers[*].args",
      "pod.initContainers[*].env[*].name",
      "pod.initContainers[*].env[*].value",
      "pod.initContainers[*].env[*].valueFrom.secretKeyRef.*",
      "pod.initContainers[*].env[*].valueFrom.configMapKeyRef.*",
  };
  GuardBounds bounds;
  // Registry hosts an image may move to, keeping its path ("mirror.example.com").
  std::vector<std::string> extra_registries;
  std::map<std::string, NamespaceGuardPolicy> namespaces;
};

class Guard {
 public:
  explicit Guard(GuardPolicy policy = {}) : policy_(std::move(policy)) {}

  // The verdict on changing `before` into `after` (both whole Kubernetes objects). `facts` are
  // the workload namespace's Secrets/ConfigMaps and the nodes; without them (null, or not
  // known) every rule that needs them refuses.
  v1::GuardVerdict Check(const nlohmann::json& before, const nlohmann::json& after,
                         const ClusterFacts* facts = nullptr) const;

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
