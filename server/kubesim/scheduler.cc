#include "server/kubesim/scheduler.h"

#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/kubesim/k8s_util.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;

constexpr char kNoVictims[] = "No preemption victims found for incoming pod";
constexpr char kNotHelpful[] = "Preemption is not helpful for scheduling";

int64_t ContainerRequest(const json& c, const std::string& res) {
  if (!c.contains("resources") || !c["resources"].is_object()) return 0;
  const json& r = c["resources"];
  json v;
  if (r.contains("requests") && r["requests"].contains(res)) {
    v = r["requests"][res];
  } else if (r.contains("limits") && r["limits"].contains(res)) {
    v = r["limits"][res];
  }
  if (v.is_null()) return 0;
  std::string text = v.is_string() ? v.get<std::string>() : v.dump();
  auto q = res == "cpu" ? ParseCpuMillis(text) : ParseQuantity(text);
  return q.ok() ? *q : 0;
}

bool Tolerates(const json& toleration, const json& taint) {
  const std::string effect = toleration.value("effect", "");
  if (!effect.empty() && effect != taint.value("effect", "")) return false;
  const std::string key = toleration.value("key", "");
  const std::string op = toleration.value("operator", "Equal");
  if (key.empty()) return op == "Exists";  // an empty key with Exists tolerates everything
  if (key != taint.value("key", "")) return false;
  return op == "Exists" || toleration.value("value", "") == taint.value("value", "");
}

// The first NoSchedule/NoExecute taint of `node` that `pod` does not tolerate, or null.
json UntoleratedTaint(const json& pod, const json& node) {
  const json& spec = node.value("spec", json::object());
  const json tolerations = pod["spec"].value("tolerations", json::array());
  for (const json& taint : spec.value("taints", json::array())) {
    if (taint.value("effect", "") == "PreferNoSchedule") continue;
    bool ok = std::any_of(tolerations.begin(), tolerations.end(),
                          [&](const json& t) { return Tolerates(t, taint); });
    if (!ok) return taint;
  }
  return nullptr;
}

bool MatchesExpression(const json& expr, const json& labels) {
  const std::string key = expr.value("key", "");
  const std::string op = expr.value("operator", "");
  const json values = expr.value("values", json::array());
  const bool has = labels.contains(key);
  const std::string value = has && labels[key].is_string() ? labels[key].get<std::string>() : "";
  auto in = [&] { return std::find(values.begin(), values.end(), json(value)) != values.end(); };
  if (op == "In") return has && in();
  if (op == "NotIn") return !has || !in();
  if (op == "Exists") return has;
  if (op == "DoesNotExist") return !has;
  if ((op == "Gt" || op == "Lt") && has && values.size() == 1 && values[0].is_string()) {
    int64_t have = 0, want = 0;
    if (!absl::SimpleAtoi(value, &have) || !absl::SimpleAtoi(values[0].get<std::string>(), &want)) {
      return false;
    }
    return op == "Gt" ? have > want : have < want;
  }
  return false;
}

// nodeSelector AND requiredDuringSchedulingIgnoredDuringExecution (terms ORed, expressions ANDed).
bool MatchesNodeAffinity(const json& pod, const json& node) {
  const json labels = node["metadata"].value("labels", json::object());
  const json selector = pod["spec"].value("nodeSelector", json::object());
  for (const auto& [k, v] : selector.items()) {
    if (!labels.contains(k) || labels[k] != v) return false;
  }
  const json affinity = pod["spec"].value("affinity", json::object());
  if (!affinity.contains("nodeAffinity")) return true;
  const json required = affinity["nodeAffinity"].value(
      "requiredDuringSchedulingIgnoredDuringExecution", json::object());
  if (!required.contains("nodeSelectorTerms")) return true;
  const json fields = {{"metadata.name", node["metadata"].value("name", "")}};
  for (const json& term : required["nodeSelectorTerms"]) {
    bool ok = true;
    for (const json& e : term.value("matchExpressions", json::array())) {
      ok = ok && MatchesExpression(e, labels);
    }
    for (const json& e : term.value("matchFields", json::array())) {
      ok = ok && MatchesExpression(e, fields);
    }
    const bool empty = !term.contains("matchExpressions") && !term.contains("matchFields");
    if (ok && !empty) return true;
  }
  return false;
}

