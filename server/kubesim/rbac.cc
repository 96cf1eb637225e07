// RBAC evaluation follows kube-apiserver's plugin/pkg/auth/authorizer/rbac (rule and subject
// matching, "allowed by" reasons); the bootstrap roles are a reduced copy of its bootstrappolicy
// (the resources kubesim serves), described in server/kubesim/README.md.
#include "server/kubesim/rbac.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;

bool Has(const json& list, const std::string& value) {
  if (!list.is_array()) return false;
  for (const json& v : list) {
    if (v.is_string() && (v == value || v == "*")) return true;
  }
  return false;
}

bool RuleAllows(const json& rule, const AccessRequest& r) {
  if (!Has(rule.value("verbs", json::array()), r.verb)) return false;
  if (!r.resource_request) {
    for (const json& url : rule.value("nonResourceURLs", json::array())) {
      std::string u = url.is_string() ? url.get<std::string>() : "";
      if (u == r.path || u == "*") return true;
      if (absl::EndsWith(u, "*") && absl::StartsWith(r.path, u.substr(0, u.size() - 1))) {
        return true;
      }
    }
    return false;
  }
  if (!Has(rule.value("apiGroups", json::array()), r.group)) return false;
  std::string combined = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
  bool resource_ok = false;
  for (const json& res : rule.value("resources", json::array())) {
    std::string s = res.is_string() ? res.get<std::string>() : "";
    resource_ok |= s == "*" || s == combined || (s == r.resource + "/*" && !r.subresource.empty());
  }
  if (!resource_ok) return false;
  json names = rule.value("resourceNames", json::array());
  return names.empty() || (!r.name.empty() && Has(names, r.name));
}

// The subject of `binding` that names `user`, or null.
json MatchingSubject(const json& binding, const UserInfo& user) {
  std::string binding_ns = binding["metadata"].value("namespace", "");
  for (const json& s : binding.value("subjects", json::array())) {
    std::string kind = s.value("kind", ""), name = s.value("name", "");
    if (kind == "User" && name == user.name) return s;
    if (kind == "Group" &&
        std::find(user.groups.begin(), user.groups.end(), name) != user.groups.end()) {
      return s;
    }
    if (kind == "ServiceAccount") {
      std::string ns = s.value("namespace", binding_ns);
      if (user.name == absl::StrCat("system:serviceaccount:", ns, ":", name)) return s;
    }
  }
  return nullptr;
}

// The rules of a binding's roleRef (a Role in the binding's namespace or a ClusterRole).
json RoleRules(const Store& store, const json& binding) {
  const json& ref = binding.value("roleRef", json::object());
  std::optional<json> role =
      ref.value("kind", "") == "Role"
          ? store.Get("roles", binding["metadata"].value("namespace", ""), ref.value("name", ""))
          : store.Get("clusterroles", "", ref.value("name", ""));
  return role ? role->value("rules", json::array()) : json::array();
}

// Every binding that applies to `user` for namespace `ns` ("" = cluster bindings only).
std::vector<json> ApplicableBindings(const Store& store, const UserInfo& user,
                                     const std::string& ns) {
  std::vector<json> out;
  for (const json& b : store.List("clusterrolebindings", "")) {
    if (!MatchingSubject(b, user).is_null()) out.push_back(b);
  }
  if (!ns.empty()) {
    for (const json& b : store.List("rolebindings", ns)) {
      if (!MatchingSubject(b, user).is_null()) out.push_back(b);
    }
  }
  return out;
}

json Rule(std::vector<std::string> groups, std::vector<std::string> resources,
          std::vector<std::string> verbs) {
  return {{"apiGroups", groups}, {"resources", resources}, {"verbs", verbs}};
}

json ClusterRole(const std::string& name, json rules) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "ClusterRole"},
          {"metadata",
           {{"name", name},
            {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}},
            {"annotations", {{"rbac.authorization.kubernetes.io/autoupdate", "true"}}}}},
          {"rules", rules}};
}

