#include "server/remediator/core/detection/fingerprint.h"

#include <cstdint>
#include <cstdio>

namespace remediator::detection {
namespace {

void Mix(uint64_t* h, const std::string& s) {
  for (unsigned char c : s) {
    *h ^= c;
    *h *= 0x100000001b3ull;
  }
}

}  // namespace

std::string Fingerprint(const v1::WorkloadRef& workload, v1::ErrorClass error_class) {
  uint64_t h = 0xcbf29ce484222325ull;
  const std::string sep(1, '\x1f');
  Mix(&h, workload.cluster());
  Mix(&h, sep);
  Mix(&h, workload.namespace_());
  Mix(&h, sep);
  Mix(&h, workload.kind());
  Mix(&h, sep);
  Mix(&h, workload.name());
  Mix(&h, sep);
  Mix(&h, v1::ErrorClass_Name(error_class));
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

std::string Fingerprint(const v1::Detection& detection) {
  return Fingerprint(detection.workload(), detection.error_class());
}

std::string SeverityForClass(v1::ErrorClass error_class) {
  switch (error_class) {
    case v1::ERROR_CLASS_OOM_KILLED:
    case v1::ERROR_CLASS_CRASH_LOOP:
    case v1::ERROR_CLASS_IMAGE_PULL:
    case v1::ERROR_CLASS_CONFIG_ERROR:
    case v1::ERROR_CLASS_UNSCHEDULABLE:
    case v1::ERROR_CLASS_ADMISSION_REJECTED:
      return "critical";
    case v1::ERROR_CLASS_PROBE_FAILURE:
    case v1::ERROR_CLASS_EVICTED:
    case v1::ERROR_CLASS_APP_ERROR_LOG:
      return "high";
    default:
      return "low";
  }
}

}  // namespace remediator::detection
