// The PersistentVolume controller (binder and a dynamic provisioner standing in for the
// StorageClass's provisioner) and the scheduler's VolumeBinding PreFilter, after
// kube-controller-manager's pkg/controller/volume/persistentvolume and the scheduler's
// volumebinding plugin. Messages are those listed in server/kubesim/README.md.
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/kubesim/api_controllers.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/k8s_util.h"

namespace remediator::kubesim {
namespace {

constexpr char kController[] = "persistentvolume-controller";
// The binder's resync period: a still-failing claim gets its event again after this long.
constexpr absl::Duration kResync = absl::Seconds(15);

// When each failing claim (by uid) may next get an event. Keyed by uid, so clusters sharing
// the process do not collide.
absl::Mutex g_event_mu;
std::map<std::string, absl::Time>& NextEvent() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_event_mu) {
  static auto* m = new std::map<std::string, absl::Time>;
  return *m;
}

void ClaimEvent(Cluster& cluster, const json& pvc, const std::string& type,
                const std::string& reason, const std::string& message) {
  absl::Time now = cluster.Now();
  std::string key = pvc["metadata"].value("uid", "") + "|" + reason;
  {
    absl::MutexLock lock(&g_event_mu);
    auto it = NextEvent().find(key);
    if (it != NextEvent().end() && now < it->second) return;
    NextEvent()[key] = now + kResync;
  }
  cluster.RecordEvent(pvc, "", type, reason, message, kController, "", now);
}

int64_t RequestedBytes(const json& pvc) {
  const json& spec = pvc.value("spec", json::object());
  const json& res = spec.value("resources", json::object());
  return QuantityOr(res.value("requests", json::object()).value("storage", json()), 0);
}

json StorageRequest(const json& pvc) {
  const json& res = pvc["spec"].value("resources", json::object());
  return res.value("requests", json::object()).value("storage", json("1Gi"));
}

bool AccessModesFit(const json& pv, const json& pvc) {
  json have = pv["spec"].value("accessModes", json::array());
  for (const json& m : pvc["spec"].value("accessModes", json::array())) {
    bool found = false;
    for (const json& h : have) found |= h == m;
    if (!found) return false;
  }
  return true;
}

// An Available volume that satisfies the claim (class, size, access modes), or null.
json MatchingVolume(const Store& store, const json& pvc, const std::string& cls) {
  json best;
  int64_t best_size = 0;
  for (const json& pv : store.List("persistentvolumes", "")) {
    if (pv.value("status", json::object()).value("phase", "") != "Available") continue;
    if (pv["spec"].value("storageClassName", "") != cls) continue;
    if (pv["spec"].contains("claimRef")) continue;
    int64_t size =
        QuantityOr(pv["spec"].value("capacity", json::object()).value("storage", json()), 0);
    if (size < RequestedBytes(pvc) || !AccessModesFit(pv, pvc)) continue;
    if (best.is_null() || size < best_size) {
      best = pv;
      best_size = size;
    }
  }
  return best;
}

json ProvisionVolume(Store& store, const json& pvc, const json& sc) {
  const json& meta = pvc["metadata"];
  std::string name = "pvc-" + meta.value("uid", "");
  json pv = {{"apiVersion", "v1"},
             {"kind", "PersistentVolume"},
             {"metadata",
              {{"name", name},
               {"annotations", {{"pv.kubernetes.io/provisioned-by", sc.value("provisioner", "")}}},
               {"finalizers", {"kubernetes.io/pv-protection"}}}},
             {"spec",
              {{"accessModes", pvc["spec"].value("accessModes", json::array({"ReadWriteOnce"}))},
               {"capacity", {{"storage", StorageRequest(pvc)}}},
               {"hostPath",
                {{"path", absl::StrCat("/tmp/hostpath-provisioner/", meta.value("namespace", ""),
                                       "/", meta.value("name", ""))},
                 {"type", ""}}},
               {"persistentVolumeReclaimPolicy", sc.value("reclaimPolicy", "Delete")},
               {"storageClassName", sc["metadata"].value("name", "")},
               {"volumeMode", pvc["spec"].value("volumeMode", "Filesystem")}}},
             {"status", {{"phase", "Available"}}}};
  auto created = store.Create("persistentvolumes", pv);
  return created.ok() ? *created : json();
}

bool Bind(Cluster& cluster, json pvc, json pv) {
  Store& store = cluster.store();
  const json& meta = pvc["metadata"];
  pv["spec"]["claimRef"] = {{"apiVersion", "v1"},
                            {"kind", "PersistentVolumeClaim"},
                            {"name", meta.value("name", "")},
                            {"namespace", meta.value("namespace", "")},
                            {"resourceVersion", meta.value("resourceVersion", "")},
                            {"uid", meta.value("uid", "")}};
  pv["status"] = {{"phase", "Bound"}};
  if (!store.Update("persistentvolumes", pv).ok()) return false;
  pvc["spec"]["volumeName"] = pv["metadata"]["name"];
  pvc["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] = "yes";
  pvc["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] = "yes";
  pvc["status"] = {{"phase", "Bound"},
                   {"accessModes", pv["spec"].value("accessModes", json::array())},
                   {"capacity", pv["spec"].value("capacity", json::object())}};
  return store.Update("persistentvolumeclaims", pvc).ok();
}

bool SyncClaim(Cluster& cluster, const json& pvc) {
  Store& store = cluster.store();
  const json& spec = pvc.value("spec", json::object());
  std::string cls = spec.value("storageClassName", "");
  json pv = MatchingVolume(store, pvc, cls);
  if (pv.is_null() && cls.empty()) {
    ClaimEvent(cluster, pvc, "Normal", "FailedBinding",
               "no persistent volumes available for this claim and no storage class is set");
    return false;
  }
  if (pv.is_null()) {
    std::optional<json> sc = store.Get("storageclasses", "", cls);
    if (!sc) {
      ClaimEvent(cluster, pvc, "Warning", "ProvisioningFailed",
                 absl::StrCat("storageclass.storage.k8s.io \"", cls, "\" not found"));
      return false;
    }
    pv = ProvisionVolume(store, pvc, *sc);
    if (pv.is_null()) return false;
    cluster.RecordEvent(
        pvc, "", "Normal", "ProvisioningSucceeded",
        absl::StrCat("Successfully provisioned volume ", pv["metadata"].value("name", "")),
        std::string(sc->value("provisioner", "")), "", cluster.Now());
  }
  return Bind(cluster, pvc, pv);
}

// Bound volumes whose claim is gone: deleted (reclaim policy Delete) or Released.
bool ReleaseVolumes(Store& store) {
  bool changed = false;
  for (const json& pv : store.List("persistentvolumes", "")) {
    if (pv.value("status", json::object()).value("phase", "") != "Bound") continue;
    const json& ref = pv["spec"].value("claimRef", json::object());
    std::optional<json> pvc =
        store.Get("persistentvolumeclaims", ref.value("namespace", ""), ref.value("name", ""));
    if (pvc && (*pvc)["metadata"].value("uid", "") == ref.value("uid", "")) continue;
    if (pv["spec"].value("persistentVolumeReclaimPolicy", "") == "Delete") {
      changed |= store.Delete("persistentvolumes", "", pv["metadata"].value("name", "")).ok();
    } else {
      json released = pv;
      released["status"] = {{"phase", "Released"}};
      changed |= store.Update("persistentvolumes", released).ok();
    }
  }
  return changed;
}

}  // namespace

std::string DefaultStorageClass(const Store& store) {
  for (const json& sc : store.List("storageclasses", "")) {
    const json& ann = sc["metadata"].value("annotations", json::object());
    if (ann.value("storageclass.kubernetes.io/is-default-class", "") == "true") {
      return sc["metadata"].value("name", "");
    }
  }
  return "";
}

bool ReconcileStorage(Cluster& cluster) {
  Store& store = cluster.store();
  bool changed = false;
  for (const json& pv : store.List("persistentvolumes", "")) {
    if (pv.value("status", json::object()).value("phase", "").empty()) {
      json updated = pv;
      updated["status"] = {{"phase", pv["spec"].contains("claimRef") ? "Bound" : "Available"}};
      changed |= store.Update("persistentvolumes", updated).ok();
    }
  }
  changed |= ReleaseVolumes(store);
  for (const json& pvc : store.List("persistentvolumeclaims", "")) {
    const json& status = pvc.value("status", json::object());
    if (status.value("phase", "") == "Bound") continue;
    if (pvc["metadata"].contains("deletionTimestamp")) continue;
    changed |= SyncClaim(cluster, pvc);
  }
  return changed;
}

std::string VolumeBindingPreFilter(const Store& store, const json& pod) {
  const json& spec = pod.value("spec", json::object());
  std::string ns = pod["metadata"].value("namespace", "");
  bool unbound = false;
  for (const json& v : spec.value("volumes", json::array())) {
    if (!v.contains("persistentVolumeClaim")) continue;
    std::string claim = v["persistentVolumeClaim"].value("claimName", "");
    std::optional<json> pvc = store.Get("persistentvolumeclaims", ns, claim);
    if (!pvc) return absl::StrCat("persistentvolumeclaim \"", claim, "\" not found");
    if (pvc->value("status", json::object()).value("phase", "") != "Bound") unbound = true;
  }
  return unbound ? "pod has unbound immediate PersistentVolumeClaims" : "";
}

}  // namespace remediator::kubesim