json ClusterRoleBinding(const std::string& name, const std::string& role,
                        const std::vector<std::string>& groups) {
  json subjects = json::array();
  for (const auto& g : groups) {
    subjects.push_back({{"kind", "Group"}, {"apiGroup", "rbac.authorization.k8s.io"}, {"name", g}});
  }
  json crb = ClusterRole(name, nullptr);
  crb.erase("rules");
  crb["kind"] = "ClusterRoleBinding";
  crb["roleRef"] = {
      {"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role}};
  crb["subjects"] = subjects;
  return crb;
}

std::vector<json> BootstrapClusterRoles() {
  const std::vector<std::string> read = {"get", "list", "watch"};
  const std::vector<std::string> write = {"create", "delete", "deletecollection", "get",
                                          "list",   "patch",  "update",           "watch"};
  std::vector<std::string> core = {"pods",      "pods/log",        "services",
                                   "endpoints", "configmaps",      "persistentvolumeclaims",
                                   "events",    "serviceaccounts", "resourcequotas"};
  json view = json::array(
      {Rule({""}, core, read), Rule({""}, {"namespaces"}, read),
       Rule({"apps"}, {"deployments", "deployments/scale", "replicasets", "replicasets/scale"},
            read),
       Rule({"batch"}, {"jobs", "cronjobs"}, read),
       Rule({"networking.k8s.io"}, {"ingresses"}, read),
       Rule({"policy"}, {"poddisruptionbudgets"}, read),
       Rule({"discovery.k8s.io"}, {"endpointslices"}, read)});
  json edit = json::array();
  for (json r : view) {
    if (r["resources"] != json({"namespaces"})) r["verbs"] = write;
    edit.push_back(r);
  }
  edit.push_back(Rule({""}, {"secrets"}, write));
  edit.push_back(Rule({""}, {"pods/exec", "pods/attach", "serviceaccounts/token"}, {"create"}));
  json admin = edit;
  admin.push_back(Rule({"rbac.authorization.k8s.io"}, {"roles", "rolebindings"}, write));
  return {
      ClusterRole("cluster-admin", json::array({Rule({"*"}, {"*"}, {"*"}),
                                                {{"nonResourceURLs", {"*"}}, {"verbs", {"*"}}}})),
      ClusterRole("admin", admin),
      ClusterRole("edit", edit),
      ClusterRole("view", view),
      ClusterRole(
          "system:basic-user",
          json::array({Rule({"authorization.k8s.io"},
                            {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}, {"create"}),
                       Rule({"authentication.k8s.io"}, {"selfsubjectreviews"}, {"create"})})),
      ClusterRole("system:discovery",
                  json::array({{{"nonResourceURLs",
                                 {"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                  "/openapi", "/openapi/*", "/readyz", "/version", "/version/"}},
                                {"verbs", {"get"}}}}))};
}

}  // namespace

UserInfo AdminUser() { return {"kubernetes-admin", {"system:masters", "system:authenticated"}}; }

UserInfo ImpersonatedUser(const std::string& user, const std::vector<std::string>& groups) {
  UserInfo info{user, groups};
  std::vector<std::string> parts = absl::StrSplit(user, ':');
  if (parts.size() == 4 && parts[0] == "system" && parts[1] == "serviceaccount") {
    info.groups.push_back("system:serviceaccounts");
    info.groups.push_back("system:serviceaccounts:" + parts[2]);
  }
  info.groups.push_back("system:authenticated");
  return info;
}

Decision Authorize(const Store& store, const UserInfo& user, const AccessRequest& request) {
  for (const json& b :
       ApplicableBindings(store, user, request.resource_request ? request.ns : "")) {
    for (const json& rule : RoleRules(store, b)) {
      if (!RuleAllows(rule, request)) continue;
      const json subject = MatchingSubject(b, user);
      const json& ref = b["roleRef"];
      std::string binding_kind = b.value("kind", "");
      std::string binding_name = b["metadata"].value("name", "");
      if (binding_kind == "RoleBinding") {
        binding_name += "/" + b["metadata"].value("namespace", "");
      }
      std::string subject_name = subject.value("name", "");
      if (subject.value("kind", "") == "ServiceAccount") {
        subject_name =
            subject.value("namespace", b["metadata"].value("namespace", "")) + "/" + subject_name;
      }
      return {true, absl::StrCat("RBAC: allowed by ", binding_kind, " \"", binding_name, "\" of ",
                                 ref.value("kind", ""), " \"", ref.value("name", ""), "\" to ",
                                 subject.value("kind", ""), " \"", subject_name, "\"")};
    }
  }
  return {false, ""};
}

json RulesFor(const Store& store, const UserInfo& user, const std::string& ns) {
  json resource_rules = json::array(), non_resource_rules = json::array();
  for (const json& b : ApplicableBindings(store, user, ns)) {
    for (const json& rule : RoleRules(store, b)) {
      if (rule.contains("nonResourceURLs") && !rule["nonResourceURLs"].empty()) {
        non_resource_rules.push_back({{"verbs", rule.value("verbs", json::array())},
                                      {"nonResourceURLs", rule["nonResourceURLs"]}});
        continue;
      }
      json r = {{"verbs", rule.value("verbs", json::array())},
                {"apiGroups", rule.value("apiGroups", json::array())},
                {"resources", rule.value("resources", json::array())}};
      if (rule.contains("resourceNames")) r["resourceNames"] = rule["resourceNames"];
      resource_rules.push_back(r);
    }
  }
  return {{"resourceRules", resource_rules},
          {"nonResourceRules", non_resource_rules},
          {"incomplete", false}};
}

std::string ForbiddenMessage(const UserInfo& user, const AccessRequest& r) {
  if (!r.resource_request) {
    return absl::StrCat("forbidden: User \"", user.name, "\" cannot ", r.verb, " path \"", r.path,
                        "\"");
  }
  // errors.NewForbidden names the GroupResource; the subresource appears only in the reason.
  std::string what = r.group.empty() ? r.resource : r.resource + "." + r.group;
  std::string head = r.name.empty() ? what : absl::StrCat(what, " \"", r.name, "\"");
  std::string resource = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
  std::string scope =
      r.ns.empty() ? "at the cluster scope" : absl::StrCat("in the namespace \"", r.ns, "\"");
  return absl::StrCat(head, " is forbidden: User \"", user.name, "\" cannot ", r.verb,
                      " resource \"", resource, "\" in API group \"", r.group, "\" ", scope);
}

bool EnsureBootstrapRbac(Store& store) {
  bool wrote = false;
  for (const json& role : BootstrapClusterRoles()) {
    if (store.Get("clusterroles", "", role["metadata"]["name"])) continue;
    wrote |= store.Create("clusterroles", role).ok();
  }
  std::vector<json> bindings = {
      ClusterRoleBinding("cluster-admin", "cluster-admin", {"system:masters"}),
      ClusterRoleBinding("system:basic-user", "system:basic-user", {"system:authenticated"}),
      ClusterRoleBinding("system:discovery", "system:discovery", {"system:authenticated"})};
  for (const json& b : bindings) {
    if (store.Get("clusterrolebindings", "", b["metadata"]["name"])) continue;
    wrote |= store.Create("clusterrolebindings", b).ok();
  }
  return wrote;
}

}  // namespace remediator::kubesim
