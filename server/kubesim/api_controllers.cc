#include "server/kubesim/api_controllers.h"

#include "server/kubesim/cluster.h"
#include "server/kubesim/rbac.h"

namespace remediator::kubesim {

absl::Status BootstrapApiObjects(Store& store) {
  EnsureBootstrapRbac(store);
  if (!store.Get("storageclasses", "", "standard")) {
    nlohmann::json sc = {
        {"apiVersion", "storage.k8s.io/v1"},
        {"kind", "StorageClass"},
        {"metadata",
         {{"name", "standard"},
          {"annotations", {{"storageclass.kubernetes.io/is-default-class", "true"}}}}},
        {"provisioner", "k8s.io/minikube-hostpath"},
        {"reclaimPolicy", "Delete"},
        {"volumeBindingMode", "Immediate"}};
    auto created = store.Create("storageclasses", sc);
    if (!created.ok()) return created.status();
  }
  return absl::OkStatus();
}

bool ReconcileApiControllers(Cluster& cluster) {
  bool changed = ReconcileStorage(cluster);
  changed |= ReconcileEndpoints(cluster);
  return changed;
}

}  // namespace remediator::kubesim
