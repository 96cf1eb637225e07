// What a container does, derived from its WHOLE spec and the image's model in the world file
// (world.h), the way kubelet, containerd/runc and the process itself would decide it:
//   - the kubelet resolves env/envFrom against Secrets and ConfigMaps (CreateContainerConfigError
//     with the kubelet's messages when an object or key is missing);
//   - runc mounts the volumes and execs argv[0] (StartError / exit 128 with runc's messages for
//     a directory mounted over an image file, or an executable that is not in the image);
//   - the process runs: wrappers that `exec "$@"`, `sh -c` scripts (a missing command prints the
//     shell's "not found" line and exits 127), the image's program with its flags, env, heap
//     flags (-Xmx, -XX:MaxRAMPercentage in args or JAVA_TOOL_OPTIONS-like variables), the
//     read-only root filesystem against the paths it writes, and the memory limit.
// Pure functions over JSON; the simulated kubelet (kubelet.cc) turns the plan into states,
// events and logs on the simulated clock.
#ifndef REMEDIATOR_SERVER_KUBESIM_CONTAINER_MODEL_H_
#define REMEDIATOR_SERVER_KUBESIM_CONTAINER_MODEL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "server/kubesim/world.h"

namespace remediator::kubesim {

// A Secret or ConfigMap of the pod's namespace by resource ("secrets", "configmaps") and name;
// nullopt when it does not exist.
using ObjectLookup =
    std::function<std::optional<nlohmann::json>(const std::string&, const std::string&)>;

struct ResolvedEnv {
  std::map<std::string, std::string> vars;  // what the process sees (Secret values decoded)
  // The kubelet's CreateContainerConfigError message ("secret \"x\" not found", "couldn't find
  // key K in Secret ns/name", "configmap \"x\" not found"), empty when the env resolves.
  std::string config_error;
};

// Resolves `env` (value, valueFrom secretKeyRef/configMapKeyRef honouring `optional`, fieldRef)
// and `envFrom` (with prefix) of `container` in namespace `ns`.
ResolvedEnv ResolveEnv(const nlohmann::json& pod, const nlohmann::json& container,
                       const std::string& ns, const ObjectLookup& lookup);

// The process argv: (command or the image's entrypoint) + (args, or the image's cmd unless
// command is set), as the runtime builds it from the container spec and the image config.
std::vector<std::string> EffectiveArgv(const ImageBehavior& img, const nlohmann::json& container);

struct ProcessPlan {
  // containerd's message when the container cannot start (StartError, exit 128); empty when it
  // starts. The kubelet shows it as RunContainerError, then CrashLoopBackOff.
  std::string start_error;
  bool serves = true;  // the image's program runs: its ports and paths answer probes
  std::vector<std::string> start_logs;
  bool exits = false;  // the process ends on its own after exit_after_seconds
  double exit_after_seconds = 0;
  int exit_code = 0;
  std::string exit_reason;  // Completed, Error or OOMKilled
  std::vector<std::string> exit_logs;
  int64_t working_set_bytes = 0;
};

struct ContainerInputs {
  const nlohmann::json* pod = nullptr;
  const nlohmann::json* container = nullptr;
  const ResolvedEnv* env = nullptr;
  int64_t memory_limit = 0;  // 0: none
  int64_t node_memory = 0;   // what the JVM sees without a limit
  ObjectLookup lookup;
};

// Log lines keep the world's placeholders (${NGINX_TIME}, ${RFC3339}, ${POD}, ${CONTAINER});
// the model's own (${VAR}, ${FILE}, ${FLAG}, ${CMD}, ${WRAPPER}) are already substituted.
ProcessPlan PlanProcess(const ImageBehavior& img, const ContainerInputs& in);

struct ExecOutcome {
  bool ok = true;
  bool errored = false;  // the exec itself failed: kubelet says "probe errored: <output>"
  std::string output;    // else "probe failed: <output>"
};
// An exec probe's command inside a running container of `img`. `exec_id_seed` makes the
// containerd exec id in the "errored" message deterministic.
ExecOutcome RunExec(const ImageBehavior& img, const std::vector<std::string>& argv,
                    const std::string& exec_id_seed);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_CONTAINER_MODEL_H_
