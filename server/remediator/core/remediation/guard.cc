#include "server/remediator/core/remediation/guard.h"

#include <functional>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/redact.h"
#include "server/remediator/core/manifest/field_path.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/remediation/exec_content.h"
#include "server/remediator/core/remediation/quantity.h"

namespace remediator::remediation {
namespace {

using json = nlohmann::json;
using manifest::FieldPath;
using manifest::FormatFieldPath;
using manifest::LeafChange;
using manifest::PathSegment;
using manifest::Str;

// ---- Paths and pod specs ------------------------------------------------------------------

// Pattern segments: a literal key, "*" (any key), "[*]" (any list element), "**" (the rest).
bool Matches(const std::vector<std::string>& pattern, size_t p, const FieldPath& path, size_t i) {
  if (p == pattern.size()) return i == path.size();
  if (pattern[p] == "**") return true;
  if (i == path.size()) return false;
  const PathSegment& s = path[i];
  if (pattern[p] == "[*]") {
    return s.kind != PathSegment::Kind::kKey && Matches(pattern, p + 1, path, i + 1);
  }
  if (s.kind != PathSegment::Kind::kKey) return false;
  if (pattern[p] != "*" && pattern[p] != s.key) return false;
  return Matches(pattern, p + 1, path, i + 1);
}

// "pod.containers[*].env[*].value" -> {spec, template, spec, containers, [*], env, [*], value}.
std::vector<std::string> CompilePattern(const std::string& pattern, const std::string& pod) {
  std::string text = pattern;
  if (absl::StartsWith(text, "pod.")) {
    if (pod.empty()) return {};
    text = pod + text.substr(3);
  }
  std::vector<std::string> out;
  for (const std::string& part : std::vector<std::string>(absl::StrSplit(text, '.'))) {
    size_t bracket = part.find("[*]");
    if (bracket == std::string::npos) {
      out.push_back(part);
      continue;
    }
    out.push_back(part.substr(0, bracket));
    for (size_t at = bracket; at != std::string::npos; at = part.find("[*]", at + 3)) {
      out.push_back("[*]");
    }
  }
  return out;
}

bool HasKey(const FieldPath& path, const char* key) {
  for (const PathSegment& s : path) {
    if (s.kind == PathSegment::Kind::kKey && s.key == key) return true;
  }
  return false;
}

// The key `back` segments from the end ("" when that segment is not a key).
std::string KeyFromEnd(const FieldPath& path, size_t back) {
  if (path.size() < back + 1) return "";
  const PathSegment& s = path[path.size() - 1 - back];
  return s.kind == PathSegment::Kind::kKey ? s.key : "";
}

// The selector value `back` segments from the end ("env[name=X]" -> "X").
std::string SelectorFromEnd(const FieldPath& path, size_t back) {
  if (path.size() < back + 1) return "";
  const PathSegment& s = path[path.size() - 1 - back];
  return s.kind == PathSegment::Kind::kSelector ? s.value : "";
}

bool IsTrue(const json& value) { return value.is_boolean() && value.get<bool>(); }

const json& Get(const json& object, std::initializer_list<const char*> keys) {
  static const json kNull;
  const json* node = &object;
  for (const char* key : keys) {
    if (!node->is_object() || !node->contains(key)) return kNull;
    node = &(*node)[key];
  }
  return *node;
}

// The value at a dotted path of plain keys ("spec.template.spec"), or null.
const json& AtPath(const json& doc, const std::string& dotted) {
  static const json kNull;
  if (dotted.empty()) return kNull;
  const json* node = &doc;
  for (const std::string& key : std::vector<std::string>(absl::StrSplit(dotted, '.'))) {
    if (!node->is_object() || !node->contains(key)) return kNull;
    node = &(*node)[key];
  }
  return *node;
}

// Every container and init container of the pod spec, with "containers[name=x]".
void ForEachContainer(const json& pod,
                      const std::function<void(const std::string&, const json&)>& f) {
  for (const char* list : {"containers", "initContainers"}) {
    const json& containers = Get(pod, {list});
    if (!containers.is_array()) continue;
    for (const json& c : containers) {
      if (c.is_object()) f(absl::StrCat(list, "[name=", Str(c, "name", "?"), "]"), c);
    }
  }
}

const json* FindNamed(const json& list, const std::string& name) {
  if (!list.is_array()) return nullptr;
  for (const json& item : list) {
    if (item.is_object() && Str(item, "name") == name) return &item;
  }
  return nullptr;
}

bool LooksLikeSecretName(const std::string& name) {
  const std::string upper = absl::AsciiStrToUpper(name);
  for (const char* word : {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "API_KEY",
                           "PRIVATE_KEY", "CREDENTIAL", "ACCESS_KEY"}) {
    if (upper.find(word) != std::string::npos) return true;
  }
  return false;
}

// ---- The rules ----------------------------------------------------------------------------

struct GuardInput {
  const json& before;
  const json& after;
  const std::vector<LeafChange>& changes;
  std::string pod_prefix;
  const std::vector<std::vector<std::string>>& patterns;
  const GuardPolicy& policy;
  const GuardBounds& bounds;
  const ClusterFacts* facts;
  const json& pod_before;
  const json& pod_after;
};

class Findings {
 public:
  void Refuse(const std::string& rule, const std::string& path, const std::string& detail) {
    refusals_.push_back(absl::StrCat(rule, ": ", path, ": ", detail));
  }
  void Review(const std::string& rule, const std::string& path, const std::string& detail) {
    reviews_.push_back(absl::StrCat(rule, ": ", path, ": ", detail));
  }
  v1::GuardVerdict Verdict() const {
    v1::GuardVerdict verdict;
    verdict.set_allowed(refusals_.empty() && reviews_.empty());
    verdict.set_review_required(refusals_.empty() && !reviews_.empty());
    for (const auto& v : refusals_) verdict.add_violations(v);
    for (const auto& v : reviews_) verdict.add_violations(v);
    return verdict;
  }

