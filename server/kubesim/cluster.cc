#include "server/kubesim/cluster.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "server/common/logging.h"
#include "server/common/status_macros.h"
#include "server/kubesim/api_controllers.h"
#include "server/kubesim/api_error.h"
#include "server/kubesim/k8s_util.h"

namespace remediator::kubesim {

SimClock::SimClock(Clock* base, absl::Time start, double scale, bool manual)
    : base_(base), start_(start), base_start_(base->Now()), scale_(scale), manual_(manual) {}

absl::Time SimClock::Now() const {
  absl::MutexLock lock(&mu_);
  if (manual_) return start_ + offset_;
  return start_ + offset_ + (base_->Now() - base_start_) * scale_;
}

void SimClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  offset_ += d;
}

Cluster::Cluster(World world, const ClusterOptions& options)
    : clock_(options.base_clock ? options.base_clock : &RealClock::Get(),
             options.start_time.value_or(
                 (options.base_clock ? options.base_clock : &RealClock::Get())->Now()),
             options.time_scale, options.manual_clock),
      world_(std::move(world)),
      container_log_dir_(options.container_log_dir),
      store_([this] { return clock_.Now(); }, options.history_limit) {}

absl::StatusOr<std::unique_ptr<Cluster>> Cluster::Create(World world,
                                                         const ClusterOptions& options) {
  if (options.time_scale <= 0) {
    return absl::InvalidArgumentError("time scale must be > 0");
  }
  std::unique_ptr<Cluster> cluster(new Cluster(std::move(world), options));
  RETURN_IF_ERROR(cluster->Bootstrap());
  return cluster;
}

namespace {

json NodeSpecJson(const NodeSpec& n) {
  json spec = {{"podCIDR", "10.244.0.0/24"}};
  // Like `kubectl cordon`: only spec.unschedulable (the scheduler's NodeUnschedulable filter).
  if (n.unschedulable) spec["unschedulable"] = true;
  if (!n.taints.empty()) spec["taints"] = n.taints;
  return spec;
}

}  // namespace

absl::Status Cluster::Bootstrap() {
  std::vector<std::string> namespaces = {"default", "kube-system", "kube-public",
                                         "kube-node-lease"};
  for (const auto& ns : world_.namespaces) namespaces.push_back(ns);
  for (const json& obj : world_.objects) {
    std::string ns = obj.contains("metadata") ? obj["metadata"].value("namespace", "") : "";
    if (!ns.empty()) namespaces.push_back(ns);
  }
  for (const auto& ns : namespaces) {
    if (store_.Get("namespaces", "", ns)) continue;
    json obj = {{"apiVersion", "v1"},
                {"kind", "Namespace"},
                {"metadata", {{"name", ns}, {"labels", {{"kubernetes.io/metadata.name", ns}}}}},
                {"spec", {{"finalizers", {"kubernetes"}}}},
                {"status", {{"phase", "Active"}}}};
    auto created = store_.Create("namespaces", obj);
    if (!created.ok()) return created.status();
  }
  RETURN_IF_ERROR(BootstrapApiObjects(store_));  // RBAC defaults, StorageClass (api_controllers.h)
  if (world_.nodes.empty()) world_.nodes.push_back(NodeSpec{"kubesim-node-1"});
  for (const auto& n : world_.nodes) {
    json labels = n.labels;
    labels["kubernetes.io/hostname"] = n.name;
    labels["kubernetes.io/os"] = "linux";
    labels["kubernetes.io/arch"] = "amd64";
    json cap = {{"cpu", absl::StrCat(n.cpu_millis / 1000.0)},
                {"memory", absl::StrCat(n.memory_bytes / 1024, "Ki")},
                {"pods", absl::StrCat(n.pods)},
                {"ephemeral-storage", "102400000Ki"}};
    if (n.cpu_millis % 1000 == 0) cap["cpu"] = absl::StrCat(n.cpu_millis / 1000);
    std::string now = Rfc3339(Now());
    json node = {
        {"apiVersion", "v1"},
        {"kind", "Node"},
        {"metadata", {{"name", n.name}, {"labels", labels}}},
        {"spec", NodeSpecJson(n)},
        {"status",
         {{"capacity", cap},
          {"allocatable", cap},
          {"conditions", json::array({{{"type", "MemoryPressure"},
                                       {"status", "False"},
                                       {"reason", "KubeletHasSufficientMemory"},
                                       {"message", "kubelet has sufficient memory available"},
                                       {"lastHeartbeatTime", now},
                                       {"lastTransitionTime", now}},
                                      {{"type", "DiskPressure"},
                                       {"status", "False"},
                                       {"reason", "KubeletHasNoDiskPressure"},
                                       {"message", "kubelet has no disk pressure"},
                                       {"lastHeartbeatTime", now},
                                       {"lastTransitionTime", now}},
                                      {{"type", "PIDPressure"},
                                       {"status", "False"},
                                       {"reason", "KubeletHasSufficientPID"},
                                       {"message", "kubelet has sufficient PID available"},
                                       {"lastHeartbeatTime", now},
                                       {"lastTransitionTime", now}},
                                      {{"type", "Ready"},
                                       {"status", "True"},
                                       {"reason", "KubeletReady"},
                                       {"message", "kubelet is posting ready status"},
                                       {"lastHeartbeatTime", now},
                                       {"lastTransitionTime", now}}})},
          {"addresses", json::array({{{"type", "InternalIP"}, {"address", "172.18.0.2"}},
                                     {{"type", "Hostname"}, {"address", n.name}}})},
          {"nodeInfo",
           {{"kubeletVersion", "v1.32.4"},
            {"kubeProxyVersion", "v1.32.4"},
            {"containerRuntimeVersion", "containerd://1.7.24"},
            {"osImage", "Debian GNU/Linux 12 (bookworm)"},
            {"operatingSystem", "linux"},
            {"architecture", "amd64"},
            {"kernelVersion", "6.1.0-28-amd64"}}}}}};
    auto created = store_.Create("nodes", node);
    if (!created.ok()) return created.status();
  }
  for (const json& obj : world_.objects) {
    RETURN_IF_ERROR(ApplyManifest(obj));
  }
  return absl::OkStatus();
}

