// The world file: what exists around the simulated cluster and how simulated containers behave.
//
//   oomInitThreshold: 6Mi        # memory limits below this fail in runc init (StartError)
//   namespaces: [app]            # created at start (default and kube-system always exist)
//   nodes:                       # default: one node "kubesim-node-1" with 4 cpu / 8Gi
//   - name: worker-1
//     capacity: {cpu: "4", memory: 8Gi, pods: 110}
//     labels: {topology.kubernetes.io/zone: zone-a}
//   images:                      # an image not listed here fails to pull (ErrImagePull)
//   - name: nginx:1.27           # normalised like docker ("nginx" =
//   docker.io/library/nginx:latest);
//                                # a trailing "*" matches any suffix ("nginx:*")
//     workingSet: 12Mi           # memory the process uses; limit below it -> OOMKilled (137)
//     startupSeconds: 1          # from Started until the ports answer
//     oomAfterSeconds: 2         # how long it runs before an OOM kill
//     serves: [{port: 80, paths: ["/", "/healthz"]}]   # HTTP probes elsewhere fail
//     requiredEnv: [DATABASE_URL]                       # missing -> prints missingEnvLogs, exits
//     missingEnvLogs: ["error: ${VAR} is not set"]      # ${VAR} = the missing variable
//     missingEnvExitCode: 1
//     startLogs: ["${NGINX_TIME} [notice] 1#1: start worker processes"]  # printed at start
//     crash: {afterSeconds: 5, exitCode: 1, logs: ["panic: boom"]}        # always crashes
//     termExitCode: 0            # exit code when killed by a failed liveness probe
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
};

struct NodeSpec {
  std::string name;
  int64_t cpu_millis = 4000;
  int64_t memory_bytes = 8LL * 1024 * 1024 * 1024;
  int64_t pods = 110;
  nlohmann::json labels = nlohmann::json::object();
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
