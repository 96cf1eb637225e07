// Event rules (k8s-failures.md §3): classify by reason and source component first, by message
// text second (texts change between versions; "Failed" and "BackOff" are reused for image and
// container problems, so those two look at the message). Both core/v1 (involvedObject, message,
// source) and events.k8s.io/v1 (regarding, note, reportingController, deprecatedSource) shapes.
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "server/remediator/core/detection/classifiers.h"
#include "server/remediator/core/detection/workload_resolver.h"

namespace remediator::detection::internal {
namespace {

bool Has(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

bool IsImageMessage(const std::string& m) {
  return Has(m, "pull image") || Has(m, "pulling image") || Has(m, "ErrImagePull") ||
         Has(m, "ImagePullBackOff") || Has(m, "InvalidImageName") ||
         Has(m, "Failed to apply default image tag") || Has(m, "Failed to inspect image") ||
         Has(m, "is not present with pull policy of Never");
}

bool IsConfigMessage(const std::string& m) {
  static const LazyRE2 kConfig = {
      R"re(CreateContainerConfigError|CreateContainerError|couldn't find key \S+ in (?:Secret|ConfigMap)|(?:secret|configmap) "[^"]*" not found|runAsNonRoot and image|error mounting|not a directory|invalid mount|failed to create subPath)re"};
  return RE2::PartialMatch(m, *kConfig);
}

void Set(Finding* f, v1::ErrorClass cls, bool fixable, std::string reason, std::string summary) {
  f->error_class = cls;
  f->fixable_by_manifest = fixable;
  f->reason = std::move(reason);
  f->summary = std::move(summary);
}

}  // namespace

absl::StatusOr<Finding> ClassifyEvent(const Json& event) {
  const std::string kind = Str(event, "kind");
  if (!kind.empty() && kind != "Event") {
    return absl::InvalidArgumentError(
        absl::StrCat("event_json: kind is \"", kind, "\", want \"Event\""));
  }
  const Json* regarding = Field(event, "involvedObject");
  if (regarding == nullptr) regarding = Field(event, "regarding");
  const std::string reason = Str(event, "reason");
  if (regarding == nullptr || !regarding->is_object() || reason.empty()) {
    return absl::InvalidArgumentError(
        "event_json: not an Event (want reason and involvedObject (core/v1) or regarding "
        "(events.k8s.io/v1))");
  }
  std::string message = Str(event, "message");
  if (message.empty()) message = Str(event, "note");
  message = StripCombinedPrefix(std::move(message));
  const std::string type = Str(event, "type");
  std::string component = StrPath(event, {"source", "component"});
  if (component.empty()) component = StrPath(event, {"deprecatedSource", "component"});
  if (component.empty()) component = Str(event, "reportingComponent");
  if (component.empty()) component = Str(event, "reportingController");

  Finding f;
  const std::string obj_kind = Str(*regarding, "kind");
  const std::string obj_name = Str(*regarding, "name");
  std::string ns = Str(*regarding, "namespace");
  if (ns.empty() && obj_kind != "Node") ns = StrPath(event, {"metadata", "namespace"});
  if (obj_kind != "Node") f.workload.set_namespace_(ns);
  if (obj_kind == "Pod") {
    const WorkloadName w = WorkloadFromPodName(obj_name);
    f.workload.set_kind(w.kind);
    f.workload.set_name(w.name);
    f.workload.set_pod(obj_name);
    f.workload.set_container(ContainerFromFieldPath(Str(*regarding, "fieldPath")));
  } else if (obj_kind != "Node" && !obj_kind.empty()) {
    const WorkloadName w = WorkloadFromOwner(obj_kind, obj_name);
    f.workload.set_kind(w.kind);
    f.workload.set_name(w.name);
  }
  const std::string subject = Subject(f.workload);
  f.evidence.push_back(absl::StrCat(type.empty() ? "" : type + " ", reason, " (",
                                    component.empty() ? "unknown source" : component, ") on ",
                                    obj_kind, " ", obj_name, ": ", message));

  if (reason == "OOMKilling" || reason == "SystemOOM") {
    Set(&f, v1::ERROR_CLASS_OOM_KILLED, false, reason,
        absl::StrCat("the kernel OOM killer ran on ", obj_kind, " ", obj_name, ": ", message));
  } else if (reason == "Failed" &&
             (Has(message, "OOM-killed") || Has(message, "memory limit too low"))) {
    Set(&f, v1::ERROR_CLASS_OOM_KILLED, true, "OOMKilledAtInit",
        absl::StrCat(subject, " was OOM-killed while starting: its memory limit is too low"));
  } else if ((reason == "Failed" || reason == "BackOff" || reason == "InspectFailed" ||
              reason == "ErrImageNeverPull") &&
             (IsImageMessage(message) || reason == "ErrImageNeverPull")) {
    Set(&f, v1::ERROR_CLASS_IMAGE_PULL, !RegistryUnreachable(message), reason,
        absl::StrCat(subject, " cannot get its image: ", message));
  } else if (reason == "Failed" && IsConfigMessage(message)) {
    Set(&f, v1::ERROR_CLASS_CONFIG_ERROR, true, reason,
        absl::StrCat(subject, " cannot be created from its spec: ", message));
  } else if (reason == "FailedMount" || reason == "FailedAttachVolume" ||
             reason == "FailedMapVolume") {
    const bool missing_object = IsConfigMessage(message);
    Set(&f, v1::ERROR_CLASS_CONFIG_ERROR, missing_object, reason,
        absl::StrCat(subject, " cannot mount a volume: ", message));
  } else if (reason == "BackOff" ||
             (reason == "Failed" && type == "Warning" && !f.workload.container().empty())) {
    // A crash loop seen from the event alone: the root cause is in lastState or the previous logs.
    Set(&f, v1::ERROR_CLASS_CRASH_LOOP, false, reason,
        absl::StrCat(subject, " keeps failing: ", message));
  } else if (reason == "Unhealthy" &&
             (Has(message, "probe failed") || Has(message, "probe errored"))) {
    Set(&f, v1::ERROR_CLASS_PROBE_FAILURE, true, reason,
        absl::StrCat(subject, " fails a probe: ", message));
  } else if (reason == "Killing" &&
             (Has(message, "failed liveness probe") || Has(message, "failed startup probe"))) {
    Set(&f, v1::ERROR_CLASS_PROBE_FAILURE, true, reason,
        absl::StrCat(subject, " was restarted by a failing probe: ", message));
  } else if (reason == "FailedScheduling") {
    Set(&f, v1::ERROR_CLASS_UNSCHEDULABLE, SchedulingFixableByManifest(message), reason,
        absl::StrCat(subject, " cannot be scheduled: ", message));
  } else if (reason == "ProvisioningFailed") {
    Set(&f, v1::ERROR_CLASS_UNSCHEDULABLE, false, reason,
        absl::StrCat("volume provisioning failed for ", obj_kind, " ", ns, "/", obj_name, ": ",
                     message));
  } else if (reason == "Evicted") {
    if (f.workload.container().empty()) f.workload.set_container(EvictedContainer(message));
    Set(&f, v1::ERROR_CLASS_EVICTED, EvictionFixableByManifest(message), reason,
        absl::StrCat(subject, " was evicted: ", message));
  } else if (reason == "BackoffLimitExceeded" || reason == "DeadlineExceeded") {
    // A Job whose pods keep failing; the cause is in the pods' lastState or logs.
    Set(&f, v1::ERROR_CLASS_CRASH_LOOP, false, reason,
        absl::StrCat(subject, " gave up: ", message));
  } else if (reason == "FailedCreate" &&
             (Has(message, "forbidden") || Has(message, "exceeded quota") ||
              Has(message, "is invalid"))) {
    Set(&f, v1::ERROR_CLASS_ADMISSION_REJECTED, true, reason,
        absl::StrCat(subject, " cannot create pods: ", message));
  }
  if (f.error_class == v1::ERROR_CLASS_NONE) f.evidence.clear();
  return f;
}

}  // namespace remediator::detection::internal