absl::Status Cluster::ApplyManifest(json object) {
  std::string api_version = object.value("apiVersion", "");
  std::string kind = object.value("kind", "");
  const ResourceType* type = FindKind(api_version, kind);
  if (type == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubesim does not serve ", kind, " (", api_version, ")"));
  }
  if (!object.contains("metadata") || !object["metadata"].is_object() ||
      object["metadata"].value("name", "").empty()) {
    return absl::InvalidArgumentError(absl::StrCat("a ", kind, " manifest has no metadata.name"));
  }
  std::string ns = type->namespaced ? object["metadata"].value("namespace", "default") : "";
  if (type->namespaced && !store_.Get("namespaces", "", ns)) {
    json nsobj = {{"apiVersion", "v1"},
                  {"kind", "Namespace"},
                  {"metadata", {{"name", ns}}},
                  {"status", {{"phase", "Active"}}}};
    auto created = store_.Create("namespaces", nsobj);
    if (!created.ok()) return created.status();
  }
  WriteOptions opts;
  opts.field_manager = kLoaderManager;
  opts.force = true;
  bool created = false;
  auto result = PatchObject(*type, ns, object["metadata"]["name"].get<std::string>(),
                            "application/apply-patch+yaml", object.dump(), opts, false, &created);
  if (!result.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(kind, " \"",
                                                   object["metadata"]["name"].get<std::string>(),
                                                   "\": ", result.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<json> Cluster::Get(const ResourceType& type, const std::string& ns,
                                  const std::string& name) const {
  auto obj = store_.Get(StorageResource(type), type.namespaced ? ns : "", name);
  if (!obj) return NotFoundError(type.GroupResource(), name);
  return *obj;
}

void Cluster::Reconcile() {
  absl::MutexLock lock(&reconcile_mu_);
  for (int i = 0; i < 8; ++i) {
    bool changed = false;
    changed |= CollectGarbage();
    changed |= ReconcileDeployments();
    changed |= ReconcileReplicaSets();
    changed |= ReconcileApiControllers(*this);  // storage, endpoints (api_controllers.h)
    changed |= ReconcileStatefulSets();
    changed |= ReconcileCronJobs();
    changed |= ReconcileJobs();
    changed |= ReconcilePods();
    if (!changed) break;
  }
}

void Cluster::AdvanceClock(absl::Duration d) {
  while (d > absl::ZeroDuration()) {
    absl::Duration step = std::min(d, absl::Seconds(1));
    clock_.Advance(step);
    d -= step;
    Reconcile();
  }
  Reconcile();
}

void Cluster::RecordEvent(const json& involved, const std::string& field_path,
                          const std::string& type, const std::string& reason,
                          const std::string& message, const std::string& component,
                          const std::string& host, absl::Time when) {
  const json& meta = involved["metadata"];
  std::string ns = meta.value("namespace", "default");
  std::string uid = meta.value("uid", "");
  std::string key = absl::StrCat(uid, "|", field_path, "|", reason, "|", message, "|", component);
  std::string ts = Rfc3339(when);
  std::string name;
  {
    absl::MutexLock lock(&events_mu_);
    auto it = event_names_.find(key);
    if (it != event_names_.end()) name = it->second;
  }
  if (!name.empty()) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto existing = store_.Get("events", ns, name);
      if (!existing) break;
      json ev = *existing;
      ev["count"] = ev.value("count", 1) + 1;
      ev["lastTimestamp"] = ts;
      if (store_.Update("events", ev, ev["metadata"].value("resourceVersion", "")).ok()) return;
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(absl::ToUnixNanos(when)) ^
                    static_cast<unsigned long long>(Fnv32a(key)));
  name = absl::StrCat(meta.value("name", ""), ".", hex);
  std::string kind = involved.value("kind", "");
  json involved_ref = {{"kind", kind},
                       {"namespace", ns},
                       {"name", meta.value("name", "")},
                       {"uid", uid},
                       {"apiVersion", involved.value("apiVersion", "v1")},
                       {"resourceVersion", meta.value("resourceVersion", "")}};
  if (!field_path.empty()) involved_ref["fieldPath"] = field_path;
  json source = {{"component", component}};
  if (!host.empty()) source["host"] = host;
  json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", name}, {"namespace", ns}}},
             {"involvedObject", involved_ref},
             {"reason", reason},
             {"message", message},
             {"source", source},
             {"firstTimestamp", ts},
             {"lastTimestamp", ts},
             {"count", 1},
             {"type", type},
             {"eventTime", nullptr},
             {"reportingComponent", component},
             {"reportingInstance", host}};
  if (store_.Create("events", ev).ok()) {
    absl::MutexLock lock(&events_mu_);
    event_names_[key] = name;
  }
}

namespace {
bool HasLiveOwner(const json& obj, const std::set<std::string>& live_uids) {
  const json& meta = obj["metadata"];
  if (!meta.contains("ownerReferences")) return true;
  for (const json& ref : meta["ownerReferences"]) {
    if (live_uids.count(ref.value("uid", ""))) return true;
  }
  return false;
}
}  // namespace

bool Cluster::CollectGarbage() {
  bool changed = false;
  // Owners before dependents: an object whose every owner is gone is deleted (cascading).
  std::set<std::string> live;
  for (const char* owner : {"deployments", "statefulsets", "cronjobs"}) {
    for (const json& o : store_.List(owner, "")) live.insert(o["metadata"]["uid"]);
  }
  for (const char* resource : {"replicasets", "jobs", "pods"}) {
    for (const json& obj : store_.List(resource, "")) {
      if (HasLiveOwner(obj, live)) {
        live.insert(obj["metadata"].value("uid", ""));
        continue;
      }
      changed |=
          store_.Delete(resource, obj["metadata"].value("namespace", ""), obj["metadata"]["name"])
              .ok();
    }
  }
  // Objects in deleted namespaces.
  std::set<std::string> namespaces;
  for (const json& ns : store_.List("namespaces", "")) namespaces.insert(ns["metadata"]["name"]);
  for (const auto& type : AllResourceTypes()) {
    if (!type.namespaced || type.group == "events.k8s.io") continue;
    for (const json& obj : store_.List(type.resource, "")) {
      std::string ns = obj["metadata"].value("namespace", "");
      if (!namespaces.count(ns)) {
        changed |= store_.Delete(type.resource, ns, obj["metadata"]["name"]).ok();
      }
    }
  }
  return changed;
}

}  // namespace remediator::kubesim
