// The deployment controller, the ReplicaSet controller (modelled on kube-controller-manager's
// rolling-update logic) and their status computations.
#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/k8s_util.h"

namespace remediator::kubesim {
namespace {

constexpr char kRevision[] = "deployment.kubernetes.io/revision";
constexpr char kHashLabel[] = "pod-template-hash";

bool OwnedBy(const json& obj, const std::string& uid) {
  const json& meta = obj["metadata"];
  if (!meta.contains("ownerReferences")) return false;
  for (const json& ref : meta["ownerReferences"]) {
    if (ref.value("uid", "") == uid && ref.value("controller", false)) return true;
  }
  return false;
}

int64_t Revision(const json& rs) {
  const json& meta = rs["metadata"];
  if (!meta.contains("annotations")) return 0;
  int64_t rev = 0;
  if (absl::SimpleAtoi(meta["annotations"].value(kRevision, "0"), &rev)) return rev;
  return 0;
}

json TemplateForCompare(json tmpl) {
  if (tmpl.contains("metadata") && tmpl["metadata"].contains("labels")) {
    tmpl["metadata"]["labels"].erase(kHashLabel);
  }
  if (tmpl.contains("metadata")) tmpl["metadata"].erase("creationTimestamp");
  return Normalize(tmpl);
}

int64_t ResolveIntOrPercent(const json& value, int64_t total, bool round_up, int64_t fallback) {
  if (value.is_number()) return value.get<int64_t>();
  if (!value.is_string()) return fallback;
  std::string s = value.get<std::string>();
  if (absl::EndsWith(s, "%")) {
    double pct = 0;
    if (!absl::SimpleAtod(s.substr(0, s.size() - 1), &pct)) return fallback;
    double v = pct * static_cast<double>(total) / 100.0;
    return static_cast<int64_t>(round_up ? std::ceil(v) : std::floor(v));
  }
  int64_t v = 0;
  return absl::SimpleAtoi(s, &v) ? v : fallback;
}

int64_t SpecReplicas(const json& obj) {
  const json& spec = obj["spec"];
  return spec.contains("replicas") && spec["replicas"].is_number() ? spec["replicas"].get<int64_t>()
                                                                   : 1;
}

int64_t StatusInt(const json& obj, const char* field) {
  if (!obj.contains("status") || !obj["status"].is_object()) return 0;
  const json& v = obj["status"].value(field, json());
  return v.is_number() ? v.get<int64_t>() : 0;
}

json FindCondition(const json& status, const std::string& type) {
  if (!status.contains("conditions")) return nullptr;
  for (const json& c : status["conditions"]) {
    if (c.value("type", "") == type) return c;
  }
  return nullptr;
}

// Sets a condition, keeping lastTransitionTime when the status did not flip and lastUpdateTime
// unless `touch`.
void SetCondition(json* status, const std::string& type, const std::string& cstatus,
                  const std::string& reason, const std::string& message, const std::string& now,
                  bool touch) {
  json old = FindCondition(*status, type);
  json c = {{"type", type}, {"status", cstatus}, {"reason", reason}, {"message", message}};
  c["lastTransitionTime"] = (!old.is_null() && old.value("status", "") == cstatus)
                                ? old["lastTransitionTime"]
                                : json(now);
  c["lastUpdateTime"] = (!old.is_null() && !touch && old.value("reason", "") == reason)
                            ? old.value("lastUpdateTime", json(now))
                            : json(now);
  json conds = json::array();
  bool placed = false;
  if (status->contains("conditions")) {
    for (const json& o : (*status)["conditions"]) {
      if (o.value("type", "") == type) {
        conds.push_back(c);
        placed = true;
      } else {
        conds.push_back(o);
      }
    }
  }
  if (!placed) conds.push_back(c);
  (*status)["conditions"] = conds;
}

}  // namespace

bool PodIsReady(const json& pod) {
  json c = PodReadyCondition(pod);
  return !c.is_null() && c.value("status", "") == "True";
}

json PodReadyCondition(const json& pod) {
  if (!pod.contains("status")) return nullptr;
  return FindCondition(pod["status"], "Ready");
}

bool Cluster::ReconcileReplicaSets() {
  bool changed = false;
  absl::Time now = Now();
  for (json rs : store_.List("replicasets", "")) {
    const std::string ns = rs["metadata"].value("namespace", "");
    const std::string uid = rs["metadata"].value("uid", "");
    const std::string rs_name = rs["metadata"].value("name", "");
    std::vector<json> pods;
    for (const json& p : store_.List("pods", ns)) {
      if (OwnedBy(p, uid)) pods.push_back(p);
    }
    int64_t want = SpecReplicas(rs);
    int64_t have = static_cast<int64_t>(pods.size());
    for (int64_t i = have; i < want; ++i) {
      json tmpl = rs["spec"].value("template", json::object());
      json meta = tmpl.value("metadata", json::object());
      meta.erase("creationTimestamp");
      meta["generateName"] = rs_name + "-";
      meta["name"] = rs_name + "-" + RandomSuffix(5);
      meta["namespace"] = ns;
      meta["ownerReferences"] = json::array({{{"apiVersion", "apps/v1"},
                                              {"kind", "ReplicaSet"},
                                              {"name", rs_name},
                                              {"uid", uid},
                                              {"controller", true},
                                              {"blockOwnerDeletion", true}}});
      json pod = {{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata", meta},
                  {"spec", tmpl.value("spec", json::object())},
                  {"status", {{"phase", "Pending"}, {"qosClass", "BestEffort"}}}};
      auto created = store_.Create("pods", pod);
      if (created.ok()) {
        changed = true;
        pods.push_back(*created);
        RecordEvent(rs, "", "Normal", "SuccessfulCreate",
                    absl::StrCat("Created pod: ", (*created)["metadata"].value("name", "")),
                    "replicaset-controller", "", now);
      }
    }
    if (have > want) {
      // Delete unscheduled first, then not ready, then the newest.
      std::sort(pods.begin(), pods.end(), [](const json& a, const json& b) {
        bool sa = a["spec"].contains("nodeName"), sb = b["spec"].contains("nodeName");
        if (sa != sb) return !sa;
        bool ra = PodIsReady(a), rb = PodIsReady(b);
        if (ra != rb) return !ra;
        return a["metadata"].value("creationTimestamp", "") >
               b["metadata"].value("creationTimestamp", "");
      });
      for (int64_t i = 0; i < have - want; ++i) {
        const json& p = pods[i];
        std::string pname = p["metadata"].value("name", "");
        if (p["spec"].contains("containers")) {
          for (const json& c : p["spec"]["containers"]) {
            RecordEvent(p, absl::StrCat("spec.containers{", c.value("name", ""), "}"), "Normal",
                        "Killing", absl::StrCat("Stopping container ", c.value("name", "")),
                        "kubelet", p["spec"].value("nodeName", ""), now);
          }
        }
        if (store_.Delete("pods", ns, pname).ok()) {
          changed = true;
          RecordEvent(rs, "", "Normal", "SuccessfulDelete", absl::StrCat("Deleted pod: ", pname),
                      "replicaset-controller", "", now);
        }
      }
      pods.erase(pods.begin(), pods.begin() + (have - want));
    }
    // Status.
    int64_t ready = 0, available = 0;
    int64_t min_ready = rs["spec"].value("minReadySeconds", 0);
    for (const json& p : pods) {
      if (!PodIsReady(p)) continue;
      ++ready;
      json cond = PodReadyCondition(p);
      absl::Time since = ParseRfc3339(cond.value("lastTransitionTime", ""), now);
      if (now - since >= absl::Seconds(min_ready)) ++available;
    }
    json status = rs.value("status", json::object());
    status["replicas"] = static_cast<int64_t>(pods.size());
    status["fullyLabeledReplicas"] = static_cast<int64_t>(pods.size());
    status["readyReplicas"] = ready;
    status["availableReplicas"] = available;
    status["observedGeneration"] = rs["metadata"].value("generation", 1);
    if (ready == 0) status.erase("readyReplicas");
    if (available == 0) status.erase("availableReplicas");
    if (status != rs["status"]) {
      rs["status"] = status;
      changed |= store_.Update("replicasets", rs, rs["metadata"].value("resourceVersion", "")).ok();
    }
  }
  return changed;
}

namespace {

// One Deployment's reconcile pass: what the steps below read and update.
struct Rollout {
  json d;
  std::string ns, uid, name;
  int64_t desired = 1;
  std::vector<json> all;  // every ReplicaSet it controls
  json new_rs;            // the one whose template matches the Deployment's
  std::vector<json> old;  // the others, oldest first
  int64_t max_rev = 0;
  int64_t max_surge = 1, max_unavailable = 0;
  bool changed = false, progressed = false;
  std::string progress_reason, progress_message;
};

json NewReplicaSet(const Rollout& r, const std::string& hash) {
  const json& spec = r.d["spec"];
  json tmpl = spec.value("template", json::object());
  tmpl["metadata"]["labels"][kHashLabel] = hash;
  json selector = spec.value("selector", json::object());
  selector["matchLabels"][kHashLabel] = hash;
  json rs = {{"apiVersion", "apps/v1"},
             {"kind", "ReplicaSet"},
             {"metadata",
              {{"name", r.name + "-" + hash},
               {"namespace", r.ns},
               {"labels", tmpl["metadata"]["labels"]},
               {"annotations",
                {{kRevision, std::to_string(r.max_rev + 1)},
                 {"deployment.kubernetes.io/desired-replicas", std::to_string(r.desired)},
                 {"deployment.kubernetes.io/max-replicas", std::to_string(r.desired + 1)}}},
               {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                                 {"kind", "Deployment"},
                                                 {"name", r.name},
                                                 {"uid", r.uid},
                                                 {"controller", true},
                                                 {"blockOwnerDeletion", true}}})}}},
             {"spec", {{"replicas", 0}, {"selector", selector}, {"template", tmpl}}},
             {"status", {{"replicas", 0}}}};
  if (spec.contains("minReadySeconds")) rs["spec"]["minReadySeconds"] = spec["minReadySeconds"];
  return rs;
}