 private:
  std::vector<std::string> refusals_;
  std::vector<std::string> reviews_;
};

using Rule = void (*)(const GuardInput&, Findings&);

void Identity(const GuardInput& in, Findings& out) {
  for (const auto& keys : std::vector<std::vector<const char*>>{
           {"apiVersion"}, {"kind"}, {"metadata", "name"}, {"metadata", "namespace"}}) {
    const json* b = &in.before;
    const json* a = &in.after;
    std::string path;
    for (const char* key : keys) {
      b = b != nullptr && b->is_object() && b->contains(key) ? &(*b)[key] : nullptr;
      a = a != nullptr && a->is_object() && a->contains(key) ? &(*a)[key] : nullptr;
      path += (path.empty() ? "" : ".") + std::string(key);
    }
    const bool same = (b == nullptr && a == nullptr) || (b != nullptr && a != nullptr && *a == *b);
    if (!same) out.Refuse("identity", path, "the edit must not change which object it is");
  }
}

void NoChange(const GuardInput& in, Findings& out) {
  if (in.changes.empty()) out.Refuse("no-change", "-", "the edit changes nothing");
}

// Status and metadata other than labels and annotations do not change what runs (identity is
// its own rule); everything else must match the allow-list.
void AllowedPath(const GuardInput& in, Findings& out) {
  for (const LeafChange& change : in.changes) {
    const std::string path = FormatFieldPath(change.path);
    const std::string root = change.path.empty() ? "" : change.path[0].key;
    if (root == "status") continue;
    if (root == "metadata" && !absl::StartsWith(path, "metadata.labels") &&
        !absl::StartsWith(path, "metadata.annotations")) {
      continue;
    }
    bool allowed = false;
    for (const auto& pattern : in.patterns)
      allowed = allowed || Matches(pattern, 0, change.path, 0);
    if (!allowed) {
      out.Refuse("allowed-path", path,
                 change.after.is_null() ? "this field may not be removed by a fix"
                                        : "this field may not be changed by a fix");
    }
  }
}

void ResourceBounds(const GuardInput& in, Findings& out) {
  for (const LeafChange& change : in.changes) {
    const std::string leaf = KeyFromEnd(change.path, 0);
    const bool resources = KeyFromEnd(change.path, 2) == "resources";
    if (!resources || (leaf != "memory" && leaf != "cpu") || change.after.is_null()) continue;
    const std::string path = FormatFieldPath(change.path);
    absl::StatusOr<double> now = ParseQuantity(change.after);
    if (!now.ok()) {
      out.Refuse("quantity", path, std::string(now.status().message()));
      continue;
    }
    const bool memory = leaf == "memory";
    const double factor = memory ? in.bounds.max_memory_factor : in.bounds.max_cpu_factor;
    const std::string& cap_text = memory ? in.bounds.max_memory : in.bounds.max_cpu;
    const std::string rule = memory ? "bounded-memory" : "bounded-cpu";
    absl::StatusOr<double> floor = ParseQuantity(in.bounds.memory_floor);
    const bool under_floor = memory && floor.ok() && *now <= *floor;
    if (!change.before.is_null() && !under_floor) {
      absl::StatusOr<double> old = ParseQuantity(change.before);
      if (old.ok() && *old > 0 && *now > *old * factor) {
        out.Refuse(rule, path,
                   absl::StrCat(change.after.dump(), " is more than ", factor, " x ",
                                change.before.dump()));
      }
    }
    absl::StatusOr<double> cap = ParseQuantity(cap_text);
    if (!cap.ok() || *now > *cap) {
      out.Refuse(rule, path, absl::StrCat(change.after.dump(), " is above the cap ", cap_text));
    }
  }
}

void BoundedReplicas(const GuardInput& in, Findings& out) {
  for (const LeafChange& change : in.changes) {
    if (FormatFieldPath(change.path) != "spec.replicas") continue;
    const int old_replicas = change.before.is_number() ? change.before.get<int>() : 1;
    const int new_replicas = change.after.is_number_integer() ? change.after.get<int>() : -1;
    if (new_replicas < (old_replicas >= 1 ? 1 : 0) || new_replicas > in.bounds.max_replicas) {
      out.Refuse("bounded-replicas", "spec.replicas",
                 absl::StrCat(change.after.dump(), " is outside 1..", in.bounds.max_replicas));
    }
  }
}

// "docker.io/library/nginx" -> {"docker.io", "library/nginx"}; no registry host -> {"", path}.
std::pair<std::string, std::string> SplitRegistry(const std::string& repository) {
  const size_t slash = repository.find('/');
  if (slash == std::string::npos) return {"", repository};
  const std::string first = repository.substr(0, slash);
  if (first.find('.') == std::string::npos && first.find(':') == std::string::npos &&
      first != "localhost") {
    return {"", repository};
  }
  return {first, repository.substr(slash + 1)};
}

void ImageRepositoryRule(const GuardInput& in, Findings& out) {
  for (const LeafChange& change : in.changes) {
    if (KeyFromEnd(change.path, 0) != "image" || !change.before.is_string()) continue;
    const std::string path = FormatFieldPath(change.path);
    if (!change.after.is_string()) {
      out.Refuse("image-repository", path, "the image must stay set");
      continue;
    }
    const std::string from = ImageRepository(change.before.get<std::string>());
    const std::string to = ImageRepository(change.after.get<std::string>());
    if (from == to) continue;
    const auto [from_host, from_path] = SplitRegistry(from);
    const auto [to_host, to_path] = SplitRegistry(to);
    bool mirror = false;
    for (const std::string& extra : in.policy.extra_registries) {
      mirror = mirror || (to_host == extra && to_path == from_path);
    }
    if (!mirror) {
      out.Refuse("image-repository", path,
                 absl::StrCat("from ", from, " to ", to, ": only the tag or digest may change"));
    }
  }
}

bool IsEnvValue(const FieldPath& path) {
  return KeyFromEnd(path, 0) == "value" && !SelectorFromEnd(path, 1).empty() &&
         KeyFromEnd(path, 2) == "env";
}

void PlaintextSecret(const GuardInput& in, Findings& out) {
  for (const LeafChange& change : in.changes) {
    if (!IsEnvValue(change.path) || change.after.is_null()) continue;
    const std::string name = SelectorFromEnd(change.path, 1);
    const std::string value =
        change.after.is_string() ? change.after.get<std::string>() : change.after.dump();
    if (LooksLikeSecretName(name) || ContainsSecret(value)) {
      out.Refuse("plaintext-secret", FormatFieldPath(change.path),
                 "secrets must come from a Secret (valueFrom.secretKeyRef), not a literal value");
    }
  }
}

// command, args, and any exec or lifecycle hook: what a container runs.
bool IsExecPath(const FieldPath& path) {
  const std::string leaf = KeyFromEnd(path, 0);
  const bool container_field =
      (leaf == "command" || leaf == "args") && path.size() >= 2 &&
      path[path.size() - 2].kind != PathSegment::Kind::kKey;  // containers[name=x].command
  return container_field || HasKey(path, "exec") || HasKey(path, "lifecycle");
}

void ExecContent(const GuardInput& in, Findings& out) {
  for (const LeafChange& change : in.changes) {
    const bool exec = IsExecPath(change.path);
    const bool env = IsEnvValue(change.path);
    if ((!exec && !env) || change.after.is_null()) continue;
    const std::string path = FormatFieldPath(change.path);
    const std::vector<std::string> old_tokens = CommandTokens(change.before);
    const std::vector<std::string> new_tokens = CommandTokens(change.after);
    if (std::optional<std::string> why = FetchAndExecReason(old_tokens, new_tokens)) {
      out.Refuse("fetch-and-exec", path, *why);
      continue;
    }
    if (exec) {
      if (std::optional<std::string> why = NotATokenCorrection(old_tokens, new_tokens)) {
        out.Review("exec-review", path, *why);
      }
      continue;
    }
    const std::string value =
        change.after.is_string() ? change.after.get<std::string>() : change.after.dump();
    if (std::optional<std::string> why = CommandLikeValue(value)) {
      out.Review("exec-review", path, absl::StrCat("the value ", *why));
    }
  }
}

void CodeLoadingEnv(const GuardInput& in, Findings& out) {
  for (const LeafChange& change : in.changes) {
    if (change.after.is_null()) continue;
    const std::string leaf = KeyFromEnd(change.path, 0);
    const std::string name = SelectorFromEnd(change.path, 1);
    if (KeyFromEnd(change.path, 2) != "env" || name.empty()) continue;
    if (IsCodeLoadingVariable(name)) {
      out.Refuse("code-loading-env", FormatFieldPath(change.path),
                 absl::StrCat(name, " makes the runtime load or run code"));
      continue;
    }
    if (leaf == "value" && change.after.is_string()) {
      if (std::optional<std::string> why = JvmCodeOption(change.after.get<std::string>())) {
        out.Refuse("code-loading-env", FormatFieldPath(change.path), *why);
      }
    }
  }
}

bool FactsKnown(const GuardInput& in, Findings& out, const std::string& rule,
                const std::string& path) {
  if (in.facts != nullptr && in.facts->known) return true;
  out.Refuse(rule, path, "the cluster's facts could not be read, so this cannot be checked");
  return false;
}

// env[name=X].valueFrom.{secretKeyRef,configMapKeyRef}: the referenced key must exist.
void ValueFrom(const GuardInput& in, Findings& out) {
  std::set<std::string> checked;
  for (const LeafChange& change : in.changes) {
    if (!HasKey(change.path, "valueFrom") || change.after.is_null()) continue;
    FieldPath ref_path(change.path.begin(), change.path.end() - 1);
    const std::string path = FormatFieldPath(ref_path);
    if (!checked.insert(path).second) continue;
    if (!FactsKnown(in, out, "value-from", path)) continue;
    const json* ref = manifest::FindField(in.after, ref_path);
    const std::string kind = KeyFromEnd(ref_path, 0);
    if (ref == nullptr || !ref->is_object() ||
        (kind != "secretKeyRef" && kind != "configMapKeyRef")) {
      out.Refuse("value-from", path, "only secretKeyRef and configMapKeyRef may be set");
      continue;
    }
    const auto& objects =
        kind == "secretKeyRef" ? in.facts->secret_keys : in.facts->config_map_keys;
    const std::string name = Str(*ref, "name");
    const std::string key = Str(*ref, "key");
    const auto found = objects.find(name);
    if (found == objects.end() || found->second.count(key) == 0) {
      out.Refuse(
          "value-from", path,
          absl::StrCat("key \"", key, "\" of ", kind == "secretKeyRef" ? "Secret " : "ConfigMap ",
                       "\"", name, "\" does not exist in the workload's namespace"));
    }
  }
}

std::optional<std::string> BadVolume(const GuardInput& in, const json& volume) {
  const json& empty_dir = Get(volume, {"emptyDir"});
  if (empty_dir.is_object()) {
    const json& size = Get(empty_dir, {"sizeLimit"});
    if (!Get(empty_dir, {"medium"}).is_null()) return "an emptyDir may not set a medium";
    if (size.is_null()) return "an emptyDir needs a sizeLimit";
    absl::StatusOr<double> bytes = ParseQuantity(size);
    absl::StatusOr<double> cap = ParseQuantity(in.bounds.max_empty_dir);
    if (!bytes.ok() || !cap.ok() || *bytes > *cap || *bytes <= 0) {
      return absl::StrCat("sizeLimit ", size.dump(), " is not within 0..", in.bounds.max_empty_dir);
    }
    return std::nullopt;
  }
  for (const char* kind : {"configMap", "secret"}) {
    const json& source = Get(volume, {kind});
    if (!source.is_object()) continue;
    if (in.facts == nullptr || !in.facts->known) return "the cluster's facts could not be read";
    const bool secret = std::string(kind) == "secret";
    const std::string name = Str(source, secret ? "secretName" : "name");
    const auto& objects = secret ? in.facts->secret_keys : in.facts->config_map_keys;
    if (objects.count(name) == 0) {
      return absl::StrCat(kind, " \"", name, "\" does not exist in the workload's namespace");
    }
    return std::nullopt;
  }
  return "only emptyDir (with a sizeLimit), configMap and secret volumes may be added";
}

void VolumeSource(const GuardInput& in, Findings& out) {
  const json& volumes = Get(in.pod_after, {"volumes"});
  if (!volumes.is_array()) return;
  const json& old_volumes = Get(in.pod_before, {"volumes"});
  for (const json& volume : volumes) {
    const json* old = FindNamed(old_volumes, Str(volume, "name"));
    if (old != nullptr && *old == volume) continue;
    if (std::optional<std::string> why = BadVolume(in, volume)) {
      out.Refuse("volume-source",
                 absl::StrCat(in.pod_prefix, ".volumes[name=", Str(volume, "name", "?"), "]"),
                 *why);
    }
  }
}

bool SystemPath(const std::string& mount_path) {
  std::string p = mount_path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.empty() || p == "/") return true;
  for (const char* root : {"/proc", "/sys", "/dev", "/var/run/secrets", "/run/secrets", "/bin",
                           "/sbin", "/lib", "/lib64", "/usr/bin", "/usr/sbin", "/usr/lib",
                           "/etc/ld.so.preload", "/etc/passwd", "/etc/shadow"}) {
    const std::string r = root;
    if (p == r || absl::StartsWith(p, r + "/")) return true;
  }
  return absl::StrContains(p, "..");
}

void VolumeMount(const GuardInput& in, Findings& out) {
  ForEachContainer(in.pod_after, [&](const std::string& where, const json& c) {
    const std::string list = where.substr(0, where.find('['));
    const json* old = FindNamed(Get(in.pod_before, {list.c_str()}), Str(c, "name"));
    const json& mounts = Get(c, {"volumeMounts"});
    if (!mounts.is_array()) return;
    for (const json& m : mounts) {
      bool existed = false;
      if (old != nullptr && Get(*old, {"volumeMounts"}).is_array()) {
        for (const json& o : (*old)["volumeMounts"]) existed = existed || o == m;
      }
      if (existed) continue;
      const std::string path =
          absl::StrCat(in.pod_prefix, ".", where, ".volumeMounts[", Str(m, "mountPath"), "]");
      if (FindNamed(Get(in.pod_after, {"volumes"}), Str(m, "name")) == nullptr) {
        out.Refuse("volume-mount", path,
                   absl::StrCat("names no volume of the pod (\"", Str(m, "name"), "\")"));
      }
      if (SystemPath(Str(m, "mountPath")) || absl::StrContains(Str(m, "subPath"), "..")) {
        out.Refuse("volume-mount", path, "may not mount over a system path");
      }
    }
  });
}

bool SomeNodeHas(const ClusterFacts& facts, const std::string& key, const std::string& value) {
  for (const NodeFacts& node : facts.nodes) {
    const auto it = node.labels.find(key);
    if (it != node.labels.end() && it->second == value) return true;
  }
  return false;
}

// Why a node affinity term's expressions can match no node, or nullopt.
std::optional<std::string> UnmatchableExpression(const ClusterFacts& facts, const json& term) {
  const json& expressions = Get(term, {"matchExpressions"});
  if (!expressions.is_array()) return std::nullopt;
  for (const json& e : expressions) {
    const std::string key = Str(e, "key");
    const std::string op = Str(e, "operator");
    if (op == "In") {
      for (const json& v : Get(e, {"values"})) {
        if (!v.is_string() || !SomeNodeHas(facts, key, v.get<std::string>())) {
          return absl::StrCat("no node has the label ", key, "=", v.dump());
        }
      }
    } else if (op == "Exists") {
      bool any = false;
      for (const NodeFacts& node : facts.nodes) any = any || node.labels.count(key) > 0;
      if (!any) return absl::StrCat("no node has a label ", key);
    } else if (op != "NotIn" && op != "DoesNotExist") {
      return absl::StrCat("operator \"", op, "\" is not checked by the guard");
    }
  }
  return std::nullopt;
}

void NodeSelector(const GuardInput& in, Findings& out) {
  bool affinity_changed = false;
  for (const LeafChange& change : in.changes) {
    if (HasKey(change.path, "nodeAffinity")) affinity_changed = true;
    if (!HasKey(change.path, "nodeSelector") || change.after.is_null()) continue;
    const std::string path = FormatFieldPath(change.path);
    if (!FactsKnown(in, out, "node-selector", path)) continue;
    const std::string key = KeyFromEnd(change.path, 0);
    if (!change.after.is_string() || !SomeNodeHas(*in.facts, key, change.after)) {
      out.Refuse("node-selector", path,
                 absl::StrCat("no node has the label ", key, "=", change.after.dump()));
    }
  }
  if (!affinity_changed) return;
  const std::string path = in.pod_prefix + ".affinity.nodeAffinity";
  if (!FactsKnown(in, out, "node-selector", path)) return;
  const json& affinity = Get(in.pod_after, {"affinity", "nodeAffinity"});
  const json& required =
      Get(affinity, {"requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"});
  std::vector<const json*> terms;
  if (required.is_array()) {
    for (const json& t : required) terms.push_back(&t);
  }
  const json& preferred = Get(affinity, {"preferredDuringSchedulingIgnoredDuringExecution"});
  if (preferred.is_array()) {
    for (const json& p : preferred) terms.push_back(&Get(p, {"preference"}));
  }
  for (const json* term : terms) {
    if (std::optional<std::string> why = UnmatchableExpression(*in.facts, *term)) {
      out.Refuse("node-selector", path, *why);
    }
  }
}

void HostNamespaces(const GuardInput& in, Findings& out) {
  for (const char* key : {"hostNetwork", "hostPID", "hostIPC"}) {
    if (IsTrue(Get(in.pod_after, {key})) && !IsTrue(Get(in.pod_before, {key}))) {
      out.Refuse("host-namespaces", absl::StrCat(in.pod_prefix, ".", key), "must not be enabled");
    }
  }
}

void Privileged(const GuardInput& in, Findings& out) {
  if (IsTrue(Get(in.pod_after, {"securityContext", "privileged"}))) {
    out.Refuse("privileged", in.pod_prefix + ".securityContext.privileged", "must not be true");
  }
  ForEachContainer(in.pod_after, [&](const std::string& where, const json& c) {
    const std::string base = absl::StrCat(in.pod_prefix, ".", where);
    const std::string list = where.substr(0, where.find('['));
    const json* old = FindNamed(Get(in.pod_before, {list.c_str()}), Str(c, "name"));
    for (const char* flag : {"privileged", "allowPrivilegeEscalation"}) {
      if (IsTrue(Get(c, {"securityContext", flag})) &&
          (old == nullptr || !IsTrue(Get(*old, {"securityContext", flag})))) {
        out.Refuse("privileged", absl::StrCat(base, ".securityContext.", flag),
                   "must not be enabled");
      }
    }
  });
}

void HostPath(const GuardInput& in, Findings& out) {
  const json& volumes = Get(in.pod_after, {"volumes"});
  if (!volumes.is_array()) return;
  for (const json& v : volumes) {
    if (!v.is_object() || !v.contains("hostPath")) continue;
    const json* old = FindNamed(Get(in.pod_before, {"volumes"}), Str(v, "name"));
    if (old == nullptr || *old != v) {
      out.Refuse("host-path",
                 absl::StrCat(in.pod_prefix, ".volumes[name=", Str(v, "name", "?"), "]"),
                 "hostPath volumes must not be added");
    }
  }
}

void Capabilities(const GuardInput& in, Findings& out) {
  ForEachContainer(in.pod_after, [&](const std::string& where, const json& c) {
    const std::string list = where.substr(0, where.find('['));
    const json* old = FindNamed(Get(in.pod_before, {list.c_str()}), Str(c, "name"));
    const json& added = Get(c, {"securityContext", "capabilities", "add"});
    const json& old_added =
        old == nullptr ? json() : Get(*old, {"securityContext", "capabilities", "add"});
    if (!added.is_array()) return;
    for (const json& cap : added) {
      bool had = false;
      if (old_added.is_array()) {
        for (const json& o : old_added) had = had || o == cap;
      }
      if (!had) {
        out.Refuse("capabilities",
                   absl::StrCat(in.pod_prefix, ".", where, ".securityContext.capabilities.add"),
                   absl::StrCat("adds ", cap.dump()));
      }
    }
  });
}

void RequestWithinLimit(const GuardInput& in, Findings& out) {
  ForEachContainer(in.pod_after, [&](const std::string& where, const json& c) {
    for (const char* resource : {"memory", "cpu"}) {
      const json& request = Get(c, {"resources", "requests", resource});
      const json& limit = Get(c, {"resources", "limits", resource});
      if (request.is_null() || limit.is_null()) continue;
      absl::StatusOr<double> r = ParseQuantity(request), l = ParseQuantity(limit);
      if (r.ok() && l.ok() && *r > *l) {
        out.Refuse("request-within-limit",
                   absl::StrCat(in.pod_prefix, ".", where, ".resources.requests.", resource),
                   absl::StrCat(request.dump(), " is above the limit ", limit.dump()));
      }
    }
  });
}

// A probe still checks something: an HTTP, TCP or gRPC port, or a command.
bool HasHandler(const json& probe) {
  if (!probe.is_object()) return false;
  for (const char* handler : {"httpGet", "tcpSocket", "grpc"}) {
    const json& port = Get(probe, {handler, "port"});
    if ((port.is_number() && port.get<double>() > 0) ||
        (port.is_string() && !port.get<std::string>().empty())) {
      return true;
    }
  }
  const json& command = Get(probe, {"exec", "command"});
  return command.is_array() && !command.empty();
}

void RemovedLimitsAndProbes(const GuardInput& in, Findings& out) {
  ForEachContainer(in.pod_before, [&](const std::string& where, const json& c) {
    const std::string base = absl::StrCat(in.pod_prefix, ".", where);
    const std::string list = where.substr(0, where.find('['));
    const json* now = FindNamed(Get(in.pod_after, {list.c_str()}), Str(c, "name"));
    const json& limits = Get(c, {"resources", "limits"});
    if (limits.is_object()) {
      for (auto it = limits.begin(); it != limits.end(); ++it) {
        if (now == nullptr || Get(*now, {"resources", "limits", it.key().c_str()}).is_null()) {
          out.Refuse("removed-limit", absl::StrCat(base, ".resources.limits.", it.key()),
                     "a limit that was set must stay set");
        }
      }
    }
    for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
      if (c.contains(probe) &&
          (now == nullptr || !now->contains(probe) || !HasHandler((*now)[probe]))) {
        out.Refuse("removed-probe", absl::StrCat(base, ".", probe),
                   "a probe that was set must stay, with a handler that checks something");
      }
    }
  });
}

