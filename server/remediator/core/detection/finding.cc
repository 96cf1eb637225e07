#include "server/remediator/core/detection/finding.h"

#include "absl/strings/str_cat.h"

namespace remediator::detection::internal {

std::string Subject(const v1::WorkloadRef& w) {
  std::string subject;
  if (!w.container().empty()) subject = absl::StrCat("container ", w.container(), " of ");
  if (w.name().empty()) {
    if (!w.pod().empty()) return absl::StrCat(subject, "pod ", w.namespace_(), "/", w.pod());
    if (!w.namespace_().empty()) return absl::StrCat(subject, "namespace ", w.namespace_());
    return subject.empty() ? "an unknown workload" : absl::StrCat(subject, "an unknown workload");
  }
  if (w.namespace_().empty()) return absl::StrCat(subject, w.kind(), " ", w.name());
  return absl::StrCat(subject, w.kind(), " ", w.namespace_(), "/", w.name());
}

}  // namespace remediator::detection::internal
