// The controllers behind the API kinds of rbac.h, storage.cc and endpoints.cc, and the hooks
// through which Cluster runs them: bootstrap objects at start, one pass per reconcile, and the
// scheduler's volume PreFilter.
#ifndef REMEDIATOR_SERVER_KUBESIM_API_CONTROLLERS_H_
#define REMEDIATOR_SERVER_KUBESIM_API_CONTROLLERS_H_

#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "server/kubesim/store.h"

namespace remediator::kubesim {

class Cluster;

// The objects a fresh cluster has: RBAC bootstrap roles and bindings (rbac.h) and the default
// StorageClass "standard" (provisioner k8s.io/minikube-hostpath, Immediate binding).
absl::Status BootstrapApiObjects(Store& store);

// One pass of the PersistentVolume binder/provisioner, the Endpoints and EndpointSlice
// controllers and the quota and disruption-budget status; true when anything was written.
bool ReconcileApiControllers(Cluster& cluster);

// PersistentVolume binder (storage.cc): binds Pending claims to matching Available volumes or
// provisions one from the claim's StorageClass; records ProvisioningFailed for a missing class.
bool ReconcileStorage(Cluster& cluster);
// Endpoints and EndpointSlices (endpoints.cc) for every Service with a selector, from the
// matching pods' IPs and readiness.
bool ReconcileEndpoints(Cluster& cluster);
// ResourceQuota status.used and PodDisruptionBudget status (policy.cc).
bool ReconcilePolicy(Cluster& cluster);

// The scheduler's VolumeBinding PreFilter message for `pod`: `persistentvolumeclaim "x" not
// found` or `pod has unbound immediate PersistentVolumeClaims`; "" when its claims allow it.
std::string VolumeBindingPreFilter(const Store& store, const nlohmann::json& pod);

// The StorageClass a new claim gets when it names none: the one annotated
// storageclass.kubernetes.io/is-default-class=true (DefaultStorageClass admission); "" if none.
std::string DefaultStorageClass(const Store& store);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_API_CONTROLLERS_H_
