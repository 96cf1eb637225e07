#include "server/remediator/adapters/kube/kube_api_cluster.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/remediator/adapters/kube/kube_status.h"
#include "server/remediator/core/kube_rollout.h"

namespace remediator::kube {
namespace {

struct ResourceInfo {
  const char* plural;
  bool namespaced;
};

// Kinds whose plural or scope a naive guess would get wrong, plus the ones the Remediator uses.
const std::map<std::string, ResourceInfo>& KnownKinds() {
  static const auto* kinds = new std::map<std::string, ResourceInfo>{
      {"Pod", {"pods", true}},
      {"Event", {"events", true}},
      {"Deployment", {"deployments", true}},
      {"StatefulSet", {"statefulsets", true}},
      {"DaemonSet", {"daemonsets", true}},
      {"ReplicaSet", {"replicasets", true}},
      {"Job", {"jobs", true}},
      {"CronJob", {"cronjobs", true}},
      {"Service", {"services", true}},
      {"ConfigMap", {"configmaps", true}},
      {"Secret", {"secrets", true}},
      {"PersistentVolumeClaim", {"persistentvolumeclaims", true}},
      {"ServiceAccount", {"serviceaccounts", true}},
      {"Ingress", {"ingresses", true}},
      {"NetworkPolicy", {"networkpolicies", true}},
      {"HorizontalPodAutoscaler", {"horizontalpodautoscalers", true}},
      {"PodDisruptionBudget", {"poddisruptionbudgets", true}},
      {"Endpoints", {"endpoints", true}},
      {"Namespace", {"namespaces", false}},
      {"Node", {"nodes", false}},
      {"PersistentVolume", {"persistentvolumes", false}},
      {"StorageClass", {"storageclasses", false}},
      {"ClusterRole", {"clusterroles", false}},
      {"ClusterRoleBinding", {"clusterrolebindings", false}},
      {"CustomResourceDefinition", {"customresourcedefinitions", false}},
  };
  return *kinds;
}

std::pair<std::string, bool> Resource(const std::string& kind) {
  auto it = KnownKinds().find(kind);
  if (it != KnownKinds().end()) return {it->second.plural, it->second.namespaced};
  // kubectl's guess (UnsafeGuessKindToResource) for unknown kinds.
  std::string lower = absl::AsciiStrToLower(kind);
  if (absl::EndsWith(lower, "s")) return {lower + "es", true};
  if (absl::EndsWith(lower, "y") && lower.size() > 1 &&
      std::string("aeiou").find(lower[lower.size() - 2]) == std::string::npos) {
    return {lower.substr(0, lower.size() - 1) + "ies", true};
  }
  return {lower + "s", true};
}

std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    absl::StrAppend(&out, out.empty() ? "?" : "&", key, "=", UrlEscape(value));
  }
  return out;
}

std::string Describe(const HttpRequest& request) {
  return absl::StrCat(request.method, " ", request.path.substr(0, request.path.find('?')));
}

const char* PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJsonPatch:
      return "application/json-patch+json";
  }
  return "application/merge-patch+json";
}

}  // namespace

absl::StatusOr<std::string> KubePath(const KubeRef& ref, const std::string& default_namespace) {
  if (ref.api_version.empty()) return absl::InvalidArgumentError("apiVersion is required");
  if (ref.kind.empty()) return absl::InvalidArgumentError("kind is required");
  const auto [plural, namespaced] = Resource(ref.kind);
  std::string path = ref.api_version == "v1" ? "/api/v1" : absl::StrCat("/apis/", ref.api_version);
  if (namespaced) {
    const std::string ns =
        ref.namespace_name.empty() && !ref.name.empty() ? default_namespace : ref.namespace_name;
    if (!ns.empty()) absl::StrAppend(&path, "/namespaces/", UrlEscape(ns));
  }
  absl::StrAppend(&path, "/", plural);
  if (!ref.name.empty()) absl::StrAppend(&path, "/", UrlEscape(ref.name));
  return path;
}

KubeApiCluster::KubeApiCluster(std::unique_ptr<KubeTransport> transport, KubeClientOptions options)
    : transport_(std::move(transport)), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<KubeApiCluster>> KubeApiCluster::Create(const KubeConfig& config,
                                                                       Clock& clock,
                                                                       KubeClientOptions options) {
  if (config.server.empty()) return absl::InvalidArgumentError("kube config: server is required");
  auto transport = std::make_unique<KubeTransport>(config, clock, options.transport);
  return std::unique_ptr<KubeApiCluster>(
      new KubeApiCluster(std::move(transport), std::move(options)));
}

