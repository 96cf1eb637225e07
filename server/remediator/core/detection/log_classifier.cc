// Log rules: every line goes through the LineMatcher; a matching line counts as "strong" when its
// best pattern is kStrong and the line itself does not say it is benign: a level below error
// (logfmt/JSON level, pino numeric level, nginx [notice]/[warn]/[info], klog I/W, Spring INFO/WARN)
// or a retry ("retrying", "will retry") demotes it to weak. One strong line is a failure; weak
// lines need `weak_threshold` repetitions. This keeps "level=warning ... connection refused,
// retrying" followed by success (corpus k8sf-044) quiet while "[ioredis] Unhandled error event:
// ECONNREFUSED" is not.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "server/remediator/core/detection/classifiers.h"
#include "server/remediator/core/detection/workload_resolver.h"

namespace remediator::detection::internal {
namespace {

// True when the line declares itself below error level, or a retry in progress.
bool LineIsBenign(std::string_view view) {
  const re2::StringPiece line(view.data(), view.size());
  static const LazyRE2 kLevel = {
      R"re((?i)(?:\blevel=|\blvl=|"level"\s*:\s*|"severity"\s*:\s*|\bseverity=)"?([a-z]+|\d+))re"};
  std::string level;
  if (RE2::PartialMatch(line, *kLevel, &level)) {
    level = absl::AsciiStrToLower(level);
    if (!level.empty() && absl::ascii_isdigit(static_cast<unsigned char>(level[0]))) {
      // pino/bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
      if (std::atoi(level.c_str()) < 50) return true;
    } else if (level == "trace" || level == "debug" || level == "info" || level == "notice" ||
               level == "warn" || level == "warning") {
      return true;
    }
  }
  static const LazyRE2 kOther = {
      R"re(\[(?:debug|info|notice|warn)\] |^[IW]\d{4} \d\d:|^\d{4}-\d\d-\d\d[ T][\d:.,]+\s+(?:INFO|WARN|DEBUG|TRACE)\s|(?i)\bretrying\b|\bwill retry\b)re"};
  return RE2::PartialMatch(line, *kOther);
}

struct Hit {
  const PatternSpec* pattern = nullptr;
  int pattern_id = 0;
  bool strong = false;
  size_t line = 0;
};

struct BatchResult {
  Finding finding;
  int score = 0;  // 0 none, 1 weak-threshold detection, 2 strong detection (+ priority)
};

BatchResult ClassifyBatch(const LogBatch& batch, const LogRules& rules) {
  BatchResult result;
  Finding& f = result.finding;
  f.workload.set_namespace_(batch.namespace_);
  f.workload.set_pod(batch.pod);
  f.workload.set_container(batch.container);
  if (!batch.deployment.empty()) {
    f.workload.set_kind("Deployment");
    f.workload.set_name(batch.deployment);
  } else if (!batch.pod.empty()) {
    const WorkloadName w = WorkloadFromPodName(batch.pod);
    f.workload.set_kind(w.kind);
    f.workload.set_name(w.name);
  }

  std::vector<Hit> hits;
  std::vector<int> ids;
  for (size_t i = 0; i < batch.lines.size(); ++i) {
    const std::string_view line = batch.lines[i];
    if (!rules.matcher->MatchAll(line, &ids)) continue;
    int best = ids[0];
    for (int id : ids) {
      if (rules.matcher->pattern(id).priority > rules.matcher->pattern(best).priority) best = id;
    }
    const PatternSpec& p = rules.matcher->pattern(best);
    const bool strong = p.strength == Strength::kStrong && !LineIsBenign(line);
    hits.push_back({&p, best, strong, i});
  }
  const int strong_count = static_cast<int>(
      std::count_if(hits.begin(), hits.end(), [](const Hit& h) { return h.strong; }));
  const bool detect = strong_count > 0 || static_cast<int>(hits.size()) >= rules.weak_threshold;
  if (!detect) return result;

  // The deciding hit: strong before weak, then priority, then the earliest line.
  const Hit* chosen = nullptr;
  for (const Hit& h : hits) {
    if (strong_count > 0 && !h.strong) continue;
    if (chosen == nullptr || h.pattern->priority > chosen->pattern->priority) chosen = &h;
  }
  f.error_class = chosen->pattern->error_class;
  f.fixable_by_manifest = chosen->pattern->fixable_by_manifest;
  f.reason = chosen->pattern->name;
  const std::string line(batch.lines[chosen->line]);
  // "(name): " rather than "name: " so that names such as postgres_no_password do not read as a
  // key/value secret to the redactor.
  f.summary = absl::StrCat(Subject(f.workload), " logged an error (", chosen->pattern->name,
                           strong_count > 0 ? "" : absl::StrCat(", ", hits.size(), " times"),
                           "): ", line.substr(0, 200));
  // Evidence: the deciding line first, then the other matching lines in order.
  f.evidence.push_back(line);
  for (const Hit& h : hits) {
    if (&h != chosen) f.evidence.emplace_back(batch.lines[h.line]);
  }
  result.score = (strong_count > 0 ? 2000 : 1000) + chosen->pattern->priority;
  return result;
}

}  // namespace

Finding ClassifyLogs(const std::vector<LogBatch>& batches, const LogRules& rules) {
  BatchResult best;
  bool first = true;
  for (const LogBatch& batch : batches) {
    BatchResult r = ClassifyBatch(batch, rules);
    if (first || r.score > best.score) best = std::move(r);
    first = false;
  }
  return std::move(best.finding);
}

}  // namespace remediator::detection::internal
