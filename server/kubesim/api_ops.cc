// API write semantics: defaulting, validation, PATCH flavours, server-side apply, dry run.
#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "re2/re2.h"
#include "server/common/status_macros.h"
#include "server/kubesim/api_controllers.h"
#include "server/kubesim/api_error.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/k8s_util.h"
#include "server/kubesim/patch.h"
#include "server/kubesim/workloads.h"

namespace remediator::kubesim {
namespace {

std::string KindGroup(const ResourceType& t) {
  return t.group.empty() ? t.kind : t.kind + "." + t.group;
}

bool HasStatusSubresource(const ResourceType& t) {
  static const std::set<std::string>* with_status =
      new std::set<std::string>{"pods",
                                "deployments",
                                "replicasets",
                                "namespaces",
                                "nodes",
                                "persistentvolumeclaims",
                                "persistentvolumes",
                                "services",
                                "jobs",
                                "cronjobs",
                                "poddisruptionbudgets",
                                "ingresses",
                                "resourcequotas"};
  return with_status->count(t.resource) > 0;
}

void DefaultContainer(json* c) {
  if (!c->is_object()) return;
  if (!c->contains("imagePullPolicy")) {
    std::string image = c->value("image", "");
    (*c)["imagePullPolicy"] =
        absl::EndsWith(image, ":latest") || image.find(':') == std::string::npos ? "Always"
                                                                                 : "IfNotPresent";
  }
  if (!c->contains("resources")) (*c)["resources"] = json::object();
  if (!c->contains("terminationMessagePath")) {
    (*c)["terminationMessagePath"] = "/dev/termination-log";
  }
  if (!c->contains("terminationMessagePolicy")) (*c)["terminationMessagePolicy"] = "File";
  if (c->contains("ports")) {
    for (json& p : (*c)["ports"]) {
      if (p.is_object() && !p.contains("protocol")) p["protocol"] = "TCP";
    }
  }
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    if (!c->contains(probe)) continue;
    json& p = (*c)[probe];
    if (!p.contains("periodSeconds")) p["periodSeconds"] = 10;
    if (!p.contains("timeoutSeconds")) p["timeoutSeconds"] = 1;
    if (!p.contains("successThreshold")) p["successThreshold"] = 1;
    if (!p.contains("failureThreshold")) p["failureThreshold"] = 3;
    if (p.contains("httpGet") && !p["httpGet"].contains("scheme")) p["httpGet"]["scheme"] = "HTTP";
  }
}

void DefaultPodSpec(json* spec) {
  if (!spec->is_object()) return;
  for (const char* list : {"containers", "initContainers"}) {
    if (spec->contains(list)) {
      for (json& c : (*spec)[list]) DefaultContainer(&c);
    }
  }
  if (!spec->contains("restartPolicy")) (*spec)["restartPolicy"] = "Always";
  if (!spec->contains("terminationGracePeriodSeconds")) {
    (*spec)["terminationGracePeriodSeconds"] = 30;
  }
  if (!spec->contains("dnsPolicy")) (*spec)["dnsPolicy"] = "ClusterFirst";
  if (!spec->contains("schedulerName")) (*spec)["schedulerName"] = "default-scheduler";
  if (!spec->contains("securityContext")) (*spec)["securityContext"] = json::object();
}

const RE2& DnsSubdomain() {
  static const RE2* re =
      new RE2(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)");
  return *re;
}

void ValidateQuantityField(const json& res, const std::string& path, std::vector<FieldCause>* out) {
  for (const char* section : {"limits", "requests"}) {
    if (!res.contains(section) || !res[section].is_object()) continue;
    for (auto& [k, v] : res[section].items()) {
      std::string text = v.is_string() ? v.get<std::string>() : v.dump();
      bool ok = k == "cpu" ? ParseCpuMillis(text).ok() : ParseQuantity(text).ok();
      if (!ok) {
        out->push_back({absl::StrCat(path, ".", section, "[", k, "]"),
                        absl::StrCat("Invalid value: \"", text,
                                     "\": must match the regex "
                                     "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"),
                        "FieldValueInvalid"});
      }
    }
  }
  if (res.contains("limits") && res.contains("requests") && res["limits"].contains("memory") &&
      res["requests"].contains("memory")) {
    int64_t lim = QuantityOr(res["limits"]["memory"], -1);
    int64_t req = QuantityOr(res["requests"]["memory"], -1);
    if (lim >= 0 && req > lim) {
      std::string req_text = res["requests"]["memory"].is_string()
                                 ? res["requests"]["memory"].get<std::string>()
                                 : res["requests"]["memory"].dump();
      out->push_back({absl::StrCat(path, ".requests"),
                      absl::StrCat("Invalid value: \"", req_text,
                                   "\": must be less than or equal to memory limit of ",
                                   res["limits"]["memory"].is_string()
                                       ? res["limits"]["memory"].get<std::string>()
                                       : res["limits"]["memory"].dump()),
                      "FieldValueInvalid"});
    }
  }
}

void ValidatePodSpec(const json& spec, const std::string& path, std::vector<FieldCause>* out) {
  if (!spec.contains("containers") || !spec["containers"].is_array() ||
      spec["containers"].empty()) {
    out->push_back({path + ".containers", "Required value", "FieldValueRequired"});
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < spec["containers"].size(); ++i) {
    const json& c = spec["containers"][i];
    std::string cp = absl::StrCat(path, ".containers[", i, "]");
    std::string name = c.value("name", "");
    if (name.empty()) {
      out->push_back({cp + ".name", "Required value", "FieldValueRequired"});
    } else if (!names.insert(name).second) {
      out->push_back(
          {cp + ".name", absl::StrCat("Duplicate value: \"", name, "\""), "FieldValueDuplicate"});
    }
    if (c.value("image", "").empty()) {
      out->push_back({cp + ".image", "Required value", "FieldValueRequired"});
    }
    if (c.contains("resources")) ValidateQuantityField(c["resources"], cp + ".resources", out);
  }
}

std::string LabelsGoMap(const json& labels) {
  std::vector<std::string> parts;
  if (labels.is_object()) {
    for (auto& [k, v] : labels.items()) {
      parts.push_back(
          absl::StrCat("\"", k, "\":\"", v.is_string() ? v.get<std::string>() : v.dump(), "\""));
    }
  }
  return absl::StrCat("map[string]string{", absl::StrJoin(parts, ", "), "}");
}

// Flattens `value` into SSA-style field paths: ".spec.replicas",
// ".spec.template.spec.containers[name=web].image". Keyed lists descend; other lists are leaves.
void FlattenPaths(const json& value, const std::string& prefix, const std::string& field,
                  std::set<std::string>* out) {
  if (value.is_object() && !value.empty()) {
    for (auto& [k, v] : value.items()) FlattenPaths(v, prefix + "." + k, k, out);
    return;
  }
  if (value.is_array() && !value.empty()) {
    std::string key = MergeKeyFor(field, value[0]);
    if (!key.empty()) {
      for (const json& el : value) {
        if (!el.is_object() || !el.contains(key)) continue;
        std::string kv = el[key].is_string() ? el[key].get<std::string>() : el[key].dump();
        std::string p = absl::StrCat(prefix, "[", key, "=", kv, "]");
        for (auto& [k, v] : el.items()) FlattenPaths(v, p + "." + k, k, out);
      }
      return;
    }
  }
  out->insert(prefix);
}

// Value at an SSA path, or null.
json ValueAtPath(const json& root, const std::string& path) {
  const json* cur = &root;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t end = path.find_first_of(".[", i + 1);
      std::string key =
          path.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
      if (!cur->is_object() || !cur->contains(key)) return nullptr;
      cur = &(*cur)[key];
      i = end == std::string::npos ? path.size() : end;
    } else if (path[i] == '[') {
      size_t end = path.find(']', i);
      std::string sel = path.substr(i + 1, end - i - 1);
      size_t eq = sel.find('=');
      std::string k = sel.substr(0, eq), v = sel.substr(eq + 1);
      if (!cur->is_array()) return nullptr;
      const json* found = nullptr;
      for (const json& el : *cur) {
        if (!el.is_object() || !el.contains(k)) continue;
        std::string ev = el[k].is_string() ? el[k].get<std::string>() : el[k].dump();
        if (ev == v) found = &el;
      }
      if (!found) return nullptr;
      cur = found;
      i = end + 1;
    } else {
      return nullptr;
    }
  }
  return *cur;
}