// Finds the ReplicaSet of the current template, creating it (a new revision) or, for a rollback
// to an older template, giving the old one the newest revision. False to retry next round.
bool EnsureNewReplicaSet(Store& store, Rollout& r) {
  json want = TemplateForCompare(r.d["spec"].value("template", json::object()));
  for (const json& rs : r.all) {
    r.max_rev = std::max(r.max_rev, Revision(rs));
    if (r.new_rs.is_null() &&
        TemplateForCompare(rs["spec"].value("template", json::object())) == want) {
      r.new_rs = rs;
    }
  }
  if (r.new_rs.is_null()) {
    std::string hash = SafeEncodeHash(Fnv32a(want.dump())).substr(0, 10);
    auto created = store.Create("replicasets", NewReplicaSet(r, hash));
    if (!created.ok()) return false;  // name clash: retry next round
    r.new_rs = *created;
    r.all.push_back(r.new_rs);
    r.max_rev += 1;
    r.changed = r.progressed = true;
    r.progress_reason = "NewReplicaSetCreated";
    r.progress_message = absl::StrCat("Created new replica set \"", r.name, "-", hash, "\"");
  } else if (Revision(r.new_rs) < r.max_rev) {
    json& ann = r.new_rs["metadata"]["annotations"];
    std::string old_rev = std::to_string(Revision(r.new_rs));
    std::string history = ann.value("deployment.kubernetes.io/revision-history", "");
    ann["deployment.kubernetes.io/revision-history"] =
        history.empty() ? old_rev : history + "," + old_rev;
    ann[kRevision] = std::to_string(r.max_rev + 1);
    r.max_rev += 1;
    auto up =
        store.Update("replicasets", r.new_rs, r.new_rs["metadata"].value("resourceVersion", ""));
    if (!up.ok()) return false;
    r.new_rs = *up;
    for (json& rs : r.all) {
      if (rs["metadata"]["uid"] == r.new_rs["metadata"]["uid"]) rs = r.new_rs;
    }
    r.changed = r.progressed = true;
    r.progress_reason = "FoundNewReplicaSet";
    r.progress_message =
        absl::StrCat("Found new replica set \"", r.new_rs["metadata"].value("name", ""), "\"");
  }
  const std::string new_uid = r.new_rs["metadata"].value("uid", "");
  for (const json& rs : r.all) {
    if (rs["metadata"].value("uid", "") != new_uid) r.old.push_back(rs);
  }
  std::sort(r.old.begin(), r.old.end(), [](const json& a, const json& b) {
    return a["metadata"].value("creationTimestamp", "") <
           b["metadata"].value("creationTimestamp", "");
  });
  return true;
}

