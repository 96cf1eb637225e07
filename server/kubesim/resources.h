// The resource types kubesim serves and the discovery/OpenAPI documents that describe them.
#ifndef REMEDIATOR_SERVER_KUBESIM_RESOURCES_H_
#define REMEDIATOR_SERVER_KUBESIM_RESOURCES_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace remediator::kubesim {

struct ResourceType {
  std::string group;     // "" for core
  std::string version;   // "v1"
  std::string resource;  // plural: "pods"
  std::string singular;  // "pod"
  std::string kind;      // "Pod"
  bool namespaced = true;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  // "Deployment.apps" style qualified name used in error messages ("deployments.apps").
  std::string GroupResource() const { return group.empty() ? resource : resource + "." + group; }
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
};

// Every served type. Stable order (discovery lists them in this order).
const std::vector<ResourceType>& AllResourceTypes();
// By group and plural resource; nullptr when unknown.
const ResourceType* FindResource(const std::string& group, const std::string& resource);
// By apiVersion ("apps/v1") and kind ("Deployment"); nullptr when unknown.
const ResourceType* FindKind(const std::string& api_version, const std::string& kind);
// By plural resource only, first match (core wins): for the KubeSim C++ API.
const ResourceType* FindResourceByName(const std::string& resource);

// The storage key of a type: events.k8s.io events share the core "events" storage.
std::string StorageResource(const ResourceType& type);

// Discovery documents.
nlohmann::json VersionInfo();
nlohmann::json AggregatedDiscovery(bool core);  // /api (core) or /apis
nlohmann::json LegacyApiVersions();             // /api with plain JSON
nlohmann::json LegacyApiGroupList();            // /apis with plain JSON
// APIResourceList for "/api/v1" or "/apis/<group>/<version>"; null when unknown.
nlohmann::json ApiResourceList(const std::string& group, const std::string& version);
// /openapi/v3 index and a group-version document ("api/v1", "apis/apps/v1"); null when unknown.
nlohmann::json OpenApiIndex();
nlohmann::json OpenApiGroupVersion(const std::string& gv_path);

inline constexpr char kAggregatedDiscoveryContentType[] =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_RESOURCES_H_