// Removes a plain map path (no list selectors) from `root`.
void RemovePlainPath(json* root, const std::string& path) {
  if (path.find('[') != std::string::npos) return;
  std::vector<std::string> keys;
  size_t i = 1;
  while (i <= path.size()) {
    size_t end = path.find('.', i);
    keys.push_back(path.substr(i, end == std::string::npos ? std::string::npos : end - i));
    if (end == std::string::npos) break;
    i = end + 1;
  }
  json* cur = root;
  for (size_t k = 0; k + 1 < keys.size(); ++k) {
    if (!cur->is_object() || !cur->contains(keys[k])) return;
    cur = &(*cur)[keys[k]];
  }
  if (cur->is_object()) cur->erase(keys.back());
}

// Like the apiserver's GuaranteedUpdate: a write whose resourceVersion precondition came from our
// own read (not from the client) is retried when a controller wrote in between.
absl::StatusOr<json> RetryOnRace(bool user_rv, const std::function<absl::StatusOr<json>()>& fn) {
  absl::StatusOr<json> result;
  // A busy controller may win several times in a row (and a loaded machine makes that likely).
  for (int attempt = 0; attempt < 100; ++attempt) {
    result = fn();
    if (result.ok() || user_rv || !absl::IsAborted(result.status()) ||
        !absl::StrContains(result.status().message(), "the object has been modified")) {
      return result;
    }
  }
  return result;
}

