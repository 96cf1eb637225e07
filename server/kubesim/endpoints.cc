// The Endpoints and EndpointSlice controllers (kube-controller-manager's pkg/controller/endpoint
// and endpointslice): for every Service with a selector, the matching pods that have an IP, ready
// ones as addresses and the rest as notReadyAddresses / ready=false endpoints.
#include <optional>

#include "absl/strings/str_cat.h"
#include "server/kubesim/api_controllers.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/k8s_util.h"

namespace remediator::kubesim {
namespace {

constexpr char kManagedByLabel[] = "endpoints.kubernetes.io/managed-by";
constexpr char kSliceManagedBy[] = "endpointslice.kubernetes.io/managed-by";
constexpr char kServiceNameLabel[] = "kubernetes.io/service-name";

// The container port a Service port sends to on `pod` (targetPort by number or by name).
std::optional<int64_t> TargetPort(const json& svc_port, const json& pod) {
  json target = svc_port.value("targetPort", json());
  if (target.is_null()) return svc_port.value("port", 0);
  if (target.is_number()) return target.get<int64_t>();
  std::string name = target.is_string() ? target.get<std::string>() : "";
  for (const json& c : pod["spec"].value("containers", json::array())) {
    for (const json& p : c.value("ports", json::array())) {
      if (p.value("name", "") == name) return p.value("containerPort", 0);
    }
  }
  return std::nullopt;
}

struct Backend {
  json pod;
  bool ready;
};

std::vector<Backend> Backends(const Store& store, const json& svc) {
  std::vector<Backend> out;
  json selector = {{"matchLabels", svc["spec"]["selector"]}};
  LabelSelector sel = LabelSelector::FromJson(selector);
  for (const json& pod : store.List("pods", svc["metadata"].value("namespace", ""))) {
    const json& status = pod.value("status", json::object());
    if (status.value("podIP", "").empty()) continue;
    std::string phase = status.value("phase", "");
    if (phase == "Succeeded" || phase == "Failed") continue;
    if (!sel.Matches(pod["metadata"].value("labels", json::object()))) continue;
    bool terminating = pod["metadata"].contains("deletionTimestamp");
    out.push_back({pod, PodIsReady(pod) && !terminating});
  }
  return out;
}

json TargetRef(const json& pod) {
  return {{"kind", "Pod"},
          {"name", pod["metadata"].value("name", "")},
          {"namespace", pod["metadata"].value("namespace", "")},
          {"uid", pod["metadata"].value("uid", "")}};
}

json EndpointPorts(const json& svc, const std::vector<Backend>& backends, bool slice) {
  json ports = json::array();
  for (const json& sp : svc["spec"].value("ports", json::array())) {
    std::optional<int64_t> port = backends.empty() ? std::optional<int64_t>(sp.value("port", 0))
                                                   : TargetPort(sp, backends[0].pod);
    if (!port) continue;
    json p = {{"port", *port}, {"protocol", sp.value("protocol", "TCP")}};
    if (!sp.value("name", "").empty() || slice) p["name"] = sp.value("name", "");
    ports.push_back(p);
  }
  return ports;
}

json DesiredEndpoints(const json& svc, const std::vector<Backend>& backends) {
  json ready = json::array(), not_ready = json::array();
  for (const Backend& b : backends) {
    json addr = {{"ip", b.pod["status"]["podIP"]},
                 {"nodeName", b.pod["spec"].value("nodeName", "")},
                 {"targetRef", TargetRef(b.pod)}};
    (b.ready ? ready : not_ready).push_back(addr);
  }
  json ep = {{"apiVersion", "v1"},
             {"kind", "Endpoints"},
             {"metadata",
              {{"name", svc["metadata"]["name"]},
               {"namespace", svc["metadata"]["namespace"]},
               {"labels", svc["metadata"].value("labels", json::object())}}}};
  ep["metadata"]["labels"][kManagedByLabel] = "endpoint-controller";
  if (!backends.empty()) {
    json subset = {{"ports", EndpointPorts(svc, backends, false)}};
    if (!ready.empty()) subset["addresses"] = ready;
    if (!not_ready.empty()) subset["notReadyAddresses"] = not_ready;
    ep["subsets"] = json::array({subset});
  }
  return ep;
}

json DesiredSlice(const json& svc, const std::vector<Backend>& backends) {
  const json& meta = svc["metadata"];
  std::string svc_name = meta.value("name", "");
  json endpoints = json::array();
  for (const Backend& b : backends) {
    endpoints.push_back({{"addresses", json::array({b.pod["status"]["podIP"]})},
                         {"conditions",
                          {{"ready", b.ready},
                           {"serving", PodIsReady(b.pod)},
                           {"terminating", b.pod["metadata"].contains("deletionTimestamp")}}},
                         {"nodeName", b.pod["spec"].value("nodeName", "")},
                         {"targetRef", TargetRef(b.pod)}});
  }
  std::string suffix = SafeEncodeHash(Fnv32a(meta.value("namespace", "") + "/" + svc_name));
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata",
           {{"name", svc_name + "-" + suffix.substr(0, 5)},
            {"namespace", meta["namespace"]},
            {"labels",
             {{kServiceNameLabel, svc_name}, {kSliceManagedBy, "endpointslice-controller.k8s.io"}}},
            {"ownerReferences", json::array({{{"apiVersion", "v1"},
                                              {"kind", "Service"},
                                              {"name", svc_name},
                                              {"uid", meta.value("uid", "")},
                                              {"controller", true},
                                              {"blockOwnerDeletion", true}}})}}},
          {"addressType", "IPv4"},
          {"endpoints", endpoints.empty() ? json() : endpoints},
          {"ports", EndpointPorts(svc, backends, true)}};
}

