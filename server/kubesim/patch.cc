#include "server/kubesim/patch.h"

#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;

constexpr char kSetElementOrder[] = "$setElementOrder/";
constexpr char kDeleteFromPrimitiveList[] = "$deleteFromPrimitiveList/";

bool IsMergePrimitiveList(const std::string& field) { return field == "finalizers"; }

// Removes every "$..." directive key, recursively (for values inserted verbatim).
json StripDirectives(const json& value) {
  if (value.is_object()) {
    json out = json::object();
    for (auto& [k, v] : value.items()) {
      if (!k.empty() && k[0] == '$') continue;
      if (v.is_null()) continue;
      out[k] = StripDirectives(v);
    }
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const json& v : value) {
      if (v.is_object() && v.contains("$patch")) continue;
      out.push_back(StripDirectives(v));
    }
    return out;
  }
  return value;
}

absl::StatusOr<json> MergeMap(const json& original, const json& patch);

bool SameKey(const json& a, const json& b, const std::string& key) {
  return a.is_object() && b.is_object() && a.contains(key) && b.contains(key) && a[key] == b[key];
}

absl::StatusOr<json> MergeList(const std::string& field, const json& original, const json& patch,
                               const std::string& key) {
  json result = original.is_array() ? original : json::array();
  // `[{"$patch": "replace"}, ...]` replaces the whole list with the other elements.
  for (const json& el : patch) {
    if (el.is_object() && el.value("$patch", "") == "replace") return StripDirectives(patch);
  }
  for (const json& el : patch) {
    if (!el.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("strategic merge patch: list \"", field, "\" holds a non-object element"));
    }
    if (!el.contains(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("map: ", el.dump(), " does not contain declared merge key: ", key));
    }
    auto it = std::find_if(result.begin(), result.end(),
                           [&](const json& o) { return SameKey(o, el, key); });
    std::string directive = el.value("$patch", "");
    if (directive == "delete") {
      if (it != result.end()) result.erase(it);
      continue;
    }
    if (it != result.end()) {
      ASSIGN_OR_RETURN(json merged, MergeMap(*it, el));
      *it = std::move(merged);
    } else {
      result.push_back(StripDirectives(el));
    }
  }
  return result;
}

// Reorders `list` so that elements named in `order` come first in that order; the rest keep
// their relative order after them.
json ApplyElementOrder(const json& list, const json& order, const std::string& key) {
  if (!list.is_array() || !order.is_array()) return list;
  json out = json::array();
  std::vector<bool> used(list.size(), false);
  for (const json& o : order) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (used[i]) continue;
      bool match = key.empty() ? list[i] == o : SameKey(list[i], o, key);
      if (match) {
        out.push_back(list[i]);
        used[i] = true;
        break;
      }
    }
  }
  for (size_t i = 0; i < list.size(); ++i) {
    if (!used[i]) out.push_back(list[i]);
  }
  return out;
}