void DefaultService(const std::string& ns, const std::string& name, json* spec) {
  std::string type = spec->value("type", "ClusterIP");
  if (type == "ExternalName") return;
  if (!spec->contains("sessionAffinity")) (*spec)["sessionAffinity"] = "None";
  if (!spec->contains("internalTrafficPolicy")) (*spec)["internalTrafficPolicy"] = "Cluster";
  if (!spec->contains("ipFamilies")) (*spec)["ipFamilies"] = {"IPv4"};
  if (!spec->contains("ipFamilyPolicy")) (*spec)["ipFamilyPolicy"] = "SingleStack";
  if (spec->contains("clusterIP") && !spec->contains("clusterIPs")) {
    (*spec)["clusterIPs"] = {(*spec)["clusterIP"]};
  }
  bool node_ports = type == "NodePort" || type == "LoadBalancer";
  if (node_ports && !spec->contains("externalTrafficPolicy")) {
    (*spec)["externalTrafficPolicy"] = "Cluster";
  }
  if (type == "LoadBalancer" && !spec->contains("allocateLoadBalancerNodePorts")) {
    (*spec)["allocateLoadBalancerNodePorts"] = true;
  }
  if (!spec->contains("ports")) return;
  for (json& p : (*spec)["ports"]) {
    if (!p.is_object()) continue;
    if (!p.contains("protocol")) p["protocol"] = "TCP";
    if (!p.contains("targetPort")) p["targetPort"] = p.value("port", 0);
    if (node_ports && !p.contains("nodePort")) {
      p["nodePort"] = 30000 + Fnv32a(absl::StrCat(ns, "/", name, "/", p.value("port", 0))) % 2768;
    }
  }
}

void DefaultJobSpec(const std::string& job_name, json* spec) {
  if (!spec->is_object()) return;
  if (!spec->contains("parallelism")) (*spec)["parallelism"] = 1;
  if (!spec->contains("completions")) (*spec)["completions"] = 1;
  if (!spec->contains("backoffLimit")) (*spec)["backoffLimit"] = 6;
  if (!spec->contains("completionMode")) (*spec)["completionMode"] = "NonIndexed";
  if (!spec->contains("suspend")) (*spec)["suspend"] = false;
  if (!spec->contains("podReplacementPolicy")) {
    (*spec)["podReplacementPolicy"] = "TerminatingOrFailed";
  }
  json& tmpl = (*spec)["template"];
  if (!tmpl.is_object()) tmpl = json::object();
  if (!job_name.empty()) {
    tmpl["metadata"]["labels"]["job-name"] = job_name;
    tmpl["metadata"]["labels"]["batch.kubernetes.io/job-name"] = job_name;
  }
  DefaultPodSpec(&tmpl["spec"]);
}