// The rolling update: surge the new ReplicaSet, then remove unhealthy old replicas, then old
// ones as far as availability allows (the controller's reconcileNewReplicaSet/OldReplicaSets).
template <typename ScaleFn>
void RollingUpdate(Rollout& r, ScaleFn scale) {
  int64_t total = 0;
  for (const json& rs : r.all) total += SpecReplicas(rs);
  int64_t new_replicas = SpecReplicas(r.new_rs);
  if (new_replicas > r.desired) {
    scale(r.new_rs, r.desired);
  } else if (new_replicas < r.desired) {
    int64_t room = r.desired + r.max_surge - total;
    if (room > 0) scale(r.new_rs, std::min(r.desired, new_replicas + room));
  }
  int64_t min_available = r.desired - r.max_unavailable;
  int64_t new_unavailable = SpecReplicas(r.new_rs) - StatusInt(r.new_rs, "availableReplicas");
  total = SpecReplicas(r.new_rs);
  for (const json& rs : r.old) total += SpecReplicas(rs);
  int64_t max_cleanup = total - min_available - std::max<int64_t>(0, new_unavailable);
  for (json& rs : r.old) {
    if (max_cleanup <= 0) break;
    int64_t unhealthy = SpecReplicas(rs) - StatusInt(rs, "availableReplicas");
    int64_t n = std::min(max_cleanup, std::max<int64_t>(0, unhealthy));
    if (n > 0) {
      scale(rs, SpecReplicas(rs) - n);
      max_cleanup -= n;
    }
  }
  int64_t available_all = StatusInt(r.new_rs, "availableReplicas");
  for (const json& rs : r.old) available_all += StatusInt(rs, "availableReplicas");
  int64_t can_remove = available_all - min_available;
  for (json& rs : r.old) {
    if (can_remove <= 0) break;
    int64_t n = std::min(can_remove, SpecReplicas(rs));
    if (n > 0) {
      scale(rs, SpecReplicas(rs) - n);
      can_remove -= n;
    }
  }
}

