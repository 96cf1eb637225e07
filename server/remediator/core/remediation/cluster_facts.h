// Facts read from the cluster around a workload, for the playbooks (which build fixes on facts,
// never on guesses) and for the guard's bounded rules (a valueFrom must name a key that exists,
// a nodeSelector a label some node has). Gathered by the engine before strategies run.
// Secret values are never kept: only the names of their keys.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_CLUSTER_FACTS_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_CLUSTER_FACTS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace remediator::remediation {

struct NodeFacts {
  std::string name;
  std::map<std::string, std::string> labels;
  int64_t allocatable_cpu_millis = 0;
  int64_t allocatable_memory_bytes = 0;
  // The node's taints as the API returns them ({key, value, effect}).
  std::vector<nlohmann::json> taints;
};

struct ClusterFacts {
  // False when the facts could not be read: rules that need them refuse (fail closed).
  bool known = false;
  // Secrets and ConfigMaps of the workload's namespace: name -> key names.
  std::map<std::string, std::set<std::string>> secret_keys;
  std::map<std::string, std::set<std::string>> config_map_keys;
  std::vector<NodeFacts> nodes;
  // The pod specs of the workload's earlier revisions (a Deployment's older ReplicaSets),
  // newest first: what ran before the change that broke it.
  std::vector<nlohmann::json> older_pod_specs;
};

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_CLUSTER_FACTS_H_