// Defaults of the kinds beyond workloads (storage, networking, batch, scheduling).
void DefaultOtherKinds(const ResourceType& type, const std::string& default_class, json* obj) {
  json& meta = (*obj)["metadata"];
  const std::string& r = type.resource;
  if (r == "services") {
    DefaultService(meta.value("namespace", ""), meta.value("name", ""), &(*obj)["spec"]);
    if ((*obj)["spec"].value("type", "") == "LoadBalancer" && !obj->contains("status")) {
      (*obj)["status"] = {{"loadBalancer", json::object()}};
    }
  } else if (r == "persistentvolumeclaims") {
    json& spec = (*obj)["spec"];
    if (!spec.contains("storageClassName") && !default_class.empty()) {
      spec["storageClassName"] = default_class;
    }
    if (!spec.contains("volumeMode")) spec["volumeMode"] = "Filesystem";
    if (!obj->contains("status")) (*obj)["status"] = {{"phase", "Pending"}};
  } else if (r == "persistentvolumes") {
    json& spec = (*obj)["spec"];
    if (!spec.contains("persistentVolumeReclaimPolicy")) {
      spec["persistentVolumeReclaimPolicy"] = "Retain";
    }
    if (!spec.contains("volumeMode")) spec["volumeMode"] = "Filesystem";
    if (!obj->contains("status")) (*obj)["status"] = {{"phase", "Pending"}};
  } else if (r == "storageclasses") {
    if (!obj->contains("reclaimPolicy")) (*obj)["reclaimPolicy"] = "Delete";
    if (!obj->contains("volumeBindingMode")) (*obj)["volumeBindingMode"] = "Immediate";
  } else if (r == "jobs") {
    DefaultJobSpec(meta.value("name", ""), &(*obj)["spec"]);
    if (!obj->contains("status")) (*obj)["status"] = json::object();
  } else if (r == "cronjobs") {
    json& spec = (*obj)["spec"];
    if (!spec.contains("concurrencyPolicy")) spec["concurrencyPolicy"] = "Allow";
    if (!spec.contains("suspend")) spec["suspend"] = false;
    if (!spec.contains("successfulJobsHistoryLimit")) spec["successfulJobsHistoryLimit"] = 3;
    if (!spec.contains("failedJobsHistoryLimit")) spec["failedJobsHistoryLimit"] = 1;
    if (spec.contains("jobTemplate")) DefaultJobSpec("", &spec["jobTemplate"]["spec"]);
    if (!obj->contains("status")) (*obj)["status"] = json::object();
  } else if (r == "priorityclasses") {
    if (!obj->contains("preemptionPolicy")) (*obj)["preemptionPolicy"] = "PreemptLowerPriority";
  } else if (r == "ingresses") {
    if (!obj->contains("status")) (*obj)["status"] = {{"loadBalancer", json::object()}};
  } else if (r == "resourcequotas") {
    if (!obj->contains("status") && obj->contains("spec")) {
      (*obj)["status"] = {{"hard", (*obj)["spec"].value("hard", json::object())}};
    }
  }
}

void ValidateOtherKinds(const ResourceType& type, const json& obj, std::vector<FieldCause>* out) {
  const std::string& r = type.resource;
  if (r == "rolebindings" || r == "clusterrolebindings") {
    const json& ref = obj.value("roleRef", json::object());
    if (ref.value("name", "").empty()) {
      out->push_back({"roleRef.name", "Required value", "FieldValueRequired"});
    }
    std::string kind = ref.value("kind", "");
    if (kind != "ClusterRole" && (kind != "Role" || r == "clusterrolebindings")) {
      out->push_back({"roleRef.kind",
                      absl::StrCat("Unsupported value: \"", kind, "\": supported values: ",
                                   r == "rolebindings" ? "\"Role\", " : "", "\"ClusterRole\""),
                      "FieldValueNotSupported"});
    }
  } else if (r == "persistentvolumeclaims") {
    const json& spec = obj.value("spec", json::object());
    if (spec.value("accessModes", json::array()).empty()) {
      out->push_back({"spec.accessModes", "Required value: at least 1 access mode is required",
                      "FieldValueRequired"});
    }
    const json& res = spec.value("resources", json::object());
    if (!res.value("requests", json::object()).contains("storage")) {
      out->push_back({"spec.resources[storage]", "Required value", "FieldValueRequired"});
    }
  }
}

// Fields the apiserver forbids changing after creation.
absl::Status ValidateUpdate(const ResourceType& type, const json& current, const json& updated) {
  if (type.resource != "persistentvolumeclaims") return absl::OkStatus();
  json before = current.value("spec", json::object()),
       after = updated.value("spec", json::object());
  for (json* spec : {&before, &after}) {
    if (spec->contains("resources")) (*spec)["resources"].erase("requests");
    spec->erase("volumeAttributesClassName");
  }
  // The binder fills volumeName; a claim that names none yet may be given one.
  if (!before.contains("volumeName")) after.erase("volumeName");
  if (Normalize(before) == Normalize(after)) return absl::OkStatus();
  return InvalidError("PersistentVolumeClaim", current["metadata"].value("name", ""),
                      {{"spec",
                        "Forbidden: spec is immutable after creation except resources.requests "
                        "and volumeAttributesClassName for bound claims",
                        "FieldValueForbidden"}});
}

}  // namespace

