#include "server/kubesim/resources.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;

const std::vector<std::string> kVerbs = {"create", "delete", "deletecollection", "get",
                                         "list",   "patch",  "update",           "watch"};

json Verbs() { return json(kVerbs); }

// The create-only review resources of the authorization and authentication groups.
std::vector<std::pair<std::string, std::string>> ReviewResources(const std::string& group) {
  if (group == "authorization.k8s.io") {
    return {{"localsubjectaccessreviews", "LocalSubjectAccessReview"},
            {"selfsubjectaccessreviews", "SelfSubjectAccessReview"},
            {"selfsubjectrulesreviews", "SelfSubjectRulesReview"},
            {"subjectaccessreviews", "SubjectAccessReview"}};
  }
  if (group == "authentication.k8s.io") {
    return {{"selfsubjectreviews", "SelfSubjectReview"}, {"tokenreviews", "TokenReview"}};
  }
  return {};
}

}  // namespace

const std::vector<ResourceType>& AllResourceTypes() {
  static const auto* types = new std::vector<ResourceType>{
      {"", "v1", "namespaces", "namespace", "Namespace", false, {"ns"}, {}},
      {"", "v1", "nodes", "node", "Node", false, {"no"}, {}},
      {"", "v1", "pods", "pod", "Pod", true, {"po"}, {"all"}},
      {"", "v1", "events", "event", "Event", true, {"ev"}, {}},
      {"", "v1", "secrets", "secret", "Secret", true, {}, {}},
      {"", "v1", "configmaps", "configmap", "ConfigMap", true, {"cm"}, {}},
      {"", "v1", "services", "service", "Service", true, {"svc"}, {"all"}},
      {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, {"sa"}, {}},
      {"apps", "v1", "deployments", "deployment", "Deployment", true, {"deploy"}, {"all"}},
      {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, {"rs"}, {"all"}},
      {"events.k8s.io", "v1", "events", "event", "Event", true, {"ev"}, {}},
      {"", "v1", "endpoints", "endpoints", "Endpoints", true, {"ep"}, {}},
      {"",
       "v1",
       "persistentvolumeclaims",
       "persistentvolumeclaim",
       "PersistentVolumeClaim",
       true,
       {"pvc"},
       {}},
      {"", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, {"pv"}, {}},
      {"", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, {"quota"}, {}},
      {"batch", "v1", "jobs", "job", "Job", true, {}, {"all"}},
      {"batch", "v1", "cronjobs", "cronjob", "CronJob", true, {"cj"}, {"all"}},
      {"discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, {}, {}},
      {"networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, {"ing"}, {}},
      {"policy",
       "v1",
       "poddisruptionbudgets",
       "poddisruptionbudget",
       "PodDisruptionBudget",
       true,
       {"pdb"},
       {}},
      {"rbac.authorization.k8s.io",
       "v1",
       "clusterrolebindings",
       "clusterrolebinding",
       "ClusterRoleBinding",
       false,
       {},
       {}},
      {"rbac.authorization.k8s.io",
       "v1",
       "clusterroles",
       "clusterrole",
       "ClusterRole",
       false,
       {},
       {}},
      {"rbac.authorization.k8s.io",
       "v1",
       "rolebindings",
       "rolebinding",
       "RoleBinding",
       true,
       {},
       {}},
      {"rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, {}, {}},
      {"scheduling.k8s.io",
       "v1",
       "priorityclasses",
       "priorityclass",
       "PriorityClass",
       false,
       {"pc"},
       {}},
      {"storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, {"sc"}, {}},
      {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, {"sts"}, {"all"}},
  };
  return *types;
}

const ResourceType* FindResource(const std::string& group, const std::string& resource) {
  for (const auto& t : AllResourceTypes()) {
    if (t.group == group && t.resource == resource) return &t;
  }
  return nullptr;
}

const ResourceType* FindKind(const std::string& api_version, const std::string& kind) {
  for (const auto& t : AllResourceTypes()) {
    if (t.ApiVersion() == api_version && t.kind == kind) return &t;
  }
  return nullptr;
}

const ResourceType* FindResourceByName(const std::string& resource) {
  for (const auto& t : AllResourceTypes()) {
    if (t.resource == resource || t.singular == resource) return &t;
  }
  return nullptr;
}

std::string StorageResource(const ResourceType& type) { return type.resource; }

json VersionInfo() {
  return {{"major", "1"},
          {"minor", "32"},
          {"gitVersion", "v1.32.4"},
          {"gitCommit", "59526cd4867447956156ae3a602fcbac10a2c335"},
          {"gitTreeState", "clean"},
          {"buildDate", "2025-04-22T16:02:27Z"},
          {"goVersion", "go1.23.6"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

json AggregatedDiscovery(bool core) {
  // group -> version -> resources
  std::map<std::string, json> groups;
  std::vector<std::string> order;
  for (const auto& t : AllResourceTypes()) {
    if (core != t.group.empty()) continue;
    json r = {{"resource", t.resource},
              {"responseKind", {{"group", t.group}, {"version", t.version}, {"kind", t.kind}}},
              {"scope", t.namespaced ? "Namespaced" : "Cluster"},
              {"singularResource", t.singular},
              {"verbs", Verbs()}};
    if (!t.short_names.empty()) r["shortNames"] = t.short_names;
    if (!t.categories.empty()) r["categories"] = t.categories;
    if (t.resource == "pods") {
      r["subresources"] =
          json::array({{{"subresource", "log"},
                        {"responseKind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                        {"verbs", {"get"}}},
                       {{"subresource", "status"},
                        {"responseKind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                        {"verbs", {"get", "patch", "update"}}}});
    }
    if (t.resource == "deployments" || t.resource == "replicasets") {
      r["subresources"] =
          json::array({{{"subresource", "status"},
                        {"responseKind", {{"group", t.group}, {"version", "v1"}, {"kind", t.kind}}},
                        {"verbs", {"get", "patch", "update"}}}});
    }
    if (!groups.count(t.group)) order.push_back(t.group);
    groups[t.group].push_back(r);
  }
  json items = json::array();
  for (const auto& g : order) {
    items.push_back(
        {{"metadata", {{"name", g}, {"creationTimestamp", nullptr}}},
         {"versions",
          json::array({{{"version", "v1"}, {"resources", groups[g]}, {"freshness", "Current"}}})}});
  }
  if (!core) {
    for (const char* group : {"authorization.k8s.io", "authentication.k8s.io"}) {
      json resources = json::array();
      for (const auto& [resource, kind] : ReviewResources(group)) {
        resources.push_back(
            {{"resource", resource},
             {"responseKind", {{"group", group}, {"version", "v1"}, {"kind", kind}}},
             {"scope", absl::StartsWith(resource, "local") ? "Namespaced" : "Cluster"},
             {"singularResource", resource.substr(0, resource.size() - 1)},
             {"verbs", {"create"}}});
      }
      items.push_back({{"metadata", {{"name", group}, {"creationTimestamp", nullptr}}},
                       {"versions", json::array({{{"version", "v1"},
                                                  {"freshness", "Current"},
                                                  {"resources", resources}}})}});
    }
  }
  return {{"kind", "APIGroupDiscoveryList"},
          {"apiVersion", "apidiscovery.k8s.io/v2"},
          {"metadata", json::object()},
          {"items", items}};
}

json LegacyApiVersions() {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           json::array({{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1:6443"}}})}};
}

json LegacyApiGroupList() {
  json groups = json::array();
  std::set<std::string> seen;
  for (const auto& t : AllResourceTypes()) {
    if (t.group.empty() || !seen.insert(t.group).second) continue;
    json gv = {{"groupVersion", t.group + "/v1"}, {"version", "v1"}};
    groups.push_back(
        {{"name", t.group}, {"versions", json::array({gv})}, {"preferredVersion", gv}});
  }
  for (const char* group : {"authorization.k8s.io", "authentication.k8s.io"}) {
    json gv = {{"groupVersion", std::string(group) + "/v1"}, {"version", "v1"}};
    groups.push_back({{"name", group}, {"versions", json::array({gv})}, {"preferredVersion", gv}});
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

json ApiResourceList(const std::string& group, const std::string& version) {
  if (version != "v1") return nullptr;
  json resources = json::array();
  bool found = false;
  for (const auto& t : AllResourceTypes()) {
    if (t.group != group) continue;
    found = true;
    json r = {{"name", t.resource},
              {"singularName", t.singular},
              {"namespaced", t.namespaced},
              {"kind", t.kind},
              {"verbs", Verbs()}};
    if (!t.short_names.empty()) r["shortNames"] = t.short_names;
    if (!t.categories.empty()) r["categories"] = t.categories;
    resources.push_back(r);
    if (t.resource == "pods") {
      resources.push_back({{"name", "pods/log"},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"kind", "Pod"},
                           {"verbs", {"get"}}});
    }
    if (t.resource == "deployments" || t.resource == "replicasets") {
      resources.push_back({{"name", t.resource + "/scale"},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"group", "autoscaling"},
                           {"version", "v1"},
                           {"kind", "Scale"},
                           {"verbs", {"get", "patch", "update"}}});
    }
    if (t.resource == "pods" || t.resource == "deployments" || t.resource == "replicasets") {
      resources.push_back({{"name", t.resource + "/status"},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"kind", t.kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
  }
  for (const auto& [resource, kind] : ReviewResources(group)) {
    found = true;
    resources.push_back({{"name", resource},
                         {"singularName", resource.substr(0, resource.size() - 1)},
                         {"namespaced", absl::StartsWith(resource, "local")},
                         {"kind", kind},
                         {"verbs", {"create"}}});
  }
  if (!found) return nullptr;
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version},
          {"resources", resources}};
}

namespace {
std::string GvPath(const std::string& group) {
  return group.empty() ? "api/v1" : "apis/" + group + "/v1";
}
}  // namespace

json OpenApiIndex() {
  json paths = json::object();
  for (const auto& t : AllResourceTypes()) {
    std::string p = GvPath(t.group);
    paths[p] = {{"serverRelativeURL", "/openapi/v3/" + p}};
  }
  return {{"paths", paths}};
}

json OpenApiGroupVersion(const std::string& gv_path) {
  json paths = json::object();
  bool found = false;
  for (const auto& t : AllResourceTypes()) {
    if (GvPath(t.group) != gv_path) continue;
    found = true;
    std::string base =
        "/" + gv_path + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.resource + "/{name}";
    json gvk = {{"group", t.group}, {"version", t.version}, {"kind", t.kind}};
    json params = json::array(
        {{{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
         {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
         {{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
         {{"name", "force"}, {"in", "query"}, {"schema", {{"type", "boolean"}}}}});
    json op = {{"x-kubernetes-group-version-kind", gvk},
               {"x-kubernetes-action", "patch"},
               {"operationId", "patch" + t.kind},
               {"parameters", params},
               {"responses", {{"200", {{"description", "OK"}}}}}};
    json post = op;
    post["x-kubernetes-action"] = "post";
    post["operationId"] = "create" + t.kind;
    json put = op;
    put["x-kubernetes-action"] = "put";
    put["operationId"] = "replace" + t.kind;
    paths[base] = {{"patch", op}, {"put", put}};
    std::string coll =
        "/" + gv_path + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.resource;
    paths[coll] = {{"post", post}};
  }
  if (!found) return nullptr;
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.32.4"}}},
          {"paths", paths},
          {"components", {{"schemas", json::object()}}}};
}

}  // namespace remediator::kubesim