// NodeResourcesFit: the "Insufficient <res>" / "Too many pods" reasons for `node`.
std::vector<std::string> FitReasons(const json& pod, const json& node,
                                    const std::vector<json>& pods) {
  const std::string name = node["metadata"].value("name", "");
  int64_t used_cpu = 0, used_mem = 0, count = 0;
  for (const json& p : pods) {
    if (p["spec"].value("nodeName", "") != name) continue;
    const std::string phase = p.contains("status") ? p["status"].value("phase", "") : "";
    if (phase == "Succeeded" || phase == "Failed") continue;
    ++count;
    used_cpu += PodRequest(p, "cpu");
    used_mem += PodRequest(p, "memory");
  }
  const json alloc = node.value("status", json::object()).value("allocatable", json::object());
  auto cap = [&](const char* res, bool cpu) -> int64_t {
    if (!alloc.contains(res)) return INT64_MAX;
    std::string text = alloc[res].is_string() ? alloc[res].get<std::string>() : alloc[res].dump();
    auto q = cpu ? ParseCpuMillis(text) : ParseQuantity(text);
    return q.ok() ? *q : INT64_MAX;
  };
  std::vector<std::string> reasons;
  if (count + 1 > cap("pods", false)) reasons.push_back("Too many pods");
  if (used_cpu + PodRequest(pod, "cpu") > cap("cpu", true)) reasons.push_back("Insufficient cpu");
  if (used_mem + PodRequest(pod, "memory") > cap("memory", false)) {
    reasons.push_back("Insufficient memory");
  }
  return reasons;
}

std::string Histogram(const std::map<std::string, int>& counts) {
  std::vector<std::string> parts;
  for (const auto& [reason, n] : counts) parts.push_back(absl::StrCat(n, " ", reason));
  std::sort(parts.begin(), parts.end());
  return absl::StrJoin(parts, ", ");
}

}  // namespace

int64_t PodRequest(const json& pod, const std::string& resource) {
  int64_t total = 0;
  for (const json& c : pod["spec"].value("containers", json::array())) {
    total += ContainerRequest(c, resource);
  }
  return total;
}

ScheduleDecision SchedulePod(const json& pod, const std::vector<json>& nodes,
                             const std::vector<json>& pods, const std::string& prefilter) {
  const size_t n = nodes.size();
  if (!prefilter.empty()) {
    return {"", absl::StrCat("0/", n, " nodes are available: ", prefilter, ". preemption: 0/", n,
                             " nodes are available: ", n, " ", kNotHelpful, ".")};
  }
  std::map<std::string, int> reasons, preemption;
  for (const json& node : nodes) {
    const json spec = node.value("spec", json::object());
    std::vector<std::string> why;
    bool resolvable = false;
    if (spec.value("unschedulable", false)) {
      json cordon = {{"key", "node.kubernetes.io/unschedulable"}, {"effect", "NoSchedule"}};
      const json tolerations = pod["spec"].value("tolerations", json::array());
      if (std::none_of(tolerations.begin(), tolerations.end(),
                       [&](const json& t) { return Tolerates(t, cordon); })) {
        why.push_back("node(s) were unschedulable");
      }
    }
    if (json taint = UntoleratedTaint(pod, node); why.empty() && !taint.is_null()) {
      why.push_back(absl::StrCat("node(s) had untolerated taint {", taint.value("key", ""), ": ",
                                 taint.value("value", ""), "}"));
    }
    if (why.empty() && !MatchesNodeAffinity(pod, node)) {
      why.push_back("node(s) didn't match Pod's node affinity/selector");
    }
    if (why.empty()) {
      why = FitReasons(pod, node, pods);
      resolvable = true;
    }
    if (why.empty()) return {node["metadata"].value("name", ""), ""};
    for (const auto& r : why) reasons[r]++;
    preemption[resolvable ? kNoVictims : kNotHelpful]++;
  }
  return {"",
          absl::StrCat("0/", n, " nodes are available: ", Histogram(reasons), ". preemption: 0/", n,
                       " nodes are available: ", Histogram(preemption), ".")};
}

}  // namespace remediator::kubesim
