// ResourceQuota usage (kube-controller-manager's resourcequota controller: status.used for the
// keys in spec.hard) and PodDisruptionBudget status (the disruption controller). Quotas are
// reported, not enforced (README.md, "What kubesim does not model").
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/kubesim/api_controllers.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/k8s_util.h"

namespace remediator::kubesim {
namespace {

bool Terminal(const json& pod) {
  std::string phase = pod.value("status", json::object()).value("phase", "");
  return phase == "Succeeded" || phase == "Failed";
}

// Sum over the live pods' containers of resources.<section>.<resource>.
int64_t PodSum(const std::vector<json>& pods, const std::string& section, bool cpu) {
  int64_t total = 0;
  for (const json& pod : pods) {
    if (Terminal(pod)) continue;
    for (const json& c : pod["spec"].value("containers", json::array())) {
      const json& res = c.value("resources", json::object()).value(section, json::object());
      json v = res.value(cpu ? "cpu" : "memory", json());
      if (v.is_null()) continue;
      std::string text = v.is_string() ? v.get<std::string>() : v.dump();
      auto parsed = cpu ? ParseCpuMillis(text) : ParseQuantity(text);
      if (parsed.ok()) total += *parsed;
    }
  }
  return total;
}

std::string CpuText(int64_t millis) {
  return millis % 1000 == 0 ? absl::StrCat(millis / 1000) : absl::StrCat(millis, "m");
}

// A byte count in the canonical binary-suffix form a Quantity prints ("0", "64Mi", "2Gi").
std::string BytesText(int64_t bytes) {
  constexpr int64_t kGi = int64_t{1} << 30;
  if (bytes == 0) return "0";
  if (bytes % kGi == 0) return absl::StrCat(bytes / kGi, "Gi");
  return FormatBytes(bytes);
}

// The used amount of one quota key in `ns`; nullopt for keys kubesim does not count.
std::optional<std::string> Used(const Store& store, const std::string& ns, const std::string& key,
                                const std::vector<json>& pods) {
  std::string k = key;
  if (absl::StartsWith(k, "count/")) k = k.substr(6);
  if (k == "pods") {
    int64_t n = 0;
    for (const json& p : pods) n += Terminal(p) ? 0 : 1;
    return absl::StrCat(n);
  }
  if (k == "cpu" || k == "requests.cpu") return CpuText(PodSum(pods, "requests", true));
  if (k == "memory" || k == "requests.memory") return BytesText(PodSum(pods, "requests", false));
  if (k == "limits.cpu") return CpuText(PodSum(pods, "limits", true));
  if (k == "limits.memory") return BytesText(PodSum(pods, "limits", false));
  if (k == "requests.storage") {
    int64_t total = 0;
    for (const json& pvc : store.List("persistentvolumeclaims", ns)) {
      const json& res = pvc["spec"].value("resources", json::object());
      total += QuantityOr(res.value("requests", json::object()).value("storage", json()), 0);
    }
    return BytesText(total);
  }
  std::string resource = k.substr(0, k.find('.'));
  for (const char* counted : {"services", "configmaps", "secrets", "persistentvolumeclaims",
                              "deployments", "replicasets", "jobs", "cronjobs"}) {
    if (resource == counted) return absl::StrCat(store.List(resource, ns).size());
  }
  return std::nullopt;
}

bool SyncQuota(Store& store, const json& quota) {
  std::string ns = quota["metadata"].value("namespace", "");
  json hard = quota.value("spec", json::object()).value("hard", json::object());
  std::vector<json> pods = store.List("pods", ns);
  json used = json::object();
  for (auto& [key, limit] : hard.items()) {
    if (auto u = Used(store, ns, key, pods)) used[key] = *u;
  }
  json updated = quota;
  updated["status"] = {{"hard", hard}, {"used", used}};
  if (updated == quota) return false;
  return store.Update("resourcequotas", updated).ok();
}

// minAvailable / maxUnavailable as a pod count ("50%" of `expected`, rounded up).
int64_t Resolve(const json& value, int64_t expected) {
  if (value.is_number()) return value.get<int64_t>();
  std::string s = value.is_string() ? value.get<std::string>() : "0";
  double pct = 0;
  if (absl::EndsWith(s, "%") && absl::SimpleAtod(s.substr(0, s.size() - 1), &pct)) {
    return static_cast<int64_t>(std::ceil(pct * static_cast<double>(expected) / 100.0));
  }
  int64_t n = 0;
  return absl::SimpleAtoi(s, &n) ? n : 0;
}

bool SyncBudget(Store& store, const json& pdb, absl::Time now) {
  const json& spec = pdb.value("spec", json::object());
  LabelSelector sel = LabelSelector::FromJson(spec.value("selector", json::object()));
  int64_t expected = 0, healthy = 0;
  for (const json& pod : store.List("pods", pdb["metadata"].value("namespace", ""))) {
    if (Terminal(pod) || !sel.Matches(pod["metadata"].value("labels", json::object()))) continue;
    ++expected;
    healthy += PodIsReady(pod) ? 1 : 0;
  }
  int64_t desired =
      spec.contains("minAvailable")
          ? Resolve(spec["minAvailable"], expected)
          : std::max<int64_t>(0,
                              expected - Resolve(spec.value("maxUnavailable", json(0)), expected));
  int64_t allowed = std::max<int64_t>(0, healthy - desired);
  json status = pdb.value("status", json::object());
  json old_cond = status.value("conditions", json::array());
  std::string cstatus = allowed > 0 ? "True" : "False";
  std::string transition = old_cond.empty() || old_cond[0].value("status", "") != cstatus
                               ? Rfc3339(now)
                               : old_cond[0].value("lastTransitionTime", "");
  json updated = pdb;
  updated["status"] = {
      {"currentHealthy", healthy},
      {"desiredHealthy", desired},
      {"disruptionsAllowed", allowed},
      {"expectedPods", expected},
      {"observedGeneration", pdb["metadata"].value("generation", 1)},
      {"conditions", json::array({{{"type", "DisruptionAllowed"},
                                   {"status", cstatus},
                                   {"reason", allowed > 0 ? "SufficientPods" : "InsufficientPods"},
                                   {"message", ""},
                                   {"observedGeneration", pdb["metadata"].value("generation", 1)},
                                   {"lastTransitionTime", transition}}})}};
  if (updated == pdb) return false;
  return store.Update("poddisruptionbudgets", updated).ok();
}

}  // namespace

bool ReconcilePolicy(Cluster& cluster) {
  Store& store = cluster.store();
  bool changed = false;
  for (const json& q : store.List("resourcequotas", "")) changed |= SyncQuota(store, q);
  for (const json& pdb : store.List("poddisruptionbudgets", ""))
    changed |= SyncBudget(store, pdb, cluster.Now());
  return changed;
}

}  // namespace remediator::kubesim
