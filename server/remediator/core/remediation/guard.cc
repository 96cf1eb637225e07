#include "server/remediator/core/remediation/guard.h"

#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/redact.h"
#include "server/remediator/core/manifest/field_path.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/remediation/quantity.h"

namespace remediator::remediation {
namespace {

using json = nlohmann::json;
using manifest::At;
using manifest::FieldPath;
using manifest::FormatFieldPath;
using manifest::Int;
using manifest::PathSegment;
using manifest::Str;

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

bool EndsWith(const FieldPath& path, std::initializer_list<const char*> keys) {
  if (path.size() < keys.size()) return false;
  size_t i = path.size() - keys.size();
  for (const char* key : keys) {
    if (path[i].kind != PathSegment::Kind::kKey || path[i].key != key) return false;
    ++i;
  }
  return true;
}

bool IsTrue(const json* value) {
  return value != nullptr && value->is_boolean() && value->get<bool>();
}

const json& Get(const json& object, std::initializer_list<const char*> keys) {
  static const json kNull;
  const json* node = &object;
  for (const char* key : keys) {
    if (!node->is_object() || !node->contains(key)) return kNull;
    node = &(*node)[key];
  }
  return *node;
}

// Every container and init container of the pod spec, with its list name.
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

const json* FindContainer(const json& pod, const std::string& list, const std::string& name) {
  const json& containers = Get(pod, {list.c_str()});
  if (!containers.is_array()) return nullptr;
  for (const json& c : containers) {
    if (c.is_object() && Str(c, "name") == name) return &c;
  }
  return nullptr;
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

bool LooksLikeSecretName(const std::string& name) {
  const std::string upper = absl::AsciiStrToUpper(name);
  for (const char* word : {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "API_KEY",
                           "PRIVATE_KEY", "CREDENTIAL", "ACCESS_KEY"}) {
    if (upper.find(word) != std::string::npos) return true;
  }
  return false;
}

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

v1::GuardVerdict Guard::Check(const json& before, const json& after) const {
  std::vector<std::string> violations;
  auto refuse = [&](const std::string& rule, const std::string& path, const std::string& detail) {
    violations.push_back(absl::StrCat(rule, ": ", path, ": ", detail));
  };

  // identity
  for (const auto& keys : std::vector<std::vector<const char*>>{
           {"apiVersion"}, {"kind"}, {"metadata", "name"}, {"metadata", "namespace"}}) {
    const json* b = &before;
    const json* a = &after;
    std::string path;
    for (const char* key : keys) {
      b = b->is_object() && b->contains(key) ? &(*b)[key] : nullptr;
      a = a != nullptr && a->is_object() && a->contains(key) ? &(*a)[key] : nullptr;
      path += (path.empty() ? "" : ".") + std::string(key);
      if (b == nullptr) break;
    }
    const bool same = (b == nullptr && a == nullptr) || (b != nullptr && a != nullptr && *a == *b);
    if (!same) refuse("identity", path, "the edit must not change which object it is");
  }

  const std::string kind = Str(before, "kind");
  const std::string pod_prefix = PodSpecPrefix(kind);
  std::vector<std::vector<std::string>> patterns;
  for (const std::string& p : policy_.allowed_paths) {
    std::vector<std::string> compiled = CompilePattern(p, pod_prefix);
    if (!compiled.empty()) patterns.push_back(std::move(compiled));
  }

  const std::vector<manifest::LeafChange> changes = manifest::DiffDocuments(before, after);
  if (changes.empty()) refuse("no-change", "-", "the edit changes nothing");

  absl::StatusOr<double> max_memory = ParseQuantity(policy_.max_memory);
  absl::StatusOr<double> max_cpu = ParseQuantity(policy_.max_cpu);
  for (const manifest::LeafChange& change : changes) {
    const std::string path = FormatFieldPath(change.path);
    if (absl::StartsWith(path, "metadata.") || path == "status" ||
        absl::StartsWith(path, "status.")) {
      // Metadata other than identity (labels, annotations, managedFields...) and status do not
      // change what runs; identity was checked above.
      if (!absl::StartsWith(path, "metadata.labels") &&
          !absl::StartsWith(path, "metadata.annotations")) {
        continue;
      }
    }
    bool allowed = false;
    for (const auto& pattern : patterns) allowed = allowed || Matches(pattern, 0, change.path, 0);
    if (!allowed) refuse("allowed-path", path, "this field may not be changed by a fix");

    const bool memory = EndsWith(change.path, {"memory"}) && change.path.size() >= 3 &&
                        change.path[change.path.size() - 3].key == "resources";
    const bool cpu = EndsWith(change.path, {"cpu"}) && change.path.size() >= 3 &&
                     change.path[change.path.size() - 3].key == "resources";
    if ((memory || cpu) && !change.after.is_null()) {
      absl::StatusOr<double> now = ParseQuantity(change.after);
      if (!now.ok()) {
        refuse("quantity", path, std::string(now.status().message()));
        continue;
      }
      const double factor = memory ? policy_.max_memory_factor : policy_.max_cpu_factor;
      const absl::StatusOr<double>& cap = memory ? max_memory : max_cpu;
      const std::string rule = memory ? "bounded-memory" : "bounded-cpu";
      if (!change.before.is_null()) {
        absl::StatusOr<double> old = ParseQuantity(change.before);
        if (old.ok() && *old > 0 && *now > *old * factor) {
          refuse(rule, path,
                 absl::StrCat(change.after.dump(), " is more than ", factor, " x ",
                              change.before.dump()));
        }
      }
      if (cap.ok() && *now > *cap) {
        refuse(rule, path,
               absl::StrCat(change.after.dump(), " is above the cap ",
                            memory ? policy_.max_memory : policy_.max_cpu));
      }
    }
    if (path == "spec.replicas") {
      const int old_replicas = change.before.is_number() ? change.before.get<int>() : 1;
      const int new_replicas = change.after.is_number() ? change.after.get<int>() : -1;
      if (new_replicas < (old_replicas >= 1 ? 1 : 0) || new_replicas > policy_.max_replicas) {
        refuse("bounded-replicas", path,
               absl::StrCat(change.after.dump(), " is outside 1..", policy_.max_replicas));
      }
    }
    if (EndsWith(change.path, {"image"}) && change.before.is_string() && change.after.is_string() &&
        ImageRepository(change.before.get<std::string>()) !=
            ImageRepository(change.after.get<std::string>())) {
      refuse("image-repository", path,
             absl::StrCat("from ", ImageRepository(change.before.get<std::string>()), " to ",
                          ImageRepository(change.after.get<std::string>()),
                          ": only the tag or digest may change"));
    }
    if (EndsWith(change.path, {"value"}) && change.path.size() >= 2 &&
        change.path[change.path.size() - 2].kind == PathSegment::Kind::kSelector &&
        change.path.size() >= 3 && change.path[change.path.size() - 3].key == "env" &&
        !change.after.is_null()) {
      const std::string name = change.path[change.path.size() - 2].value;
      const std::string value =
          change.after.is_string() ? change.after.get<std::string>() : change.after.dump();
      if (LooksLikeSecretName(name) || ContainsSecret(value)) {
        refuse("plaintext-secret", path,
               "secrets must come from a Secret (valueFrom.secretKeyRef), not a literal value");
      }
    }
  }

  // Whole-object rules on the result, whatever the paths say (defense in depth).
  const json& pod_before = AtPath(before, pod_prefix);
  const json& pod_after = AtPath(after, pod_prefix);
  if (pod_after.is_object()) {
    for (const char* key : {"hostNetwork", "hostPID", "hostIPC"}) {
      if (IsTrue(&Get(pod_after, {key})) && !IsTrue(&Get(pod_before, {key}))) {
        refuse("host-namespaces", absl::StrCat(pod_prefix, ".", key), "must not be enabled");
      }
    }
    if (IsTrue(&Get(pod_after, {"securityContext", "privileged"}))) {
      refuse("privileged", pod_prefix + ".securityContext.privileged", "must not be true");
    }
    const json& volumes = Get(pod_after, {"volumes"});
    if (volumes.is_array()) {
      for (const json& v : volumes) {
        if (!v.is_object() || !v.contains("hostPath")) continue;
        bool existed = false;
        const json& old_volumes = Get(pod_before, {"volumes"});
        if (old_volumes.is_array()) {
          for (const json& o : old_volumes) existed = existed || o == v;
        }
        if (!existed) {
          refuse("host-path", absl::StrCat(pod_prefix, ".volumes[name=", Str(v, "name", "?"), "]"),
                 "hostPath volumes must not be added");
        }
      }
    }
    ForEachContainer(pod_after, [&](const std::string& where, const json& c) {
      const std::string base = absl::StrCat(pod_prefix, ".", where);
      const std::string list = where.substr(0, where.find('['));
      const json* old = FindContainer(pod_before, list, Str(c, "name"));
      if (IsTrue(&Get(c, {"securityContext", "privileged"})) &&
          (old == nullptr || !IsTrue(&Get(*old, {"securityContext", "privileged"})))) {
        refuse("privileged", base + ".securityContext.privileged", "must not be true");
      }
      if (IsTrue(&Get(c, {"securityContext", "allowPrivilegeEscalation"})) &&
          (old == nullptr ||
           !IsTrue(&Get(*old, {"securityContext", "allowPrivilegeEscalation"})))) {
        refuse("privileged", base + ".securityContext.allowPrivilegeEscalation",
               "must not be enabled");
      }
      const json& added = Get(c, {"securityContext", "capabilities", "add"});
      const json& old_added =
          old == nullptr ? json() : Get(*old, {"securityContext", "capabilities", "add"});
      if (added.is_array()) {
        for (const json& cap : added) {
          bool had = false;
          if (old_added.is_array()) {
            for (const json& o : old_added) had = had || o == cap;
          }
          if (!had) {
            refuse("capabilities", base + ".securityContext.capabilities.add",
                   absl::StrCat("adds ", cap.dump()));
          }
        }
      }
      for (const char* resource : {"memory", "cpu"}) {
        const json& request = Get(c, {"resources", "requests", resource});
        const json& limit = Get(c, {"resources", "limits", resource});
        if (request.is_null() || limit.is_null()) continue;
        absl::StatusOr<double> r = ParseQuantity(request), l = ParseQuantity(limit);
        if (r.ok() && l.ok() && *r > *l) {
          refuse("request-within-limit", absl::StrCat(base, ".resources.requests.", resource),
                 absl::StrCat(request.dump(), " is above the limit ", limit.dump()));
        }
      }
    });
    ForEachContainer(pod_before, [&](const std::string& where, const json& c) {
      const std::string base = absl::StrCat(pod_prefix, ".", where);
      const std::string list = where.substr(0, where.find('['));
      const json* now = FindContainer(pod_after, list, Str(c, "name"));
      const json& limits = Get(c, {"resources", "limits"});
      if (limits.is_object()) {
        for (auto it = limits.begin(); it != limits.end(); ++it) {
          if (now == nullptr || Get(*now, {"resources", "limits", it.key().c_str()}).is_null()) {
            refuse("removed-limit", absl::StrCat(base, ".resources.limits.", it.key()),
                   "a limit that was set must stay set");
          }
        }
      }
      for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
        if (c.contains(probe) && (now == nullptr || !now->contains(probe))) {
          refuse("removed-probe", absl::StrCat(base, ".", probe), "a probe that was set must stay");
        }
      }
    });
  }

  v1::GuardVerdict verdict;
  verdict.set_allowed(violations.empty());
  for (auto& v : violations) verdict.add_violations(std::move(v));
  return verdict;
}

}  // namespace remediator::remediation
