// The world file: what exists around the simulated cluster and how simulated containers behave.
//
//   oomInitThreshold: 6Mi        # memory limits below this fail in runc init (StartError)
//   namespaces: [app]            # created at start (default and kube-system always exist)
//   nodes:                       # default: one node "kubesim-node-1" with 4 cpu / 8Gi
//   - name: worker-1
//     capacity: {cpu: "4", memory: 8Gi, pods: 110}
//     labels: {topology.kubernetes.io/zone: zone-a}
//     taints: [{key: dedicated, value: gpu, effect: NoSchedule}]  # on the Node object
//     unschedulable: false       # cordoned (spec.unschedulable)
//   images:                      # an image not listed here fails to pull (ErrImagePull)
//   - name: nginx:1.27           # normalised like docker ("nginx" =
//   docker.io/library/nginx:latest);
//                                # a trailing "*" matches any suffix ("nginx:*")
//     workingSet: 12Mi           # memory the process uses; limit below it -> OOMKilled (137)
//     startupSeconds: 1          # from Started until the ports answer
//     oomAfterSeconds: 2         # how long it runs before an OOM kill
//     serves: [{port: 80, paths: ["/", "/healthz"]}]   # HTTP probes elsewhere fail
//     requiredEnv: [DATABASE_URL]                       # missing -> prints missingEnvLogs, exits
//     nonEmptyEnv: [POSTGRES_PASSWORD]                  # missing or "" -> the same
//     missingEnvLogs: ["error: ${VAR} is not set"]      # ${VAR} = the missing variable
//     missingEnvExitCode: 1
//     startLogs: ["${NGINX_TIME} [notice] 1#1: start worker processes"]  # printed at start
//     crash: {afterSeconds: 5, exitCode: 1, logs: ["panic: boom"]}        # always exits
//     termExitCode: 0            # exit code when killed by a failed liveness probe
//     # --- the process (see container_model.h); all optional, absent = any command runs ---
//     entrypoint: [/docker-entrypoint.sh]     # ENTRYPOINT; `command` replaces it
//     cmd: [nginx, -g, "daemon off;"]         # CMD; `args` replace it, ignored with `command`
//     executables: [nginx, sh, /docker-entrypoint.sh]  # bare names are on $PATH; paths by path
//     wrappers: [/docker-entrypoint.sh]       # scripts that `exec "$@"`; or {path, notFoundLog}
//     program: nginx             # the binary whose behaviour this entry describes
//     shell: dash                # dash | busybox | bash: how `sh -c` reports "not found"
//     flags: {known: [-g, -c], unknownLogs: ['nginx: invalid option: "${FLAG}"'],
//             unknownExitCode: 1}           # options of `program`
//     heap: {envs: [JAVA_TOOL_OPTIONS, JAVA_OPTS], args: true, defaultPercent: 25,
//            needs: 200Mi}      # -Xmx / -XX:MaxRAMPercentage add to workingSet;
//                               # a heap below `needs` -> java.lang.OutOfMemoryError
//     writablePaths:             # written at start; readOnlyRootFilesystem without a mount at
//     - path: /var/cache/nginx/client_temp   # or above the path -> logs, readOnlyExitCode
//       logs: ['nginx: [emerg] mkdir() "${FILE}" failed (30: Read-only file system)']
//     - /tmp/app.lock            # string form logs "open ${FILE}: read-only file system"
//     readOnlyExitCode: 1
//     files: [/etc/nginx/nginx.conf]          # regular files; a volume over one needs subPath
//     execResults: [{command: "cat /tmp/healthy", exitCode: 1,
//                    output: "cat: /tmp/healthy: No such file or directory"}]  # exec probes
//   secrets:    [{namespace: app, name: db, stringData: {password: x}}]
//   configMaps: [{namespace: app, name: cfg, data: {key: value}}]
//   manifests:  [ <any Kubernetes object>, ... ]
// Log line placeholders: ${NGINX_TIME} (2026/11/26 07:00:00), ${RFC3339}, ${POD}, ${CONTAINER}.
#ifndef REMEDIATOR_SERVER_KUBESIM_WORLD_H_
#define REMEDIATOR_SERVER_KUBESIM_WORLD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "yaml-cpp/yaml.h"