// In the order of guard.h. Each rule adds its own findings; none stops another.
constexpr Rule kRules[] = {
    Identity,
    NoChange,
    AllowedPath,
    ResourceBounds,
    BoundedReplicas,
    ImageRepositoryRule,
    PlaintextSecret,
    ExecContent,
    CodeLoadingEnv,
    ValueFrom,
    VolumeSource,
    VolumeMount,
    NodeSelector,
    HostNamespaces,
    Privileged,
    HostPath,
    Capabilities,
    RequestWithinLimit,
    RemovedLimitsAndProbes,
};

}  // namespace

std::string PodSpecPrefix(const std::string& kind) {
  if (kind == "Pod") return "spec";
  if (kind == "CronJob") return "spec.jobTemplate.spec.template.spec";
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" ||
      kind == "ReplicaSet" || kind == "Job" || kind == "ReplicationController") {
    return "spec.template.spec";
  }
  return "";
}

std::string ImageRepository(const std::string& image) {
  std::string repo = image.substr(0, image.find('@'));
  const size_t slash = repo.rfind('/');
  const size_t colon = repo.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    repo = repo.substr(0, colon);
  }
  return repo;
}

v1::GuardVerdict Guard::Check(const json& before, const json& after,
                              const ClusterFacts* facts) const {
  const std::string pod_prefix = PodSpecPrefix(Str(before, "kind"));
  const std::string namespace_name = Str(manifest::At(before, "metadata"), "namespace");
  const auto ns = policy_.namespaces.find(namespace_name);
  const NamespaceGuardPolicy* extra = ns == policy_.namespaces.end() ? nullptr : &ns->second;

  std::vector<std::vector<std::string>> patterns;
  std::vector<std::string> sources = policy_.allowed_paths;
  if (extra != nullptr)
    sources.insert(sources.end(), extra->extra_paths.begin(), extra->extra_paths.end());
  for (const std::string& p : sources) {
    std::vector<std::string> compiled = CompilePattern(p, pod_prefix);
    if (!compiled.empty()) patterns.push_back(std::move(compiled));
  }
  const std::vector<LeafChange> changes = manifest::DiffDocuments(before, after);
  const json& pod_before = AtPath(before, pod_prefix);
  const json& pod_after = AtPath(after, pod_prefix);
  const GuardInput input{before,
                         after,
                         changes,
                         pod_prefix,
                         patterns,
                         policy_,
                         extra != nullptr ? extra->bounds : policy_.bounds,
                         facts,
                         pod_before,
                         pod_after};
  Findings findings;
  for (Rule rule : kRules) rule(input, findings);
  return findings.Verdict();
}

}  // namespace remediator::remediation
