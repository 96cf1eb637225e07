// Pod status rules, in precedence order (k8s-failures.md §1 "Precedence", §2):
//   1. Evicted (phase Failed + reason Evicted, or DisruptionTarget/TerminationByKubelet on a
//      Failed pod).  2. Succeeded pods are fine.  3. Per container (init containers first):
//      OOM (terminated or lastState OOMKilled, or a runtime "OOM-killed" message, checked before
//      CrashLoopBackOff) > image pull > config error > crash loop; the best across containers wins.
//   4. PodScheduled=False/Unschedulable.  5. Running but a started container not ready: probe
//      failure (unless it started less than the grace period before the observation).
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/remediator/core/detection/classifiers.h"
#include "server/remediator/core/detection/workload_resolver.h"

namespace remediator::detection::internal {
namespace {

struct ContainerView {
  std::string name;
  bool init = false;
  const Json* status = nullptr;
  // The pod failed for good (phase Failed: restartPolicy Never, a Job's pod): a container that
  // exited with an error will not be restarted, so its exit is the failure itself.
  bool pod_failed = false;
};

struct Candidate {
  int rank = 100;  // lower wins
  Finding finding;
};

bool Contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

bool IsImageReason(const std::string& r) {
  return r == "ErrImagePull" || r == "ImagePullBackOff" || r == "InvalidImageName" ||
         r == "ErrImageNeverPull" || r == "ImageInspectError" || r == "RegistryUnavailable" ||
         r == "SignatureValidationFailed";
}

bool IsConfigReason(const std::string& r) {
  return r == "CreateContainerConfigError" || r == "CreateContainerError" ||
         r == "PreCreateHookError" || r == "PreStartHookError" || r == "PostStartHookError";
}

bool MentionsOomInit(const std::string& m) {
  return Contains(m, "OOM-killed") || Contains(m, "memory limit too low");
}

bool MentionsMountFailure(const std::string& m) {
  return Contains(m, "error mounting") || Contains(m, "not a directory") || Contains(m, "mount ");
}

std::string TerminatedText(const Json* t) {
  if (t == nullptr) return "";
  std::string s = absl::StrCat("exit code ", Int(*t, "exitCode", -1));
  const std::string reason = Str(*t, "reason");
  if (!reason.empty()) absl::StrAppend(&s, ", reason ", reason);
  const std::string message = Str(*t, "message");
  if (!message.empty()) absl::StrAppend(&s, ": ", message);
  return s;
}

Candidate ClassifyContainer(const ContainerView& c) {
  Candidate out;
  const Json& cs = *c.status;
  const Json* waiting = Path(cs, {"state", "waiting"});
  const Json* term = Path(cs, {"state", "terminated"});
  const Json* last = Path(cs, {"lastState", "terminated"});
  const std::string wr = waiting ? Str(*waiting, "reason") : "";
  const std::string wm = waiting ? Str(*waiting, "message") : "";
  const std::string tr = term ? Str(*term, "reason") : "";
  const std::string tm = term ? Str(*term, "message") : "";
  const std::string lr = last ? Str(*last, "reason") : "";
  const std::string lm = last ? Str(*last, "message") : "";
  Finding& f = out.finding;
  f.workload.set_container(c.name);
  const std::string who = absl::StrCat(c.init ? "init container " : "container ", c.name);

  if (tr == "OOMKilled" || lr == "OOMKilled" || MentionsOomInit(wm) || MentionsOomInit(tm) ||
      MentionsOomInit(lm)) {
    out.rank = 0;
    f.error_class = v1::ERROR_CLASS_OOM_KILLED;
    f.fixable_by_manifest = true;
    f.reason = (tr == "OOMKilled" || lr == "OOMKilled") ? "OOMKilled" : "OOMKilledAtInit";
    const Json* t = (tr == "OOMKilled" || MentionsOomInit(tm)) ? term : last;
    f.summary =
        absl::StrCat(who, " was killed for exceeding its memory limit (", TerminatedText(t), ")");
    if (!wm.empty()) f.evidence.push_back(absl::StrCat("waiting ", wr, ": ", wm));
    if (t != nullptr) f.evidence.push_back(absl::StrCat("terminated: ", TerminatedText(t)));
    return out;
  }
  if (IsImageReason(wr)) {
    out.rank = 1;
    f.error_class = v1::ERROR_CLASS_IMAGE_PULL;
    f.fixable_by_manifest = !RegistryUnreachable(wm);
    f.reason = wr;
    f.summary = absl::StrCat(who, " cannot get its image (", wr, ")");
    f.evidence.push_back(absl::StrCat(wr, ": ", wm));
    return out;
  }
  const bool start_error = lr == "StartError" || lr == "ContainerCannotRun" || tr == "StartError" ||
                           tr == "ContainerCannotRun" || wr == "RunContainerError";
  const std::string start_message = !lm.empty() ? lm : (!tm.empty() ? tm : wm);
  if (IsConfigReason(wr) || (start_error && MentionsMountFailure(start_message))) {
    out.rank = 2;
    f.error_class = v1::ERROR_CLASS_CONFIG_ERROR;
    f.fixable_by_manifest = true;
    f.reason = IsConfigReason(wr) ? wr : (wr.empty() ? lr : wr);
    f.summary = absl::StrCat(who, " cannot be created from its spec (", f.reason, ")");
    f.evidence.push_back(absl::StrCat(f.reason, ": ", IsConfigReason(wr) ? wm : start_message));
    return out;
  }
  const bool failed_now = term != nullptr && Int(*term, "exitCode", 0) != 0;
  if (wr == "CrashLoopBackOff" || wr == "RunContainerError" ||
      ((c.init || c.pod_failed) && failed_now)) {
    out.rank = 3;
    f.error_class = v1::ERROR_CLASS_CRASH_LOOP;
    f.fixable_by_manifest = true;
    f.reason = wr.empty() ? "Error" : wr;
    const Json* t = last != nullptr ? last : term;
    f.summary = absl::StrCat(who, " keeps exiting (", t ? TerminatedText(t) : f.reason, ")");
    if (!wm.empty()) f.evidence.push_back(absl::StrCat("waiting ", wr, ": ", wm));
    if (t != nullptr) f.evidence.push_back(absl::StrCat("last terminated: ", TerminatedText(t)));
    return out;
  }
  return out;
}

std::optional<absl::Time> ParseTime(const std::string& text) {
  absl::Time t;
  std::string err;
  if (text.empty() || !absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return std::nullopt;
  return t;
}

}  // namespace

absl::StatusOr<Finding> ClassifyPod(const Json& pod, const PodContext& context) {
  const std::string kind = Str(pod, "kind");
  if (!kind.empty() && kind != "Pod") {
    return absl::InvalidArgumentError(
        absl::StrCat("pod_json: kind is \"", kind, "\", want \"Pod\""));
  }
  const Json* metadata = Field(pod, "metadata");
  const std::string name = metadata ? Str(*metadata, "name") : "";
  if (name.empty()) return absl::InvalidArgumentError("pod_json: metadata.name is missing");

  Finding f;
  f.workload.set_namespace_(Str(*metadata, "namespace"));
  f.workload.set_pod(name);
  const Json* owner = nullptr;
  for (const Json& ref : Array(*metadata, "ownerReferences")) {
    const Json* controller = Field(ref, "controller");
    if (owner == nullptr ||
        (controller != nullptr && controller->is_boolean() && controller->get<bool>())) {
      owner = &ref;
    }
  }
  WorkloadName workload{"Pod", name};
  if (owner != nullptr && !Str(*owner, "kind").empty() && !Str(*owner, "name").empty()) {
    workload = WorkloadFromOwner(Str(*owner, "kind"), Str(*owner, "name"),
                                 StrPath(*metadata, {"labels", "pod-template-hash"}));
  }
  f.workload.set_kind(workload.kind);
  f.workload.set_name(workload.name);

  const Json* status = Field(pod, "status");
  if (status == nullptr) return f;
  const std::string phase = Str(*status, "phase");
  const std::string pod_reason = Str(*status, "reason");
  const std::string pod_message = Str(*status, "message");

  std::vector<ContainerView> containers;
  for (const char* key : {"initContainerStatuses", "containerStatuses"}) {
    for (const Json& cs : Array(*status, key)) {
      containers.push_back({Str(cs, "name"), std::string_view(key) == "initContainerStatuses", &cs,
                            phase == "Failed"});
    }
  }
  const Json* disruption = nullptr;
  const Json* scheduled = nullptr;
  for (const Json& cond : Array(*status, "conditions")) {
    const std::string type = Str(cond, "type");
    if (type == "DisruptionTarget" && Str(cond, "status") == "True") disruption = &cond;
    if (type == "PodScheduled") scheduled = &cond;
  }

  // 1. Eviction.
  if (phase == "Failed" &&
      (pod_reason == "Evicted" ||
       (disruption != nullptr && Str(*disruption, "reason") == "TerminationByKubelet"))) {
    const std::string message =
        !pod_message.empty() ? pod_message : (disruption ? Str(*disruption, "message") : "");
    std::string container = EvictedContainer(message);
    int regular = 0;
    std::string only;
    for (const auto& c : containers) {
      if (!c.init) {
        ++regular;
        only = c.name;
      }
    }
    if (container.empty() && regular == 1) container = only;
    f.workload.set_container(container);
    f.error_class = v1::ERROR_CLASS_EVICTED;
    f.fixable_by_manifest = EvictionFixableByManifest(message);
    f.reason = "Evicted";
    f.summary = absl::StrCat("pod ", name, " was evicted by the kubelet: ", message);
    f.evidence.push_back(absl::StrCat("status.reason Evicted: ", message));
    return f;
  }
  // 2. Finished Job pods and the like.
  if (phase == "Succeeded") return f;

  // 3. Containers.
  Candidate best;
  for (const auto& c : containers) {
    Candidate cand = ClassifyContainer(c);
    if (cand.rank < best.rank) best = std::move(cand);
  }
  if (best.rank < 100) {
    Finding out = std::move(best.finding);
    const std::string container = out.workload.container();
    out.workload = f.workload;
    out.workload.set_container(container);
    v1::WorkloadRef owner = f.workload;
    owner.clear_container();
    out.summary = absl::StrCat(out.summary, " in pod ", name, " of ", Subject(owner));
    return out;
  }

  // 4. Scheduling.
  if (scheduled != nullptr && Str(*scheduled, "status") == "False" &&
      Str(*scheduled, "reason") == "Unschedulable") {
    const std::string message = Str(*scheduled, "message");
    f.error_class = v1::ERROR_CLASS_UNSCHEDULABLE;
    f.fixable_by_manifest = SchedulingFixableByManifest(message);
    f.reason = "Unschedulable";
    f.summary =
        absl::StrCat("pod ", f.workload.namespace_(), "/", name, " cannot be scheduled: ", message);
    f.evidence.push_back(absl::StrCat("PodScheduled=False Unschedulable: ", message));
    return f;
  }

  // 5. Readiness.
  if (phase == "Running") {
    for (const auto& c : containers) {
      if (c.init) continue;
      const Json* running = Path(*c.status, {"state", "running"});
      const Json* ready = Field(*c.status, "ready");
      if (running == nullptr || ready == nullptr || !ready->is_boolean() || ready->get<bool>()) {
        continue;
      }
      const std::optional<absl::Time> started = ParseTime(Str(*running, "startedAt"));
      if (context.observed.has_value() && started.has_value() &&
          *context.observed - *started < context.readiness_grace) {
        continue;  // still starting up
      }
      f.workload.set_container(c.name);
      f.error_class = v1::ERROR_CLASS_PROBE_FAILURE;
      f.fixable_by_manifest = true;
      f.reason = "ContainersNotReady";
      f.summary = absl::StrCat("container ", c.name, " of pod ", f.workload.namespace_(), "/", name,
                               " is running but not ready (readiness probe failing)");
      f.evidence.push_back(absl::StrCat("container ", c.name, " running since ",
                                        Str(*running, "startedAt"), ", ready=false, restarts ",
                                        Int(*c.status, "restartCount", 0)));
      return f;
    }
  }
  return f;
}

}  // namespace remediator::detection::internal