namespace remediator::kubesim {

struct ServedPort {
  int port = 0;
  std::vector<std::string> paths;  // empty: every path answers 200
};

struct ImageBehavior {
  std::string name;
  int64_t working_set_bytes = 8 * 1024 * 1024;
  double startup_seconds = 1;
  double oom_after_seconds = 2;
  std::vector<ServedPort> serves;
  std::vector<std::string> required_env;
  std::vector<std::string> missing_env_logs;
  int missing_env_exit_code = 1;
  std::vector<std::string> start_logs;
  bool crashes = false;
  double crash_after_seconds = 5;
  int crash_exit_code = 1;
  std::vector<std::string> crash_logs;
  int term_exit_code = 0;

  // The process model (empty = legacy: every command runs the image's behaviour).
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> executables;
  struct Wrapper {
    std::string path;
    std::string not_found_log;  // ${WRAPPER}, ${CMD}
  };
  std::vector<Wrapper> wrappers;
  std::string program;
  std::string shell = "dash";
  bool has_flags = false;
  std::vector<std::string> known_flags;
  std::vector<std::string> unknown_flag_logs;
  int unknown_flag_exit_code = 1;
  std::vector<std::string> non_empty_env;
  bool has_heap = false;
  std::vector<std::string> heap_envs;
  bool heap_args = true;
  double heap_default_percent = 25;
  int64_t heap_needs_bytes = 0;
  struct WritablePath {
    std::string path;
    std::vector<std::string> logs;  // ${FILE}
  };
  std::vector<WritablePath> writable_paths;
  int read_only_exit_code = 1;
  std::vector<std::string> files;
  struct ExecResult {
    std::string command;  // matched against the probe's words joined by spaces (prefix)
    int exit_code = 0;
    std::string output;
  };
  std::vector<ExecResult> exec_results;
};

struct NodeSpec {
  std::string name;
  int64_t cpu_millis = 4000;
  int64_t memory_bytes = 8LL * 1024 * 1024 * 1024;
  int64_t pods = 110;
  nlohmann::json labels = nlohmann::json::object();
  nlohmann::json taints = nlohmann::json::array();  // [{key, value, effect}]
  bool unschedulable = false;
};

struct World {
  int64_t oom_init_threshold_bytes = 6 * 1024 * 1024;
  std::vector<std::string> namespaces;
  std::vector<NodeSpec> nodes;
  std::vector<ImageBehavior> images;
  // Secrets, configmaps and manifests as API objects, in file order.
  std::vector<nlohmann::json> objects;

  // The behaviour for a container image reference, or nullptr (pull fails).
  const ImageBehavior* FindImage(const std::string& image) const;
};

// "nginx" -> "docker.io/library/nginx:latest"; "ghcr.io/a/b:1" unchanged.
std::string NormalizeImage(const std::string& image);

// Parses a world file's text; `name` is used in errors ("file:line: key ...").
absl::StatusOr<World> ParseWorld(const std::string& text, const std::string& name);
absl::StatusOr<World> LoadWorldFile(const std::string& path);

// Converts YAML to JSON with Kubernetes' scalar typing (unquoted ints/bools/null are typed).
nlohmann::json YamlToJson(const YAML::Node& node);
// Parses multi-document YAML (or JSON) manifests; `kind: List` is flattened. Empty documents are
// skipped. InvalidArgument with "name:line:col" on a syntax error.
absl::StatusOr<std::vector<nlohmann::json>> ParseManifests(const std::string& text,
                                                           const std::string& name);
// Every *.yaml, *.yml, *.json file in `dir` (sorted by name), parsed with ParseManifests.
absl::StatusOr<std::vector<nlohmann::json>> LoadManifestDir(const std::string& dir);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_WORLD_H_
