// RBAC authorization as kube-apiserver's RBAC authorizer does it: the request's user and groups
// are matched against the subjects of ClusterRoleBindings (anywhere) and RoleBindings (in the
// request's namespace), and the referenced roles' rules decide. Used for SubjectAccessReview,
// SelfSubjectAccessReview and SelfSubjectRulesReview answers and for requests that impersonate
// a user (`kubectl --as=...`). The unimpersonated kubeconfig user is the cluster admin
// (group system:masters), as with kind's and minikube's admin kubeconfigs.
#ifndef REMEDIATOR_SERVER_KUBESIM_RBAC_H_
#define REMEDIATOR_SERVER_KUBESIM_RBAC_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "server/kubesim/store.h"

namespace remediator::kubesim {

struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
};

// The admin identity of an unimpersonated request.
UserInfo AdminUser();
// The identity a request impersonates (`Impersonate-User`, `Impersonate-Group` values), with
// the groups the apiserver adds: system:authenticated, and system:serviceaccounts(:<ns>) for a
// "system:serviceaccount:<ns>:<name>" user.
UserInfo ImpersonatedUser(const std::string& user, const std::vector<std::string>& groups);

// What a request does (authorization.k8s.io ResourceAttributes or NonResourceAttributes).
struct AccessRequest {
  bool resource_request = true;
  std::string verb;
  std::string ns;
  std::string group;
  std::string resource;
  std::string subresource;
  std::string name;
  std::string path;  // non-resource requests only
};

struct Decision {
  bool allowed = false;
  // For an allowed request the apiserver's RBAC reason
  // (`RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "alice"`); empty when
  // denied, as the real authorizer leaves it.
  std::string reason;
};

Decision Authorize(const Store& store, const UserInfo& user, const AccessRequest& request);

// The rules that apply to `user` in `ns` (SelfSubjectRulesReview status: resourceRules and
// nonResourceRules, incomplete=false).
nlohmann::json RulesFor(const Store& store, const UserInfo& user, const std::string& ns);

// The apiserver's Forbidden message: `pods "x" is forbidden: User "alice" cannot get resource
// "pods" in API group "" in the namespace "app"`.
std::string ForbiddenMessage(const UserInfo& user, const AccessRequest& request);

// The bootstrap ClusterRoles (cluster-admin, admin, edit, view, system:basic-user,
// system:discovery) and ClusterRoleBindings the apiserver creates at start; kubesim creates the
// missing ones. Returns true when it wrote.
bool EnsureBootstrapRbac(Store& store);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_RBAC_H_