absl::StatusOr<std::unique_ptr<KubeApiCluster>> KubeApiCluster::FromKubeconfig(
    const KubeconfigOptions& options, Clock& clock, KubeClientOptions client_options) {
  ASSIGN_OR_RETURN(KubeConfig config, LoadKubeconfig(options));
  return Create(config, clock, std::move(client_options));
}

std::string KubeApiCluster::DefaultNamespace() const { return transport_->config().namespace_name; }

int64_t KubeApiCluster::exec_plugin_runs() const { return transport_->credentials().exec_runs(); }

absl::StatusOr<nlohmann::json> KubeApiCluster::Call(const HttpRequest& request) {
  ASSIGN_OR_RETURN(HttpResponse response, transport_->Do(request));
  if (response.status < 200 || response.status >= 300) {
    return KubeHttpError(response.status, response.body, Describe(request));
  }
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return absl::UnavailableError(
        absl::StrCat(Describe(request), ": ", response.status, " answer is not JSON"));
  }
  return body;
}

absl::StatusOr<nlohmann::json> KubeApiCluster::Get(const KubeRef& ref) {
  if (ref.name.empty()) return absl::InvalidArgumentError("Get: name is required");
  HttpRequest request;
  ASSIGN_OR_RETURN(request.path, KubePath(ref, DefaultNamespace()));
  return Call(request);
}

absl::StatusOr<KubeList> KubeApiCluster::List(const KubeRef& collection,
                                              const KubeListOptions& options) {
  if (!collection.name.empty()) {
    return absl::InvalidArgumentError("List: the collection must not name an object");
  }
  ASSIGN_OR_RETURN(const std::string path, KubePath(collection, DefaultNamespace()));
  KubeList out;
  std::string continue_token;
  for (int page = 0;; ++page) {
    std::vector<std::pair<std::string, std::string>> params;
    if (!options.label_selector.empty())
      params.emplace_back("labelSelector", options.label_selector);
    if (!options.field_selector.empty())
      params.emplace_back("fieldSelector", options.field_selector);
    if (options.page_size > 0) params.emplace_back("limit", absl::StrCat(options.page_size));
    if (!continue_token.empty()) params.emplace_back("continue", continue_token);
    HttpRequest request;
    request.path = path + Query(params);
    ASSIGN_OR_RETURN(nlohmann::json body, Call(request));
    if (!body.is_object()) {
      return absl::UnavailableError(absl::StrCat(Describe(request), ": the list is not an object"));
    }
    if (body.contains("items") && body["items"].is_array()) {
      for (nlohmann::json& item : body["items"]) out.items.push_back(std::move(item));
    }
    const nlohmann::json metadata = body.value("metadata", nlohmann::json::object());
    if (page == 0) out.resource_version = metadata.value("resourceVersion", std::string());
    continue_token = metadata.value("continue", std::string());
    if (continue_token.empty()) break;
  }
  return out;
}

absl::StatusOr<std::string> KubeApiCluster::PodLogs(const std::string& namespace_name,
                                                    const std::string& pod,
                                                    const PodLogOptions& options) {
  if (pod.empty()) return absl::InvalidArgumentError("PodLogs: pod is required");
  ASSIGN_OR_RETURN(std::string path,
                   KubePath({"v1", "Pod", namespace_name, pod}, DefaultNamespace()));
  std::vector<std::pair<std::string, std::string>> params;
  if (!options.container.empty()) params.emplace_back("container", options.container);
  if (options.previous) params.emplace_back("previous", "true");
  if (options.tail_lines.has_value())
    params.emplace_back("tailLines", absl::StrCat(*options.tail_lines));
  if (options.since_seconds.has_value()) {
    params.emplace_back("sinceSeconds", absl::StrCat(*options.since_seconds));
  }
  if (options.limit_bytes.has_value()) {
    params.emplace_back("limitBytes", absl::StrCat(*options.limit_bytes));
  }
  HttpRequest request;
  request.path = absl::StrCat(path, "/log", Query(params));
  request.accept = "text/plain, application/json, */*";
  ASSIGN_OR_RETURN(HttpResponse response, transport_->Do(request));
  if (response.status < 200 || response.status >= 300) {
    return KubeHttpError(response.status, response.body, Describe(request));
  }
  return std::move(response.body);
}

