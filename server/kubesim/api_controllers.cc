#include "server/kubesim/api_controllers.h"

#include "server/kubesim/cluster.h"
#include "server/kubesim/rbac.h"

namespace remediator::kubesim {
namespace {

// default/kubernetes, the Service every cluster has for its API server, with its Endpoints.
absl::Status EnsureKubernetesService(Store& store) {
  if (store.Get("services", "default", "kubernetes")) return absl::OkStatus();
  nlohmann::json labels = {{"component", "apiserver"}, {"provider", "kubernetes"}};
  nlohmann::json svc = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", "kubernetes"}, {"namespace", "default"}, {"labels", labels}}},
      {"spec",
       {{"clusterIP", "10.96.0.1"},
        {"clusterIPs", {"10.96.0.1"}},
        {"internalTrafficPolicy", "Cluster"},
        {"ipFamilies", {"IPv4"}},
        {"ipFamilyPolicy", "SingleStack"},
        {"ports", {{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}, {"targetPort", 6443}}}},
        {"sessionAffinity", "None"},
        {"type", "ClusterIP"}}},
      {"status", {{"loadBalancer", nlohmann::json::object()}}}};
  nlohmann::json ep = {
      {"apiVersion", "v1"},
      {"kind", "Endpoints"},
      {"metadata", {{"name", "kubernetes"}, {"namespace", "default"}, {"labels", labels}}},
      {"subsets",
       {{{"addresses", {{{"ip", "172.18.0.2"}}}},
         {"ports", {{{"name", "https"}, {"port", 6443}, {"protocol", "TCP"}}}}}}}};
  for (auto [resource, obj] : {std::pair{"services", svc}, std::pair{"endpoints", ep}}) {
    auto created = store.Create(resource, obj);
    if (!created.ok()) return created.status();
  }
  return absl::OkStatus();
}

}  // namespace

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
  return EnsureKubernetesService(store);
}

bool ReconcileApiControllers(Cluster& cluster) {
  bool changed = ReconcileStorage(cluster);
  changed |= ReconcileEndpoints(cluster);
  changed |= ReconcilePolicy(cluster);
  return changed;
}

}  // namespace remediator::kubesim