void Cluster::ApplyDefaults(const ResourceType& type, json* obj) const {
  json& meta = (*obj)["metadata"];
  if (!meta.is_object()) meta = json::object();
  (*obj)["apiVersion"] = type.ApiVersion();
  (*obj)["kind"] = type.kind;
  if (type.resource == "deployments") {
    json& spec = (*obj)["spec"];
    if (!spec.is_object()) spec = json::object();
    if (!spec.contains("replicas")) spec["replicas"] = 1;
    if (!spec.contains("revisionHistoryLimit")) spec["revisionHistoryLimit"] = 10;
    if (!spec.contains("progressDeadlineSeconds")) spec["progressDeadlineSeconds"] = 600;
    if (!spec.contains("strategy")) {
      spec["strategy"] = {{"type", "RollingUpdate"},
                          {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", "25%"}}}};
    }
    if (spec.contains("template") && spec["template"].is_object()) {
      DefaultPodSpec(&spec["template"]["spec"]);
      if (!spec["template"].contains("metadata")) spec["template"]["metadata"] = json::object();
    }
    if (!obj->contains("status")) (*obj)["status"] = json::object();
  } else if (type.resource == "replicasets" || type.resource == "statefulsets") {
    json& spec = (*obj)["spec"];
    if (!spec.contains("replicas")) spec["replicas"] = 1;
    if (spec.contains("template")) DefaultPodSpec(&spec["template"]["spec"]);
    if (type.resource == "statefulsets") DefaultStatefulSetSpec(&spec);  // workloads.h
  } else if (type.resource == "pods") {
    DefaultPodSpec(&(*obj)["spec"]);
    if (!obj->contains("status") || !(*obj)["status"].is_object()) {
      (*obj)["status"] = {{"phase", "Pending"}};
    }
  } else if (type.resource == "namespaces") {
    (*obj)["status"] = {{"phase", "Active"}};
    meta["labels"]["kubernetes.io/metadata.name"] = meta.value("name", "");
  } else if (type.resource == "secrets") {
    if (!obj->contains("type")) (*obj)["type"] = "Opaque";
  } else if (type.resource == "services") {
    json& spec = (*obj)["spec"];
    if (!spec.contains("type")) spec["type"] = "ClusterIP";
    if (!spec.contains("clusterIP") && spec["type"] != "ExternalName")
      spec["clusterIP"] = "10.96.0." + std::to_string(10 + (Fnv32a(meta.value("name", "")) % 200));
  }
  DefaultOtherKinds(
      type, type.resource == "persistentvolumeclaims" ? DefaultStorageClass(store_) : "", obj);
}

absl::Status Cluster::Validate(const ResourceType& type, const json& obj) const {
  std::vector<FieldCause> causes;
  std::string name = obj["metadata"].value("name", "");
  if (name.empty()) {
    causes.push_back({"metadata.name", "Required value: name or generateName is required",
                      "FieldValueRequired"});
  } else if (!RE2::FullMatch(name, DnsSubdomain()) || name.size() > 253) {
    causes.push_back(
        {"metadata.name",
         absl::StrCat("Invalid value: \"", name,
                      "\": a lowercase RFC 1123 subdomain must consist of lower case "
                      "alphanumeric characters, '-' or '.', and must start and end with an "
                      "alphanumeric character (e.g. 'example.com', regex used for validation is "
                      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
         "FieldValueInvalid"});
  }
  if (type.resource == "deployments" || type.resource == "replicasets") {
    const json& spec = obj.contains("spec") ? obj["spec"] : json::object();
    if (spec.contains("replicas") && spec["replicas"].is_number() &&
        spec["replicas"].get<int64_t>() < 0) {
      causes.push_back({"spec.replicas",
                        absl::StrCat("Invalid value: ", spec["replicas"].dump(),
                                     ": must be greater than or equal to 0"),
                        "FieldValueInvalid"});
    }
    if (!spec.contains("selector") || !spec["selector"].is_object() || spec["selector"].empty()) {
      causes.push_back({"spec.selector", "Required value", "FieldValueRequired"});
    } else {
      json labels = spec.contains("template") && spec["template"].contains("metadata")
                        ? spec["template"]["metadata"].value("labels", json::object())
                        : json::object();
      if (!LabelSelector::FromJson(spec["selector"]).Matches(labels)) {
        causes.push_back({"spec.template.metadata.labels",
                          absl::StrCat("Invalid value: ", LabelsGoMap(labels),
                                       ": `selector` does not match template `labels`"),
                          "FieldValueInvalid"});
      }
    }
    if (!spec.contains("template") || !spec["template"].contains("spec")) {
      causes.push_back({"spec.template.spec.containers", "Required value", "FieldValueRequired"});
    } else {
      ValidatePodSpec(spec["template"]["spec"], "spec.template.spec", &causes);
    }
  } else if (type.resource == "pods") {
    ValidatePodSpec(obj.contains("spec") ? obj["spec"] : json::object(), "spec", &causes);
  }
  ValidateOtherKinds(type, obj, &causes);
  if (!causes.empty()) return InvalidError(KindGroup(type), name, causes);
  return absl::OkStatus();
}

absl::StatusOr<json> Cluster::CreateObject(const ResourceType& type, const std::string& ns,
                                           json body, const WriteOptions& opts) {
  if (!body.is_object()) return BadRequestError("the body of the request must be a JSON object");
  if (body.contains("kind") && body["kind"] != type.kind) {
    return BadRequestError(absl::StrCat("the kind \"", body.value("kind", ""),
                                        "\" does not match the URL's resource ", type.resource));
  }
  json& meta = body["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (type.namespaced) {
    std::string body_ns = meta.value("namespace", "");
    if (!body_ns.empty() && body_ns != ns) {
      return BadRequestError(
          "the namespace of the provided object does not match the namespace "
          "sent on the request");
    }
    meta["namespace"] = ns;
    if (!store_.Get("namespaces", "", ns)) return NotFoundError("namespaces", ns);
  } else {
    meta.erase("namespace");
  }
  meta.erase("resourceVersion");
  meta.erase("uid");
  meta.erase("managedFields");
  ApplyDefaults(type, &body);
  if (meta.value("name", "").empty() && !meta.value("generateName", "").empty()) {
    meta["name"] = meta["generateName"].get<std::string>() + RandomSuffix(5);
  }
  RETURN_IF_ERROR(Validate(type, body));
  auto created = store_.Create(StorageResource(type), body, opts.dry_run);
  if (!created.ok()) {
    if (absl::IsAlreadyExists(created.status())) {
      return AlreadyExistsError(type.GroupResource(), meta.value("name", ""));
    }
    return BadRequestError(std::string(created.status().message()));
  }
  if (!opts.field_manager.empty() && !opts.dry_run) {
    // Creation by a non-apply manager owns nothing for SSA conflict purposes.
  }
  return *created;
}

absl::StatusOr<json> Cluster::Finish(const ResourceType& type, const std::string& ns, json updated,
                                     const json& current, const WriteOptions& opts,
                                     bool status_only) {
  const std::string name = current["metadata"].value("name", "");
  if (!updated.is_object()) return BadRequestError("the patched object is not a JSON object");
  json& meta = updated["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (meta.value("name", name) != name) {
    return BadRequestError(absl::StrCat("the name of the object (", meta.value("name", ""),
                                        ") does not match the name on the URL (", name, ")"));
  }
  meta["name"] = name;
  if (type.namespaced) meta["namespace"] = ns;
  std::string expected_rv = meta.value("resourceVersion", "");
  if (expected_rv.empty()) expected_rv = current["metadata"].value("resourceVersion", "");
  meta.erase("managedFields");
  if (status_only) {
    json result = current;
    if (updated.contains("status")) result["status"] = updated["status"];
    result["metadata"]["resourceVersion"] = expected_rv;
    updated = result;
  } else if (HasStatusSubresource(type) && current.contains("status")) {
    updated["status"] = current["status"];
  }
  ApplyDefaults(type, &updated);
  RETURN_IF_ERROR(Validate(type, updated));
  if (!status_only) RETURN_IF_ERROR(ValidateUpdate(type, current, updated));
  auto result = store_.Update(StorageResource(type), updated, expected_rv, opts.dry_run);
  if (!result.ok()) {
    if (absl::IsAborted(result.status())) return ConflictError(type.GroupResource(), name);
    if (absl::IsNotFound(result.status())) return NotFoundError(type.GroupResource(), name);
    return result.status();
  }
  return *result;
}

absl::StatusOr<json> Cluster::UpdateObject(const ResourceType& type, const std::string& ns,
                                           const std::string& name, json body,
                                           const WriteOptions& opts, bool status_only) {
  if (!body.is_object()) return BadRequestError("the body of the request must be a JSON object");
  bool user_rv = body.contains("metadata") && body["metadata"].is_object() &&
                 !body["metadata"].value("resourceVersion", "").empty();
  return RetryOnRace(user_rv, [&]() -> absl::StatusOr<json> {
    ASSIGN_OR_RETURN(json current, Get(type, ns, name));
    return Finish(type, ns, body, current, opts, status_only);
  });
}

absl::StatusOr<json> Cluster::PatchObject(const ResourceType& type, const std::string& ns,
                                          const std::string& name, const std::string& content_type,
                                          const std::string& body, const WriteOptions& opts,
                                          bool status_only, bool* created) {
  *created = false;
  std::string ct = content_type.substr(0, content_type.find(';'));
  if (ct == "application/apply-patch+yaml") {
    return RetryOnRace(false,
                       [&]() { return ServerSideApply(type, ns, name, body, opts, created); });
  }
  if (ct != "application/strategic-merge-patch+json" && ct != "application/merge-patch+json" &&
      ct != "application/json-patch+json") {
    return ApiError(415, "UnsupportedMediaType",
                    absl::StrCat("the body of the request was in an unknown format - accepted "
                                 "media types include: application/json-patch+json, "
                                 "application/merge-patch+json, "
                                 "application/apply-patch+yaml, "
                                 "application/strategic-merge-patch+json"));
  }
  json patch = json::parse(body, nullptr, false);
  if (patch.is_discarded()) {
    return BadRequestError(
        absl::StrCat("error decoding patch: invalid JSON: ", body.substr(0, 80)));
  }
  bool user_rv = false;
  if (patch.is_array()) {
    for (const json& op : patch) {
      user_rv |= op.is_object() && op.value("path", "") == "/metadata/resourceVersion";
    }
  } else if (patch.is_object() && patch.contains("metadata") && patch["metadata"].is_object()) {
    user_rv = patch["metadata"].contains("resourceVersion");
  }
  return RetryOnRace(user_rv, [&]() -> absl::StatusOr<json> {
    ASSIGN_OR_RETURN(json current, Get(type, ns, name));
    json patched;
    if (ct == "application/merge-patch+json") {
      patched = MergePatch(current, patch);
    } else if (ct == "application/json-patch+json") {
      auto r = JsonPatch(current, patch);
      if (!r.ok()) return ApiError(422, "Invalid", std::string(r.status().message()));
      patched = *r;
    } else {
      auto r = StrategicMergePatch(current, patch);
      if (!r.ok()) return BadRequestError(std::string(r.status().message()));
      patched = *r;
    }
    // A patch that sets metadata.resourceVersion makes it a precondition.
    std::string patched_rv =
        patched.contains("metadata") ? patched["metadata"].value("resourceVersion", "") : "";
    if (!patched_rv.empty() && patched_rv != current["metadata"].value("resourceVersion", "")) {
      return ConflictError(type.GroupResource(), name);
    }
    return Finish(type, ns, std::move(patched), current, opts, status_only);
  });
}

absl::StatusOr<json> Cluster::ServerSideApply(const ResourceType& type, const std::string& ns,
                                              const std::string& name, const std::string& body,
                                              const WriteOptions& opts, bool* created) {
  if (opts.field_manager.empty()) {
    return InvalidError(
        "PatchOptions.meta.k8s.io", "",
        {{"fieldManager", "Required value: is required for apply patch", "FieldValueRequired"}});
  }
  auto parsed = ParseManifests(body, "apply patch");
  if (!parsed.ok() || parsed->size() != 1) {
    return BadRequestError(absl::StrCat(
        "error decoding YAML: ",
        parsed.ok() ? "want exactly one object" : std::string(parsed.status().message())));
  }
  json applied = (*parsed)[0];
  if (!applied["metadata"].is_object() || applied["metadata"].value("name", "") != name) {
    return BadRequestError(absl::StrCat(
        "the name of the object (",
        applied["metadata"].is_object() ? applied["metadata"].value("name", "") : std::string(),
        ") does not match the name on the URL (", name, ")"));
  }
  if (applied.value("kind", "") != type.kind ||
      applied.value("apiVersion", "") != type.ApiVersion()) {
    return BadRequestError(absl::StrCat(
        "the apply patch's apiVersion/kind ", applied.value("apiVersion", ""), "/",
        applied.value("kind", ""), " does not match ", type.ApiVersion(), "/", type.kind));
  }
  std::set<std::string> paths;
  FlattenPaths(applied, "", "", &paths);
  for (const char* skip : {".apiVersion", ".kind", ".metadata.name", ".metadata.namespace"}) {
    paths.erase(skip);
  }
  auto current = Get(type, ns, name);
  if (!current.ok()) {
    if (!absl::IsNotFound(current.status())) return current.status();
    ASSIGN_OR_RETURN(json obj, CreateObject(type, ns, applied, opts));
    if (!opts.dry_run && opts.field_manager != kLoaderManager) {
      absl::MutexLock lock(&ssa_mu_);
      ownership_[obj["metadata"]["uid"]][opts.field_manager] = paths;
    }
    *created = true;
    return obj;
  }
  std::string uid = (*current)["metadata"].value("uid", "");
  std::map<std::string, std::set<std::string>> owners;
  {
    absl::MutexLock lock(&ssa_mu_);
    owners = ownership_[uid];
  }
  // Conflicts: another apply manager owns a path whose live value differs from ours.
  std::map<std::string, std::vector<std::string>> conflicts;
  for (const auto& p : paths) {
    for (auto& [mgr, owned] : owners) {
      if (mgr == opts.field_manager || !owned.count(p)) continue;
      if (ValueAtPath(*current, p) != ValueAtPath(applied, p)) conflicts[mgr].push_back(p);
    }
  }
  if (!conflicts.empty() && !opts.force) {
    int total = 0;
    json causes = json::array();
    std::vector<std::string> lines;
    for (auto& [mgr, ps] : conflicts) {
      for (const auto& p : ps) {
        ++total;
        causes.push_back({{"reason", "FieldManagerConflict"},
                          {"message", absl::StrCat("conflict with \"", mgr, "\"")},
                          {"field", p}});
        lines.push_back(
            absl::StrCat("conflict with \"", mgr, "\" using ", type.ApiVersion(), ": ", p));
      }
    }
    std::string msg = total == 1 ? absl::StrCat("Apply failed with 1 conflict: ", lines[0])
                                 : absl::StrCat("Apply failed with ", total,
                                                " conflicts: ", absl::StrJoin(lines, "\n"));
    return ApiError(409, "Conflict", msg,
                    {{"name", name}, {"kind", type.resource}, {"causes", causes}});
  }
  // Merge the applied intent; drop fields this manager applied before and no longer does
  // (unless another manager owns them).
  auto merged = StrategicMergePatch(*current, applied);
  if (!merged.ok()) return BadRequestError(std::string(merged.status().message()));
  json result = *merged;
  if (owners.count(opts.field_manager)) {
    for (const auto& old_path : owners[opts.field_manager]) {
      if (paths.count(old_path)) continue;
      bool other = false;
      for (auto& [mgr, owned] : owners) other |= mgr != opts.field_manager && owned.count(old_path);
      if (!other) RemovePlainPath(&result, old_path);
    }
  }
  result["metadata"]["resourceVersion"] = (*current)["metadata"].value("resourceVersion", "");
  ASSIGN_OR_RETURN(json stored, Finish(type, ns, result, *current, opts, false));
  if (!opts.dry_run && opts.field_manager != kLoaderManager) {
    absl::MutexLock lock(&ssa_mu_);
    auto& own = ownership_[uid];
    if (opts.force) {
      for (auto& [mgr, owned] : own) {
        if (mgr == opts.field_manager) continue;
        for (const auto& p : paths) owned.erase(p);
      }
    }
    own[opts.field_manager] = paths;
  }
  return stored;
}

absl::StatusOr<json> Cluster::DeleteObject(const ResourceType& type, const std::string& ns,
                                           const std::string& name, const WriteOptions& opts) {
  auto deleted =
      store_.Delete(StorageResource(type), type.namespaced ? ns : "", name, opts.dry_run);
  if (!deleted.ok()) return NotFoundError(type.GroupResource(), name);
  if (!opts.dry_run) {
    absl::MutexLock lock(&ssa_mu_);
    ownership_.erase((*deleted)["metadata"].value("uid", ""));
  }
  return *deleted;
}

}  // namespace remediator::kubesim