absl::StatusOr<json> MergeMap(const json& original, const json& patch) {
  if (!patch.is_object()) return patch;
  std::string directive = patch.value("$patch", "");
  if (directive == "replace") return StripDirectives(patch);
  if (directive == "delete") return json();  // null: the caller deletes the key
  if (!directive.empty() && directive != "merge") {
    return absl::InvalidArgumentError(
        absl::StrCat("strategic merge patch: unknown $patch directive \"", directive, "\""));
  }
  json result = original.is_object() ? original : json::object();
  for (auto& [k, v] : patch.items()) {
    if (k == "$patch" || k == "$retainKeys") continue;
    if (absl::StartsWith(k, kSetElementOrder)) continue;
    if (absl::StartsWith(k, kDeleteFromPrimitiveList)) {
      std::string field = k.substr(sizeof(kDeleteFromPrimitiveList) - 1);
      if (result.contains(field) && result[field].is_array() && v.is_array()) {
        json kept = json::array();
        for (const json& e : result[field]) {
          if (std::find(v.begin(), v.end(), e) == v.end()) kept.push_back(e);
        }
        result[field] = kept;
      }
      continue;
    }
    if (v.is_null()) {
      result.erase(k);
      continue;
    }
    if (v.is_object()) {
      const json& base = result.contains(k) ? result[k] : json();
      ASSIGN_OR_RETURN(json merged, MergeMap(base, v));
      if (merged.is_null()) {
        result.erase(k);
      } else {
        result[k] = std::move(merged);
      }
      continue;
    }
    if (v.is_array()) {
      std::string key = v.empty() ? "" : MergeKeyFor(k, v[0]);
      if (key.empty() && result.contains(k) && result[k].is_array() && !result[k].empty()) {
        key = MergeKeyFor(k, result[k][0]);
      }
      if (!key.empty()) {
        ASSIGN_OR_RETURN(json merged,
                         MergeList(k, result.contains(k) ? result[k] : json(), v, key));
        result[k] = std::move(merged);
      } else if (IsMergePrimitiveList(k) && result.contains(k) && result[k].is_array()) {
        for (const json& e : v) {
          if (std::find(result[k].begin(), result[k].end(), e) == result[k].end()) {
            result[k].push_back(e);
          }
        }
      } else {
        result[k] = StripDirectives(v);
      }
      continue;
    }
    result[k] = v;
  }
  // $setElementOrder/<field> fixes the order of a merged list.
  for (auto& [k, v] : patch.items()) {
    if (!absl::StartsWith(k, kSetElementOrder)) continue;
    std::string field = k.substr(sizeof(kSetElementOrder) - 1);
    if (!result.contains(field)) continue;
    std::string key = (v.is_array() && !v.empty()) ? MergeKeyFor(field, v[0]) : "";
    result[field] = ApplyElementOrder(result[field], v, key);
  }
  // $retainKeys keeps only the listed keys.
  if (patch.contains("$retainKeys")) {
    const json& keep = patch["$retainKeys"];
    if (!keep.is_array()) {
      return absl::InvalidArgumentError("strategic merge patch: $retainKeys must be a list");
    }
    json filtered = json::object();
    for (auto& [k, v] : result.items()) {
      if (std::find(keep.begin(), keep.end(), json(k)) != keep.end()) filtered[k] = v;
    }
    result = std::move(filtered);
  }
  return result;
}

}  // namespace

std::string MergeKeyFor(const std::string& field, const json& sample) {
  if (field == "containers" || field == "initContainers" || field == "ephemeralContainers" ||
      field == "env" || field == "volumes" || field == "imagePullSecrets" ||
      field == "resourceClaims" || field == "schedulingGates") {
    return "name";
  }
  if (field == "ports") {
    if (sample.is_object() && sample.contains("containerPort")) return "containerPort";
    if (sample.is_object() && sample.contains("port")) return "port";
    return "containerPort";
  }
  if (field == "volumeMounts") return "mountPath";
  if (field == "volumeDevices") return "devicePath";
  if (field == "conditions") return "type";
  if (field == "ownerReferences") return "uid";
  if (field == "hostAliases") return "ip";
  if (field == "topologySpreadConstraints") return "topologyKey";
  return "";
}

json MergePatch(const json& original, const json& patch) {
  json result = original;
  result.merge_patch(patch);
  return result;
}

absl::StatusOr<json> JsonPatch(const json& original, const json& patch) {
  if (!patch.is_array()) {
    return absl::InvalidArgumentError("json patch: the body must be a JSON array of operations");
  }
  // nlohmann's patch() implements RFC 6902; apply it op by op to name the failing one.
  json result = original;
  for (size_t i = 0; i < patch.size(); ++i) {
    const json& op = patch[i];
    if (!op.is_object() || !op.contains("op") || !op.contains("path")) {
      return absl::InvalidArgumentError(
          absl::StrCat("json patch: operation ", i, " needs \"op\" and \"path\""));
    }
    try {
      result = result.patch(json::array({op}));
    } catch (const json::exception& e) {
      std::string op_name = op["op"].is_string() ? op["op"].get<std::string>() : op["op"].dump();
      if (op_name == "test") {
        return absl::InvalidArgumentError(
            absl::StrCat("the server rejected our request due to an error in our request: test "
                         "operation at ",
                         op["path"].dump(), " failed"));
      }
      return absl::InvalidArgumentError(absl::StrCat("json patch: operation ", i, " (", op_name,
                                                     " ", op["path"].dump(), "): ", e.what()));
    }
  }
  return result;
}

absl::StatusOr<json> StrategicMergePatch(const json& original, const json& patch) {
  if (!patch.is_object()) {
    return absl::InvalidArgumentError("strategic merge patch: the body must be a JSON object");
  }
  ASSIGN_OR_RETURN(json merged, MergeMap(original, patch));
  if (merged.is_null()) return json::object();
  return merged;
}

}  // namespace remediator::kubesim
