// The Job, CronJob and StatefulSet controllers, modelled on kube-controller-manager v1.32:
// Jobs create pods until `completions` succeed or more than `backoffLimit` fail; CronJobs create
// Jobs named <cronjob>-<minutes since the epoch> on their schedule and keep a bounded history;
// StatefulSets create <sts>-<ordinal> pods in order and roll them from the highest ordinal.
// Like the real OrderedReady controller, a StatefulSet waits for a pod that is not Running and
// Ready before it does anything else, so a template fix does not replace a crash-looping pod
// until that pod is deleted (the Kubernetes docs' "forced rollback").
#include "server/kubesim/workloads.h"

#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/k8s_util.h"

namespace remediator::kubesim {
namespace {

json OwnerRef(const json& owner) {
  return {{"apiVersion", owner.value("apiVersion", "")},
          {"kind", owner.value("kind", "")},
          {"name", owner["metadata"].value("name", "")},
          {"uid", owner["metadata"].value("uid", "")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

bool Controls(const json& obj, const json& owner) {
  const std::string uid = owner["metadata"].value("uid", "");
  for (const json& ref : obj["metadata"].value("ownerReferences", json::array())) {
    if (ref.value("uid", "") == uid && ref.value("controller", false)) return true;
  }
  return false;
}

std::string Phase(const json& pod) {
  return pod.contains("status") ? pod["status"].value("phase", "Pending") : "Pending";
}

bool Ready(const json& pod) {
  json c = PodReadyCondition(pod);
  return !c.is_null() && c.value("status", "") == "True";
}

json Condition(const std::string& type, const std::string& reason, const std::string& message,
               const std::string& now) {
  return {{"type", type},       {"status", "True"},     {"reason", reason},
          {"message", message}, {"lastProbeTime", now}, {"lastTransitionTime", now}};
}

bool HasCondition(const json& obj, const std::string& type) {
  if (!obj.contains("status")) return false;
  for (const json& c : obj["status"].value("conditions", json::array())) {
    if (c.value("type", "") == type && c.value("status", "") == "True") return true;
  }
  return false;
}

int64_t IntAt(const json& obj, const char* key, int64_t fallback) {
  return obj.contains(key) && obj[key].is_number() ? obj[key].get<int64_t>() : fallback;
}

// cron field: "*", "*/n", "a", "a-b", "a-b/n", comma lists; values in [lo, hi].
absl::StatusOr<std::vector<bool>> ParseCronField(const std::string& text, int lo, int hi) {
  std::vector<bool> out(hi + 1, false);
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    std::string p(part);
    int step = 1;
    if (size_t slash = p.find('/'); slash != std::string::npos) {
      if (!absl::SimpleAtoi(p.substr(slash + 1), &step) || step <= 0) {
        return absl::InvalidArgumentError(absl::StrCat("bad step in \"", text, "\""));
      }
      p = p.substr(0, slash);
    }
    int a = lo, b = hi;
    if (p != "*") {
      std::vector<std::string> range = absl::StrSplit(p, '-');
      if (range.size() > 2 || !absl::SimpleAtoi(range[0], &a) ||
          (range.size() == 2 && !absl::SimpleAtoi(range[1], &b))) {
        return absl::InvalidArgumentError(absl::StrCat("bad value \"", text, "\""));
      }
      if (range.size() == 1) b = step > 1 ? hi : a;
    }
    if (a < lo || b > hi || a > b) {
      return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is out of range"));
    }
    for (int v = a; v <= b; v += step) out[v] = true;
  }
  return out;
}

}  // namespace

json PodFromTemplate(const json& tmpl, const std::string& ns, const std::string& name,
                     const json& owner, const json& labels) {
  json meta = tmpl.value("metadata", json::object());
  meta.erase("creationTimestamp");
  meta["name"] = name;
  meta["namespace"] = ns;
  if (!meta.contains("labels") || !meta["labels"].is_object()) meta["labels"] = json::object();
  for (const auto& [k, v] : labels.items()) meta["labels"][k] = v;
  meta["ownerReferences"] = json::array({OwnerRef(owner)});
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", meta},
          {"spec", tmpl.value("spec", json::object())},
          {"status", {{"phase", "Pending"}, {"qosClass", "BestEffort"}}}};
}

void DefaultStatefulSetSpec(json* spec) {
  if (!spec->is_object()) return;
  if (!spec->contains("podManagementPolicy")) (*spec)["podManagementPolicy"] = "OrderedReady";
  if (!spec->contains("revisionHistoryLimit")) (*spec)["revisionHistoryLimit"] = 10;
  if (!spec->contains("updateStrategy")) {
    (*spec)["updateStrategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 0}}}};
  }
  if (!spec->contains("persistentVolumeClaimRetentionPolicy")) {
    (*spec)["persistentVolumeClaimRetentionPolicy"] = {{"whenDeleted", "Retain"},
                                                       {"whenScaled", "Retain"}};
  }
}

absl::StatusOr<CronSchedule> CronSchedule::Parse(const std::string& text) {
  static const std::map<std::string, std::string> kMacros = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  std::string spec = kMacros.count(text) ? kMacros.at(text) : text;
  std::vector<std::string> fields = absl::StrSplit(spec, ' ', absl::SkipWhitespace());
  if (fields.size() != 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected exactly 5 fields, found ", fields.size(), ": ", text));
  }
  static const int kLo[5] = {0, 0, 1, 1, 0}, kHi[5] = {59, 23, 31, 12, 7};
  CronSchedule s;
  for (int i = 0; i < 5; ++i) {
    auto f = ParseCronField(fields[i], kLo[i], kHi[i]);
    if (!f.ok()) return f.status();
    s.fields_[i] = *f;
  }
  if (s.fields_[4][7]) s.fields_[4][0] = true;  // 7 is Sunday too
  s.dom_star_ = fields[2] == "*";
  s.dow_star_ = fields[4] == "*";
  return s;
}

bool CronSchedule::Matches(absl::Time t) const {
  absl::CivilMinute m = absl::ToCivilMinute(t, absl::UTCTimeZone());
  int dow = static_cast<int>(absl::GetWeekday(absl::CivilDay(m)));  // Monday = 0
  dow = (dow + 1) % 7;                                              // cron: Sunday = 0
  bool dom = fields_[2][m.day()], wd = fields_[4][dow];
  // Like cron (and robfig/cron): when both day fields are restricted, either may match.
  bool day = dom_star_ || dow_star_ ? dom && wd : dom || wd;
  return fields_[0][m.minute()] && fields_[1][m.hour()] && fields_[3][m.month()] && day;
}

std::optional<absl::Time> CronSchedule::LastFireBetween(absl::Time after, absl::Time upto) const {
  absl::Time t =
      absl::FromCivil(absl::ToCivilMinute(upto, absl::UTCTimeZone()), absl::UTCTimeZone());
  for (int i = 0; i < 24 * 60 && t > after; ++i, t -= absl::Minutes(1)) {
    if (Matches(t)) return t;
  }
  return std::nullopt;
}

// ---- Job ------------------------------------------------------------------------------------

namespace {

struct JobCounts {
  int64_t active = 0, ready = 0, succeeded = 0, failed = 0;
  absl::Time last_failure = absl::InfinitePast();
  std::vector<std::string> active_names;
};

JobCounts CountJobPods(const std::vector<json>& pods, const std::string& policy, absl::Time now) {
  JobCounts n;
  for (const json& p : pods) {
    const std::string phase = Phase(p);
    if (phase == "Succeeded") {
      ++n.succeeded;
    } else if (phase == "Failed") {
      ++n.failed;
      n.last_failure =
          std::max(n.last_failure, ParseRfc3339(p["metadata"].value("creationTimestamp", ""), now));
    } else {
      ++n.active;
      n.active_names.push_back(p["metadata"].value("name", ""));
      if (Ready(p)) ++n.ready;
    }
    // With restartPolicy OnFailure the kubelet restarts in place; restarts count as failures.
    if (policy == "OnFailure" && p.contains("status")) {
      for (const json& cs : p["status"].value("containerStatuses", json::array())) {
        n.failed += cs.value("restartCount", 0);
      }
    }
  }
  return n;
}

}  // namespace

bool Cluster::ReconcileJob(json job) {
  const std::string ns = job["metadata"].value("namespace", "");
  const std::string name = job["metadata"].value("name", "");
  const absl::Time now = Now();
  const std::string now_s = Rfc3339(now);
  const json& spec = job["spec"];
  if (HasCondition(job, "Complete") || HasCondition(job, "Failed")) return false;
  std::vector<json> pods;
  for (const json& p : store_.List("pods", ns)) {
    if (Controls(p, job)) pods.push_back(p);
  }
  const json tmpl = spec.value("template", json::object());
  const std::string policy = tmpl.value("spec", json::object()).value("restartPolicy", "Never");
  JobCounts n = CountJobPods(pods, policy, now);
  json status = job.value("status", json::object());
  bool changed = false;
  if (!status.contains("startTime")) status["startTime"] = now_s;
  const int64_t completions = IntAt(spec, "completions", 1);
  const int64_t backoff_limit = IntAt(spec, "backoffLimit", 6);
  auto finish = [&](const std::string& type, const std::string& target, const std::string& reason,
                    const std::string& message, const std::string& event_type) {
    status["conditions"] = json::array(
        {Condition(target, reason, message, now_s), Condition(type, reason, message, now_s)});
    if (type == "Complete") status["completionTime"] = now_s;
    for (const auto& p : n.active_names) changed |= store_.Delete("pods", ns, p).ok();
    n.active = n.ready = 0;
    RecordEvent(job, "", event_type, type == "Complete" ? "Completed" : reason,
                type == "Complete" ? "Job completed" : message, "job-controller", "", now);
  };
  if (n.failed > backoff_limit) {
    finish("Failed", "FailureTarget", "BackoffLimitExceeded",
           "Job has reached the specified backoff limit", "Warning");
  } else if (spec.contains("activeDeadlineSeconds") &&
             now - ParseRfc3339(status.value("startTime", now_s), now) >
                 absl::Seconds(IntAt(spec, "activeDeadlineSeconds", 0))) {
    finish("Failed", "FailureTarget", "DeadlineExceeded",
           "Job was active longer than specified deadline", "Warning");
  } else if (n.succeeded >= completions) {
    finish("Complete", "SuccessCriteriaMet", "CompletionsReached",
           "Reached expected number of succeeded pods", "Normal");
  } else if (!spec.value("suspend", false)) {
    // Failed pods are replaced after the pod failure back-off (10 s, doubling, at most 6 min).
    absl::Duration backoff =
        absl::Seconds(std::min<int64_t>(360, 10LL << std::min<int64_t>(n.failed - 1, 6)));
    const int64_t want = std::min(IntAt(spec, "parallelism", 1), completions - n.succeeded);
    for (int64_t i = n.active; i < want && (n.failed == 0 || now >= n.last_failure + backoff);
         ++i) {
      json pod = PodFromTemplate(tmpl, ns, name + "-" + RandomSuffix(5), job,
                                 {{"batch.kubernetes.io/controller-uid", job["metadata"]["uid"]},
                                  {"batch.kubernetes.io/job-name", name},
                                  {"controller-uid", job["metadata"]["uid"]},
                                  {"job-name", name}});
      pod["metadata"]["generateName"] = name + "-";
      if (auto created = store_.Create("pods", pod); created.ok()) {
        changed = true;
        ++n.active;
        RecordEvent(job, "", "Normal", "SuccessfulCreate",
                    absl::StrCat("Created pod: ", (*created)["metadata"].value("name", "")),
                    "job-controller", "", now);
      }
    }
  }
  status["active"] = n.active;
  status["ready"] = n.ready;
  status["succeeded"] = n.succeeded;
  status["failed"] = n.failed;
  status["terminating"] = 0;
  status["uncountedTerminatedPods"] = json::object();
  for (const char* f : {"active", "succeeded", "failed"}) {
    if (status[f] == 0) status.erase(f);
  }
  if (status == job.value("status", json::object())) return changed;
  job["status"] = status;
  return store_.Update("jobs", job, job["metadata"].value("resourceVersion", "")).ok() || changed;
}

bool Cluster::ReconcileJobs() {
  bool changed = false;
  for (const json& job : store_.List("jobs", "")) changed |= ReconcileJob(job);
  return changed;
}

// ---- CronJob --------------------------------------------------------------------------------

namespace {

json JobRef(const json& job) {
  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"name", job["metadata"].value("name", "")},
          {"namespace", job["metadata"].value("namespace", "")},
          {"uid", job["metadata"].value("uid", "")},
          {"resourceVersion", job["metadata"].value("resourceVersion", "")}};
}

}  // namespace

// Finished Jobs leave `active` (SawCompletedJob) and are pruned beyond the history limits.
bool Cluster::TrackCronJobHistory(const json& cj, const std::vector<json>& jobs, json* status) {
  const std::string ns = cj["metadata"].value("namespace", "");
  const absl::Time now = Now();
  bool changed = false;
  json active = json::array();
  std::vector<json> succeeded, failed;
  std::set<std::string> was_active;
  for (const json& ref : status->value("active", json::array())) was_active.insert(ref["uid"]);
  for (const json& job : jobs) {
    const bool ok = HasCondition(job, "Complete"), bad = HasCondition(job, "Failed");
    if (!ok && !bad) {
      active.push_back(JobRef(job));
      continue;
    }
    (ok ? succeeded : failed).push_back(job);
    if (was_active.count(job["metadata"].value("uid", ""))) {
      RecordEvent(cj, "", "Normal", "SawCompletedJob",
                  absl::StrCat("Saw completed job: ", job["metadata"].value("name", ""),
                               ", condition: ", ok ? "Complete" : "Failed"),
                  "cronjob-controller", "", now);
      if (ok) (*status)["lastSuccessfulTime"] = job["status"].value("completionTime", Rfc3339(now));
    }
  }
  (*status)["active"] = active;
  if (active.empty()) status->erase("active");
  const json& spec = cj["spec"];
  for (auto& [list, limit] : {std::pair{&succeeded, IntAt(spec, "successfulJobsHistoryLimit", 3)},
                              std::pair{&failed, IntAt(spec, "failedJobsHistoryLimit", 1)}}) {
    std::sort(list->begin(), list->end(), [](const json& a, const json& b) {
      return a["metadata"].value("creationTimestamp", "") <
             b["metadata"].value("creationTimestamp", "");
    });
    for (int64_t i = 0; i + limit < static_cast<int64_t>(list->size()); ++i) {
      const std::string jname = (*list)[i]["metadata"].value("name", "");
      if (store_.Delete("jobs", ns, jname).ok()) {
        changed = true;
        RecordEvent(cj, "", "Normal", "SuccessfulDelete", absl::StrCat("Deleted job ", jname),
                    "cronjob-controller", "", now);
      }
    }
  }
  return changed;
}

bool Cluster::ReconcileCronJob(json cj) {
  const std::string ns = cj["metadata"].value("namespace", "");
  const std::string name = cj["metadata"].value("name", "");
  const absl::Time now = Now();
  const json& spec = cj["spec"];
  std::vector<json> jobs;
  for (const json& j : store_.List("jobs", ns)) {
    if (Controls(j, cj)) jobs.push_back(j);
  }
  json status = cj.value("status", json::object());
  bool changed = TrackCronJobHistory(cj, jobs, &status);
  auto schedule = CronSchedule::Parse(spec.value("schedule", ""));
  absl::Time since = ParseRfc3339(
      status.value("lastScheduleTime", cj["metadata"].value("creationTimestamp", "")), now);
  std::optional<absl::Time> fire =
      schedule.ok() ? schedule->LastFireBetween(since, now) : std::nullopt;
  const std::string policy = spec.value("concurrencyPolicy", "Allow");
  const bool busy = status.contains("active") && !status["active"].empty();
  if (fire && !spec.value("suspend", false) && !(busy && policy == "Forbid")) {
    if (busy && policy == "Replace") {
      for (const json& ref : status["active"])
        changed |= store_.Delete("jobs", ns, ref["name"]).ok();
      status.erase("active");
    }
    const std::string job_name = absl::StrCat(name, "-", absl::ToUnixSeconds(*fire) / 60);
    json tmpl = spec.value("jobTemplate", json::object());
    json meta = tmpl.value("metadata", json::object());
    meta["name"] = job_name;
    meta["namespace"] = ns;
    meta["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] = Rfc3339(*fire);
    meta["ownerReferences"] = json::array({OwnerRef(cj)});
    json job = {{"apiVersion", "batch/v1"},
                {"kind", "Job"},
                {"metadata", meta},
                {"spec", tmpl.value("spec", json::object())}};
    if (auto created = store_.Create("jobs", job); created.ok()) {
      changed = true;
      status["active"].push_back(JobRef(*created));
      RecordEvent(cj, "", "Normal", "SuccessfulCreate", absl::StrCat("Created job ", job_name),
                  "cronjob-controller", "", now);
    }
    status["lastScheduleTime"] = Rfc3339(*fire);
  }
  if (status == cj.value("status", json::object())) return changed;
  cj["status"] = status;
  return store_.Update("cronjobs", cj, cj["metadata"].value("resourceVersion", "")).ok() || changed;
}

bool Cluster::ReconcileCronJobs() {
  bool changed = false;
  for (const json& cj : store_.List("cronjobs", "")) changed |= ReconcileCronJob(cj);
  return changed;
}

// ---- StatefulSet ----------------------------------------------------------------------------

namespace {

constexpr char kRevisionLabel[] = "controller-revision-hash";

// "<sts>-<hash>" of the template, as the controller names ControllerRevisions.
std::string StsRevision(const json& sts) {
  json tmpl = sts["spec"].value("template", json::object());
  if (tmpl.contains("metadata")) tmpl["metadata"].erase("creationTimestamp");
  return absl::StrCat(sts["metadata"].value("name", ""), "-",
                      SafeEncodeHash(Fnv32a(Normalize(tmpl).dump())).substr(0, 10));
}

std::string Revision(const json& pod) {
  return pod["metadata"].value("labels", json::object()).value(kRevisionLabel, "");
}

bool RunningAndReady(const json& pod) {
  return Phase(pod) == "Running" && Ready(pod) && !pod["metadata"].contains("deletionTimestamp");
}

}  // namespace

// One pass of the real controller's update loop (stateful_set_control.go): replace failed pods,
// create missing ones, and in OrderedReady mode stop at the first pod that is not Running and
// Ready; then delete surplus ordinals; then roll the highest ordinal not at the update revision.
bool Cluster::SyncStatefulSetPods(const json& sts, const std::string& update_rev,
                                  std::map<int64_t, json>& pods) {
  const std::string ns = sts["metadata"].value("namespace", "");
  const std::string name = sts["metadata"].value("name", "");
  const json& spec = sts["spec"];
  const int64_t replicas = IntAt(spec, "replicas", 1);
  const bool monotonic = spec.value("podManagementPolicy", "OrderedReady") != "Parallel";
  const absl::Time now = Now();
  auto event = [&](const std::string& reason, const std::string& verb, const std::string& pod) {
    RecordEvent(sts, "", "Normal", reason,
                absl::StrCat(verb, " Pod ", pod, " in StatefulSet ", name, " successful"),
                "statefulset-controller", "", now);
  };
  auto remove = [&](int64_t i) {
    const std::string pname = absl::StrCat(name, "-", i);
    if (!store_.Delete("pods", ns, pname).ok()) return false;
    event("SuccessfulDelete", "delete", pname);
    pods.erase(i);
    return true;
  };
  for (int64_t i = 0; i < replicas; ++i) {
    auto it = pods.find(i);
    if (it != pods.end() && (Phase(it->second) == "Failed" || Phase(it->second) == "Succeeded")) {
      remove(i);
      if (monotonic) return true;
      it = pods.end();
    }
    if (it == pods.end()) {
      const std::string pname = absl::StrCat(name, "-", i);
      json pod = PodFromTemplate(spec.value("template", json::object()), ns, pname, sts,
                                 {{kRevisionLabel, update_rev},
                                  {"statefulset.kubernetes.io/pod-name", pname},
                                  {"apps.kubernetes.io/pod-index", std::to_string(i)}});
      pod["spec"]["hostname"] = pname;
      if (spec.contains("serviceName")) pod["spec"]["subdomain"] = spec["serviceName"];
      if (!store_.Create("pods", pod).ok()) return false;
      event("SuccessfulCreate", "create", pname);
      if (monotonic) return true;
      continue;
    }
    if (monotonic && !RunningAndReady(it->second)) return false;  // waits, like the real one
  }
  for (auto it = pods.rbegin(); it != pods.rend(); ++it) {
    if (it->first < replicas) break;
    return remove(it->first);
  }
  const json ru =
      spec.value("updateStrategy", json::object()).value("rollingUpdate", json::object());
  if (spec.value("updateStrategy", json::object()).value("type", "RollingUpdate") !=
      "RollingUpdate") {
    return false;
  }
  for (int64_t i = replicas - 1; i >= IntAt(ru, "partition", 0); --i) {
    auto it = pods.find(i);
    if (it == pods.end()) continue;
    if (Revision(it->second) != update_rev) return remove(i);
    if (!RunningAndReady(it->second)) return false;
  }
  return false;
}

bool Cluster::ReconcileStatefulSet(json sts) {
  const std::string ns = sts["metadata"].value("namespace", "");
  const std::string name = sts["metadata"].value("name", "");
  std::map<int64_t, json> pods;
  for (const json& p : store_.List("pods", ns)) {
    if (!Controls(p, sts)) continue;
    int64_t ordinal = 0;
    const std::string pname = p["metadata"].value("name", "");
    if (pname.size() > name.size() + 1 &&
        absl::SimpleAtoi(pname.substr(name.size() + 1), &ordinal)) {
      pods[ordinal] = p;
    }
  }
  const std::string update_rev = StsRevision(sts);
  bool changed = SyncStatefulSetPods(sts, update_rev, pods);
  json status = sts.value("status", json::object());
  int64_t ready = 0, updated = 0, current = 0;
  std::string current_rev = status.value("currentRevision", update_rev);
  for (const auto& [i, p] : pods) {
    if (Ready(p)) ++ready;
    if (Revision(p) == update_rev) ++updated;
    if (Revision(p) == current_rev) ++current;
  }
  const int64_t replicas = IntAt(sts["spec"], "replicas", 1);
  if (updated == replicas && ready == replicas && static_cast<int64_t>(pods.size()) == replicas) {
    current_rev = update_rev;
    current = updated;
  }
  status["observedGeneration"] = sts["metadata"].value("generation", 1);
  status["replicas"] = static_cast<int64_t>(pods.size());
  status["readyReplicas"] = ready;
  status["availableReplicas"] = ready;
  status["currentReplicas"] = current;
  status["updatedReplicas"] = updated;
  status["currentRevision"] = current_rev;
  status["updateRevision"] = update_rev;
  status["collisionCount"] = 0;
  for (const char* f : {"readyReplicas", "currentReplicas", "updatedReplicas"}) {
    if (status[f] == 0) status.erase(f);
  }
  if (status == sts.value("status", json::object())) return changed;
  sts["status"] = status;
  return store_.Update("statefulsets", sts, sts["metadata"].value("resourceVersion", "")).ok() ||
         changed;
}

bool Cluster::ReconcileStatefulSets() {
  bool changed = false;
  for (const json& sts : store_.List("statefulsets", "")) changed |= ReconcileStatefulSet(sts);
  return changed;
}

}  // namespace remediator::kubesim