// The Available and Progressing conditions, including ProgressDeadlineExceeded.
void SetDeploymentConditions(Rollout& r, json* status, int64_t available, int64_t replicas,
                             int64_t updated, absl::Time now_t) {
  const std::string now = Rfc3339(now_t);
  const std::string new_name = r.new_rs["metadata"].value("name", "");
  if (available >= r.desired - r.max_unavailable) {
    SetCondition(status, "Available", "True", "MinimumReplicasAvailable",
                 "Deployment has minimum availability.", now, false);
  } else {
    SetCondition(status, "Available", "False", "MinimumReplicasUnavailable",
                 "Deployment does not have minimum availability.", now, false);
  }
  bool complete = updated == r.desired && replicas == r.desired && available == r.desired &&
                  SpecReplicas(r.new_rs) == r.desired;
  json prog = FindCondition(*status, "Progressing");
  int64_t deadline = r.d["spec"].value("progressDeadlineSeconds", 600);
  if (complete) {
    SetCondition(status, "Progressing", "True", "NewReplicaSetAvailable",
                 absl::StrCat("ReplicaSet \"", new_name, "\" has successfully progressed."), now,
                 prog.is_null() || prog.value("reason", "") != "NewReplicaSetAvailable");
  } else if (r.progressed || prog.is_null()) {
    std::string reason = r.progress_reason.empty() ? "ReplicaSetUpdated" : r.progress_reason;
    std::string message = r.progress_message.empty()
                              ? absl::StrCat("ReplicaSet \"", new_name, "\" is progressing.")
                              : r.progress_message;
    SetCondition(status, "Progressing", "True", reason, message, now, true);
  } else if (prog.value("reason", "") != "ProgressDeadlineExceeded" &&
             prog.value("reason", "") != "NewReplicaSetAvailable") {
    // Like the real controller, a rollout that once completed does not time out later.
    absl::Time last = ParseRfc3339(prog.value("lastUpdateTime", now), now_t);
    if (now_t - last > absl::Seconds(deadline)) {
      SetCondition(status, "Progressing", "False", "ProgressDeadlineExceeded",
                   absl::StrCat("ReplicaSet \"", new_name, "\" has timed out progressing."), now,
                   true);
    }
  }
}

json DeploymentStatus(Rollout& r, absl::Time now_t) {
  json status = r.d.value("status", json::object());
  int64_t replicas = 0, ready = 0, available = 0, spec_total = 0;
  std::vector<json> current_all = r.old;
  current_all.push_back(r.new_rs);
  for (const json& rs : current_all) {
    replicas += StatusInt(rs, "replicas");
    ready += StatusInt(rs, "readyReplicas");
    available += StatusInt(rs, "availableReplicas");
    spec_total += SpecReplicas(rs);
  }
  int64_t updated = StatusInt(r.new_rs, "replicas");
  status["observedGeneration"] = r.d["metadata"].value("generation", 1);
  status["replicas"] = replicas;
  status["updatedReplicas"] = updated;
  status["readyReplicas"] = ready;
  status["availableReplicas"] = available;
  int64_t unavailable = std::max<int64_t>(0, spec_total - available);
  if (unavailable > 0) {
    status["unavailableReplicas"] = unavailable;
  } else {
    status.erase("unavailableReplicas");
  }
  for (const char* f : {"replicas", "updatedReplicas", "readyReplicas", "availableReplicas"}) {
    if (status[f] == 0) status.erase(f);
  }
  if (StatusInt(r.d, "updatedReplicas") < updated || StatusInt(r.d, "readyReplicas") < ready ||
      StatusInt(r.d, "availableReplicas") < available || StatusInt(r.d, "replicas") > replicas) {
    r.progressed = true;
  }
  SetDeploymentConditions(r, &status, available, replicas, updated, now_t);
  return status;
}

