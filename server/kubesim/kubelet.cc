// The simulated scheduler + kubelet: binds pods to nodes, then runs each container through the
// states a real kubelet/containerd would show for the image's behaviour in the world file
// (image pulls, config errors, runc-init OOM, OOMKilled, crashes, probes, CrashLoopBackOff),
// recording the same events and keeping per-instance logs.
#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "server/kubesim/api_controllers.h"
#include "server/kubesim/api_error.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/container_model.h"
#include "server/kubesim/k8s_util.h"
#include "server/kubesim/scheduler.h"

namespace remediator::kubesim {
namespace {

constexpr char kRuncInitOom[] =
    "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
    "runc create failed: unable to start container process: container init was OOM-killed "
    "(memory limit too low?): unknown";

constexpr absl::Duration kFlapWindow = absl::Seconds(10);

struct LogLine {
  absl::Time t;
  std::string text;
};

std::string Hex64(const std::string& seed) {
  std::string out;
  uint32_t h = Fnv32a(seed);
  for (int i = 0; i < 8; ++i) {
    h = Fnv32a(seed + std::to_string(h) + std::to_string(i));
    char buf[9];
    std::snprintf(buf, sizeof(buf), "%08x", h);
    out += buf;
  }
  return out;
}

}  // namespace

struct ContainerSim {
  enum Stage { kStart, kPullFailed, kRunning, kExited, kDone };
  std::string name;
  Stage stage = kStart;
  absl::Time next = absl::InfiniteFuture();
  int restarts = 0;
  int crash_backoff = 0;
  int pull_backoff = 0;
  json state = {{"waiting", {{"reason", "ContainerCreating"}}}};
  json last_state = json::object();
  bool ready = false;
  bool started = false;
  bool ever_pulled = false;
  absl::Time started_at;
  absl::Time exit_at = absl::InfiniteFuture();
  int exit_code = 0;
  std::string exit_reason;
  std::vector<std::string> exit_logs;
  std::string start_error;  // runc's message for the StartError instance being reported
  bool serves = true;       // the image's program runs (its ports answer)
  absl::Time next_liveness = absl::InfiniteFuture();
  absl::Time next_readiness = absl::InfiniteFuture();
  int liveness_failures = 0;
  int instance = 0;
  std::string container_id;  // current or last instance
  std::string image_id;
  std::map<std::string, std::vector<LogLine>> logs;  // by container id
};

struct Cluster::PodSim {
  std::string uid;
  bool scheduled = false;
  std::string node;
  std::string ip;
  absl::Time next_schedule_try = absl::InfinitePast();
  std::string nodes_seen;  // the node view of the last scheduling attempt
  std::string unschedulable_message;
  bool volumes_ok = false;
  absl::Time next_volume_try = absl::InfinitePast();
  std::vector<ContainerSim> containers;
  std::map<std::string, std::string> transition_times;  // condition type+status -> time
};

namespace {

struct PodCtx {
  Cluster* cluster;
  const json* pod;
  Cluster::PodSim* sim;
  std::string ns, name, uid;
  const World* world;
};

// Appends `line` to the container's CRI log file when the cluster writes them (see
// ClusterOptions::container_log_dir). Best effort: a failed write loses only the file copy.
void WriteCriLine(const PodCtx& ctx, const std::string& container, const std::string& container_id,
                  absl::Time t, const std::string& line) {
  const std::string& dir = ctx.cluster->container_log_dir();
  if (dir.empty()) return;
  const std::string id = container_id.substr(
      container_id.find("://") == std::string::npos ? 0 : container_id.find("://") + 3);
  const std::string path =
      absl::StrCat(dir, "/", ctx.name, "_", ctx.ns, "_", container, "-", id, ".log");
  std::ofstream out(path, std::ios::app);
  out << absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", t, absl::UTCTimeZone()) << " stdout F " << line
      << "\n";
}

std::string PodRef(const PodCtx& ctx) {
  return absl::StrCat(ctx.name, "_", ctx.ns, "(", ctx.uid, ")");
}

void Event(const PodCtx& ctx, const std::string& container, const std::string& type,
           const std::string& reason, const std::string& message, absl::Time t,
           const std::string& component = "kubelet") {
  std::string fp = container.empty() ? "" : absl::StrCat("spec.containers{", container, "}");
  ctx.cluster->RecordEvent(*ctx.pod, fp, type, reason, message, component,
                           component == "kubelet" ? ctx.sim->node : "", t);
}

int64_t MemoryLimit(const json& c) {
  if (!c.contains("resources") || !c["resources"].contains("limits")) return 0;
  return QuantityOr(c["resources"]["limits"].value("memory", json()), 0);
}

std::string Expand(const std::string& line, absl::Time t, const PodCtx& ctx,
                   const std::string& container, const std::string& var = "") {
  return absl::StrReplaceAll(
      line, {{"${NGINX_TIME}", absl::FormatTime("%Y/%m/%d %H:%M:%S", t, absl::UTCTimeZone())},
             {"${RFC3339}", Rfc3339(t)},
             {"${POD}", ctx.name},
             {"${CONTAINER}", container},
             {"${VAR}", var}});
}

// Missing secret/configMap volumes: the FailedMount message, or "".
std::string VolumeError(const PodCtx& ctx) {
  const json& spec = (*ctx.pod)["spec"];
  if (!spec.contains("volumes")) return "";
  for (const json& v : spec["volumes"]) {
    std::string vname = v.value("name", "");
    if (v.contains("secret") && !v["secret"].value("optional", false)) {
      std::string s = v["secret"].value("secretName", "");
      if (!ctx.cluster->store().Get("secrets", ctx.ns, s)) {
        return absl::StrCat("MountVolume.SetUp failed for volume \"", vname, "\" : secret \"", s,
                            "\" not found");
      }
    }
    if (v.contains("configMap") && !v["configMap"].value("optional", false)) {
      std::string s = v["configMap"].value("name", "");
      if (!ctx.cluster->store().Get("configmaps", ctx.ns, s)) {
        return absl::StrCat("MountVolume.SetUp failed for volume \"", vname, "\" : configmap \"", s,
                            "\" not found");
      }
    }
  }
  return "";
}

std::string PullError(const std::string& image) {
  std::string ref = NormalizeImage(image);
  std::string host = ref.substr(0, ref.find('/'));
  if (host != "docker.io" && (absl::EndsWith(host, ".invalid") ||
                              absl::EndsWith(host, ".example") || absl::EndsWith(host, ".local"))) {
    std::string repo_tag = ref.substr(ref.find('/') + 1);
    size_t colon = repo_tag.rfind(':');
    std::string repo = repo_tag.substr(0, colon);
    std::string tag = colon == std::string::npos ? "latest" : repo_tag.substr(colon + 1);
    return absl::StrCat("rpc error: code = Unknown desc = failed to pull and unpack image \"", ref,
                        "\": failed to resolve reference \"", ref,
                        "\": failed to do request: Head \"https://", host, "/v2/", repo,
                        "/manifests/", tag, "\": dial tcp: lookup ", host,
                        " on 10.96.0.10:53: no such host");
  }
  return absl::StrCat("rpc error: code = NotFound desc = failed to pull and unpack image \"", ref,
                      "\": failed to resolve reference \"", ref, "\": ", ref, ": not found");
}

struct ProbeResult {
  bool ok = true;
  std::string verb = "failed";  // "errored" when an exec could not even start
  std::string output;           // the text after "<Type> probe <verb>: "
};

int ResolvePort(const json& port, const json& container) {
  if (port.is_number()) return port.get<int>();
  std::string pn = port.is_string() ? port.get<std::string>() : "";
  for (const json& p : container.value("ports", json::array())) {
    if (p.value("name", "") == pn) return p.value("containerPort", 0);
  }
  int v = 0;
  return absl::SimpleAtoi(pn, &v) ? v : 0;
}

// One probe of a running container: HTTP and TCP against what the image serves once started
// (and only when its program runs), exec through the image's process model.
ProbeResult RunProbe(const PodCtx& ctx, const ContainerSim& c, const json& probe, const json& cs,
                     const ImageBehavior* img, absl::Time t) {
  const std::string& ip = ctx.sim->ip;
  const bool up =
      img != nullptr && c.serves && t >= c.started_at + absl::Seconds(img->startup_seconds);
  auto served = [&](int port) -> const ServedPort* {
    if (!up) return nullptr;
    for (const auto& sp : img->serves) {
      if (sp.port == port) return &sp;
    }
    return nullptr;
  };
  if (probe.contains("httpGet")) {
    const json& h = probe["httpGet"];
    int port = ResolvePort(h.value("port", json(80)), cs);
    std::string path = h.value("path", "/");
    std::string scheme = h.value("scheme", "HTTP") == "HTTPS" ? "https" : "http";
    const ServedPort* sp = served(port);
    if (sp == nullptr) {
      return {false, "failed",
              absl::StrCat("Get \"", scheme, "://", ip, ":", port, path, "\": dial tcp ", ip, ":",
                           port, ": connect: connection refused")};
    }
    if (!sp->paths.empty() &&
        std::find(sp->paths.begin(), sp->paths.end(), path) == sp->paths.end()) {
      return {false, "failed", "HTTP probe failed with statuscode: 404"};
    }
    return {};
  }
  if (probe.contains("tcpSocket")) {
    int port = ResolvePort(probe["tcpSocket"].value("port", json(0)), cs);
    if (served(port) == nullptr) {
      return {false, "failed",
              absl::StrCat("dial tcp ", ip, ":", port, ": connect: connection refused")};
    }
    return {};
  }
  if (probe.contains("exec") && img != nullptr) {
    std::vector<std::string> argv;
    for (const json& w : probe["exec"].value("command", json::array())) {
      argv.push_back(w.is_string() ? w.get<std::string>() : w.dump());
    }
    ExecOutcome r = RunExec(*img, argv, absl::StrCat(c.container_id, Rfc3339(t)));
    if (!r.ok) return {false, r.errored ? "errored" : "failed", r.output};
  }
  return {};  // grpc: assumed to pass
}

void Terminate(ContainerSim& c, absl::Time t, int code, const std::string& reason,
               const std::string& message, bool never_started) {
  json term = {{"exitCode", code},
               {"reason", reason},
               {"startedAt", never_started ? "1970-01-01T00:00:00Z" : Rfc3339(c.started_at)},
               {"finishedAt", Rfc3339(t)},
               {"containerID", c.container_id}};
  if (!message.empty()) term["message"] = message;
  c.state = {{"terminated", term}};
  c.ready = false;
  c.started = false;
  c.exit_at = absl::InfiniteFuture();
  c.next_liveness = c.next_readiness = absl::InfiniteFuture();
}

// Begins CrashLoopBackOff after a terminated instance (restartPolicy permitting).
void BackOff(const PodCtx& ctx, ContainerSim& c, absl::Time t) {
  c.last_state = c.state;
  c.restarts++;
  c.crash_backoff = c.crash_backoff == 0 ? 10 : std::min(300, c.crash_backoff * 2);
  c.state = {
      {"waiting",
       {{"reason", "CrashLoopBackOff"},
        {"message", absl::StrCat("back-off ", GoDuration(absl::Seconds(c.crash_backoff)),
                                 " restarting failed container=", c.name, " pod=", PodRef(ctx))}}}};
  Event(ctx, c.name, "Warning", "BackOff",
        absl::StrCat("Back-off restarting failed container ", c.name, " in pod ", PodRef(ctx)), t);
  absl::Time finished = ParseRfc3339(c.last_state["terminated"].value("finishedAt", ""), t);
  c.next = std::max(t, finished + absl::Seconds(c.crash_backoff));
  c.stage = ContainerSim::kStart;
}

ObjectLookup Lookup(const PodCtx& ctx) {
  Store* store = &ctx.cluster->store();
  std::string ns = ctx.ns;
  return [store, ns](const std::string& resource, const std::string& name) {
    return store->Get(resource, ns, name);
  };
}

int64_t NodeMemory(const PodCtx& ctx) {
  for (const auto& n : ctx.world->nodes) {
    if (n.name == ctx.sim->node) return n.memory_bytes;
  }
  return 8LL * 1024 * 1024 * 1024;
}

// runc could not start the process: RunContainerError for a moment, then a terminated
// StartError instance (exit 128) followed by CrashLoopBackOff (see StepContainer, kExited).
void FailStart(const PodCtx& ctx, ContainerSim& c, const std::string& message, absl::Time t) {
  Event(ctx, c.name, "Warning", "Failed", absl::StrCat("Error: ", message), t);
  c.state = {{"waiting", {{"reason", "RunContainerError"}, {"message", message}}}};
  c.started = false;
  c.ready = false;
  c.start_error = message;
  c.exit_reason = "StartError";
  c.stage = ContainerSim::kExited;
  c.next = t + absl::Seconds(1);
}

void StartProcess(const PodCtx& ctx, ContainerSim& c, const ProcessPlan& plan, absl::Time t) {
  Event(ctx, c.name, "Normal", "Started", absl::StrCat("Started container ", c.name), t);
  c.started = true;
  c.started_at = t;
  c.state = {{"running", {{"startedAt", Rfc3339(t)}}}};
  c.stage = ContainerSim::kRunning;
  c.serves = plan.serves;
  c.exit_reason.clear();
  for (const auto& line : plan.start_logs) {
    c.logs[c.container_id].push_back({t, Expand(line, t, ctx, c.name)});
    WriteCriLine(ctx, c.name, c.container_id, t, c.logs[c.container_id].back().text);
  }
  c.exit_logs.clear();
  c.exit_at = absl::InfiniteFuture();
  if (plan.exits) {
    c.exit_at = t + absl::Milliseconds(static_cast<int64_t>(plan.exit_after_seconds * 1000));
    c.exit_code = plan.exit_code;
    c.exit_reason = plan.exit_reason;
    for (const auto& line : plan.exit_logs) {
      c.exit_logs.push_back(Expand(line, c.exit_at, ctx, c.name));
    }
  }
}

void ArmProbes(ContainerSim& c, const json& cs, absl::Time t) {
  c.liveness_failures = 0;
  if (cs.contains("livenessProbe")) {
    c.next_liveness = t + absl::Seconds(cs["livenessProbe"].value("initialDelaySeconds", 0) +
                                        cs["livenessProbe"].value("periodSeconds", 10));
  }
  if (cs.contains("readinessProbe")) {
    c.ready = false;
    c.next_readiness =
        t + absl::Seconds(cs["readinessProbe"].value("initialDelaySeconds", 0)) + absl::Seconds(1);
  } else {
    // Without a readiness probe a container is ready once started. One that dies within
    // kFlapWindow (OOM, missing env, a bad command) is treated as never ready: the real kubelet
    // rarely reports such a blip, and a crash-looping Deployment must not count as "available".
    c.ready = c.exit_at > t + kFlapWindow;
  }
  if (c.exit_at <= t + kFlapWindow) c.next_readiness = absl::InfiniteFuture();
}

void StartAttempt(const PodCtx& ctx, ContainerSim& c, const json& cs, absl::Time t) {
  std::string image = cs.value("image", "");
  const ImageBehavior* img = ctx.world->FindImage(image);
  if (img == nullptr) {
    std::string err = PullError(image);
    Event(ctx, c.name, "Normal", "Pulling", absl::StrCat("Pulling image \"", image, "\""), t);
    Event(ctx, c.name, "Warning", "Failed",
          absl::StrCat("Failed to pull image \"", image, "\": ", err), t);
    Event(ctx, c.name, "Warning", "Failed", "Error: ErrImagePull", t);
    c.state = {{"waiting", {{"reason", "ErrImagePull"}, {"message", err}}}};
    c.stage = ContainerSim::kPullFailed;
    c.next = t + absl::Seconds(1);
    return;
  }
  c.image_id = absl::StrCat(NormalizeImage(image).substr(0, NormalizeImage(image).rfind(':')),
                            "@sha256:", Hex64(NormalizeImage(image)));
  c.pull_backoff = 0;
  Event(ctx, c.name, "Normal", "Pulled",
        absl::StrCat("Container image \"", image, "\" already present on machine"), t);
  ResolvedEnv env = ResolveEnv(*ctx.pod, cs, ctx.ns, Lookup(ctx));
  if (!env.config_error.empty()) {
    Event(ctx, c.name, "Warning", "Failed", absl::StrCat("Error: ", env.config_error), t);
    c.state = {
        {"waiting", {{"reason", "CreateContainerConfigError"}, {"message", env.config_error}}}};
    c.next = t + absl::Seconds(10);
    return;
  }
  c.instance++;
  c.container_id = absl::StrCat("containerd://", Hex64(absl::StrCat(ctx.uid, c.name, c.instance)));
  c.logs[c.container_id] = {};
  Event(ctx, c.name, "Normal", "Created", absl::StrCat("Created container: ", c.name), t);
  ContainerInputs in;
  in.pod = ctx.pod;
  in.container = &cs;
  in.env = &env;
  in.memory_limit = MemoryLimit(cs);
  in.node_memory = NodeMemory(ctx);
  in.lookup = Lookup(ctx);
  ProcessPlan plan = PlanProcess(*img, in);
  if (in.memory_limit > 0 && in.memory_limit < ctx.world->oom_init_threshold_bytes) {
    plan.start_error = kRuncInitOom;
  }
  if (!plan.start_error.empty()) {
    FailStart(ctx, c, plan.start_error, t);
    return;
  }
  StartProcess(ctx, c, plan, t);
  ArmProbes(c, cs, t);
}

void RunningStep(const PodCtx& ctx, ContainerSim& c, const json& cs, absl::Time t) {
  const ImageBehavior* img = ctx.world->FindImage(cs.value("image", ""));
  if (t >= c.exit_at) {
    for (const auto& line : c.exit_logs) {
      c.logs[c.container_id].push_back({t, line});
      WriteCriLine(ctx, c.name, c.container_id, t, line);
    }
    Terminate(c, t, c.exit_code, c.exit_reason, "", false);
    c.stage = ContainerSim::kExited;
    c.next = t + absl::Seconds(1);
    return;
  }
  if (t >= c.next_readiness) {
    const json& p = cs["readinessProbe"];
    ProbeResult r = RunProbe(ctx, c, p, cs, img, t);
    if (r.ok) {
      c.ready = c.exit_at > t + kFlapWindow;
    } else {
      c.ready = false;
      Event(ctx, c.name, "Warning", "Unhealthy",
            absl::StrCat("Readiness probe ", r.verb, ": ", r.output), t);
    }
    c.next_readiness = t + absl::Seconds(p.value("periodSeconds", 10));
  }
  if (t >= c.next_liveness) {
    const json& p = cs["livenessProbe"];
    ProbeResult r = RunProbe(ctx, c, p, cs, img, t);
    c.next_liveness = t + absl::Seconds(p.value("periodSeconds", 10));
    if (r.ok) {
      c.liveness_failures = 0;
    } else {
      c.liveness_failures++;
      Event(ctx, c.name, "Warning", "Unhealthy",
            absl::StrCat("Liveness probe ", r.verb, ": ", r.output), t);
      if (c.liveness_failures >= p.value("failureThreshold", 3)) {
        Event(ctx, c.name, "Normal", "Killing",
              absl::StrCat("Container ", c.name, " failed liveness probe, will be restarted"), t);
        int code = img ? img->term_exit_code : 0;
        c.exit_at = t;
        c.exit_code = code;
        c.exit_reason = code == 0 ? "Completed" : "Error";
        c.exit_logs.clear();
        c.next = t;
        return;
      }
    }
  }
  c.next = std::min({c.exit_at, c.next_readiness, c.next_liveness});
}

void StepContainer(const PodCtx& ctx, ContainerSim& c, const json& cs, absl::Time now) {
  std::string policy = (*ctx.pod)["spec"].value("restartPolicy", "Always");
  for (int guard = 0; guard < 100000 && c.next <= now; ++guard) {
    absl::Time t = c.next;
    switch (c.stage) {
      case ContainerSim::kStart:
        StartAttempt(ctx, c, cs, t);
        break;
      case ContainerSim::kPullFailed: {
        std::string image = cs.value("image", "");
        std::string err = c.state["waiting"].value("message", "");
        c.pull_backoff = c.pull_backoff == 0 ? 10 : std::min(300, c.pull_backoff * 2);
        Event(ctx, c.name, "Normal", "BackOff",
              absl::StrCat("Back-off pulling image \"", image, "\""), t);
        Event(ctx, c.name, "Warning", "Failed", "Error: ImagePullBackOff", t);
        c.state = {{"waiting",
                    {{"reason", "ImagePullBackOff"},
                     {"message", absl::StrCat("Back-off pulling image \"", image,
                                              "\": ErrImagePull: ", err)}}}};
        c.stage = ContainerSim::kStart;
        c.next = t + absl::Seconds(c.pull_backoff);
        break;
      }
      case ContainerSim::kRunning:
        RunningStep(ctx, c, cs, t);
        break;
      case ContainerSim::kExited: {
        if (c.exit_reason == "StartError") {
          // The runc-init failure: terminated instance without ever running.
          c.state = {{"terminated",
                      {{"exitCode", 128},
                       {"reason", "StartError"},
                       {"message", c.start_error},
                       {"startedAt", "1970-01-01T00:00:00Z"},
                       {"finishedAt", Rfc3339(t - absl::Seconds(1))},
                       {"containerID", c.container_id}}}};
        }
        int code = c.state.contains("terminated") ? c.state["terminated"].value("exitCode", 0) : 0;
        if (policy == "Never" || (policy == "OnFailure" && code == 0)) {
          c.stage = ContainerSim::kDone;
          c.next = absl::InfiniteFuture();
          break;
        }
        BackOff(ctx, c, t);
        break;
      }
      case ContainerSim::kDone:
        c.next = absl::InfiniteFuture();
        break;
    }
  }
}

}  // namespace

Cluster::~Cluster() = default;

bool Cluster::ReconcilePods() {
  bool changed = false;
  std::set<std::string> live;
  for (const json& pod : store_.List("pods", "")) {
    live.insert(pod["metadata"].value("uid", ""));
    changed |= SyncPod(pod);
  }
  absl::MutexLock lock(&pods_mu_);
  for (auto it = pods_.begin(); it != pods_.end();) {
    it = live.count(it->first) ? std::next(it) : pods_.erase(it);
  }
  return changed;
}

namespace {

std::shared_ptr<Cluster::PodSim> NewPodSim(const json& pod, const std::string& uid) {
  auto sim = std::make_shared<Cluster::PodSim>();
  sim->uid = uid;
  for (const json& cs : pod["spec"].value("containers", json::array())) {
    ContainerSim c;
    c.name = cs.value("name", "");
    sim->containers.push_back(c);
  }
  return sim;
}

void Bind(const PodCtx& ctx, const std::string& node, int* next_ip, absl::Time now,
          absl::Duration start_delay) {
  Cluster::PodSim& sim = *ctx.sim;
  sim.scheduled = true;
  sim.node = node;
  sim.ip = "10.244.0." + std::to_string((*next_ip)++ % 250 + 2);
  Event(ctx, "", "Normal", "Scheduled",
        absl::StrCat("Successfully assigned ", ctx.ns, "/", ctx.name, " to ", node), now,
        "default-scheduler");
  for (auto& c : sim.containers) c.next = now + start_delay;
}

// The scheduler's view of the nodes (what a `kubectl taint/label/cordon` changes), to retry a
// pending pod as soon as it changes, like the real scheduler's queueing hints.
std::string NodesFingerprint(const std::vector<json>& nodes) {
  std::string out;
  for (const json& n : nodes) {
    out += n["metadata"].value("labels", json::object()).dump();
    out += n.value("spec", json::object()).dump();
  }
  return out;
}

// Pending pod: bind it, or record FailedScheduling and retry in a minute or on a node change.
void TrySchedule(const PodCtx& ctx, Store& store, json* pod, int* next_ip, absl::Time now) {
  Cluster::PodSim& sim = *ctx.sim;
  std::vector<json> nodes = store.List("nodes", "");
  std::string seen = NodesFingerprint(nodes);
  if (now < sim.next_schedule_try && seen == sim.nodes_seen) return;
  sim.nodes_seen = seen;
  // A volume PreFilter message (missing/unbound claims) goes in SchedulePod's last argument.
  ScheduleDecision d =
      SchedulePod(*pod, nodes, store.List("pods", ""), VolumeBindingPreFilter(store, *pod));
  if (!d.node.empty()) {
    (*pod)["spec"]["nodeName"] = d.node;
    Bind(ctx, d.node, next_ip, now, absl::Seconds(1));
    return;
  }
  sim.unschedulable_message = d.message;
  Event(ctx, "", "Warning", "FailedScheduling", d.message, now, "default-scheduler");
  sim.next_schedule_try = now + absl::Seconds(60);
}

void MountVolumes(const PodCtx& ctx, absl::Time now) {
  Cluster::PodSim& sim = *ctx.sim;
  if (!sim.scheduled || sim.volumes_ok || now < sim.next_volume_try) return;
  std::string err = VolumeError(ctx);
  if (err.empty()) {
    sim.volumes_ok = true;
    return;
  }
  Event(ctx, "", "Warning", "FailedMount", err, now);
  sim.next_volume_try = now + absl::Seconds(30);
  for (auto& c : sim.containers) c.next = std::max(c.next, sim.next_volume_try);
}

// Counts for the pod phase: `running` includes containers in restart back-off (they will run
// again), `stopped` those terminated for good, `waiting` those that never started.
json ContainerStatuses(const PodCtx& ctx, std::vector<std::string>* unready, int* running,
                       int* waiting, int* stopped, int* failed) {
  json statuses = json::array();
  const json& specs = (*ctx.pod)["spec"].value("containers", json::array());
  for (size_t i = 0; i < ctx.sim->containers.size(); ++i) {
    const ContainerSim& c = ctx.sim->containers[i];
    json cs = {{"name", c.name},
               {"image", i < specs.size() ? specs[i].value("image", "") : ""},
               {"imageID", c.image_id},
               {"ready", c.ready},
               {"restartCount", c.restarts},
               {"started", c.started},
               {"state", c.state},
               {"lastState", c.last_state}};
    if (!c.container_id.empty()) cs["containerID"] = c.container_id;
    statuses.push_back(cs);
    if (!c.ready) unready->push_back(c.name);
    if (c.state.contains("running")) {
      ++*running;
    } else if (c.state.contains("terminated")) {
      ++*stopped;
      if (c.state["terminated"].value("exitCode", 0) != 0) ++*failed;
    } else if (c.last_state.contains("terminated")) {
      ++*running;
    } else {
      ++*waiting;
    }
  }
  return statuses;
}

std::string QosClass(const json& specs) {
  bool guaranteed = !specs.empty(), burstable = false;
  for (const json& s : specs) {
    bool has_req = s.contains("resources") &&
                   (s["resources"].contains("requests") || s["resources"].contains("limits"));
    burstable |= has_req;
    guaranteed &= s.contains("resources") && s["resources"].contains("limits") &&
                  s["resources"]["limits"].contains("memory") &&
                  s["resources"]["limits"].contains("cpu");
  }
  return guaranteed ? "Guaranteed" : (burstable ? "Burstable" : "BestEffort");
}

json PodStatus(const PodCtx& ctx, absl::Time now) {
  Cluster::PodSim& sim = *ctx.sim;
  const json& pod = *ctx.pod;
  json status = pod.value("status", json::object());
  std::string now_s = Rfc3339(now);
  auto cond = [&](const std::string& type, bool ok, const std::string& reason,
                  const std::string& message) {
    std::string key = type + (ok ? "T" : "F");
    if (!sim.transition_times.count(key)) {
      sim.transition_times[key] = now_s;
      sim.transition_times.erase(type + (ok ? "F" : "T"));
    }
    json c = {{"type", type},
              {"status", ok ? "True" : "False"},
              {"lastProbeTime", nullptr},
              {"lastTransitionTime", sim.transition_times[key]}};
    if (!reason.empty()) c["reason"] = reason;
    if (!message.empty()) c["message"] = message;
    return c;
  };
  int running = 0, waiting = 0, stopped = 0, failed = 0;
  std::vector<std::string> unready;
  json statuses = ContainerStatuses(ctx, &unready, &running, &waiting, &stopped, &failed);
  std::string phase = "Pending";
  if (sim.scheduled && sim.volumes_ok && waiting == 0) {
    std::string policy = pod["spec"].value("restartPolicy", "Always");
    if (running > 0 || (stopped > 0 && policy == "Always")) {
      phase = "Running";
    } else if (stopped > 0) {
      // Like the kubelet's getPhase: OnFailure restarts failed containers, so it stays Running.
      phase = failed == 0 ? "Succeeded" : (policy == "OnFailure" ? "Running" : "Failed");
    }
  }
  json conditions = json::array();
  if (sim.scheduled) {
    bool all_ready = unready.empty() && !sim.containers.empty();
    // A finished pod (Succeeded/Failed) reports PodCompleted rather than ContainersNotReady.
    std::string reason =
        phase == "Succeeded" || phase == "Failed" ? "PodCompleted" : "ContainersNotReady";
    std::string msg = reason == "PodCompleted" ? ""
                                               : absl::StrCat("containers with unready status: [",
                                                              absl::StrJoin(unready, " "), "]");
    conditions.push_back(cond("PodReadyToStartContainers", sim.volumes_ok, "", ""));
    conditions.push_back(cond("Initialized", true, "", ""));
    conditions.push_back(cond("Ready", all_ready, all_ready ? "" : reason, all_ready ? "" : msg));
    conditions.push_back(
        cond("ContainersReady", all_ready, all_ready ? "" : reason, all_ready ? "" : msg));
    conditions.push_back(cond("PodScheduled", true, "", ""));
    status["hostIP"] = "172.18.0.2";
    status["hostIPs"] = json::array({{{"ip", "172.18.0.2"}}});
    status["podIP"] = sim.ip;
    status["podIPs"] = json::array({{{"ip", sim.ip}}});
    if (!status.contains("startTime")) status["startTime"] = now_s;
    status["containerStatuses"] = statuses;
  } else {
    conditions.push_back(cond("PodScheduled", false, "Unschedulable", sim.unschedulable_message));
  }
  status["phase"] = phase;
  status["conditions"] = conditions;
  status["qosClass"] = QosClass(pod["spec"].value("containers", json::array()));
  return status;
}

}  // namespace

bool Cluster::SyncPod(const json& pod_in) {
  json pod = pod_in;
  absl::Time now = Now();
  const std::string uid = pod["metadata"].value("uid", "");
  absl::MutexLock lock(&pods_mu_);
  auto& slot = pods_[uid];
  const bool fresh = !slot;
  if (fresh) slot = NewPodSim(pod, uid);
  PodSim& sim = *slot;
  PodCtx ctx{
      this, &pod,   &sim, pod["metadata"].value("namespace", ""), pod["metadata"].value("name", ""),
      uid,  &world_};
  if (fresh && pod["spec"].contains("nodeName")) {
    Bind(ctx, pod["spec"]["nodeName"], &next_ip_, now, absl::ZeroDuration());
  }
  if (!sim.scheduled) TrySchedule(ctx, store_, &pod, &next_ip_, now);
  MountVolumes(ctx, now);
  if (sim.scheduled && sim.volumes_ok) {
    const json& specs = pod["spec"]["containers"];
    for (size_t i = 0; i < sim.containers.size() && i < specs.size(); ++i) {
      StepContainer(ctx, sim.containers[i], specs[i], now);
    }
  }
  json status = PodStatus(ctx, now);
  if (status == pod_in.value("status", json::object()) && pod["spec"] == pod_in["spec"]) {
    return false;
  }
  pod["status"] = status;
  return store_.Update("pods", pod, pod["metadata"].value("resourceVersion", "")).ok();
}

absl::StatusOr<std::string> Cluster::Logs(const std::string& ns, const std::string& pod_name,
                                          const LogOptions& opts) const {
  auto pod = store_.Get("pods", ns, pod_name);
  if (!pod) return NotFoundError("pods", pod_name);
  std::vector<std::string> names;
  for (const json& c : (*pod)["spec"].value("containers", json::array())) {
    names.push_back(c.value("name", ""));
  }
  std::string container = opts.container;
  if (container.empty()) {
    if (names.size() != 1) {
      return BadRequestError(absl::StrCat("a container name must be specified for pod ", pod_name,
                                          ", choose one of: [", absl::StrJoin(names, " "), "]"));
    }
    container = names[0];
  }
  if (std::find(names.begin(), names.end(), container) == names.end()) {
    return BadRequestError(
        absl::StrCat("container ", container, " is not valid for pod ", pod_name));
  }
  absl::MutexLock lock(&pods_mu_);
  auto it = pods_.find((*pod)["metadata"].value("uid", ""));
  const ContainerSim* c = nullptr;
  if (it != pods_.end()) {
    for (const auto& cs : it->second->containers) {
      if (cs.name == container) c = &cs;
    }
  }
  std::string id;
  if (opts.previous) {
    if (c == nullptr || !c->last_state.contains("terminated")) {
      return BadRequestError(absl::StrCat("previous terminated container \"", container,
                                          "\" in pod \"", pod_name, "\" not found"));
    }
    id = c->last_state["terminated"].value("containerID", "");
  } else if (c != nullptr && (c->state.contains("running") || c->state.contains("terminated"))) {
    id = c->container_id;
  } else if (c != nullptr && c->last_state.contains("terminated")) {
    id = c->last_state["terminated"].value("containerID", "");
  } else {
    std::string reason = "ContainerCreating";
    if (c != nullptr && c->state.contains("waiting")) {
      reason = c->state["waiting"].value("reason", reason);
    }
    if (reason == "ErrImagePull" || reason == "ImagePullBackOff") {
      reason = "trying and failing to pull image";
    }
    return BadRequestError(absl::StrCat("container \"", container, "\" in pod \"", pod_name,
                                        "\" is waiting to start: ", reason));
  }
  std::vector<LogLine> lines;
  if (auto lit = c->logs.find(id); lit != c->logs.end()) lines = lit->second;
  if (opts.since_seconds >= 0) {
    absl::Time cutoff = Now() - absl::Seconds(opts.since_seconds);
    lines.erase(
        std::remove_if(lines.begin(), lines.end(), [&](const LogLine& l) { return l.t < cutoff; }),
        lines.end());
  }
  if (opts.tail_lines >= 0 && static_cast<int64_t>(lines.size()) > opts.tail_lines) {
    lines.erase(lines.begin(), lines.end() - opts.tail_lines);
  }
  std::string out;
  for (const auto& l : lines) {
    if (opts.timestamps) {
      out += absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ ", l.t, absl::UTCTimeZone());
    }
    out += l.text + "\n";
  }
  return out;
}

}  // namespace remediator::kubesim