// Creates `desired` or updates the stored object's content (everything but metadata, plus the
// labels); true when it wrote.
bool Upsert(Store& store, const std::string& resource, const json& desired) {
  const json& meta = desired["metadata"];
  std::optional<json> current = store.Get(resource, meta["namespace"], meta["name"]);
  if (!current) return store.Create(resource, desired).ok();
  json updated = *current;
  for (auto& [k, v] : desired.items()) {
    if (k != "metadata") updated[k] = v;
  }
  if (!desired.contains("subsets")) updated.erase("subsets");
  updated["metadata"]["labels"] = meta.value("labels", json::object());
  if (updated == *current) return false;
  return store.Update(resource, updated).ok();
}

bool ManagedEndpoints(const json& obj, const char* label) {
  return obj["metadata"].value("labels", json::object()).contains(label);
}

}  // namespace

bool ReconcileEndpoints(Cluster& cluster) {
  Store& store = cluster.store();
  bool changed = false;
  std::set<std::string> wanted;
  for (const json& svc : store.List("services", "")) {
    const json& spec = svc.value("spec", json::object());
    if (!spec.contains("selector") || !spec["selector"].is_object() || spec["selector"].empty() ||
        spec.value("type", "") == "ExternalName") {
      continue;
    }
    std::vector<Backend> backends = Backends(store, svc);
    json ep = DesiredEndpoints(svc, backends);
    json slice = DesiredSlice(svc, backends);
    changed |= Upsert(store, "endpoints", ep);
    changed |= Upsert(store, "endpointslices", slice);
    std::string ns = svc["metadata"].value("namespace", "");
    wanted.insert("endpoints/" + ns + "/" + ep["metadata"]["name"].get<std::string>());
    wanted.insert("endpointslices/" + ns + "/" + slice["metadata"]["name"].get<std::string>());
  }
  for (const char* resource : {"endpoints", "endpointslices"}) {
    const char* label = std::string(resource) == "endpoints" ? kManagedByLabel : kSliceManagedBy;
    for (const json& obj : store.List(resource, "")) {
      const json& meta = obj["metadata"];
      std::string key =
          absl::StrCat(resource, "/", meta.value("namespace", ""), "/", meta.value("name", ""));
      if (wanted.count(key) || !ManagedEndpoints(obj, label)) continue;
      changed |= store.Delete(resource, meta.value("namespace", ""), meta.value("name", "")).ok();
    }
  }
  return changed;
}

}  // namespace remediator::kubesim