// Old, scaled-down ReplicaSets beyond revisionHistoryLimit, oldest revisions first.
bool PruneHistory(Store& store, const Rollout& r) {
  bool changed = false;
  int64_t history_limit = r.d["spec"].value("revisionHistoryLimit", 10);
  std::vector<json> idle;
  for (const json& rs : r.old) {
    if (SpecReplicas(rs) == 0 && StatusInt(rs, "replicas") == 0) idle.push_back(rs);
  }
  std::sort(idle.begin(), idle.end(),
            [](const json& a, const json& b) { return Revision(a) < Revision(b); });
  for (int64_t i = 0; i + history_limit < static_cast<int64_t>(idle.size()); ++i) {
    changed |= store.Delete("replicasets", r.ns, idle[i]["metadata"].value("name", "")).ok();
  }
  return changed;
}

}  // namespace

bool Cluster::ReconcileDeployment(json d) {
  Rollout r;
  r.d = d;
  r.ns = d["metadata"].value("namespace", "");
  r.uid = d["metadata"].value("uid", "");
  r.name = d["metadata"].value("name", "");
  r.desired = SpecReplicas(d);
  for (const json& rs : store_.List("replicasets", r.ns)) {
    if (OwnedBy(rs, r.uid)) r.all.push_back(rs);
  }
  if (!EnsureNewReplicaSet(store_, r)) return r.changed;
  const absl::Time now = Now();
  const json& spec = d["spec"];
  auto scale = [&](json& rs, int64_t to) {
    int64_t from = SpecReplicas(rs);
    if (from == to) return;
    rs["spec"]["replicas"] = to;
    rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
        std::to_string(r.desired);
    auto up = store_.Update("replicasets", rs, rs["metadata"].value("resourceVersion", ""));
    if (!up.ok()) return;
    rs = *up;
    r.changed = r.progressed = true;
    RecordEvent(d, "", "Normal", "ScalingReplicaSet",
                absl::StrCat(to > from ? "Scaled up" : "Scaled down", " replica set ",
                             rs["metadata"].value("name", ""), " from ", from, " to ", to),
                "deployment-controller", "", now);
  };
  const std::string strategy =
      spec.contains("strategy") ? spec["strategy"].value("type", "RollingUpdate") : "RollingUpdate";
  json ru = spec.contains("strategy") ? spec["strategy"].value("rollingUpdate", json::object())
                                      : json::object();
  r.max_surge = ResolveIntOrPercent(ru.value("maxSurge", json("25%")), r.desired, true, 1);
  r.max_unavailable =
      ResolveIntOrPercent(ru.value("maxUnavailable", json("25%")), r.desired, false, 0);
  if (r.max_surge == 0 && r.max_unavailable == 0) r.max_unavailable = 1;
  if (!spec.value("paused", false)) {
    if (strategy == "Recreate") {
      int64_t old_pods = 0;
      for (json& rs : r.old) {
        scale(rs, 0);
        old_pods += StatusInt(rs, "replicas");
      }
      if (old_pods == 0) scale(r.new_rs, r.desired);
    } else {
      RollingUpdate(r, scale);
    }
  }
  json updated_d = d;
  updated_d["status"] = DeploymentStatus(r, now);
  r.changed |= PruneHistory(store_, r);
  if (!updated_d["metadata"].contains("annotations") ||
      !updated_d["metadata"]["annotations"].is_object()) {
    updated_d["metadata"]["annotations"] = json::object();
  }
  updated_d["metadata"]["annotations"][kRevision] = std::to_string(Revision(r.new_rs));
  if (updated_d == d) return r.changed;
  return store_.Update("deployments", updated_d, d["metadata"].value("resourceVersion", "")).ok() ||
         r.changed;
}

bool Cluster::ReconcileDeployments() {
  bool changed = false;
  for (const json& d : store_.List("deployments", "")) changed |= ReconcileDeployment(d);
  return changed;
}

}  // namespace remediator::kubesim
