// The built-in log signatures used by the Detector.
//
// DefaultLogPatterns() = the application error signatures of k8s-failures.md §5 (specific,
// priority 20-30, each with its class and fixable_by_manifest as labelled there) + the 20 generic
// benchmark patterns of shared/bench/error-patterns.txt (priority 10, app_error_log, not fixable
// by manifest). Kubernetes words that show up in application logs (OOMKilled, CrashLoopBackOff,
// ErrImagePull, "probe failed") are kWeak: a pod that logs them is usually reporting on another
// pod, so they only count when repeated.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_LOG_PATTERNS_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_LOG_PATTERNS_H_

#include <vector>

#include "server/remediator/core/detection/line_matcher.h"

namespace remediator::detection {

std::vector<PatternSpec> DefaultLogPatterns();

// Exactly the 20 regexes of shared/bench/error-patterns.txt, in file order, named
// bench_<n>_<what>.
std::vector<PatternSpec> BenchmarkPatterns();

}  // namespace remediator::detection

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_LOG_PATTERNS_H_