absl::StatusOr<nlohmann::json> KubeApiCluster::Patch(const KubeRef& ref, PatchType type,
                                                     const nlohmann::json& patch,
                                                     const WriteOptions& options) {
  if (ref.name.empty()) return absl::InvalidArgumentError("Patch: name is required");
  if (type == PatchType::kJsonPatch && !patch.is_array()) {
    return absl::InvalidArgumentError("Patch: a JSON patch must be an array of operations");
  }
  if (type != PatchType::kJsonPatch && !patch.is_object()) {
    return absl::InvalidArgumentError("Patch: a merge patch must be a JSON object");
  }
  std::vector<std::pair<std::string, std::string>> params;
  if (options.dry_run) params.emplace_back("dryRun", "All");
  if (!options.field_manager.empty()) params.emplace_back("fieldManager", options.field_manager);
  HttpRequest request;
  request.method = "PATCH";
  ASSIGN_OR_RETURN(request.path, KubePath(ref, DefaultNamespace()));
  request.path += Query(params);
  request.content_type = PatchContentType(type);
  request.body = patch.dump();
  return Call(request);
}

absl::StatusOr<nlohmann::json> KubeApiCluster::Apply(const nlohmann::json& object,
                                                     const ApplyOptions& options) {
  if (options.field_manager.empty()) {
    return absl::InvalidArgumentError("Apply: field_manager is required");
  }
  if (!object.is_object()) return absl::InvalidArgumentError("Apply: the object must be JSON");
  KubeRef ref;
  ref.api_version = object.value("apiVersion", std::string());
  ref.kind = object.value("kind", std::string());
  const nlohmann::json metadata = object.value("metadata", nlohmann::json::object());
  ref.name = metadata.is_object() ? metadata.value("name", std::string()) : "";
  ref.namespace_name = metadata.is_object() ? metadata.value("namespace", std::string()) : "";
  if (ref.api_version.empty()) return absl::InvalidArgumentError("Apply: apiVersion is required");
  if (ref.kind.empty()) return absl::InvalidArgumentError("Apply: kind is required");
  if (ref.name.empty()) return absl::InvalidArgumentError("Apply: metadata.name is required");
  std::vector<std::pair<std::string, std::string>> params = {
      {"fieldManager", options.field_manager}};
  if (options.force) params.emplace_back("force", "true");
  if (options.dry_run) params.emplace_back("dryRun", "All");
  HttpRequest request;
  request.method = "PATCH";
  ASSIGN_OR_RETURN(request.path, KubePath(ref, DefaultNamespace()));
  request.path += Query(params);
  request.content_type = "application/apply-patch+yaml";
  nlohmann::json body = object;
  if (ref.namespace_name.empty() && Resource(ref.kind).second) {
    body["metadata"]["namespace"] = DefaultNamespace();
  }
  request.body = body.dump();  // JSON is YAML
  return Call(request);
}

absl::StatusOr<RolloutStatus> KubeApiCluster::GetRolloutStatus(const KubeRef& workload) {
  if (workload.kind != "Deployment" && workload.kind != "DaemonSet" &&
      workload.kind != "StatefulSet") {
    return absl::UnimplementedError(
        absl::StrCat("rollout status: kind \"", workload.kind,
                     "\" is not supported (Deployment, DaemonSet, StatefulSet)"));
  }
  ASSIGN_OR_RETURN(nlohmann::json object, Get(workload));
  if (!object.contains("kind")) object["kind"] = workload.kind;
  return EvaluateRollout(object);
}

absl::StatusOr<RollbackResult> KubeApiCluster::Rollback(const KubeRef& deployment_ref,
                                                        const RollbackOptions& options) {
  if (deployment_ref.kind != "Deployment") {
    return absl::UnimplementedError(
        absl::StrCat("rollback: kind \"", deployment_ref.kind, "\" is not supported (Deployment)"));
  }
  ASSIGN_OR_RETURN(nlohmann::json deployment, Get(deployment_ref));
  const std::string name = deployment_ref.name;
  const std::string ns =
      deployment.value("metadata", nlohmann::json::object()).value("namespace", DefaultNamespace());
  absl::StatusOr<std::string> selector =
      LabelSelectorString(deployment.contains("/spec/selector"_json_pointer)
                              ? deployment.at("/spec/selector"_json_pointer)
                              : nlohmann::json());
  if (!selector.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("rollback: deployment \"", name, "\": ", selector.status().message()));
  }
  KubeListOptions list_options;
  list_options.label_selector = *selector;
  std::string api_version = deployment_ref.api_version;
  ASSIGN_OR_RETURN(KubeList replicasets, List({api_version, "ReplicaSet", ns, ""}, list_options));
  ASSIGN_OR_RETURN(RollbackPlan plan,
                   PlanDeploymentRollback(deployment, replicasets.items, options.to_revision));
  RollbackResult result;
  result.revision = plan.revision;
  if (plan.skip) {
    result.skipped = true;
    result.deployment = std::move(deployment);
    result.message = absl::StrCat("deployment.apps/", name,
                                  " skipped rollback (current template already matches revision ",
                                  plan.revision, ")");
    return result;
  }
  WriteOptions write;
  write.dry_run = options.dry_run;
  write.field_manager = options.field_manager;
  ASSIGN_OR_RETURN(result.deployment, Patch({deployment_ref.api_version, "Deployment", ns, name},
                                            PatchType::kJsonPatch, plan.json_patch, write));
  result.message = absl::StrCat("deployment.apps/", name, " rolled back",
                                options.dry_run ? " (server dry run)" : "");
  return result;
}

absl::Status KubeApiCluster::Watch(const KubeRef& collection, const KubeWatchOptions& options,
                                   const WatchCallback& on_event, const std::atomic<bool>* stop) {
  if (!collection.name.empty()) {
    return absl::InvalidArgumentError("Watch: the collection must not name an object");
  }
  std::vector<std::pair<std::string, std::string>> params = {{"watch", "1"}};
  if (!options.resource_version.empty()) {
    params.emplace_back("resourceVersion", options.resource_version);
  }
  if (options.allow_bookmarks) params.emplace_back("allowWatchBookmarks", "true");
  if (options.timeout_seconds > 0) {
    params.emplace_back("timeoutSeconds", absl::StrCat(options.timeout_seconds));
  }
  if (!options.label_selector.empty()) params.emplace_back("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) params.emplace_back("fieldSelector", options.field_selector);
  HttpRequest request;
  ASSIGN_OR_RETURN(request.path, KubePath(collection, DefaultNamespace()));
  request.path += Query(params);
  const std::string what = Describe(request) + " (watch)";

  // The stream is newline-delimited JSON arriving in arbitrary fragments.
  std::string pending;
  absl::Status stream_error;
  auto handle_line = [&](std::string_view line) -> bool {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) return true;
    nlohmann::json event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object() || !event.contains("type") || !event["type"].is_string()) {
      stream_error = absl::UnavailableError(absl::StrCat(what, ": malformed watch event"));
      return false;
    }
    const std::string type = event["type"].get<std::string>();
    nlohmann::json object =
        event.contains("object") ? std::move(event["object"]) : nlohmann::json();
    WatchEvent watch_event;
    if (type == "ADDED") {
      watch_event.type = WatchEventType::kAdded;
    } else if (type == "MODIFIED") {
      watch_event.type = WatchEventType::kModified;
    } else if (type == "DELETED") {
      watch_event.type = WatchEventType::kDeleted;
    } else if (type == "BOOKMARK") {
      watch_event.type = WatchEventType::kBookmark;
    } else if (type == "ERROR") {
      stream_error = KubeStatusObjectError(object, what);
      return false;
    } else {
      return true;  // unknown event types are skipped
    }
    watch_event.object = std::move(object);
    return on_event(watch_event);
  };
  bool callback_ended = false;
  std::function<bool(std::string_view)> on_data = [&](std::string_view chunk) {
    pending.append(chunk.data(), chunk.size());
    size_t start = 0;
    for (size_t newline; (newline = pending.find('\n', start)) != std::string::npos;
         start = newline + 1) {
      if (!handle_line(std::string_view(pending).substr(start, newline - start))) {
        callback_ended = true;
        pending.clear();
        return false;
      }
    }
    pending.erase(0, start);
    return true;
  };
  const absl::Duration idle =
      options.timeout_seconds > 0
          ? absl::Seconds(options.timeout_seconds) + options_.watch_idle_grace
          : absl::Minutes(10) + options_.watch_idle_grace;
  HttpResponse response;
  absl::Status status = transport_->Stream(request, on_data, stop, idle, &response);
  if (!stream_error.ok()) return stream_error;
  if (!status.ok()) return status;
  if (response.status < 200 || response.status >= 300) {
    return KubeHttpError(response.status, response.body, what);
  }
  // A final line without a newline (server closed right after it).
  if (!callback_ended && !pending.empty()) {
    handle_line(pending);
    if (!stream_error.ok()) return stream_error;
  }
  return absl::OkStatus();
}

}  // namespace remediator::kube
